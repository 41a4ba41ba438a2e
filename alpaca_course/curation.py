"""Curation: make a teacher stronger than itself with a verifier (best-of-k, rejection sampling).

Ask the teacher the same constrained instruction k times, at a temperature above 0 so the answers
differ; a program checks each answer (every constraint, strictly, and the output-quality rules);
keep one that passes. The kept answers are better than the teacher's *average* answer, so a
student trained on them can end up better than the teacher. Repeating the loop with the trained
student as the new teacher is expert iteration (ReST, STaR, CS336's filtered SFT).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .data import InstructionRecord
from .evaluation import EvalPrompt, check
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


@dataclass
class CurationReport:
    """What best-of-k cost and bought."""

    prompts: int
    k: int
    samples: int = 0
    passing_samples: int = 0
    solved: int = 0  # prompts with at least one passing answer
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
                 "  pass rate by family: " + ", ".join(f"{k} {v:.2f}" for k, v in self.family_rates().items())]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {**asdict(self), "pass_rate": self.pass_rate, "solved_share": self.solved_share,
                "tokens_per_kept": self.tokens_per_kept(), "family_rates": self.family_rates()}


def best_of_k(teacher: Teacher, prompts: Sequence[EvalPrompt], k: int = 4, sampling: Sampling | None = None,
              batch_size: int = 64, limit: int | None = None, progress: bool = True, system: str | None = None
              ) -> tuple[list[InstructionRecord], CurationReport]:
    """Sample k answers per prompt (k copies side by side in a batch), keep the first that passes `verify`.

    Stops once `limit` examples are kept. Returns the kept records (instruction = the constrained
    prompt) and a report of pass rates and token cost. `system` is a system message shown to the
    teacher only: the kept record holds the user's words alone, so the student learns to behave as
    if it had been told (context distillation).
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
        outs = teacher.chat(conversations, Sampling(**{**asdict(sampling), "seed": sampling.seed + start}))
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
            if None in reasons:
                report.solved += 1
                best = answers[reasons.index(None)].text.strip()
                kept.append(InstructionRecord(prompt.prompt, "", best, {
                    "source": "curated", "checks": prompt.checks, "k": k, "passing": reasons.count(None),
                    "prompt_id": prompt.id, "output_truncated": False}))
                bar.update(1)
            if limit and len(kept) >= limit:
                bar.close()
                return kept, report
    bar.close()
    return kept, report
