"""Checkers for lesson 03 (measuring diversity); expected values come from the package wherever it computes them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .harness import Case, Feedback, close, run_cases


def check_distinct_n(fn: Callable[[Sequence[str], int], float]) -> Feedback:
    """distinct_n(texts, n) -> unique n-grams / all n-grams over the corpus (n-grams within each text)."""
    from ..diversity import distinct_n

    corpora = [("two texts, bigrams", ["the cat sat", "the cat ran"], 2),
               ("repeats inside one text", ["a a a a"], 1),
               ("n-grams never cross texts", ["a b", "c d"], 2),
               ("texts shorter than n", ["hi", "yo"], 2), ("unigrams", ["x y z", "x y", "z"], 1)]
    cases = [Case(label, (texts, n), distinct_n(texts, n)) for label, texts, n in corpora]

    def diagnose(case: Case, got: Any) -> str | None:
        texts, n = case.args
        joined = distinct_n([" ".join(texts)], n)
        if close(got, joined) and not close(joined, case.expected):
            return "you joined the texts, so 'b c' counted as a bigram; take n-grams within each text"
        if case.label.startswith("texts shorter") :
            return "with no n-grams at all, return 0.0"
        per_text = [distinct_n([t], n) for t in texts if len(t.split()) >= n]
        if per_text and close(got, sum(per_text) / len(per_text)):
            return "that is the mean over texts (another variant); this course pools all n-grams first"
        return None

    return run_cases("distinct_n", fn, cases, ("distinct-n is a share: unique n-grams over all n-grams, counted "
                     "across the whole set, not text by text", "collect every n-gram of every text (split on "
                     "whitespace) in one list, then len(set(grams)) / len(grams)"), same=close, diagnose=diagnose)


def check_compression_ratio(fn: Callable[[Sequence[str]], float]) -> Feedback:
    """compression_ratio(texts) -> raw bytes / gzip bytes of the texts joined by spaces."""
    from ..diversity import compression_ratio

    corpora = [("varied texts", ["A fox jumps.", "Rain falls on the hills.", "Count to ten."]),
               ("one text repeated", ["same words again"] * 30), ("non-ASCII text", ["café naïve déjà vu"] * 3),
               ("no text", [])]
    cases = [Case(label, (texts,), compression_ratio(texts)) for label, texts in corpora]

    def diagnose(case: Case, got: Any) -> str | None:
        if not case.args[0]:
            return "with no text there is nothing to compress: return 0.0"
        if close(got, 1 / case.expected, 1e-9):
            return "the ratio is raw / compressed, not compressed / raw"
        return "count bytes (text.encode('utf-8')), not characters, and join the texts with single spaces"

    return run_cases("compression_ratio", fn, cases, ("the ratio is the size before compression over the size after, in "
                     "bytes, of all the texts joined with spaces", "raw = ' '.join(texts).encode('utf-8'); "
                     "len(raw) / len(gzip.compress(raw))"), same=lambda g, e: close(g, e, 1e-9), diagnose=diagnose)


def check_vendi(fn: Callable[[np.ndarray], float]) -> Feedback:
    """vendi(K) -> exp(entropy of the eigenvalues of K / n), the effective number of distinct items."""
    from ..diversity import vendi_score

    two_clusters = np.kron(np.eye(2), np.ones((3, 3)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    matrices = [("4 items all different (identity)", np.eye(4)), ("5 identical items", np.ones((5, 5))),
                ("two clusters of three", two_clusters), ("cosine similarities of 6 vectors", x @ x.T)]
    cases = [Case(label, (K,), vendi_score(K)) for label, K in matrices]

    def diagnose(case: Case, got: Any) -> str | None:
        if case.label.startswith("4 items") and close(got, math.log(4)):
            return "that is the entropy; the Vendi score is exp(entropy)"
        if case.label.startswith("4 items") and close(got, 1.0):
            return "divide K by n before taking eigenvalues, so they sum to 1"
        return None

    return run_cases("vendi", fn, cases, ("the Vendi score is the exponential of the entropy of the eigenvalues of "
                     "the similarity matrix divided by n", "l = np.linalg.eigvalsh(K / n); keep l > 0; return "
                     "exp(-sum(l * log(l)))"),
                     same=lambda g, e: close(g, e, 1e-6), diagnose=diagnose)


def check_count_distinct(fn: Callable[[Sequence[str]], int]) -> Feedback:
    """count_distinct(jokes) -> how many different jokes after normalizing case, punctuation and spaces."""
    from ..jokes import normalize

    lists = [("the same joke twice", ["Why did the chicken cross the road?", "why did the chicken cross the road"]),
             ("extra spaces and punctuation", ["A pun!  A pun.", "a pun a pun", "A different one."]),
             ("all different", ["one", "two", "three"]), ("an empty list", [])]
    cases = [Case(label, (jokes,), len({normalize(j) for j in jokes})) for label, jokes in lists]

    def diagnose(case: Case, got: Any) -> str | None:
        if got == len(set(case.args[0])):
            return "exact string comparison counts small differences as new jokes; normalize first"
        return None

    return run_cases("count_distinct", fn, cases, "normalize each joke (lowercase, punctuation to spaces, collapse "
                     "spaces, strip) and count the set", diagnose=diagnose)
