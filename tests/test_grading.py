"""A real nbgrader cycle, as a class would run it: generate the assignment, then autograde an unsolved and a
solved submission of lessons 01 and 02, with the shipped configs/nbgrader_config.py."""

from __future__ import annotations

import copy
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = {"lesson01": "01_instruction_data_exercises.ipynb", "lesson02": "02_generating_data_exercises.ipynb"}
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


def points(notebook: dict) -> tuple[int, int]:
    """(autograded points, manually graded points) from a notebook's nbgrader metadata."""
    auto = manual = 0
    for cell in notebook["cells"]:
        grading = cell["metadata"].get("nbgrader", {})
        if grading.get("grade"):
            if cell["cell_type"] == "code":
                auto += grading["points"]
            else:
                manual += grading["points"]
    return auto, manual


def solved_copy(released: dict, source: dict) -> dict:
    """A copy of the released notebook with a student's answers typed in: each solution cell's code from the source."""
    released = copy.deepcopy(released)
    answers = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in source["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    for cell in released["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell["cell_type"] == "code":
            cell["source"] = SOLUTION_MARKERS.sub("", answers[grade_id])
        elif grade_id in answers:  # a written answer: the student's own words (here, the first line of the model's)
            cell["source"] = "My answer: " + answers[grade_id].strip().splitlines()[0]
    return released


def nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args, "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def test_the_shipped_timeout_fits_the_measured_lesson_times():
    config = (ROOT / "configs" / "nbgrader_config.py").read_text()
    timeout = int(re.search(r"c\.Execute\.timeout = (\d+)", config).group(1))
    table = runpy.run_path(str(ROOT / "tools" / "class_kit.py"))["measured_minutes"]()
    longest = max(table.values())  # a cell cannot take longer than its whole lesson
    assert timeout >= 2 * longest * 60, f"timeout {timeout} s is under twice the longest lesson ({longest} min)"


@pytest.mark.slow
def test_autograde_gives_zero_unsolved_and_full_automatic_points_solved(tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "configs" / "nbgrader_config.py", course / "nbgrader_config.py")
    monkeypatch.setenv("ALPACA_COURSE_WORKSPACE", str(tmp_path / "workspace"))  # its own, not the notebooks'
    expected = {}
    for assignment, name in LESSONS.items():
        (course / "source" / assignment).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / name, course / "source" / assignment / name)
        expected[assignment] = points(json.loads((ROOT / "solutions" / name).read_text()))
        nbgrader(course, "generate_assignment", assignment)
        released = json.loads((course / "release" / assignment / name).read_text())
        assert "BEGIN SOLUTION" not in json.dumps(released) and "HIDDEN TESTS" not in json.dumps(released)
        for student, notebook in (("unsolved", released),
                                  ("solved", solved_copy(released, json.loads((ROOT / "solutions" / name).read_text())))):
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            (folder / name).write_text(json.dumps(notebook, indent=1))
        nbgrader(course, "autograde", assignment)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment, (auto, manual) in expected.items():
            unsolved = gradebook.find_submission(assignment, "unsolved")
            solved = gradebook.find_submission(assignment, "solved")
            assert unsolved.max_score == solved.max_score == auto + manual
            assert unsolved.score == 0, f"{assignment}: an unsolved notebook earned {unsolved.score} points"
            assert solved.score == auto, f"{assignment}: the solved notebook earned {solved.score} of {auto} automatic"
            assert solved.needs_manual_grade  # the written answers wait for a person
            assert not unsolved.needs_manual_grade  # blank written answers get 0 without one
