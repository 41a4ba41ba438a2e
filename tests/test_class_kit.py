"""INSTRUCTORS.md and the lessons' Time lines agree with the notebooks, the nbgrader points and the measured run."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KIT = runpy.run_path(str(ROOT / "tools" / "class_kit.py"))
STALE = KIT["stale"]


@pytest.fixture
def kit_files(tmp_path):
    """Point the kit at copies of INSTRUCTORS.md and the measured run, and put the real ones back afterwards."""
    names = {"INSTRUCTORS": ROOT / "INSTRUCTORS.md", "MEASURED": ROOT / "configs" / "course_run.json"}
    copies = {key: tmp_path / path.name for key, path in names.items()}
    for key, path in names.items():
        shutil.copy(path, copies[key])
        STALE.__globals__[key] = copies[key]
    yield copies
    for key, path in names.items():
        STALE.__globals__[key] = path


def test_instructors_and_every_time_line_agree_with_the_numbers():
    assert STALE() == [], "run: python tools/class_kit.py --write"


def test_a_points_table_that_disagrees_with_nbgrader_metadata_fails(kit_files):
    page = kit_files["INSTRUCTORS"]
    text = page.read_text()
    assert "| 04 fine tuning | 9 (6) |" in text
    page.write_text(text.replace("| 04 fine tuning | 9 (6) |", "| 04 fine tuning | 7 (6) |"))
    assert STALE() == ["INSTRUCTORS.md"]


def test_a_new_measured_time_changes_the_schedule_and_the_time_line(kit_files):
    run = json.loads(kit_files["MEASURED"].read_text())
    run["lessons"]["04_fine_tuning"]["minutes"] = 45.0
    kit_files["MEASURED"].write_text(json.dumps(run))
    assert STALE() == ["INSTRUCTORS.md", "04_fine_tuning.ipynb"]
    schedule = KIT["sections"]()["schedule"]
    assert "Lesson 04:" in schedule  # at 45 min of computing, lesson 04 no longer shares a session with 03


def test_sessions_keep_lesson_order_and_fit_the_session_length():
    times = KIT["lesson_times"]()
    for limit in (60, 120, 240):
        sessions = KIT["schedule"](times, limit)
        assert [t.name for group in sessions for t in group] == [t.name for t in times]
        for group in sessions:
            assert len(group) == 1 or sum(t.in_class for t in group) <= limit


def test_memory_allowance_is_the_peak_plus_a_quarter_in_half_gigabytes():
    assert KIT["allowance_gb"](2767) == 3.5 and KIT["allowance_gb"](4000) == 5.0 and KIT["allowance_gb"](100) == 0.5


def test_reading_minutes_grow_with_the_text():
    settings = KIT["plan"]()
    reading = {t.name: t.reading for t in KIT["lesson_times"]()}
    assert reading["07_ethics"] > reading["01_instruction_data"] > 0
    assert settings["session_minutes"] >= max(t.in_class for t in KIT["lesson_times"]())


def test_a_quick_or_failed_run_is_refused_as_the_measured_one(tmp_path, capsys):
    record = json.loads((ROOT / "configs" / "course_run.json").read_text())
    record["profile"] = "quick"
    path = tmp_path / "course_run.json"
    path.write_text(json.dumps(record))
    assert KIT["main"](["--measured", str(path)]) == 1
    assert "not a full cpu-profile run" in capsys.readouterr().err
