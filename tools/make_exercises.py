"""Write exercises/ from solutions/ (`make exercises`): the solutions are the single source.

The rules are nbgrader's, so instructors can also use solutions/ as nbgrader source:
- a code region between `### BEGIN SOLUTION` and `### END SOLUTION` becomes the stub below, indented
  like the BEGIN line; the stub does not raise, so "Run all" reaches every check;
- a solution cell (metadata nbgrader.solution) without markers is replaced whole: code by the stub,
  markdown (a written answer and its rubric) by "YOUR ANSWER HERE";
- lines between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS` are dropped;
- outputs and execution counts are cleared; the Colab badge points at the exercise notebook.

Run: python tools/make_exercises.py [--check]   (--check: exit 1 when exercises/ is out of date)
"""

from __future__ import annotations

import argparse
import copy
import re
import runpy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
STAMP = runpy.run_path(str(ROOT / "tools" / "stamp_notebooks.py"))  # the badge, as the lessons get it
CODE_STUB = "# YOUR CODE HERE\n..."
TEXT_STUB = "YOUR ANSWER HERE"
MARKERS = {"solution": ("BEGIN SOLUTION", "END SOLUTION"), "hidden": ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")}


class MarkerError(ValueError):
    """A solution or hidden-test region that is nested, unclosed, or in a cell not marked for it."""


def _replace_regions(source: str, begin: str, end: str, stub: list[str] | None, where: str) -> tuple[str, bool]:
    """Replace each begin..end region by the stub (indented like the begin line), or drop it when stub is None."""
    out, inside, found = [], False, False
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise MarkerError(f"{where}: nested '{begin}'")
            inside = found = True
            indent = re.match(r"\s*", line).group(0)
            out += [indent + s for s in stub or []]
        elif end in line:
            if not inside:
                raise MarkerError(f"{where}: '{end}' without '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '{begin}' is never closed")
    return "\n".join(out), found


def exercise_cell(cell, where: str):
    """The learner's version of one solution-notebook cell."""
    cell = copy.deepcopy(cell)
    grading = cell.metadata.get("nbgrader", {})
    stub = (CODE_STUB if cell.cell_type == "code" else TEXT_STUB).split("\n")
    cell.source, replaced = _replace_regions(cell.source, *MARKERS["solution"], stub, where)
    if replaced and not grading.get("solution"):
        raise MarkerError(f"{where}: a solution region in a cell whose nbgrader metadata lacks solution: true")
    if grading.get("solution") and not replaced:
        cell.source = "\n".join(stub)
    cell.source, dropped = _replace_regions(cell.source, *MARKERS["hidden"], None, where)
    if dropped and not grading.get("grade"):
        raise MarkerError(f"{where}: hidden tests in a cell whose nbgrader metadata lacks grade: true")
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def exercise_notebook(path: Path):
    """The exercise notebook generated from one solution notebook."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [exercise_cell(c, f"{path.name}, cell {i + 1}") for i, c in enumerate(notebook.cells)]
    if notebook.cells and "badge" in notebook.cells[0].metadata.get("tags", []):
        notebook.cells[0].source = STAMP["badge_source"]("exercises", path.name)
    notebook.metadata.pop("celltoolbar", None)
    return notebook


def solution_paths() -> list[Path]:
    """Every solution notebook, in lesson order."""
    return sorted((ROOT / "solutions").glob("[0-9][0-9]_*_exercises.ipynb"))


def render(notebook) -> str:
    """The notebook as the exact text written to disk."""
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or, with --check, compare) every exercise notebook."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in solution_paths():
        target = ROOT / "exercises" / path.name
        text = render(exercise_notebook(path))
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not args.check:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    print(f"{len(stale)} of {len(solution_paths())} exercise notebooks {verb}" +
          "".join(f"\n  {p.relative_to(ROOT)}" for p in stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
