"""Checkers for lesson 05 (evaluation); expected values come from the package wherever it computes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .harness import Case, Feedback, call_once, close, run_cases


def check_within_word_limit(fn: Callable[[str, int], bool]) -> Feedback:
    """within_word_limit(response, n) -> at most n words (words: runs of letters/digits; punctuation is not a word)."""
    from ..verifier import CHECKS

    rows = [("a short answer", "Paris is the capital.", 4), ("one word too many", "One two three four five.", 4),
            ("a dash between spaces", "Yes - of course - fine", 4), ("an empty answer", "", 0),
            ("exactly at the limit", "It's well-known, really.", 3)]
    cases = [Case(label, (r, n), CHECKS["max_words"](r, {"n": n})) for label, r, n in rows]

    def diagnose(case: Case, got: Any) -> str | None:
        if case.label.startswith("a dash"):
            return "a lone '-' is punctuation, not a word: count runs of letters or digits"
        return None

    return run_cases("within_word_limit", fn, cases, "count with word_count (or a regex for letter/digit runs); "
                     "'well-known' and \"it's\" are one word each", diagnose=diagnose)


def check_has_n_bullets(fn: Callable[[str, int], bool]) -> Feedback:
    """has_n_bullets(response, n) -> exactly n lines that start with '-', '*' or '•' and some text."""
    from ..verifier import CHECKS

    rows = [("three dash bullets", "- a\n- b\n- c", 3), ("mixed markers, indented", "Intro:\n * a\n• b\n- c", 3),
            ("one bullet too many", "- a\n- b\n- c\n- d", 3), ("a dash inside a sentence", "Well - no.\n- only one", 1),
            ("an empty bullet", "- a\n-\n- b", 3)]
    cases = [Case(label, (r, n), CHECKS["bullets"](r, {"n": n})) for label, r, n in rows]
    return run_cases("has_n_bullets", fn, cases, "count lines matching r'^\\s*[-*\\u2022]\\s+\\S' (re.MULTILINE); "
                     "a bullet needs text after its marker")


def check_is_json(fn: Callable[[str], bool]) -> Feedback:
    """is_json(response) -> True when the whole response (spaces stripped) parses as JSON."""
    from ..verifier import CHECKS

    rows = [("an object", '{"a": 1}'), ("spaces around it", '  [1, 2, 3]\n'), ("single quotes", "{'a': 1}"),
            ("a code fence", '```json\n{"a": 1}\n```'), ("an empty answer", ""), ("text before it", 'Sure: {"a": 1}')]
    cases = [Case(label, (r,), CHECKS["json"](r, {})) for label, r in rows]
    return run_cases("is_json", fn, cases, "try json.loads(response.strip()) and catch ValueError; strict checks "
                     "do not forgive code fences or chatter")


def check_win_rate(fn: Callable[[Sequence[str]], float]) -> Feedback:
    """win_rate(outcomes) -> (wins + ties / 2) / n for outcomes 'win', 'loss', 'tie'; ValueError when empty."""
    task, hint = "win_rate", "ties count half a win; raise ValueError for an empty list or an unknown outcome"
    rows = [("wins and losses", ["win", "loss", "win", "win"], 0.75), ("ties count half", ["tie", "tie", "loss"], 1 / 3),
            ("all ties", ["tie"] * 4, 0.5), ("all losses", ["loss", "loss"], 0.0)]
    result = run_cases(task, fn, [Case(label, (o,), e) for label, o, e in rows], hint, same=close,
                       diagnose=lambda case, got: "a tie is worth half a win" if "tie" in case.args[0] else None)
    if not result.passed:
        return result
    for label, bad in (("an empty list", []), ("an unknown outcome", ["win", "draw"])):
        try:
            fn(bad)
        except ValueError:
            continue
        except Exception as err:
            return Feedback(task, False, True, f"on {label}: raised {type(err).__name__}, expected ValueError", hint)
        return Feedback(task, False, True, f"on {label}: returned a number; raise ValueError instead (a win rate of "
                                           "nothing is undefined, and a typo should not count as a loss)", hint)
    return Feedback(task, True, True, "all cases right, including ties, an empty list and a bad label")


def check_paired_bootstrap(fn: Callable) -> Feedback:
    """paired_bootstrap(a, b, samples, seed) -> (difference, low, high): mean(b) - mean(a) over the same prompts,
    with a 95% percentile interval from resampling prompt indices (the pairs stay together)."""
    import random

    from ..stats import paired_bootstrap

    task, hint = "paired_bootstrap", ("the two models answered the same prompts: resample prompts, not answers",
                                      "draw n prompt indices with replacement, once per sample, and take the mean "
                                      "of b[i] - a[i] over them; the interval is the 2.5th and 97.5th percentiles")
    rng = random.Random(7)
    a = [rng.random() < 0.4 for _ in range(150)]
    b = [x if rng.random() < 0.85 else not x for x in a]  # mostly the same verdicts: strongly paired
    better = [x or rng.random() < 0.35 for x in a]
    for label, first, second in (("two similar models", a, b), ("a model that passes strictly more", a, better),
                                 ("identical models", a, list(a))):
        value, problem = call_once(task, fn, (first, second, 2000, 0), hint)
        if problem is not None:
            return problem
        try:
            diff, low, high = (float(v) for v in value)
        except (TypeError, ValueError):
            return Feedback(task, False, True, f"expected (difference, low, high), got {value!r}", hint)
        want = paired_bootstrap(first, second, samples=2000)
        if abs(diff - want.difference) > 1e-9:
            return Feedback(task, False, True, f"on {label}: difference {diff:.4f}, expected mean(b) - mean(a) = "
                                               f"{want.difference:.4f}", hint)
        if not low <= diff <= high:
            return Feedback(task, False, True, f"on {label}: the interval [{low:.3f}, {high:.3f}] does not contain "
                                               f"the difference {diff:.3f}", hint)
        width, want_width = high - low, want.high - want.low
        if width > 1.6 * want_width + 0.01:
            return Feedback(task, False, True, f"on {label}: your interval is {width:.3f} wide, a paired one about "
                            f"{want_width:.3f}: did you resample a and b separately? Draw indices once for both", hint)
        if width < 0.6 * want_width - 0.01:
            return Feedback(task, False, True, f"on {label}: your interval is only {width:.3f} wide (expected about "
                            f"{want_width:.3f}): resample n prompts each time, with replacement", hint)
    value, problem = call_once(task, fn, (a, better, 2000, 0), hint)
    if problem is None and float(value[1]) <= 0:
        return Feedback(task, False, True, "a model passing strictly more prompts should have its interval above 0",
                        hint)
    try:
        fn([True], [True, False], 100, 0)
    except ValueError:
        pass
    except Exception as err:
        return Feedback(task, False, True, f"lists of different lengths raised {type(err).__name__}, expected "
                                           "ValueError", hint)
    else:
        return Feedback(task, False, True, "lists of different lengths are not pairs: raise ValueError", hint)
    return Feedback(task, True, True, "differences and paired intervals right, and unequal lists refused")
