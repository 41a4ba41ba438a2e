"""The joke study: ask a model for a joke many times and count how many different jokes come back.

Lesson 03 uses it to show a teacher's habit of repeating itself before it measures diversity: the same request at
several temperatures, and with topics or personas varied (the "careful prompting" of Persona Hub). Each joke is
checked for form (`looks_like_joke`), and jokes are grouped by meaning with the teacher's own hidden states.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .filters import ROUGE_THRESHOLD
from .resources import load_lines
from .rouge import rouge_l_matrix, tokenize
from .stats import unpaired_change, wilson_interval
from .teachers import Sampling, Teacher


def normalize(text: str) -> str:
    """Lowercase, punctuation out, spaces collapsed: how we decide two jokes are 'the same'."""
    return " ".join(tokenize(text))


def near_duplicate_clusters(texts: Sequence[str], threshold: float = ROUGE_THRESHOLD) -> list[list[int]]:
    """Groups of texts linked by ROUGE-L > threshold (connected components), largest first."""
    if not texts:
        return []
    linked = rouge_l_matrix(list(texts), list(texts)) > threshold
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked, 1)), strict=True):
        parent[root(int(i))] = root(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=len, reverse=True)


@dataclass
class JokeResult:
    """What came back when the model was asked for a joke many times."""

    jokes: list[str]
    distinct: int
    clusters: list[list[int]]
    top: list[tuple[str, int]]
    finished: list[bool] = field(default_factory=list)  # ended by itself (not cut at the token limit)
    prompts: list[str] = field(default_factory=list)

    @property
    def near_duplicate_groups(self) -> int:
        """Clusters after merging near-duplicates (ROUGE-L above the novelty threshold)."""
        return len(self.clusters)

    def __str__(self) -> str:
        lines = [f"{len(self.jokes)} jokes asked for: {self.distinct} distinct texts, "
                 f"{self.near_duplicate_groups} groups after merging near-duplicates (ROUGE-L > {ROUGE_THRESHOLD})",
                 f"largest group: {len(self.clusters[0]) if self.clusters else 0} jokes", "most repeated:"]
        lines += [f"  {count:>3} x  {text[:90]}" for text, count in self.top]
        return "\n".join(lines)


JOKE_REQUEST = "Tell me a joke."


def joke_requests(style: str, n: int, seed: int = 0) -> list[str]:
    """n requests for a joke. `plain` asks the same thing n times; `topic` and `persona` vary what the joke
    is about or who tells it (the "careful prompting" of Persona Hub and attributed prompts)."""
    rng = random.Random(seed)
    if style == "plain":
        return [JOKE_REQUEST] * n
    if style == "topic":
        return [f"Tell me a joke about {t}." for t in rng.choices(load_lines("topics.txt"), k=n)]
    if style == "persona":
        return [f"Tell me a joke that {p} would tell." for p in rng.choices(load_lines("personas.txt"), k=n)]
    raise ValueError(f"unknown joke request style {style!r}; use plain, topic or persona")


def joke_experiment(teacher: Teacher, n: int = 50, temperature: float = 1.0, seed: int = 0,
                    prompt: str = JOKE_REQUEST, max_new_tokens: int = 48,
                    prompts: Sequence[str] | None = None) -> JokeResult:
    """Ask for a joke n times (sampling on) and count how many distinct jokes come back.

    `prompts` (n requests, e.g. from `joke_requests`) replaces the one repeated `prompt`.
    """
    prompts = list(prompts) if prompts is not None else [prompt] * n
    sampling = Sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=1.0, seed=seed)
    out = teacher.chat([[{"role": "user", "content": p}] for p in prompts], sampling)  # request i is seeded seed + i
    jokes, finished = [c.text.strip() for c in out], [c.finish_reason == "stop" for c in out]
    normalized = [normalize(j) for j in jokes]
    counts = Counter(normalized)
    first_form = {}
    for joke, key in zip(jokes, normalized, strict=True):
        first_form.setdefault(key, joke)
    top = [(first_form[k], c) for k, c in counts.most_common(5)]
    return JokeResult(jokes, len(counts), near_duplicate_clusters(normalized), top, finished, prompts)


def looks_like_joke(text: str, finished: bool = True) -> bool:
    """A form check, not a judge of humour: a finished text of 6-60 words with a setup and a punchline
    (a question with at least two words after it, or at least two sentences)."""
    if not finished or not 6 <= len(text.split()) <= 60:
        return False
    question = text.find("?")
    if question >= 0 and len(re.findall(r"[A-Za-z]+", text[question + 1:])) >= 2:
        return True
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if len(s.split()) >= 2]) >= 2


def centred_similarity(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity after subtracting the mean vector. A small LM's mean-pooled states all point
    roughly the same way, so raw cosines sit near 1 for any two texts; centring spreads them out."""
    from .diversity import cosine_gram

    vectors = np.asarray(vectors, dtype=np.float64)
    return cosine_gram(vectors - vectors.mean(axis=0, keepdims=True))


def meaning_groups(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy groups: each text joins the most similar group leader at or above `threshold`, else leads a new
    group. Largest first."""
    leaders: list[int] = []
    groups: dict[int, list[int]] = {}
    for i in range(len(similarity)):
        best = max(leaders, key=lambda j: similarity[i, j], default=None)
        if best is not None and similarity[i, best] >= threshold:
            groups[best].append(i)
        else:
            leaders.append(i)
            groups[i] = [i]
    return sorted(groups.values(), key=len, reverse=True)


def new_jokes(similarity: np.ndarray, coherent: Sequence[bool], threshold: float) -> list[bool]:
    """For each text in order: does it pass the joke form check and differ in meaning (similarity below
    `threshold`) from every earlier text that passed? Their sum is the number of distinct jokes."""
    kept: list[int] = []
    new = []
    for i, ok in enumerate(coherent):
        is_new = bool(ok) and all(similarity[i, j] < threshold for j in kept)
        kept += [i] if is_new else []
        new.append(is_new)
    return new


@dataclass
class JokeCondition:
    """One way of asking (a request style at a temperature) and what came back."""

    style: str
    temperature: float
    result: JokeResult
    coherent: list[bool]
    similarity: np.ndarray  # centred cosine between this condition's jokes (centred over the whole study)
    threshold: float

    @property
    def label(self) -> str:
        """e.g. 'plain, T=0.7'"""
        return f"{self.style}, T={self.temperature:g}"

    @property
    def asked(self) -> int:
        """Jokes asked for."""
        return len(self.result.jokes)

    def new(self) -> list[bool]:
        """Per joke asked: passed the form check and was new in meaning (see `new_jokes`)."""
        return new_jokes(self.similarity, self.coherent, self.threshold)

    def distinct(self) -> int:
        """Distinct jokes by meaning that pass the form check."""
        return sum(self.new())

    def largest_group(self) -> int:
        """Jokes in the largest meaning group."""
        return len(meaning_groups(self.similarity, self.threshold)[0]) if self.asked else 0

    def row(self) -> dict:
        """The condition's numbers, each share with its Wilson 95% interval."""

        k, d = sum(self.coherent), self.distinct()
        return {"condition": self.label, "asked": self.asked, "pass form check": k,
                "form check [95% CI]": _share(k, self.asked, wilson_interval),
                "distinct by words (ROUGE-L)": self.result.near_duplicate_groups,
                "distinct and passing, by meaning": d,
                "per asked [95% CI]": _share(d, self.asked, wilson_interval),
                "largest meaning group": self.largest_group()}


def _share(k: int, n: int, interval) -> str:
    low, high = interval(k, n)
    return f"{k / max(n, 1):.2f} [{low:.2f}, {high:.2f}]"


def joke_difference(a: JokeCondition, b: JokeCondition, samples: int = 2000, seed: int = 0):
    """B minus A in distinct passing jokes per asked, with a bootstrap interval that resamples each side's
    per-ask verdicts (new or not) on its own. Whether an ask is new depends on the asks before it, so the
    interval is a rough guide, not an exact one."""
    return unpaired_change(f"distinct passing jokes per asked, {b.label} against {a.label}", a.new(), b.new(),
                           "jokes asked on each side", samples, seed)


@dataclass
class JokeStudy:
    """The joke experiment over several ways of asking, grouped by meaning and checked for form."""

    conditions: list[JokeCondition]
    threshold: float
    similarity: np.ndarray  # over all jokes of the study, in condition order
    jokes: list[str]

    def table(self):
        """A DataFrame: one row per condition."""
        import pandas as pd

        return pd.DataFrame([c.row() for c in self.conditions]).set_index("condition")

    def threshold_examples(self, per_side: int = 2) -> list[tuple[float, str, str]]:
        """Pairs of different jokes just above and just below the threshold: (similarity, joke, joke)."""
        i, j = np.triu_indices(len(self.jokes), 1)
        pairs = [(float(self.similarity[a, b]), self.jokes[a], self.jokes[b]) for a, b in zip(i, j, strict=True)
                 if normalize(self.jokes[a]) != normalize(self.jokes[b])]
        above = sorted((p for p in pairs if p[0] >= self.threshold), key=lambda p: p[0])[:per_side]
        below = sorted((p for p in pairs if p[0] < self.threshold), key=lambda p: -p[0])[:per_side]
        return above + below

    def find(self, style: str, temperature: float) -> JokeCondition | None:
        """The condition with this style and temperature, if the study ran it."""
        return next((c for c in self.conditions if c.style == style and c.temperature == temperature), None)

    def what_we_saw(self, handful: int = 5) -> str:
        """Sentences worded by this run's numbers: the claim ("a handful of jokes"), temperature, careful prompting."""

        lines = []
        plain = [c for c in self.conditions if c.style == "plain"]
        for c in plain:
            low, high = wilson_interval(c.distinct(), c.asked)
            lines.append(f"- {c.label}: {sum(c.coherent)} of {c.asked} passed the joke form check; they make "
                         f"{c.distinct()} distinct jokes by meaning ({c.distinct() / c.asked:.2f} per asked, 95% "
                         f"interval {low:.2f} to {high:.2f}); the largest meaning group holds {c.largest_group()}.")
        repeats = [c for c in plain if c.distinct() <= handful or c.largest_group() >= c.asked / 2]
        if repeats:
            lines.append(f"- The claim holds here at {', '.join(c.label for c in repeats)}: a handful of jokes, or one "
                         "joke most of the time.")
        elif plain:
            lines.append("- The claim does not hold for this model at these temperatures: no setting gave a handful "
                         f"of jokes (at most {handful} groups) or one group with half of them.")
        if len(plain) >= 2:
            coolest, hottest = min(plain, key=lambda c: c.temperature), max(plain, key=lambda c: c.temperature)
            change = joke_difference(coolest, hottest)
            lines.append(f"- Raising the temperature: {change.sentence()}.")
        for c in self.conditions:
            base = self.find("plain", c.temperature) if c.style != "plain" else None
            if base is not None:
                lines.append(f"- Careful prompting ({c.style}): {joke_difference(base, c).sentence()}.")
        return "\n".join(lines)


def joke_study(teacher: Teacher, n: int, conditions: Sequence[tuple[str, float]] = (
        ("plain", 0.3), ("plain", 0.7), ("plain", 1.0), ("topic", 0.7), ("persona", 0.7)),
        threshold: float = 0.6, seed: int = 0, max_new_tokens: int = 48) -> JokeStudy:
    """Ask for n jokes in each (request style, temperature) condition, at equal budget; check each for form and
    group them by meaning with the teacher's own hidden states (`diversity.embed_texts`)."""
    from .diversity import embed_texts

    results = [joke_experiment(teacher, n=n, temperature=t, seed=seed,
                               max_new_tokens=max_new_tokens, prompts=joke_requests(style, n, seed))
               for style, t in conditions]
    jokes = [j for r in results for j in r.jokes]
    similarity = centred_similarity(embed_texts(teacher.model, teacher.tokenizer, jokes))
    out, start = [], 0
    for (style, t), r in zip(conditions, results, strict=True):
        rows = slice(start, start + len(r.jokes))
        coherent = [looks_like_joke(j, f) for j, f in zip(r.jokes, r.finished, strict=True)]
        out.append(JokeCondition(style, t, r, coherent, similarity[rows, rows], threshold))
        start += len(r.jokes)
    return JokeStudy(out, threshold, similarity, jokes)
