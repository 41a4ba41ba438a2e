"""Filters: the rules Alpaca used to throw away bad generated instructions, our rules for bad outputs,
and a funnel report.

Alpaca filtered instructions only. A small teacher also writes bad *answers*: cut off at the token
limit, copying the question back, looping on a phrase, or saying nothing. Training on those teaches
the student exactly that, so the output rules drop them, each with its own row in the funnel.

Rules run in order and the first one an instruction breaks is the one that gets the blame, so
the funnel shows how many each rule removed. The ROUGE-L novelty filter runs last: a candidate
survives only if its highest ROUGE-L against every seed task and every instruction kept so far
(including ones kept earlier in the same batch) is at most 0.7.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .rouge import Vocabulary, encode_texts, f_matrix, lcs_matrix, rouge_l, tokenize

#: Alpaca's blacklist (Self-Instruct's eight plus five it added): things a text model cannot do.
BLACKLIST = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
             "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram")
MIN_WORDS, MAX_WORDS = 4, 150  # Alpaca drops instructions of 3 words or fewer, or more than 150
ROUGE_THRESHOLD = 0.7


def too_short(instruction: str, min_words: int = MIN_WORDS) -> bool:
    """Fewer than `min_words` whitespace-separated words."""
    return len(instruction.split()) < min_words


def too_long(instruction: str, max_words: int = MAX_WORDS) -> bool:
    """More than `max_words` words."""
    return len(instruction.split()) > max_words


def blacklisted(instruction: str, words: Sequence[str] = BLACKLIST) -> bool:
    """Mentions a blacklisted word as a whole word (case-insensitive)."""
    return any(re.search(rf"\b{re.escape(w)}\b", instruction, flags=re.IGNORECASE) for w in words)


def asks_for_a_program(instruction: str) -> bool:
    """Starts with "Write a program" (the teacher liked to add it; Alpaca drops these)."""
    return instruction.lower().startswith("write a program")


def starts_with_punctuation(instruction: str) -> bool:
    """First character is ASCII punctuation."""
    return bool(instruction) and instruction[0] in string.punctuation


def starts_non_ascii(instruction: str) -> bool:
    """First character is not ASCII."""
    return bool(instruction) and not instruction[0].isascii()


#: The funnel's rules, in the order they are checked: (name, test that returns True to drop).
RULES: list[tuple[str, Callable[[str], bool]]] = [
    ("too short (<4 words)", too_short),
    ("too long (>150 words)", too_long),
    ("blacklisted word", blacklisted),
    ("starts 'Write a program'", asks_for_a_program),
    ("starts with punctuation", starts_with_punctuation),
    ("starts with non-ASCII", starts_non_ascii),
]
NOVELTY = f"too similar (ROUGE-L > {ROUGE_THRESHOLD})"

# --- output rules: applied to the teacher's answer (instance generation) ---------------------------------

MIN_OUTPUT_WORDS = 2
TRUNCATED = "output cut at the token limit"


def near_empty(output: str, min_words: int = MIN_OUTPUT_WORDS) -> bool:
    """Fewer than `min_words` words of letters or digits ("", "...", "Sure!")."""
    return len(tokenize(output)) < min_words


def repeats_prompt(output: str, instruction: str, input_text: str = "", threshold: float = 0.8) -> bool:
    """The answer is (nearly) the instruction or the input said back: ROUGE-L F above `threshold` against either."""
    return any(source.strip() and rouge_l(source, output) > threshold for source in (instruction, input_text))


def degenerate_repetition(output: str, n: int = 4, min_distinct: float = 0.5, min_words: int = 16) -> bool:
    """A loop: in an answer of `min_words`+ words, under half of its word n-grams are distinct
    (or one line of 3+ words comes back three times or more)."""
    words = tokenize(output)
    lines = [line.strip().lower() for line in output.splitlines() if len(line.split()) >= 3]
    if lines and max(lines.count(line) for line in lines) >= 3:
        return True
    if len(words) < min_words:
        return False
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) < min_distinct


#: The output rules in the order they are checked: (name, test(output, instruction, input) that returns True to drop).
OUTPUT_RULES: list[tuple[str, Callable[[str, str, str], bool]]] = [
    ("empty or near-empty output", lambda out, ins, inp: near_empty(out)),
    ("output repeats the instruction or input", repeats_prompt),
    ("output loops (repeated n-grams)", lambda out, ins, inp: degenerate_repetition(out)),
]


def first_broken_output_rule(output: str, instruction: str, input_text: str = "") -> str | None:
    """The name of the first output rule the answer breaks, or None."""
    return next((name for name, test in OUTPUT_RULES if test(output, instruction, input_text)), None)


def funnel_stages() -> list[str]:
    """Every stage of the funnel in order: instruction rules, novelty, then the output rules."""
    return [name for name, _ in RULES] + [NOVELTY, TRUNCATED] + [name for name, _ in OUTPUT_RULES]


@dataclass
class Funnel:
    """How many candidates entered, how many each rule removed, how many remain."""

    entered: int = 0
    removed: dict[str, int] = field(default_factory=lambda: {name: 0 for name in funnel_stages()})

    @property
    def kept(self) -> int:
        """Candidates that passed every rule."""
        return self.entered - sum(self.removed.values())

    def merge(self, other: Funnel) -> None:
        """Add another funnel's counts to this one."""
        self.entered += other.entered
        for name, count in other.removed.items():
            self.removed[name] = self.removed.get(name, 0) + count

    def rows(self) -> list[tuple[str, int, int]]:
        """(stage, removed, remaining) from the top of the funnel down."""
        remaining, out = self.entered, [("generated", 0, self.entered)]
        for name, count in self.removed.items():
            remaining -= count
            out.append((name, count, remaining))
        return out

    def __str__(self) -> str:
        rows = [("rule", "removed", "left")] + self.rows()
        width = max(len(name) for name, _, _ in rows)
        return "\n".join(f"{name:<{width}}  {removed:>7}  {left:>6}" for name, removed, left in rows)


def first_broken_rule(instruction: str, rules=RULES) -> str | None:
    """The name of the first rule the instruction breaks, or None."""
    return next((name for name, test in rules if test(instruction)), None)


class NoveltyFilter:
    """Keeps a pool (seed tasks + kept instructions) and admits only candidates with ROUGE-L <= threshold.

    Exactly Alpaca's sequential rule, done in blocks: one all-pairs LCS call per block against
    the pool, one within the block, then a cheap sequential pass.
    """

    def __init__(self, pool: Sequence[str] = (), threshold: float = ROUGE_THRESHOLD):
        self.threshold = threshold
        self.vocab = Vocabulary()
        self.texts: list[str] = []
        self.encoded: list[str] = []
        self.extend(pool)

    def extend(self, texts: Sequence[str]) -> None:
        """Add texts to the pool without checking them (e.g. the seed tasks)."""
        self.texts.extend(texts)
        self.encoded.extend(encode_texts(texts, False, self.vocab))

    def _pool_best(self, queries: list[str], top: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each query: the indices of its `top` most similar pool texts and their exact ROUGE-L.

        Ranking uses 2L/(m+n), which is cheap and orders pairs exactly as F does except for
        last-bit ties; the exact F (rouge_score's arithmetic) is then computed for the leaders
        and for every pair tied at the maximum, so the maximum and the decision are exact.
        """
        if not self.encoded:
            return [(np.zeros(0, dtype=np.int64), np.zeros(0)) for _ in queries]
        pool_len = np.fromiter(map(len, self.encoded), np.int64, len(self.encoded))
        query_len = np.fromiter(map(len, queries), np.int64, len(queries))
        lcs = lcs_matrix(self.encoded, queries)
        denominator = pool_len[:, None] + query_len[None, :]
        ratio = np.divide(2.0 * lcs, denominator, out=np.zeros(lcs.shape), where=denominator > 0)
        out = []
        k = min(top + 4, len(self.encoded))
        for i in range(len(queries)):
            column = ratio[:, i]
            leaders = np.argpartition(-column, k - 1)[:k]
            tied = np.flatnonzero(column == column[leaders].max())
            idx = np.union1d(leaders, tied)
            exact = f_matrix(lcs[idx, i][:, None], pool_len[idx], query_len[i:i + 1])[:, 0]
            order = np.lexsort((idx, -exact))[:top]
            out.append((idx[order], exact[order]))
        return out

    def admit(self, candidates: Sequence[str], top: int = 3, commit: bool = True) -> list[dict]:
        """Check candidates in order; one dict per candidate: kept, max_rouge, most_similar.

        A kept candidate counts against later ones in the same call. With commit=False the
        pool itself is left unchanged (call `extend` with what you finally keep)."""
        queries = encode_texts(candidates, False, self.vocab)
        from_pool = self._pool_best(queries, top)
        lengths = np.fromiter(map(len, queries), np.int64, len(queries))
        within = f_matrix(lcs_matrix(queries, queries), lengths, lengths)
        results, kept_rows = [], []
        for i in range(len(queries)):
            pool_idx, pool_scores = from_pool[i]
            names = [self.texts[j] for j in pool_idx] + [candidates[j] for j in kept_rows]
            scores = np.concatenate([pool_scores, within[i, kept_rows]])
            order = np.argsort(-scores, kind="stable")[:top]
            max_rouge = float(scores[order[0]]) if len(order) else 0.0
            kept = max_rouge <= self.threshold
            results.append({"kept": kept, "max_rouge": max_rouge,
                            "most_similar": [[names[j], round(float(scores[j]), 4)] for j in order]})
            if kept:
                kept_rows.append(i)
        if commit:
            self.texts.extend(candidates[i] for i in kept_rows)
            self.encoded.extend(queries[i] for i in kept_rows)
        return results


def apply_rules(instructions: Sequence[str], rules=RULES) -> tuple[list[int], Funnel]:
    """Indices of instructions that pass every rule, and the funnel counts (novelty not included)."""
    funnel = Funnel(entered=len(instructions))
    passed = []
    for i, text in enumerate(instructions):
        broken = first_broken_rule(text, rules)
        if broken is None:
            passed.append(i)
        else:
            funnel.removed[broken] += 1
    return passed, funnel
