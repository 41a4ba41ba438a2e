"""Checkers for lesson 06 (model collapse); expected values come from the package wherever it computes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .harness import Case, Feedback, call_once, close, run_cases


def check_fit_gaussian(fn: Callable[[np.ndarray], tuple]) -> Feedback:
    """fit_gaussian(samples) -> (mean, standard deviation with n - 1), as floats."""
    rng = np.random.default_rng(0)
    rows = [("20 standard normal samples", rng.normal(0, 1, 20)), ("shifted and wide", rng.normal(5, 3, 50)),
            ("two points", np.array([1.0, 3.0]))]
    from ..collapse import fit_gaussian

    cases = [Case(label, (x,), fit_gaussian(x)) for label, x in rows]

    def same(got, exp):
        return isinstance(got, (tuple, list)) and len(got) == 2 and close(got[0], exp[0]) and close(got[1], exp[1])

    def diagnose(case: Case, got: Any) -> str | None:
        x = case.args[0]
        if isinstance(got, (tuple, list)) and len(got) == 2 and close(got[1], float(x.std())):
            return "that spread divides by n; the lesson's simulation divides by n - 1 (ddof=1)"
        return None

    return run_cases("fit_gaussian", fn, cases, ("two numbers, as floats: the centre and the spread; which divisor does "
                     "the lesson's fit use for the spread?", "return float(x.mean()), float(x.std(ddof=1))"), same=same,
                     diagnose=diagnose)


def check_tail_fraction(fn: Callable[[np.ndarray, float], float]) -> Feedback:
    """tail_fraction(samples, k) -> share of samples more than k away from 0 (the true mean)."""
    rows = [("a small list", np.array([-3.0, -1.0, 0.5, 2.5]), 2.0), ("none in the tail", np.zeros(5), 1.0),
            ("exactly at k is not beyond it", np.array([2.0, -2.0, 2.1]), 2.0)]
    from ..collapse import tail_fraction

    cases = [Case(label, (x, k), tail_fraction(x, k)) for label, x, k in rows]
    return run_cases("tail_fraction", fn, cases, ("a share of all samples: those farther than k from 0, on either side",
                     "np.mean(np.abs(samples) > k): both tails, strictly beyond k"),
                     same=close, diagnose=lambda case, got: "count both tails (use the absolute value)"
                     if case.label == "a small list" else None)


def check_simulate(fn: Callable[[int, int, str, int], list]) -> Feedback:
    """simulate(generations, n, mode, seed) -> fitted std per generation; 'replace' collapses, 'accumulate' not."""
    task = "simulate"
    hint = ("generation 0 fits real N(0, 1) samples; each generation draws n samples from the last fit; 'replace' "
            "refits on the new samples only, 'accumulate' on everything so far")
    first, problem = call_once(task, fn, (50, 20, "replace", 0), hint)
    if problem is not None:
        return problem
    try:
        values = [float(v) for v in first]
    except (TypeError, ValueError):
        return Feedback(task, False, True, f"expected a list of numbers, got {type(first).__name__}", hint)
    if len(values) != 50:
        return Feedback(task, False, True, f"asked for 50 generations, got {len(values)} values", hint)
    if [float(v) for v in fn(50, 20, "replace", 0)] != values:
        return Feedback(task, False, True, "two runs with the same seed differ: draw every number from "
                                           "np.random.default_rng(seed)", hint)
    final = {mode: float(np.median([fn(150, 20, mode, s)[-1] for s in range(30)])) for mode in ("replace", "accumulate")}
    if final["replace"] > 0.6:
        return Feedback(task, False, True, f"after 150 generations 'replace' still has a median spread of "
                                           f"{final['replace']:.2f}; it should shrink well below 0.6", hint)
    if not 0.7 < final["accumulate"] < 1.3:
        return Feedback(task, False, True, f"after 150 generations 'accumulate' has a median spread of "
                                           f"{final['accumulate']:.2f}; keeping all the data should hold it near 1",
                        hint)
    try:
        fn(5, 20, "shuffle", 0)
    except ValueError:
        return Feedback(task, True, True, f"median spread after 150 generations: replace {final['replace']:.2f}, "
                                          f"accumulate {final['accumulate']:.2f}")
    except Exception as err:
        return Feedback(task, False, True, f"an unknown mode raised {type(err).__name__}; raise ValueError", hint)
    return Feedback(task, False, True, "an unknown mode ('shuffle') was accepted; raise ValueError", hint)
