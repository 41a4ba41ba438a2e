"""Lesson 00 runs in a Colab-like venv from the built wheel: the setup cell works, torch and numpy stay Colab's."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_lesson_00_runs_from_the_wheel_in_a_colab_like_venv():
    rehearsal = runpy.run_path(str(ROOT / "tools" / "colab_rehearsal.py"))
    seen = rehearsal["rehearse"]()
    print(seen)  # timings and paths, for the log
    venv = Path(seen["venv"]).resolve()
    course_file = Path(seen["course_file"]).resolve()
    assert venv in course_file.parents and "site-packages" in course_file.parts, "imported from the checkout?"
    assert seen["after"] == seen["before"], "the setup cell replaced Colab's torch or numpy"
    assert seen["sdist"] and seen["wheel"].endswith(".whl")
    assert "tokens; it stopped because" in seen["model_answer"]
    assert len(seen["model_answer"].split("\n")[0].split()) >= 3, "the bundled model should answer in words"
    assert seen["doctor_status"] == 0, seen["doctor_tail"]
