"""The checkers' harness: run your function on several inputs, say exactly what failed, and give a hint.

Every checker takes your function (or value), never raises, and returns a `Feedback` that prints as
one line: passed, not yet solved (the stub is still there), or what went wrong with a hint. The
expected answers come from the course package itself, so a checker and a lesson never disagree.

Hints come in two steps. A failure shows what went wrong and a nudge; a checker may also hold a fuller hint
(close to the answer), which shows only from the ANSWER_AFTER-th failed try of that task in the same kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NOT_YET = "not yet solved"
#: The failed try from which a task's fuller hint is shown (the first failures get the nudge only).
ANSWER_AFTER = 3
_failed_tries: dict[str, int] = {}


@dataclass
class Feedback:
    """The outcome of one check: passed, not yet solved, or failed with a message and a hint."""

    task: str
    passed: bool
    solved: bool
    message: str
    hint: str | tuple[str, str] = ""  # a nudge, or (nudge, fuller hint shown after repeated tries)
    answer: str = ""
    tries: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.hint, tuple):
            self.hint, self.answer = self.hint
        if self.solved and not self.passed:
            self.tries = _failed_tries[self.task] = _failed_tries.get(self.task, 0) + 1

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return f"[passed] {self.task}: {self.message}"
        if not self.solved:
            return f"[{NOT_YET}] {self.task}: {self.message}"
        text = f"[not right yet] {self.task}: {self.message}\n  hint: {self.hint}"
        if self.answer and self.tries >= ANSWER_AFTER:
            text += f"\n  fuller hint (try {self.tries}): {self.answer}"
        elif self.answer:
            text += f"\n  (a fuller hint comes from your try {ANSWER_AFTER}; this was try {self.tries})"
        return text

    __str__ = __repr__


@dataclass
class Case:
    """One input to try: a label for messages, the arguments, and the expected result."""

    label: str
    args: tuple
    expected: Any = None


def show(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def stub(task: str, what: str = "function") -> Feedback:
    return Feedback(task, False, False, f"the {what} still returns None or ...: write your code where it "
                                        "says # YOUR CODE HERE, then run this cell again")


def run_cases(task: str, fn: Callable, cases: Sequence[Case], hint: str | tuple[str, str],
              same: Callable[[Any, Any], bool] | None = None,
              diagnose: Callable[[Case, Any], str | None] | None = None) -> Feedback:
    """Call fn on each case; the first mismatch becomes the message (diagnose may name the likely mistake)."""
    same = same or (lambda got, expected: got == expected)
    if not callable(fn):
        return Feedback(task, False, True, f"expected a function, got {type(fn).__name__}", hint)
    for i, case in enumerate(cases):
        try:
            got = fn(*case.args)
        except NotImplementedError:
            return stub(task)
        except Exception as err:  # the learner's code may fail in any way; report it, never raise
            return Feedback(task, False, True, f"on {case.label}: raised {type(err).__name__}: {err}", hint)
        if got is None or got is Ellipsis:
            if i == 0:
                return stub(task)
            return Feedback(task, False, True, f"on {case.label}: returned None (is a `return` missing on "
                                               "some path?)", hint)
        try:
            ok = bool(same(got, case.expected))
        except Exception:  # an answer of the wrong type cannot be compared
            ok = False
        if not ok:
            specific = diagnose(case, got) if diagnose else None
            return Feedback(task, False, True, f"on {case.label}: expected {show(case.expected)}, got {show(got)}"
                            + (f". {specific}" if specific else ""), hint)
    return Feedback(task, True, True, f"all {len(cases)} cases right, edge cases included")


def close(got: Any, expected: float, tol: float = 1e-9) -> bool:
    """Floats equal up to a small relative tolerance."""
    return isinstance(got, (int, float, np.floating)) and math.isclose(float(got), expected, rel_tol=tol, abs_tol=tol)


def first_difference(got: str, expected: str) -> str | None:
    if not isinstance(got, str):
        return f"the answer should be a str, not {type(got).__name__}"
    for n, (a, b) in enumerate(zip(got.split("\n"), expected.split("\n"), strict=False), start=1):
        if a != b:
            return f"first difference on line {n}: expected {b!r}, got {a!r}"
    return "the texts differ in length (a missing or extra line or trailing newline?)"


def call_once(task: str, fn: Callable, args: tuple, hint: str | tuple[str, str],
          explain: Callable[[Exception], str | None] | None = None) -> tuple[Any, Feedback | None]:
    """Call the learner's function once: (result, None), or (None, feedback) for a stub or an error."""
    try:
        value = fn(*args)
    except NotImplementedError:
        return None, stub(task)
    except Exception as err:  # report whatever the learner's code raised
        message = (explain(err) if explain else None) or f"raised {type(err).__name__}: {err}"
        return None, Feedback(task, False, True, message, hint)
    if value is None or value is Ellipsis:
        return None, stub(task)
    return value, None


def compare_fields(task: str, rows: list[tuple[str, Any, Any]], hint: str | tuple[str, str], done: str) -> Feedback:
    """Compare (field, got, wanted) rows; the first mismatch is the message."""
    for name, got, want in rows:
        if got != want:
            return Feedback(task, False, True, f"{name} is {got!r}, expected {want!r}", hint)
    return Feedback(task, True, True, done)
