"""Evaluation without a judge: held-out loss, verifiable instruction-following checks, side by side.

The checks are our own, in the spirit of IFEval: each prompt carries constraints a program can
verify (word counts, bullets, JSON, keywords, case, ...). "Strict" applies a check to the
response as written; "loose" also accepts it after removing markdown asterisks, the first line,
or the last line (a model that adds "Sure! Here you go:" is not failed for that alone).
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_BULLET = re.compile(r"^\s*[-*\u2022]\s+\S", re.MULTILINE)
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)


def word_count(text: str) -> int:
    """Words: runs of letters or digits (punctuation does not count)."""
    return len(re.findall(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*", text))


def sentence_count(text: str) -> int:
    """Sentences: pieces ending in . ! or ? followed by a space or the end (a final unpunctuated piece counts)."""
    pieces = [p for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    return len(pieces)


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE) is not None


def _json_ok(text: str) -> bool:
    try:
        json.loads(text.strip())
    except ValueError:
        return False
    return True


#: kind -> function(response, arguments) -> passed
CHECKS: dict[str, Callable[[str, dict], bool]] = {
    "max_words": lambda r, a: word_count(r) <= a["n"],
    "min_words": lambda r, a: word_count(r) >= a["n"],
    "max_sentences": lambda r, a: 0 < sentence_count(r) <= a["n"],
    "bullets": lambda r, a: len(_BULLET.findall(r)) == a["n"],
    "numbered": lambda r, a: len(_NUMBERED.findall(r)) == a["n"],
    "json": lambda r, a: _json_ok(r),
    "keywords": lambda r, a: all(_has_word(r, w) for w in a["words"]),
    "forbidden": lambda r, a: not any(_has_word(r, w) for w in a["words"]),
    "lowercase": lambda r, a: any(c.isalpha() for c in r) and r == r.lower(),
    "uppercase": lambda r, a: any(c.isalpha() for c in r) and r == r.upper(),
    "ends_with": lambda r, a: r.strip().endswith(a["phrase"]),
    "starts_with": lambda r, a: r.strip().startswith(a["phrase"]),
    "paragraphs": lambda r, a: len([p for p in re.split(r"\n\s*\n", r.strip()) if p.strip()]) == a["n"],
    "title": lambda r, a: re.search(r"<<[^<>\n]+>>", r) is not None,
    "no_commas": lambda r, a: "," not in r,
    "quoted": lambda r, a: len(r.strip()) > 1 and r.strip()[0] == '"' and r.strip()[-1] == '"',
    # Kinds from IFEval that no training phrasing, curation or repair touches: held out as whole kinds
    # (constraints.UNSEEN_KINDS), so a student's score on them shows whether it learned to follow
    # instructions or only the formats it was trained on.
    "postscript": lambda r, a: re.search(r"^\s*P\.\s?S\.", r, re.MULTILINE) is not None,
    "separator": lambda r, a: len([p for p in r.split("******") if p.strip()]) == 2,
    "sections": lambda r, a: len(re.findall(r"^\W*SECTION\s+\d+", r, re.MULTILINE)) == a["n"],
    "capital_words": lambda r, a: len(re.findall(r"\b[A-Z]{2,}\b", r)) >= a["n"],
    "placeholders": lambda r, a: len(re.findall(r"\[[^\[\]\n]+\]", r)) >= a["n"],
    "highlights": lambda r, a: len(re.findall(r"(?<!\*)\*[^*\n]+\*(?!\*)", r)) >= a["n"],
}


def loose_variants(response: str) -> list[str]:
    """The response, and versions without markdown asterisks, without the first line, without the last line."""
    lines = response.split("\n")
    base = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [v for text in base for v in (text, text.replace("*", "")) if v]


def check(response: str, spec: dict, loose: bool = False) -> bool:
    """Does the response satisfy one constraint ({"kind": ..., args})?"""
    if spec["kind"] not in CHECKS:
        raise ValueError(f"unknown check kind {spec['kind']!r}; known: {', '.join(sorted(CHECKS))}")
    variants = loose_variants(response) if loose else [response]
    return any(CHECKS[spec["kind"]](v, spec) for v in variants)


#: kind -> the arguments its check reads, and their type
CHECK_ARGUMENTS: dict[str, dict[str, type]] = {
    "max_words": {"n": int}, "min_words": {"n": int}, "max_sentences": {"n": int}, "bullets": {"n": int},
    "numbered": {"n": int}, "paragraphs": {"n": int}, "keywords": {"words": list}, "forbidden": {"words": list},
    "ends_with": {"phrase": str}, "starts_with": {"phrase": str}, "sections": {"n": int}, "capital_words": {"n": int},
    "placeholders": {"n": int}, "highlights": {"n": int},
}


MAX_CHECK_COUNT = 10_000  # words, sentences, bullets ...: more than any answer the course scores
MAX_CHECK_TEXT = 200  # a keyword or a phrase
MAX_PROMPT_CHARS = 20_000  # as a record's field (data.MAX_FIELD_CHARS)


@dataclass
class EvalPrompt:
    """A held-out prompt and its verifiable constraints (or, with no checks, a reference output to compare with)."""

    id: str
    prompt: str
    checks: list[dict]
    reference: str | None = None


def load_eval_prompts(limit: int | None = None) -> list[EvalPrompt]:
    """The packaged evaluation prompts (written for this course)."""
    from .resources import load_json_lines

    prompts = [EvalPrompt(**row) for row in load_json_lines("eval_prompts.jsonl")]
    return prompts[:limit] if limit else prompts


def validate_check(spec, path, line, name: str) -> dict:
    """One check object, its kind known and its arguments of the right type; else a DataError naming the field."""
    from .data import DataError

    if not isinstance(spec, dict):
        raise DataError(path, line, name, f"expected a JSON object, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in CHECKS:
        raise DataError(path, line, f"{name}.kind", f"unknown check {kind!r}; known: {', '.join(sorted(CHECKS))}")
    arguments = CHECK_ARGUMENTS.get(kind, {})
    for arg in spec:
        if arg != "kind" and arg not in arguments:
            takes = ", ".join(arguments) or "no arguments"
            raise DataError(path, line, f"{name}.{arg}", f"{kind} takes {takes}; {arg!r} is not one of them")
    for arg, kind_type in arguments.items():
        value = spec.get(arg)
        ok = isinstance(value, kind_type) and not isinstance(value, bool)
        if ok and kind_type is list:
            ok = bool(value) and all(isinstance(w, str) and w.strip() and len(w) <= MAX_CHECK_TEXT for w in value)
        if ok and kind_type is str:
            ok = bool(value.strip()) and len(value) <= MAX_CHECK_TEXT
        if ok and kind_type is int:
            ok = 1 <= value <= MAX_CHECK_COUNT
        if not ok:
            wanted = {int: f"a whole number from 1 to {MAX_CHECK_COUNT:,}",
                      str: f"a non-empty string of at most {MAX_CHECK_TEXT} characters",
                      list: f"a non-empty list of non-empty strings (each at most {MAX_CHECK_TEXT} characters)"}[kind_type]
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise DataError(path, line, f"{name}.{arg}", f"{kind} needs {arg} as {wanted}, got {shown}")
    return spec


def prompt_from_row(row, path=None, line: int | None = None, number: int = 1) -> EvalPrompt:
    """One prompt of a user's file: {prompt, checks[, id, reference]}, or a data record whose output is the reference."""
    from .data import DataError, record_from_dict
    from .templates import user_message

    if isinstance(row, dict) and "prompt" in row:
        text = row["prompt"]
        if not isinstance(text, str) or not text.strip():
            raise DataError(path, line, "prompt", "must be a non-empty string")
        if len(text) > MAX_PROMPT_CHARS:
            raise DataError(path, line, "prompt", f"is {len(text):,} characters long (limit {MAX_PROMPT_CHARS:,})")
        checks, reference = row.get("checks", []), row.get("reference")
        if not isinstance(checks, list):
            raise DataError(path, line, "checks", f"expected a list of check objects, got {type(checks).__name__}")
        if reference is not None and (not isinstance(reference, str) or not reference.strip()):
            raise DataError(path, line, "reference", "must be a non-empty string")
        if "id" in row and (not isinstance(row["id"], str) or not row["id"].strip()):
            raise DataError(path, line, "id", "must be a non-empty string")
        if checks and reference is not None:  # scored by one or the other: say so rather than ignore one silently
            raise DataError(path, line, "reference", "a prompt with checks is scored by them; give checks or a "
                                                     "reference, not both")
    else:  # instruction/input/output (or a seed task): the output is the reference answer
        record = record_from_dict(row, path, line, require_output=False)
        text, checks = user_message(record.instruction, record.input), record.meta.get("checks", [])
        reference = record.output or None
        if not isinstance(checks, list):
            raise DataError(path, line, "checks", f"expected a list of check objects, got {type(checks).__name__}")
    checks = [validate_check(c, path, line, f"checks[{i}]") for i, c in enumerate(checks)]
    if not checks and not reference:
        raise DataError(path, line, "checks", "a prompt needs verifiable checks or a reference output to score against")
    ident = row.get("id") if isinstance(row.get("id"), str) else f"{Path(str(path)).stem if path else 'prompt'}-{number:04d}"
    return EvalPrompt(ident, text, checks, reference)


def load_prompt_file(path) -> list[EvalPrompt]:
    """Your own evaluation prompts: JSONL (or a JSON array) of {prompt, checks} like the packaged ones, or of
    records with a reference output (scored by ROUGE-L, as Self-Instruct scored SuperNI). Never empty."""
    from .data import DataError, loads_strict, parse_json_line

    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, None, "file not found" if not path.exists() else "is a folder, not a prompt file")
    raw = path.read_bytes()
    if raw.lstrip().startswith(b"["):
        rows = loads_strict(raw, path)
        if not isinstance(rows, list):
            raise DataError(path, None, None, f"expected a JSON array of prompts, got {type(rows).__name__}")
        rows = [(None, r) for r in rows]
    else:
        rows = [(i, parse_json_line(line, path, i)) for i, line in enumerate(raw.splitlines(), start=1) if line.strip()]
    prompts = []
    for n, (line, row) in enumerate(rows, start=1):
        try:
            prompts.append(prompt_from_row(row, path, line, n))
        except DataError as err:
            if line is not None:
                raise
            raise DataError(path, None, err.field, f"item {n}: {err.message}") from None
    if not prompts:
        raise DataError(path, None, None, "no prompts (the file is empty)")
    return prompts


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


# --- uncertainty: intervals for one model, and a paired comparison of two on the same prompts ---------------

def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval for a proportion k/n (honest at small n and near 0 or 1, unlike k/n +- 2 SE)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_ci(hits: Sequence[float], totals: Sequence[float] | None = None, samples: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, float]:
    """(estimate, low, high): a rate sum(hits)/sum(totals) and its percentile bootstrap interval over prompts.

    Resampling whole prompts keeps a prompt's checks together, so the same code gives the
    prompt-level rate (totals all 1) and the check-level rate (hits and totals counted per prompt).
    """
    import numpy as np

    hits = np.asarray(hits, dtype=float)
    totals = np.ones_like(hits) if totals is None else np.asarray(totals, dtype=float)
    if len(hits) == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(hits), size=(samples, len(hits)))
    rates = hits[idx].sum(axis=1) / np.maximum(totals[idx].sum(axis=1), 1e-12)
    tail = (1 - level) / 2 * 100
    return float(hits.sum() / max(totals.sum(), 1e-12)), float(np.percentile(rates, tail)), \
        float(np.percentile(rates, 100 - tail))


@dataclass
class PairedDifference:
    """B minus A on the same prompts: the difference in pass rate, its paired bootstrap interval, prompts gained and lost."""

    n: int
    difference: float
    low: float
    high: float
    gained: int  # prompts B passes and A fails
    lost: int  # prompts A passes and B fails

    def verdict(self) -> str:
        """'better' when the whole interval is above 0, 'worse' when below, else 'no detectable difference'."""
        return "better" if self.low > 0 else "worse" if self.high < 0 else "no detectable difference"

    def __str__(self) -> str:
        return (f"{self.difference:+.3f} [95% CI {self.low:+.3f}, {self.high:+.3f}], n={self.n}; "
                f"gained {self.gained}, lost {self.lost}: {self.verdict()}")


def paired_bootstrap(a: Sequence[bool], b: Sequence[bool], samples: int = 5000, seed: int = 0,
                     level: float = 0.95) -> PairedDifference:
    """Compare two models' per-prompt passes on the *same* prompts: resample prompts, keep the pairs.

    Pairing removes the prompts' own difficulty from the noise, so it detects differences that two
    separate intervals would hide. Identical models give exactly 0 with an interval of [0, 0].
    """
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or len(a) == 0:
        raise ValueError(f"need two equally long, non-empty lists of results, got {len(a)} and {len(b)}")
    delta = b - a
    _, low, high = bootstrap_ci(delta, samples=samples, seed=seed, level=level)
    return PairedDifference(len(a), float(delta.mean()), low, high, int((delta > 0).sum()), int((delta < 0).sum()))


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

    def passes(self, loose: bool = False) -> list[bool]:
        """Per prompt: all checks passed (strict or loose)."""
        return prompt_passes(self.prompts, self.responses, loose)

    def intervals(self, samples: int = 2000) -> dict[str, tuple[float, float, float]]:
        """(estimate, low, high) with a 95% bootstrap interval for the four pass rates."""
        out = {}
        for loose in (False, True):
            name = "loose" if loose else "strict"
            out[f"prompt_{name}"] = bootstrap_ci(self.passes(loose), samples=samples)
            per_prompt = [sum(check(r, c, loose) for c in p.checks) for p, r in zip(self.prompts, self.responses, strict=True)]
            out[f"check_{name}"] = bootstrap_ci(per_prompt, [len(p.checks) for p in self.prompts], samples=samples)
        return out

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
        from .finetune import load_trained

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
