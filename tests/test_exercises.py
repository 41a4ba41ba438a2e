"""exercises/ is generated from solutions/, leaks nothing, agrees with nbgrader, and runs without answers."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = runpy.run_path(str(ROOT / "tools" / "make_exercises.py"))
SOLUTIONS = MAKE["solution_paths"]()
TIERS = ("🐢 easy", "🐕 medium", "🦁 hard")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin..end regions, lines outside), stripped and non-empty."""
    inside, outside, state = [], [], False
    for line in source.split("\n"):
        if begin in line:
            state = True
        elif end in line:
            state = False
        elif line.strip():
            (inside if state else outside).append(line.strip())
    return inside, outside


def test_every_lesson_from_01_has_a_solution_notebook():
    assert [p.name[:2] for p in SOLUTIONS] == ["01", "02", "03", "04", "05", "06", "07"]
    lessons = {p.stem for p in (ROOT / "lessons").glob("*.ipynb")}
    for path in SOLUTIONS:
        assert path.stem.removesuffix("_exercises") in lessons, path.name


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_exercises_equal_the_generators_output(path):
    target = ROOT / "exercises" / path.name
    assert target.exists(), f"run make exercises ({target.name} is missing)"
    assert target.read_text(encoding="utf-8") == MAKE["render"](MAKE["exercise_notebook"](path)), \
        "exercises/ is out of date: run make exercises"


def test_no_stray_exercise_notebooks():
    assert {p.name for p in (ROOT / "exercises").glob("*.ipynb")} == {p.name for p in SOLUTIONS}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_line_reaches_the_exercise(path):
    solution, exercise = _read(path), _read(ROOT / "exercises" / path.name)
    secret, public = set(), set()
    for cell in solution.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and grading.get("solution"):
            secret.update(line.strip() for line in cell.source.split("\n") if line.strip())
            continue
        for begin, end in (("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")):
            inside, outside = _regions(cell.source, begin, end)
            secret.update(inside)
            public.update(outside)
    secret -= public  # a line written outside any region too (say, an import) is not a leak
    assert secret, "a solution notebook without solutions"
    text = "\n".join(cell.source for cell in exercise.cells)
    exercise_lines = {line.strip() for line in text.split("\n")}
    leaked = sorted(line for line in secret if line in exercise_lines and line not in ("...", "YOUR ANSWER HERE"))
    assert not leaked, f"solution lines in the exercise: {leaked[:5]}"
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "Rubric", "Model answer"):
        assert marker not in text, marker


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_have_tiers_checks_and_rubrics(path):
    notebook = _read(path)
    headings = [c.source for c in notebook.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    for tier in TIERS:
        assert any(tier in h for h in headings), f"{path.name} has no {tier} task"
    solutions = [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    graded = [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    written = [c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert len(solutions) + len(written) >= 4 and len(graded) >= 3, f"{path.name}: fewer than 4 tasks"
    for cell in graded:
        assert "checks.check_" in cell.source and "BEGIN HIDDEN TESTS" in cell.source
        hidden, _ = _regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        beyond = [line for line in hidden if not line.startswith("assert checks.check_")]
        assert any(line.startswith("assert") for line in beyond), \
            f"{path.name}, {cell.metadata['nbgrader']['grade_id']}: the hidden tests only repeat the visible check"
    assert written, f"{path.name} has no written question"
    for cell in written:
        assert "**Rubric" in cell.source and cell.metadata["nbgrader"]["points"] >= 1
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "nbgrader grade_ids must be unique"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_nbgrader_makes_the_same_student_version(path):
    from nbconvert.preprocessors import ClearOutputPreprocessor
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    notebook, resources = _read(path), {}
    clear = ClearSolutions(code_stub={"python": MAKE["CODE_STUB"]}, text_stub=MAKE["TEXT_STUB"])
    for preprocessor in (clear, ClearHiddenTests(), ClearOutputPreprocessor()):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    ours = _read(ROOT / "exercises" / path.name)
    assert len(notebook.cells) == len(ours.cells)
    for index, (theirs, mine) in enumerate(zip(notebook.cells, ours.cells, strict=True)):
        if index == 0:
            continue  # the Colab badge points at the exercise copy
        assert theirs.cell_type == mine.cell_type and theirs.source == mine.source, f"cell {index + 1} differs"


def test_marker_errors_name_the_cell():
    bad = nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\ny = 2\n", metadata={"nbgrader": {"solution": True}})
    with pytest.raises(MAKE["MarkerError"], match="cell 3.*never closed"):
        MAKE["exercise_cell"](bad, "demo.ipynb, cell 3")
    unmarked = nbformat.v4.new_code_cell("### BEGIN SOLUTION\ny = 2\n### END SOLUTION")
    with pytest.raises(MAKE["MarkerError"], match="solution: true"):
        MAKE["exercise_cell"](unmarked, "demo.ipynb, cell 4")


@pytest.fixture(scope="module")
def exercise_workspace(tmp_path_factory):
    """A workspace holding a small data file, so lesson 07's exercise does not have to generate one."""
    from alpaca_course.data import InstructionRecord, write_jsonl

    folder = tmp_path_factory.mktemp("exercise-workspace")
    write_jsonl(folder / "generated.jsonl",
                [InstructionRecord(f"Name {i + 2} animals that live in rivers.", "", "Otters.") for i in range(24)])
    return folder


@pytest.mark.parametrize("path", [ROOT / "exercises" / p.name for p in SOLUTIONS], ids=lambda p: p.name)
def test_an_unsolved_exercise_runs_to_the_end_and_says_not_yet_solved(path, exercise_workspace, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("ALPACA_COURSE_PROFILE", "quick")
    monkeypatch.setenv("ALPACA_COURSE_WORKSPACE", str(exercise_workspace))
    notebook = _read(path)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()  # raises on any error
    checks = [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert checks
    for cell in checks:
        shown = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
        assert re.search(r"not yet solved", shown), f"{path.name}: {cell.source[:60]!r} printed {shown[:200]!r}"
    assert os.environ.get("ALPACA_COURSE_PROFILE") == "quick"


def test_every_lesson_links_to_its_existing_exercise_notebook():
    for lesson in sorted((ROOT / "lessons").glob("0[1-7]_*.ipynb")):
        text = "\n".join(c.source for c in _read(lesson).cells if c.cell_type == "markdown")
        links = re.findall(r"\]\(\.\./(exercises/[\w.]+)\)", text)
        assert links == [f"exercises/{lesson.stem}_exercises.ipynb"], lesson.name
        assert (ROOT / links[0]).exists()


def test_the_points_instructors_read_are_the_points_nbgrader_counts():
    text = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    stated = dict(re.findall(r"^\| (\d\d) [^|]*\| \d+ \(\d+\) \| \d+ \(\d+\) \| (\d+) \|$", text, re.MULTILINE))
    assert len(stated) == len(SOLUTIONS), "the points table in INSTRUCTORS.md is missing or changed shape"
    for path in SOLUTIONS:
        cells = _read(path).cells
        points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in cells)
        assert int(stated[path.name[:2]]) == points, f"INSTRUCTORS.md gives {path.name[:2]} {stated[path.name[:2]]} points"
        assert f"worth {points} points under nbgrader" in cells[-1].source, path.name
