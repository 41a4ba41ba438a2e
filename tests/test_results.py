"""Saved results have one owner: known names, a schema, and a clear line for a file from elsewhere."""

import json

import pytest

from alpaca_course.data import DataError
from alpaca_course.results import RESULTS, SCHEMA, load_result, result_path, save_result


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPACA_COURSE_WORKSPACE", str(tmp_path))
    return tmp_path


def test_a_result_comes_back_as_it_was_saved_with_its_schema(workspace):
    data = {"pairs": 3, "interval": [0.1, 0.9]}
    path = save_result("preference", data)
    assert path == workspace / "results" / "preference.json"
    saved = json.loads(path.read_text())
    assert (saved["result"], saved["schema"], saved["lesson"]) == ("preference", SCHEMA, RESULTS["preference"][0])
    assert load_result("preference") == data
    assert load_result("jokes") is None  # that lesson has not run here


def test_an_unknown_name_is_refused(workspace):
    with pytest.raises(ValueError, match="unknown result 'evaluations'"):
        save_result("evaluations", {})


def test_a_result_from_another_schema_is_not_read_as_current(workspace, capsys):
    path = result_path("evaluation")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"result": "evaluation", "schema": SCHEMA + 1, "data": {}}))
    assert load_result("evaluation") is None
    assert "run lesson 05 again" in capsys.readouterr().out


@pytest.mark.parametrize("text", ['{"differences": {}}', "[1, 2]", '{"result": "evaluation"', ""])
def test_a_file_that_is_not_a_saved_result_is_one_line(workspace, text):
    path = result_path("evaluation")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(DataError, match="evaluation.json"):
        load_result("evaluation")
