"""Evaluation without a judge: a model answers the held-out prompts, the verifier (`verifier`) scores the answers,
and the report keeps every per-prompt verdict for intervals and paired comparisons; side by side, and an
optional local pairwise judge.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from .stats import bootstrap_ci
from .verifier import EvalPrompt, check, load_eval_prompts, load_prompt_file, word_count


@dataclass
class Scores:
    """Pass rates over a set of prompts (prompt level: all checks pass; check level: each check)."""

    prompt_strict: float
    prompt_loose: float
    check_strict: float
    check_loose: float
    by_kind: dict[str, float]


def score_responses(prompts: Sequence[EvalPrompt], responses: Sequence[str]) -> Scores:
    """Strict and loose pass rates for responses to the prompts, in the same order."""
    strict_all, loose_all, strict_each, loose_each = [], [], [], []
    kinds: dict[str, list[bool]] = {}
    for prompt, response in zip(prompts, responses, strict=True):
        strict = [check(response, c) for c in prompt.checks]
        loose = [check(response, c, loose=True) for c in prompt.checks]
        strict_all.append(all(strict))
        loose_all.append(all(loose))
        strict_each += strict
        loose_each += loose
        for c, ok in zip(prompt.checks, strict, strict=True):
            kinds.setdefault(c["kind"], []).append(ok)

    def rate(xs):
        return sum(xs) / len(xs) if xs else 0.0

    return Scores(rate(strict_all), rate(loose_all), rate(strict_each), rate(loose_each),
                  {k: rate(v) for k, v in sorted(kinds.items())})


def prompt_passes(prompts: Sequence[EvalPrompt], responses: Sequence[str], loose: bool = False) -> list[bool]:
    """Per prompt: did the response pass every one of its checks?"""
    return [all(check(r, c, loose) for c in p.checks) for p, r in zip(prompts, responses, strict=True)]


def length_stats(texts: Sequence[str]) -> dict[str, float]:
    """Mean, median and max length in words."""
    counts = [word_count(t) for t in texts] or [0]
    return {"mean_words": statistics.mean(counts), "median_words": statistics.median(counts), "max_words": max(counts)}


def template_adherence(texts: Sequence[str], stopped: Sequence[bool]) -> float:
    """Share of responses that ended by themselves (EOS) and did not run on into a new '### ' block."""
    ok = [s and "### " not in t for t, s in zip(texts, stopped, strict=True)]
    return sum(ok) / len(ok) if ok else 0.0


def respond(model, tokenizer, prompts: Sequence[EvalPrompt], template: str = "chat", max_new_tokens: int = 128,
            batch_size: int = 64) -> tuple[list[str], list[bool]]:
    """Greedy responses to the prompts with the given template; and whether each stopped at EOS.

    All prompts go to the teacher at once; `batch_size` of them decode side by side (continuous batching).
    """
    from .data import InstructionRecord
    from .teachers import LocalTeacher, Sampling
    from .templates import alpaca_prompt

    teacher = LocalTeacher(model, tokenizer, name="student", slots=batch_size)
    sampling = Sampling(max_new_tokens=max_new_tokens, temperature=0)
    if template == "alpaca":
        out = teacher.complete([alpaca_prompt(p.prompt) for p in prompts], sampling)
    else:
        out = teacher.chat([[{"role": "user", "content": InstructionRecord(p.prompt).instruction}] for p in prompts],
                           sampling)
    return [c.text.strip() for c in out], [c.finish_reason == "stop" for c in out]


@dataclass
class EvalReport:
    """One model's results on the evaluation prompts, with every per-prompt verdict kept for intervals and pairing."""

    label: str
    template: str
    scores: Scores
    lengths: dict[str, float]
    adherence: float
    responses: list[str]
    prompts: list[EvalPrompt] = field(default_factory=list)

    def verdicts(self, loose: bool = False) -> list[list[bool]]:
        """Per prompt, each check's verdict (strict or loose): computed once, then kept."""
        cache = self.__dict__.setdefault("_verdicts", {})
        if loose not in cache:
            cache[loose] = [[check(r, c, loose) for c in p.checks] for p, r in zip(self.prompts, self.responses,
                                                                                   strict=True)]
        return cache[loose]

    def passes(self, loose: bool = False) -> list[bool]:
        """Per prompt: all checks passed (strict or loose)."""
        return [all(v) for v in self.verdicts(loose)]

    def intervals(self, samples: int = 2000) -> dict[str, tuple[float, float, float]]:
        """(estimate, low, high) with a 95% bootstrap interval for the four pass rates: computed once, then kept."""
        cache = self.__dict__.setdefault("_intervals", {})
        if samples not in cache:
            out = {}
            for loose in (False, True):
                name = "loose" if loose else "strict"
                out[f"prompt_{name}"] = bootstrap_ci(self.passes(loose), samples=samples)
                out[f"check_{name}"] = bootstrap_ci([sum(v) for v in self.verdicts(loose)],
                                                    [len(p.checks) for p in self.prompts], samples=samples)
            cache[samples] = out
        return dict(cache[samples])

    def summary(self) -> str:
        """The scores with their intervals, as a few readable lines."""
        ci = self.intervals()
        return "\n".join([
            f"{self.label}, {self.template} template, n={len(self.responses)} prompts (95% bootstrap intervals)",
            *(f"  {name.replace('_', '-level ')}: {est:.3f} [{lo:.3f}, {hi:.3f}]" for name, (est, lo, hi) in ci.items()),
            f"  template adherence (stopped at EOS, no run-on): {self.adherence:.3f}",
            "  length: " + ", ".join(f"{k} {v:.1f}" for k, v in self.lengths.items()),
            "  by kind (strict): " + ", ".join(f"{k} {v:.2f}" for k, v in self.scores.by_kind.items())])

    def to_dict(self) -> dict:
        """Plain data for JSON (intervals, per-prompt verdicts and responses included)."""
        return {"label": self.label, "template": self.template, "n": len(self.responses),
                "prompt_strict": self.scores.prompt_strict, "prompt_loose": self.scores.prompt_loose,
                "check_strict": self.scores.check_strict, "check_loose": self.scores.check_loose,
                "intervals": {k: list(v) for k, v in self.intervals().items()}, "by_kind": self.scores.by_kind,
                **self.lengths, "template_adherence": self.adherence, "prompt_ids": [p.id for p in self.prompts],
                "strict_passes": self.passes(), "responses": self.responses}


def evaluate_trained(folder: str | None = None, n: int | None = None, profile=None, prompts_file=None):
    """Evaluate a folder written by `train` (LoRA or full), or the profile's base student when folder is None.

    Returns an EvalReport on the packaged prompts; with `prompts_file`, a list of reports on your own
    prompts (an EvalReport for prompts with checks, a ReferenceReport for prompts with a reference only).
    """
    from .profiles import get_profile

    profile = profile or get_profile()
    if n is not None and n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    own = load_prompt_file(prompts_file) if prompts_file else None  # a bad file fails before the model loads
    prompts = own[:n] if own else load_eval_prompts(limit=n or profile.n_eval_prompts)
    if folder:
        from .model_folder import load_trained

        model, tokenizer, result = load_trained(folder)
        template, label = result.config["template"], f"trained model {folder}"
    else:
        from .models import load_model

        model, tokenizer = load_model(profile.student)
        template, label = "chat", f"base model ({profile.student})"
    if own:
        return score_prompt_file(model, tokenizer, prompts, template, label)
    return evaluate_model(model, tokenizer, prompts, template, label)


@dataclass
class ReferenceReport:
    """Responses to prompts that carry a reference answer instead of checks, scored by ROUGE-L F against it."""

    label: str
    template: str
    rouge_l: list[float]
    responses: list[str]
    prompts: list[EvalPrompt] = field(default_factory=list)

    def summary(self) -> str:
        """The mean ROUGE-L with its interval, named for what it is."""
        mean, low, high = bootstrap_ci(self.rouge_l)
        return (f"{self.label}, {self.template} template, n={len(self.rouge_l)} prompts with a reference output\n"
                f"  ROUGE-L F against the reference (word overlap with one good answer, as Self-Instruct scored "
                f"SuperNI; not a pass rate): {mean:.3f} [{low:.3f}, {high:.3f}] (95% bootstrap interval)")

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        mean, low, high = bootstrap_ci(self.rouge_l)
        return {"label": self.label, "template": self.template, "n": len(self.rouge_l), "score": "rouge_l",
                "rouge_l": mean, "interval": [low, high], "per_prompt": self.rouge_l,
                "prompt_ids": [p.id for p in self.prompts], "responses": self.responses}


def score_prompt_file(model, tokenizer, prompts: Sequence[EvalPrompt], template: str, label: str,
                      max_new_tokens: int = 128) -> list:
    """Answer every prompt once; an EvalReport for those with checks, a ReferenceReport for those with only a reference."""
    from .rouge import rouge_l

    texts, stopped = respond(model, tokenizer, prompts, template, max_new_tokens)
    checked = [i for i, p in enumerate(prompts) if p.checks]
    referenced = [i for i, p in enumerate(prompts) if not p.checks]
    reports = []
    if checked:
        reports.append(scored_report(label, template, [prompts[i] for i in checked], [texts[i] for i in checked],
                                     [stopped[i] for i in checked]))
    if referenced:
        reports.append(ReferenceReport(label, template, [rouge_l(prompts[i].reference, texts[i]) for i in referenced],
                                       [texts[i] for i in referenced], [prompts[i] for i in referenced]))
    return reports


def evaluate_model(model, tokenizer, prompts: Sequence[EvalPrompt], template: str, label: str,
                   max_new_tokens: int = 128) -> EvalReport:
    """Respond to every prompt and score the responses."""
    texts, stopped = respond(model, tokenizer, prompts, template, max_new_tokens)
    return scored_report(label, template, prompts, texts, stopped)


def scored_report(label: str, template: str, prompts: Sequence[EvalPrompt], texts: list[str],
                  stopped: list[bool]) -> EvalReport:
    """The EvalReport of responses already given: pass rates, lengths and template adherence."""
    return EvalReport(label, template, score_responses(prompts, texts), length_stats(texts),
                      template_adherence(texts, stopped), texts, list(prompts))


def side_by_side(prompts: Sequence[EvalPrompt], before: EvalReport, after: EvalReport, width: int = 60) -> str:
    """A plain-text table: prompt, response before, response after, and the strict verdict of each.

    `prompts` may be any of the prompts the reports answered, in any order: answers are found by prompt id."""
    def answer(report: EvalReport, prompt: EvalPrompt) -> str:
        ids = [q.id for q in report.prompts]
        if prompt.id not in ids:
            raise ValueError(f"prompt {prompt.id!r} is not among the prompts {report.label!r} answered")
        return report.responses[ids.index(prompt.id)]

    rows = []
    for p in prompts:
        a, b = answer(before, p), answer(after, p)
        verdict_a = all(check(a, c) for c in p.checks)
        verdict_b = all(check(b, c) for c in p.checks)
        rows.append(f"* {p.prompt[:width]}\n    before [{'pass' if verdict_a else 'fail'}]: {a[:width]!r}"
                    f"\n    after  [{'pass' if verdict_b else 'fail'}]: {b[:width]!r}")
    return "\n".join(rows)


# --- an optional pairwise judge (labelled as local, never a leaderboard number) --------------------------

JUDGE_PROMPT = ("Which response follows the instruction better? Answer with the single letter A or B.\n\n"
                "Instruction: {instruction}\n\nResponse A: {a}\n\nResponse B: {b}\n\nBetter response:")


def pairwise_judge(judge, instruction: str, first: str, second: str) -> float:
    """Win score of `first` over `second` from a judge teacher, asked twice with the order swapped.

    1.0: first wins both orders; 0.0: second wins both; 0.5: the judge disagreed with itself (a tie).
    A small local judge mostly rewards length and style; report it as "local judge", never as AlpacaEval.
    """
    from .teachers import Sampling

    greedy = Sampling(max_new_tokens=2, temperature=0)
    ask = [[{"role": "user", "content": JUDGE_PROMPT.format(instruction=instruction, a=a, b=b)}]
           for a, b in ((first, second), (second, first))]
    answers = [c.text.strip().upper()[:1] for c in judge.chat(ask, greedy)]
    first_wins = (answers[0] == "A") + (answers[1] == "B")
    second_wins = (answers[0] == "B") + (answers[1] == "A")
    return 0.5 + 0.25 * (first_wins - second_wins)


def win_rate(scores: Sequence[float]) -> float:
    """Mean of pairwise scores, where ties count as half a win."""
    return sum(scores) / len(scores) if scores else 0.0
