"""Curation: choose, out of a teacher's own samples, the answers a student should learn from.

Ask the teacher the same constrained instruction k times, at a temperature above 0 so the answers
differ. Then one of four rules picks at most one answer per instruction (`METHODS`):

- ``random``: one of the k at random, among those that pass the output-quality rules (no verifier):
  the control that tells what the *selection* adds;
- ``best``: the first that a program's **verifier** accepts (every constraint, strictly, and the
  quality rules): best-of-k, rejection sampling;
- ``repair``: the first sample only; if it misses a form-only check, a **program repair** edits it
  (lowercase it, add the title, cut it to whole sentences), and the verifier checks the result;
- ``best+repair``: the verifier first, the repair when no sample passes.

Every rule reads the same k samples, so comparing students trained on their picks is a matched
comparison. The kept records say whether a program edited them, so a learner can see what the
verifier chose and what the program wrote. Repeating the loop with the trained student as the new
teacher is expert iteration (ReST, STaR, CS336's filtered SFT).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from .data import InstructionRecord
from .filters import first_broken_output_rule
from .teachers import Sampling, Teacher
from .verifier import EvalPrompt, check, word_count


def verify(prompt: EvalPrompt, answer: str, finish_reason: str = "stop") -> str | None:
    """Why an answer is rejected ('cut at the token limit', an output rule, or 'fails <kind>'), or None when it passes."""
    if finish_reason == "length":
        return "cut at the token limit"
    broken = first_broken_output_rule(answer, prompt.prompt)
    if broken:
        return broken
    failed = next((c["kind"] for c in prompt.checks if not check(answer, c)), None)
    return f"fails {failed}" if failed else None


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_LIST_MARK = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", re.MULTILINE)


def sentences(text: str) -> list[str]:
    """The complete sentences of a text, list markers removed (an unfinished tail is dropped)."""
    pieces = [p.strip() for p in _SENTENCE_BREAK.split(_LIST_MARK.sub("", text).strip())]
    return [" ".join(p.split()) for p in pieces if p[-1:] in ".!?" and word_count(p) > 0]


def _as_list(text: str, n: int, marker: Callable[[int], str]) -> str | None:
    items = sentences(text)
    return "\n".join(f"{marker(i + 1)} {s}" for i, s in enumerate(items[:n])) if len(items) >= n else None


def _max_words(text: str, n: int) -> str | None:
    kept: list[str] = []
    for s in sentences(text):
        if word_count(" ".join([*kept, s])) > n:
            break
        kept.append(s)
    return " ".join(kept) or None


def _paragraphs(text: str, n: int) -> str | None:
    items = sentences(text)
    if len(items) < n:
        return None
    size = -(-len(items) // n)
    return "\n\n".join(" ".join(items[i * size:(i + 1) * size]) for i in range(n)) if size * (n - 1) < len(items) else None


def _title(text: str) -> str | None:
    words = re.findall(r"[A-Za-z0-9']+", (sentences(text) or [text])[0])[:5]
    return f"<<{' '.join(w.capitalize() for w in words)}>>\n\n{text}" if words else None


#: kind -> function(answer, check spec) -> the answer edited to satisfy the check, or None (no sensible edit)
REPAIRS: dict[str, Callable[[str, dict], str | None]] = {
    "lowercase": lambda t, c: t.lower(),
    "uppercase": lambda t, c: t.upper(),
    "quoted": lambda t, c: '"' + t.strip().strip('"') + '"',
    "starts_with": lambda t, c: f"{c['phrase']} {t.strip()}",
    "ends_with": lambda t, c: f"{t.strip()} {c['phrase']}",
    "no_commas": lambda t, c: re.sub(r"\s*,\s*", " ", t).strip(),
    "json": lambda t, c: json.dumps({"answer": t.strip()}),
    "title": lambda t, c: _title(t),
    "max_words": lambda t, c: _max_words(t, c["n"]),
    "max_sentences": lambda t, c: " ".join(sentences(t)[:c["n"]]) or None,
    "bullets": lambda t, c: _as_list(t, c["n"], lambda i: "-"),
    "numbered": lambda t, c: _as_list(t, c["n"], lambda i: f"{i}."),
    "paragraphs": lambda t, c: _paragraphs(t, c["n"]),
}
#: The order repairs are applied in: structure first, then what must stay at the ends, case last.
_REPAIR_ORDER = ["max_sentences", "max_words", "bullets", "numbered", "paragraphs", "no_commas", "title",
                 "starts_with", "ends_with", "quoted", "json", "lowercase", "uppercase"]


def repair(prompt: EvalPrompt, answer: str) -> str | None:
    """The answer edited by a program to satisfy the checks it fails (form only: case, lists, length, ends),
    or None when a failed check has no repair (keywords, forbidden words, a minimum length)."""
    failing = {c["kind"]: c for c in prompt.checks if not check(answer, c)}
    if not failing or any(kind not in REPAIRS for kind in failing):
        return None
    text: str | None = answer
    for kind in sorted(failing, key=_REPAIR_ORDER.index):
        text = REPAIRS[kind](text, failing[kind]) if text else None
    return text


@dataclass
class CurationReport:
    """What best-of-k cost and bought."""

    prompts: int
    k: int
    samples: int = 0
    passing_samples: int = 0
    solved: int = 0  # prompts with at least one sample that passes the verifier
    kept: dict[str, int] = field(default_factory=dict)  # method -> examples kept
    edited: dict[str, int] = field(default_factory=dict)  # method -> kept examples a program edited
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_family: dict[str, list[int]] = field(default_factory=dict)  # kind -> [passing samples, samples]
    rejections: dict[str, int] = field(default_factory=dict)  # reason -> samples

    @property
    def repaired(self) -> int:
        """Answers the first method kept that a program edited."""
        return next(iter(self.edited.values()), 0)

    def count(self, prompt: EvalPrompt, answers: Sequence, reasons: Sequence[str | None] | None = None) -> int:
        """Add one prompt's k samples: how many pass, by family, and why the others were rejected (`reasons`: the
        verifier's verdict on each sample, if already known). Returns how many of them passed."""
        reasons = verdicts(prompt, answers) if reasons is None else reasons
        self.prompts += 1
        self.samples += len(answers)
        self.passing_samples += reasons.count(None)
        self.solved += None in reasons
        for c in prompt.checks:
            counts = self.by_family.setdefault(c["kind"], [0, 0])
            counts[0] += sum(check(a.text.strip(), c) for a in answers)
            counts[1] += len(answers)
        for reason in reasons:
            if reason:
                self.rejections[reason] = self.rejections.get(reason, 0) + 1
        return reasons.count(None)

    @property
    def pass_rate(self) -> float:
        """Share of single samples that pass: the teacher's average quality."""
        return self.passing_samples / self.samples if self.samples else 0.0

    @property
    def solved_share(self) -> float:
        """Share of prompts with at least one passing sample among k: what best-of-k reaches."""
        return self.solved / self.prompts if self.prompts else 0.0

    def tokens_per_kept(self) -> float:
        """Tokens (prompt + completion) spent per example the first method kept."""
        kept = next(iter(self.kept.values()), 0)
        return (self.prompt_tokens + self.completion_tokens) / kept if kept else float("inf")

    def family_rates(self) -> dict[str, float]:
        """Per-sample pass rate by constraint family (a prompt with two families counts for both)."""
        return {kind: ok / total for kind, (ok, total) in sorted(self.by_family.items()) if total}

    def __str__(self) -> str:
        lines = [f"best-of-{self.k} on {self.prompts} constrained instructions ({self.samples} samples)",
                 f"  single-sample pass rate: {self.pass_rate:.3f}",
                 f"  instructions with at least one passing answer: {self.solved}/{self.prompts} ({self.solved_share:.3f})",
                 "  examples kept: " + ", ".join(f"{m} {n}" for m, n in self.kept.items()),
                 f"  tokens per kept example: {self.tokens_per_kept():,.0f}",
                 *([f"  kept answers repaired by a program: {self.repaired}"] if self.repaired else []),
                 "  pass rate by family: " + ", ".join(f"{k} {v:.2f}" for k, v in self.family_rates().items())]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {**asdict(self), "repaired": self.repaired, "pass_rate": self.pass_rate, "solved_share": self.solved_share,
                "tokens_per_kept": self.tokens_per_kept(), "family_rates": self.family_rates()}


METHODS = ("random", "best", "repair", "best+repair")


def verdicts(prompt: EvalPrompt, answers: Sequence) -> list[str | None]:
    """`verify` on each of one prompt's samples: None for a pass, else why it was rejected."""
    return [verify(prompt, a.text.strip(), a.finish_reason) for a in answers]


def select(prompt: EvalPrompt, answers: Sequence, method: str, rng: random.Random,
           reasons: Sequence[str | None] | None = None) -> tuple[str | None, bool]:
    """(the answer `method` keeps from these samples, or None; whether a program edited it).
    `reasons`: the verifier's verdict on each sample, if already known (`verdicts`)."""
    texts = [a.text.strip() for a in answers]
    if method == "random":
        fine = [t for t, a in zip(texts, answers, strict=True) if a.finish_reason != "length" and not first_broken_output_rule(t, prompt.prompt)]
        return (rng.choice(fine) if fine else None), False
    if method not in METHODS:
        raise ValueError(f"unknown curation method {method!r}; known: {', '.join(METHODS)}")
    pool = list(zip(texts, answers, strict=True))[: 1 if method == "repair" else len(texts)]
    reasons = verdicts(prompt, answers) if reasons is None else reasons
    passing = [t for (t, _), reason in zip(pool, reasons, strict=False) if reason is None]
    if passing:
        return passing[0], False
    if method in ("repair", "best+repair"):
        for text, answer in pool:
            fixed = repair(prompt, text) if answer.finish_reason != "length" else None
            if fixed and verify(prompt, fixed) is None:
                return fixed, True
    return None, False


def curate(teacher: Teacher, prompts: Sequence[EvalPrompt], k: int = 4, sampling: Sampling | None = None,
           methods: Sequence[str] = ("best+repair",), batch_size: int = 64, limit: int | None = None,
           progress: bool = True, system: str | None = None,
           pairs=None) -> tuple[dict[str, list[InstructionRecord]], CurationReport]:
    """Sample k answers per prompt (k copies side by side in a batch) and let each method keep at most one.

    Stops once every method has kept `limit` examples (or the prompts run out). Returns the kept
    records of each method (instruction = the constrained prompt) and one report of pass rates
    and token cost over everything sampled. `system` is a system message shown to the teacher only:
    the kept record holds the user's words alone, so the student learns to behave as if it had
    been told (context distillation). Given `pairs` (a `pairs.PairCollector`), each sampled prompt's
    preference pair goes into it, from the same samples; sampling goes on until it also holds the pairs it wants.
    """
    from tqdm.auto import tqdm

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    sampling = sampling or Sampling(max_new_tokens=64, temperature=0.8, top_k=50)
    per_batch = max(1, batch_size // k)
    report = CurationReport(0, k, kept={m: 0 for m in methods}, edited={m: 0 for m in methods})
    kept: dict[str, list[InstructionRecord]] = {m: [] for m in methods}
    target = limit or len(prompts)
    bar = tqdm(total=target, desc=f"{k} samples each", unit="example", disable=not progress)
    for start in range(0, len(prompts), per_batch):
        chunk = list(prompts[start:start + per_batch])
        head = [{"role": "system", "content": system}] if system else []
        conversations = [head + [{"role": "user", "content": p.prompt}] for p in chunk for _ in range(k)]
        before = (teacher.usage.prompt_tokens, teacher.usage.completion_tokens)
        outs = teacher.chat(conversations, Sampling(**{**asdict(sampling), "seed": sampling.seed + start * k}))
        report.prompt_tokens += teacher.usage.prompt_tokens - before[0]
        report.completion_tokens += teacher.usage.completion_tokens - before[1]
        for i, prompt in enumerate(chunk):
            answers = outs[i * k:(i + 1) * k]
            reasons = verdicts(prompt, answers)  # each sample verified once; the report, methods and pairs share it
            passing = report.count(prompt, answers, reasons)
            if pairs is not None:
                pairs.add(prompt, answers, reasons)
            for method in methods:
                if limit and len(kept[method]) >= limit:
                    continue
                text, edited = select(prompt, answers, method, random.Random(f"{sampling.seed}-{prompt.id}"), reasons)
                if text is None:
                    continue
                kept[method].append(InstructionRecord(prompt.prompt, "", text, {
                    "source": "curated", "method": method, "checks": prompt.checks, "k": k,
                    "passing": passing,
                    "repaired": edited, "prompt_id": prompt.id, "output_truncated": False}))
                report.kept[method] += 1
                report.edited[method] += edited
            bar.n = min(target, min(len(v) for v in kept.values()))
            bar.refresh()
            if limit and all(len(v) >= limit for v in kept.values()) and (pairs is None or pairs.done):
                bar.close()
                return kept, report
    bar.close()
    return kept, report


def best_of_k(teacher: Teacher, prompts: Sequence[EvalPrompt], k: int = 4, sampling: Sampling | None = None,
              batch_size: int = 64, limit: int | None = None, progress: bool = True,
              repair_answers: bool = False) -> tuple[list[InstructionRecord], CurationReport]:
    """Best-of-k: keep the first of k samples that `verify` accepts (with `repair_answers`, else a repaired one)."""
    method = "best+repair" if repair_answers else "best"
    kept, report = curate(teacher, prompts, k, sampling, (method,), batch_size, limit, progress)
    return kept[method], report
