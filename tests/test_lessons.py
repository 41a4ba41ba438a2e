"""Every lesson runs top to bottom the way `make course` runs it (quick profile in `make test`).

The lessons share one workspace and build on each other, so they run in order, in one process. The executed
copies go to build/test-notebooks/, where the book test (tests/test_book.py) builds a small book from them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from alpaca_course.course import lesson_paths, run_lesson

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = ROOT / "build" / "test-notebooks"


def first_error(path: Path) -> str:
    """The traceback of the first failing cell of an executed notebook ('' if none failed)."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index}:\n{cell.source}\n" + "\n".join(output.get("traceback", []))[-4000:]
    return ""


@pytest.mark.slow
@pytest.mark.parametrize("lesson", lesson_paths(), ids=lambda p: p.stem)
def test_lesson_runs_and_every_figure_has_alt_text(lesson):
    status, minutes, figures, _ = run_lesson(lesson, EXECUTED)
    print(f"{lesson.name}: {status} in {minutes:.1f} min, {figures} figures")
    assert status == "ok", f"{lesson.name}: {status}\n{first_error(EXECUTED / lesson.name)}"
