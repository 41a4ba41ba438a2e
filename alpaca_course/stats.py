"""Uncertainty, in one place: Wilson intervals, the bootstrap, and a difference with its verdict.

Every number the course compares carries an interval from here:
- a proportion k/n (a pass rate, a share of valid list items): `wilson_interval`;
- a rate over prompts, resampling whole prompts: `bootstrap_ci`;
- two models on the same prompts, or one quantity before and after on the same items: `paired_bootstrap` and
  `paired_change`, which resample the items and keep the pairs;
- two sides measured on different items: `unpaired_change`, which resamples each side on its own.

The verdict of a `Difference` names a side only when the whole 95% interval is on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: How a Difference words its verdict: (interval above 0, interval below 0, interval across 0).
BETTER_WORSE = ("better", "worse", "no detectable difference")
UP_DOWN = ("went up", "went down", "no detectable change")


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval for a proportion k/n (honest at small n and near 0 or 1, unlike k/n +- 2 SE)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def resamples(n: int, samples: int, seed: int = 0) -> np.ndarray:
    """The bootstrap's draws: `samples` rows of n item indices, drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(samples, n))


def percentile_interval(values, level: float = 0.95) -> tuple[float, float]:
    """The central `level` share of the bootstrap's values."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(hits: Sequence[float], totals: Sequence[float] | None = None, samples: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, float]:
    """(estimate, low, high): a rate sum(hits)/sum(totals) and its percentile bootstrap interval over prompts.

    Resampling whole prompts keeps a prompt's checks together, so the same code gives the
    prompt-level rate (totals all 1) and the check-level rate (hits and totals counted per prompt).
    """
    hits = np.asarray(hits, dtype=float)
    totals = np.ones_like(hits) if totals is None else np.asarray(totals, dtype=float)
    if len(hits) == 0:
        return 0.0, 0.0, 0.0
    idx = resamples(len(hits), samples, seed)
    rates = hits[idx].sum(axis=1) / np.maximum(totals[idx].sum(axis=1), 1e-12)
    return (float(hits.sum() / max(totals.sum(), 1e-12)), *percentile_interval(rates, level))


@dataclass
class Difference:
    """`after` minus `before` (B minus A) with a 95% bootstrap interval; when the items are paired, how many each
    side won (`gained`: items only B passes, `lost`: items only A passes)."""

    name: str
    before: float
    after: float
    low: float
    high: float
    n: int
    unit: str = "prompts"  # what n counts
    paired: bool = True  # False: the two sides are different items, each resampled on its own
    gained: int | None = None
    lost: int | None = None
    words: tuple[str, str, str] = BETTER_WORSE
    difference: float | None = None  # after - before, unless given (the mean of paired differences, exactly)

    def __post_init__(self) -> None:
        if self.difference is None:
            self.difference = self.after - self.before
        self.words = tuple(self.words)

    def verdict(self) -> str:
        """A side only when the whole interval is on it (BETTER_WORSE or UP_DOWN), else no detectable difference."""
        above, below, neither = self.words
        return above if self.low > 0 else below if self.high < 0 else neither

    def sentence(self) -> str:
        """One line, worded by the interval."""
        return (f"{self.name} {self.verdict()}: {self.before:.3f} -> {self.after:.3f} ({self.difference:+.3f}, "
                f"95% {'paired ' if self.paired else ''}interval {self.low:+.3f} to {self.high:+.3f}, "
                f"n = {self.n} {self.unit})")

    def to_dict(self) -> dict:
        """Plain data for JSON, with the verdict spelled out."""
        return asdict(self) | {"words": list(self.words), "verdict": self.verdict()}

    @classmethod
    def from_dict(cls, data: dict) -> Difference:
        """Back from `to_dict` (the verdict is recomputed from the interval, not read)."""
        return cls(**{k: v for k, v in data.items() if k != "verdict"})

    def __str__(self) -> str:
        counts = f"; gained {self.gained}, lost {self.lost}" if self.gained is not None else ""
        return (f"{self.difference:+.3f} [95% CI {self.low:+.3f}, {self.high:+.3f}], n={self.n}{counts}: "
                f"{self.verdict()}")


def paired_bootstrap(a: Sequence[bool], b: Sequence[bool], samples: int = 5000, seed: int = 0,
                     level: float = 0.95, name: str = "") -> Difference:
    """Compare two models' per-prompt passes on the *same* prompts: resample prompts, keep the pairs.

    Pairing removes the prompts' own difficulty from the noise, so it detects differences that two
    separate intervals would hide. Identical models give exactly 0 with an interval of [0, 0].
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or len(a) == 0:
        raise ValueError(f"need two equally long, non-empty lists of results, got {len(a)} and {len(b)}")
    delta = b - a
    _, low, high = bootstrap_ci(delta, samples=samples, seed=seed, level=level)
    return Difference(name, float(a.mean()), float(b.mean()), low, high, len(a), gained=int((delta > 0).sum()),
                      lost=int((delta < 0).sum()), difference=float(delta.mean()))


def paired_change(name: str, before, after, statistic: Callable, unit: str, samples: int = 2000,
                  seed: int = 0) -> Difference:
    """Resample the items (the same indices for both), recompute the statistic on each side: an interval for the change."""
    if len(before) != len(after) or not before:
        raise ValueError("a paired change needs the same, non-empty set of items before and after")
    rng, n = np.random.default_rng(seed), len(before)
    diffs = []
    for _ in range(samples):  # one draw of n indices per sample: statistics such as distinct-2 take lists
        idx = rng.integers(0, n, n)
        diffs.append(statistic([after[i] for i in idx]) - statistic([before[i] for i in idx]))
    return Difference(name, statistic(list(before)), statistic(list(after)), *percentile_interval(diffs), len(before),
                      unit, words=UP_DOWN)


def unpaired_change(name: str, before: Sequence[float], after: Sequence[float], unit: str, samples: int = 2000,
                    seed: int = 0, words: tuple[str, str, str] = UP_DOWN) -> Difference:
    """mean(after) - mean(before) for two sides measured on different items: each side resampled on its own."""
    x, y = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    rng = np.random.default_rng(seed)
    diffs = y[rng.integers(0, len(y), (samples, len(y)))].mean(1) - x[rng.integers(0, len(x), (samples, len(x)))].mean(1)
    return Difference(name, float(x.mean()), float(y.mean()), *percentile_interval(diffs), min(len(x), len(y)), unit,
                      paired=False, words=words)
