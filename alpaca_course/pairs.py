"""Preference pairs: two answers to one prompt, one the verifier accepts and one it rejects.

Best-of-k samples k answers to an instruction and keeps one that passes. When some of the k pass and some
fail, the same samples also give a pair for preference tuning (`preference`), at no extra sampling cost.

A rejected answer must differ from the chosen one *in the constraint*. Answers cut at the token limit
are never rejected ones here: every chosen answer ends on its own, so a pair whose rejected answer is
merely cut would teach "be short" (preference tuning already tends to change answer length) instead of
"follow the constraint". Answers that break an output rule (a repeat of the prompt, a refusal, ...) are
left out for the same reason: the contrast would not be the constraint.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .data import DataError, parse_json_line
from .verifier import EvalPrompt

#: what a pairs file's lines hold; `meta` is optional
PAIR_FIELDS = ("prompt", "chosen", "rejected")


@dataclass
class PreferencePair:
    """One prompt, an answer the verifier accepted and one it rejected; meta says why."""

    prompt: str
    chosen: str
    rejected: str
    meta: dict = field(default_factory=dict)

    @property
    def family(self) -> str:
        """The constraint kind the rejected answer failed ('' when not recorded)."""
        return self.meta.get("rejected_because", "").removeprefix("fails ")

    def to_dict(self) -> dict:
        """Plain data: one JSONL line of a pairs file."""
        return asdict(self)


def pair_from_samples(prompt: EvalPrompt, answers: Sequence, repaired: bool = True,
                      reasons: Sequence[str | None] | None = None) -> PreferencePair | None:
    """A preference pair from one prompt's k samples, or None.

    The verifier's pair first: the first passing sample against the first that fails a check (finished,
    output rules kept). When no sample passes (and `repaired`), the program's pair: the first finished sample
    that a form repair makes pass (`curation.repair`), the repaired text against the sample as written.
    `meta["chosen_by"]` says which ("verifier" or "repair"). `reasons`: the verifier's verdict on each sample, if
    already known (`curation.verdicts`).
    """
    from .curation import repair, verdicts, verify

    texts = [a.text.strip() for a in answers]
    reasons = verdicts(prompt, answers) if reasons is None else list(reasons)
    meta = {"prompt_id": prompt.id, "checks": prompt.checks, "k": len(answers), "passing": reasons.count(None),
            "left_out_cut": reasons.count("cut at the token limit")}
    chosen = next((t for t, r in zip(texts, reasons, strict=True) if r is None), None)
    failing = [(t, r) for t, r in zip(texts, reasons, strict=True) if r and r.startswith("fails ")]
    if chosen is not None:
        rejected = next(((t, r) for t, r in failing if t != chosen), None)
        if rejected:
            return PreferencePair(prompt.prompt, chosen, rejected[0], {**meta, "rejected_because": rejected[1],
                                                                        "chosen_by": "verifier"})
        return None
    for text, reason in failing if repaired else []:
        fixed = repair(prompt, text)
        if fixed and fixed != text and verify(prompt, fixed) is None:
            return PreferencePair(prompt.prompt, fixed, text, {**meta, "rejected_because": reason, "chosen_by": "repair"})
    return None


#: which pairs a run trains on: the verifier's alone, or the program's repairs too
PAIR_SOURCES = ("verifier", "verifier+repair")


@dataclass
class PairCollector:
    """Collects the pairs of `source` (PAIR_SOURCES) while curation samples; `done` once it holds `wanted`."""

    source: str = "verifier"
    wanted: int = 0
    pairs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.source not in PAIR_SOURCES:
            raise ValueError(f"unknown pair source {self.source!r}; known: {', '.join(PAIR_SOURCES)}")

    def add(self, prompt: EvalPrompt, answers: Sequence, reasons: Sequence[str | None] | None = None) -> None:
        """Add this prompt's pair, if its samples hold one (`reasons`: the verifier's verdicts, if known)."""
        pair = pair_from_samples(prompt, answers, repaired=self.source == "verifier+repair", reasons=reasons)
        if pair is not None:
            self.pairs.append(pair)

    @property
    def done(self) -> bool:
        """Whether it holds as many pairs as wanted."""
        return len(self.pairs) >= self.wanted


def family_counts(pairs: Sequence[PreferencePair]) -> dict[str, int]:
    """How many pairs' rejected answers failed each kind of check."""
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.family] = counts.get(pair.family, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def write_pairs(path: str | Path, pairs: Sequence[PreferencePair]) -> Path:
    """Write pairs as JSONL (prompt, chosen, rejected, meta), replacing the file at once."""
    from .data import atomic_write_text

    return atomic_write_text(path, "".join(json.dumps(p.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"
                                           for p in pairs))


def pair_from_dict(row: Any, path=None, line: int | None = None) -> PreferencePair:
    """Validate one parsed line of a pairs file; a DataError names the file, line and field."""
    from .data import _check_text

    if not isinstance(row, dict):
        raise DataError(path, line, None, f"expected a JSON object, got {type(row).__name__}")
    unknown = sorted(set(row) - {*PAIR_FIELDS, "meta"})
    if unknown:
        raise DataError(path, line, unknown[0], f"unknown field; a pair has {', '.join(PAIR_FIELDS)} and meta")
    for name in PAIR_FIELDS:
        if name not in row:
            raise DataError(path, line, name, "is missing")
        _check_text(row[name], name, path, line, required=True)
    if row["chosen"].strip() == row["rejected"].strip():
        raise DataError(path, line, "rejected", "is the same text as 'chosen'; a pair needs two different answers")
    meta = row.get("meta", {})
    if not isinstance(meta, dict):
        raise DataError(path, line, "meta", f"expected a JSON object, got {type(meta).__name__}")
    return PreferencePair(row["prompt"], row["chosen"], row["rejected"], meta)


def load_pairs(path: str | Path) -> list[PreferencePair]:
    """Read a pairs file (JSONL: prompt, chosen, rejected, optional meta); at least one pair."""
    path = Path(path)
    if path.is_dir():
        raise DataError(path, None, None, "is a folder; expected a JSONL file of preference pairs")
    pairs = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                pairs.append(pair_from_dict(parse_json_line(raw, path, number), path, number))
    if not pairs:
        raise DataError(path, None, None, "holds no preference pairs")
    return pairs


def conversational(pair: PreferencePair) -> dict:
    """The pair in TRL's conversational preference format, so the chat template applies as in SFT."""
    return {"prompt": [{"role": "user", "content": pair.prompt}],
            "chosen": [{"role": "assistant", "content": pair.chosen}],
            "rejected": [{"role": "assistant", "content": pair.rejected}]}


def split_pairs(pairs: Sequence[PreferencePair], fraction: float, seed: int = 0):
    """(train, held-out) pairs, seeded; at least one held out (when there are 2 or more)."""
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    n_held = min(len(shuffled) - 1, max(1, round(len(shuffled) * fraction)))
    return shuffled[n_held:], shuffled[:n_held]
