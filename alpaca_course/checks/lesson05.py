"""Checkers for lesson 05 (evaluation); expected values come from the package wherever it computes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .harness import Case, Feedback, close, run_cases


def check_within_word_limit(fn: Callable[[str, int], bool]) -> Feedback:
    """within_word_limit(response, n) -> at most n words (words: runs of letters/digits; punctuation is not a word)."""
    from ..evaluation import CHECKS

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
    from ..evaluation import CHECKS

    rows = [("three dash bullets", "- a\n- b\n- c", 3), ("mixed markers, indented", "Intro:\n * a\n• b\n- c", 3),
            ("one bullet too many", "- a\n- b\n- c\n- d", 3), ("a dash inside a sentence", "Well - no.\n- only one", 1),
            ("an empty bullet", "- a\n-\n- b", 3)]
    cases = [Case(label, (r, n), CHECKS["bullets"](r, {"n": n})) for label, r, n in rows]
    return run_cases("has_n_bullets", fn, cases, "count lines matching r'^\\s*[-*\\u2022]\\s+\\S' (re.MULTILINE); "
                     "a bullet needs text after its marker")


def check_is_json(fn: Callable[[str], bool]) -> Feedback:
    """is_json(response) -> True when the whole response (spaces stripped) parses as JSON."""
    from ..evaluation import CHECKS

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
