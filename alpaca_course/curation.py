"""Curation: make a teacher stronger than itself with a verifier (best-of-k, rejection sampling).

Ask the teacher the same constrained instruction k times, at a temperature above 0 so the answers
differ; a program checks each answer (every constraint, strictly, and the output-quality rules);
keep one that passes. The kept answers are better than the teacher's *average* answer, so a
student trained on them can end up better than the teacher. Repeating the loop with the trained
student as the new teacher is expert iteration (ReST, STaR, CS336's filtered SFT).

Some constraints are about form, not content (lowercase, a title, a closing phrase, a list). For
those a program can also *repair* an answer that missed: lowercase it, add the title, cut it to
whole sentences. A repaired answer is still verified like any other, and the report counts how
many kept answers were repaired, so the learner can see what the verifier did and what the
program wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from .data import InstructionRecord
from .evaluation import EvalPrompt, check, word_count
from .filters import first_broken_output_rule
from .teachers import Sampling, Teacher


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
    solved: int = 0  # prompts with at least one passing answer
    repaired: int = 0  # kept answers a program edited (only with repair=True)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_family: dict[str, list[int]] = field(default_factory=dict)  # kind -> [passing samples, samples]
    rejections: dict[str, int] = field(default_factory=dict)  # reason -> samples

    @property
    def pass_rate(self) -> float:
        """Share of single samples that pass: the teacher's average quality."""
        return self.passing_samples / self.samples if self.samples else 0.0

    @property
    def solved_share(self) -> float:
        """Share of prompts with at least one passing sample among k: what best-of-k reaches."""
        return self.solved / self.prompts if self.prompts else 0.0

    def tokens_per_kept(self) -> float:
        """Tokens (prompt + completion) spent per example kept."""
        return (self.prompt_tokens + self.completion_tokens) / self.solved if self.solved else float("inf")

    def family_rates(self) -> dict[str, float]:
        """Per-sample pass rate by constraint family (a prompt with two families counts for both)."""
        return {kind: ok / total for kind, (ok, total) in sorted(self.by_family.items()) if total}

    def __str__(self) -> str:
        lines = [f"best-of-{self.k} on {self.prompts} constrained instructions ({self.samples} samples)",
                 f"  single-sample pass rate: {self.pass_rate:.3f}",
                 f"  instructions with at least one passing answer: {self.solved}/{self.prompts} ({self.solved_share:.3f})",
                 f"  tokens per kept example: {self.tokens_per_kept():,.0f}",
                 *([f"  kept answers repaired by a program: {self.repaired}"] if self.repaired else []),
                 "  pass rate by family: " + ", ".join(f"{k} {v:.2f}" for k, v in self.family_rates().items())]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {**asdict(self), "pass_rate": self.pass_rate, "solved_share": self.solved_share,
                "tokens_per_kept": self.tokens_per_kept(), "family_rates": self.family_rates()}


def best_of_k(teacher: Teacher, prompts: Sequence[EvalPrompt], k: int = 4, sampling: Sampling | None = None,
              batch_size: int = 64, limit: int | None = None, progress: bool = True, system: str | None = None,
              repair_answers: bool = False) -> tuple[list[InstructionRecord], CurationReport]:
    """Sample k answers per prompt (k copies side by side in a batch), keep the first that passes `verify`.

    Stops once `limit` examples are kept. Returns the kept records (instruction = the constrained
    prompt) and a report of pass rates and token cost. `system` is a system message shown to the
    teacher only: the kept record holds the user's words alone, so the student learns to behave as
    if it had been told (context distillation). With `repair_answers`, a prompt with no passing
    answer keeps the first finished answer that `repair` fixes and `verify` then accepts.
    """
    from tqdm.auto import tqdm

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    sampling = sampling or Sampling(max_new_tokens=64, temperature=0.8, top_k=50)
    per_batch = max(1, batch_size // k)
    report, kept = CurationReport(0, k), []
    bar = tqdm(total=limit or len(prompts), desc=f"best-of-{k}", unit="example", disable=not progress)
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
            reasons = [verify(prompt, a.text.strip(), a.finish_reason) for a in answers]
            report.prompts += 1
            report.samples += k
            report.passing_samples += reasons.count(None)
            for c in prompt.checks:
                counts = report.by_family.setdefault(c["kind"], [0, 0])
                counts[0] += sum(check(a.text.strip(), c) for a in answers)
                counts[1] += k
            for reason in reasons:
                if reason:
                    report.rejections[reason] = report.rejections.get(reason, 0) + 1
            best = answers[reasons.index(None)].text.strip() if None in reasons else None
            if best is None and repair_answers:
                best = next((fixed for a in answers if a.finish_reason != "length"
                             for fixed in [repair(prompt, a.text.strip())] if fixed and verify(prompt, fixed) is None), None)
                report.repaired += best is not None
            if best is not None:
                report.solved += 1
                kept.append(InstructionRecord(prompt.prompt, "", best, {
                    "source": "curated", "checks": prompt.checks, "k": k, "passing": reasons.count(None),
                    "repaired": None not in reasons, "prompt_id": prompt.id, "output_truncated": False}))
                bar.update(1)
            if limit and len(kept) >= limit:
                bar.close()
                return kept, report
    bar.close()
    return kept, report
