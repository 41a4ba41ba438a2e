"""Bad command-line input ends in one line on stderr and exit code 2: never a traceback, never a lost file."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from alpaca_course.cli import main
from alpaca_course.data import MAX_FIELD_CHARS, InstructionRecord, write_jsonl
from alpaca_course.locking import lock_path
from alpaca_course.run_log import run_log_path

GOOD = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def run_cli(capsys, *argv) -> str:
    """Run the CLI in this process; return its one stderr line after checking the exit code and the shape."""
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse's own exit, after its one-line message
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def write_lines(path, *rows):
    path.write_bytes(b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows))
    return path


def test_missing_file(capsys, tmp_path):
    line = run_cli(capsys, "diversity", str(tmp_path / "nope.jsonl"))
    assert "nope.jsonl" in line and "not found" in line


def test_non_utf8_bytes(capsys, tmp_path):
    path = write_lines(tmp_path / "latin1.jsonl", GOOD, '{"instruction": "caf\xe9", "output": "x"}'.encode("latin-1"))
    line = run_cli(capsys, "diversity", str(path))
    assert "latin1.jsonl" in line and "line 2" in line and "UTF-8" in line


def test_empty_file(capsys, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    line = run_cli(capsys, "train", "--data", str(path), "--out", str(tmp_path / "out"))
    assert "empty.jsonl" in line and "empty" in line


def test_record_without_output(capsys, tmp_path):
    path = write_lines(tmp_path / "d.jsonl", GOOD, GOOD, {"instruction": "Say hi."})
    line = run_cli(capsys, "train", "--data", str(path), "--out", str(tmp_path / "out"))
    assert "d.jsonl" in line and "line 3" in line and "'output'" in line and "missing" in line


def test_field_of_the_wrong_type(capsys, tmp_path):
    path = write_lines(tmp_path / "d.jsonl", GOOD, {"instruction": 42, "output": "x"})
    line = run_cli(capsys, "diversity", str(path))
    assert "line 2" in line and "'instruction'" in line and "expected a string" in line


def test_negative_n(capsys, tmp_path):
    line = run_cli(capsys, "generate", "--n", "-5", "--out", str(tmp_path / "x.jsonl"))
    assert "--n" in line and "at least 1" in line
    assert not (tmp_path / "x.jsonl").exists()


def test_steps_that_are_not_a_number(capsys, tmp_path):
    line = run_cli(capsys, "train", "--data", "d.jsonl", "--out", "o", "--steps", "ten")
    assert "--steps" in line and "whole number" in line


def test_missing_adapter_folder(capsys, tmp_path):
    line = run_cli(capsys, "evaluate", "--adapter", str(tmp_path / "no-adapter"))
    assert "no-adapter" in line and "no such folder" in line


def test_folder_without_train_result(capsys, tmp_path):
    (tmp_path / "half").mkdir()
    line = run_cli(capsys, "evaluate", "--adapter", str(tmp_path / "half"))
    assert "train_result.json" in line and "missing" in line


def test_broken_run_log(capsys, tmp_path):
    path = write_jsonl(tmp_path / "g.jsonl", [InstructionRecord("Say hello.", "", "Hello.")])
    run_log_path(path).write_text('{"settings": {}, "teacher": "bundled",')
    line = run_cli(capsys, "card", str(path), "--no-diversity")
    assert "g.jsonl.run.json" in line and "invalid JSON" in line


def test_run_log_with_a_field_of_the_wrong_type(capsys, tmp_path):
    path = write_jsonl(tmp_path / "g.jsonl", [InstructionRecord("Say hello.", "", "Hello.")])
    run_log_path(path).write_text(json.dumps({"settings": {}, "teacher": "bundled", "seed": 0, "funnel": [1]}))
    line = run_cli(capsys, "card", str(path), "--no-diversity")
    assert "g.jsonl.run.json" in line and "'funnel'" in line


def test_unknown_profile(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ALPACA_COURSE_PROFILE", "turbo")
    line = run_cli(capsys, "generate", "--n", "3", "--out", str(tmp_path / "x.jsonl"))
    assert "turbo" in line and "valid profiles" in line


def test_missing_api_config(capsys, tmp_path, monkeypatch):
    for name in ("ALPACA_COURSE_API_BASE", "ALPACA_COURSE_API_MODEL"):
        monkeypatch.delenv(name, raising=False)
    line = run_cli(capsys, "generate", "--n", "3", "--out", str(tmp_path / "x.jsonl"), "--teacher", "api")
    assert "ALPACA_COURSE_API_BASE" in line and "ALPACA_COURSE_API_MODEL" in line


def test_huge_record(capsys, tmp_path):
    path = write_lines(tmp_path / "big.jsonl", GOOD, {"instruction": "Echo.", "output": "x" * (MAX_FIELD_CHARS + 1)})
    line = run_cli(capsys, "diversity", str(path))
    assert "big.jsonl" in line and "line 2" in line and "'output'" in line and "limit" in line


def test_unreachable_api_server_never_shows_the_key(capsys, tmp_path, monkeypatch):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    secret = "sk-test-DO-NOT-PRINT-1234567890"
    monkeypatch.setenv("ALPACA_COURSE_API_BASE", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("ALPACA_COURSE_API_MODEL", "some-model")
    monkeypatch.setenv("ALPACA_COURSE_API_KEY", secret)
    monkeypatch.setenv("ALPACA_COURSE_API_RETRIES", "0")
    out = tmp_path / "x.jsonl"
    line = run_cli(capsys, "generate", "--n", "2", "--out", str(out), "--teacher", "api", "--quiet")
    assert f"127.0.0.1:{port}" in line and "failed after 1 attempt" in line
    assert secret not in line and secret not in capsys.readouterr().out
    assert not lock_path(out).exists()


def test_a_file_in_use_is_refused(capsys, tmp_path):
    from alpaca_course.locking import output_lock

    out = tmp_path / "busy.jsonl"
    with output_lock(out):
        line = run_cli(capsys, "generate", "--n", "3", "--out", str(out))
    assert "busy.jsonl" in line and f"PID {os.getpid()}" in line


def test_the_real_entry_point_prints_one_line(tmp_path):
    """The same, through `python -m alpaca_course` as a learner types it."""
    result = subprocess.run([sys.executable, "-m", "alpaca_course", "diversity", str(tmp_path / "missing.jsonl")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "missing.jsonl" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_second_writer_through_a_link_is_refused(capsys, tmp_path, link):
    from alpaca_course.locking import output_lock

    out = tmp_path / "data.jsonl"
    out.write_text("")
    other = tmp_path / "sub" / "alias.jsonl"
    other.parent.mkdir()
    (os.symlink if link == "symlink" else os.link)(out, other)
    with output_lock(out):
        line = run_cli(capsys, "generate", "--n", "3", "--out", str(other))
    assert "alias.jsonl" in line and "another generate run" in line
    assert out.read_text() == ""  # nothing written by the refused run


def test_the_lock_leaves_no_empty_file_behind_when_it_made_the_file(tmp_path):
    from alpaca_course.locking import output_lock

    out = tmp_path / "new.jsonl"
    with output_lock(out):
        assert out.exists()  # held while the block runs, so a hard link made now still meets the lock
    assert not out.exists()


RECORD = '{"instruction": "Name a colour.", "input": "", "output": "Blue."}'


@pytest.mark.parametrize("content", [
    '[\n  {"instruction": "Name a colour.", "input": "", "output": "Blue."}\n]',  # an Alpaca array as json.dump writes it
    "my notes\nabout this file",  # any text file
    RECORD + "\n" + '{"instruction": "Name a fruit.", "output": "Pe',  # a torn tail with no run log of ours
])
def test_generate_never_touches_a_file_it_cannot_read_whole(capsys, tmp_path, content):
    out = tmp_path / "theirs.jsonl"
    out.write_text(content)
    line = run_cli(capsys, "generate", "--n", "3", "--out", str(out))
    assert "theirs.jsonl" in line and "line" in line
    assert out.read_text() == content  # not one byte cut or added


def test_a_valid_last_line_without_a_newline_is_kept():
    import tempfile

    from alpaca_course.data import records_to_extend

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hand.jsonl"
        out.write_text(RECORD + "\n" + RECORD.replace("colour", "shape"))
        assert len(records_to_extend(out, torn_tail_is_ours=False, change=False)) == 2
        assert not out.read_text().endswith("\n")  # a check changes nothing
        assert [r.instruction for r in records_to_extend(out, torn_tail_is_ours=True)] == ["Name a colour.",
                                                                                         "Name a shape."]
        assert out.read_text() == RECORD + "\n" + RECORD.replace("colour", "shape") + "\n"
        out.write_text(RECORD + "\n" + RECORD[:20])  # our own torn write: cut
        assert len(records_to_extend(out, torn_tail_is_ours=True)) == 1 and out.read_text() == RECORD + "\n"


def test_secrets_are_redacted_from_every_error_line(monkeypatch):
    from alpaca_course.cli import one_line

    monkeypatch.setenv("ALPACA_COURSE_API_KEY", "sk-top\r\nsecret")
    err = RuntimeError("bad header value 'Bearer sk-top\r\nsecret' for http://user:hunter2@example.com/v1")
    line = one_line(err)
    assert "sk-top" not in line and "secret" not in line and "hunter2" not in line
    assert "***@example.com" in line and "\n" not in line


def test_an_output_path_that_cannot_be_written_is_one_line(capsys, tmp_path):
    folder = tmp_path / "is-a-folder"
    folder.mkdir()
    line = run_cli(capsys, "generate", "--n", "2", "--out", str(folder))
    assert "is-a-folder" in line


@pytest.mark.parametrize("name, content, words", [
    ("deep.jsonl", b'{"instruction": "x", "output": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "nested deeper"),
    ("deep.json", b"[" * 5000 + b"]" * 5000, "nested deeper"),
    ("surrogate.jsonl", json.dumps(GOOD).encode() + b'\n{"instruction": "a \\ud800 b", "output": "x"}\n',
     "lone surrogate"),
    ("surrogate.json", b'[{"instruction": "ok", "output": "\\udfff"}]', "lone surrogate"),
    ("dupes.json", b'[{"instruction": "a", "instruction": "b", "output": "x"}]', "duplicate key"),
    ("nan.json", b'[{"instruction": "a", "output": NaN}]', "NaN"),
])
def test_every_reader_refuses_json_that_is_not_data(capsys, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    for argv in (("diversity", str(path)), ("train", "--data", str(path), "--out", str(tmp_path / "out"))):
        line = run_cli(capsys, *argv)
        assert name in line and words in line, line
    assert path.read_bytes() == content


@pytest.mark.parametrize("field, value", [("teacher", 3), ("seed", "0"), ("written", -1), ("prompts", True),
                                          ("settings", []), ("seed_tasks", {}), ("funnel", {"removed": [1]})])
def test_every_run_log_field_is_checked_before_anything_is_written(capsys, tmp_path, field, value):
    path = write_jsonl(tmp_path / "g.jsonl", [InstructionRecord("Say hello.", "", "Hello.")])
    before = path.read_bytes()
    log = {"settings": {}, "teacher": "bundled", "seed": 0, "funnel": {}, **{field: value}}
    run_log_path(path).write_text(json.dumps(log))
    line = run_cli(capsys, "generate", "--n", "3", "--out", str(path))
    assert "g.jsonl.run.json" in line and field.split(".")[0] in line, line
    assert path.read_bytes() == before


@pytest.mark.parametrize("damage", ["train_result", "adapter_config", "weights"])
def test_a_damaged_trained_folder_is_one_line(capsys, tmp_path, damage):
    folder = tmp_path / "adapter"
    folder.mkdir()
    from dataclasses import asdict

    from alpaca_course.model_folder import TrainResult

    result = TrainResult(str(folder), {"template": "chat", "lora": True}, 1, 2, 3, 1, 0, 1, 1.0, 1.0, 1.0, 1.0, 1.0)
    (folder / "train_result.json").write_text(json.dumps({**asdict(result), "steps": "one"}) if damage == "train_result"
                                              else json.dumps({**asdict(result), "student": "bundled"}))
    (folder / "adapter_config.json").write_text("{not json" if damage == "adapter_config" else json.dumps(
        {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"], "task_type": "CAUSAL_LM"}))
    (folder / "adapter_model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1")  # cut short
    line = run_cli(capsys, "evaluate", "--adapter", str(folder), "--n", "1")
    expected = {"train_result": "field 'steps'", "adapter_config": "adapter could not be loaded",
                "weights": "adapter could not be loaded"}[damage]
    assert "adapter" in line and expected in line, line


@pytest.mark.parametrize("row, field", [
    ({"prompt": "Answer.", "checks": [{"kind": "max_words", "n": -3}]}, "checks[0].n"),
    ({"prompt": "Answer.", "checks": [{"kind": "max_words", "n": 0}]}, "checks[0].n"),
    ({"prompt": "Answer.", "checks": [{"kind": "ends_with", "phrase": "  "}]}, "checks[0].phrase"),
    ({"prompt": "Answer.", "checks": [{"kind": "keywords", "words": ["a", ""]}]}, "checks[0].words"),
    ({"prompt": "Answer.", "checks": [{"kind": "lowercase", "n": 2}]}, "checks[0].n"),
    ({"prompt": "Answer.", "checks": [{"kind": "lowercase"}], "reference": "a reference"}, "reference"),
    ({"prompt": "A" * 750_000, "checks": [{"kind": "lowercase"}]}, "prompt"),
    ({"instruction": "Say hi.", "output": "hi", "meta": {"checks": 3}}, "checks"),
])
def test_prompt_files_refuse_what_cannot_be_scored(capsys, tmp_path, row, field):
    path = write_lines(tmp_path / "prompts.jsonl", {"prompt": "Fine.", "checks": [{"kind": "lowercase"}]}, row)
    line = run_cli(capsys, "evaluate", "--prompts", str(path))
    assert "prompts.jsonl" in line and "line 2" in line and f"'{field}'" in line, line


@pytest.fixture
def outputs(tmp_path):
    """A data file, and output paths that cannot be written: a folder, '', /dev/null, a read-only folder."""
    data = write_jsonl(tmp_path / "g.jsonl", [InstructionRecord(f"Say {i} in words.", "", str(i)) for i in range(4)])
    folder = tmp_path / "a-folder"
    folder.mkdir()
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o555)
    yield data, {"folder": str(folder), "empty": "", "devnull": os.devnull, "read-only": str(locked / "out.md")}
    locked.chmod(0o755)


@pytest.mark.parametrize("where", ["folder", "empty", "devnull", "read-only"])
def test_card_out_that_cannot_be_written_is_one_line_and_replaces_nothing(capsys, outputs, where):
    data, paths = outputs
    if where == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    devnull = os.stat(os.devnull)
    line = run_cli(capsys, "card", str(data), "--no-diversity", "--out", paths[where])
    assert "error" in line and (paths[where] in line or where == "empty"), line
    after = os.stat(os.devnull)  # as root, a careless os.replace would have put a file in place of /dev/null
    assert (after.st_ino, after.st_mode) == (devnull.st_ino, devnull.st_mode)


@pytest.mark.parametrize("where", ["folder", "empty", "devnull"])
def test_generate_out_that_cannot_be_written_is_one_line_before_the_teacher_loads(capsys, outputs, where):
    data, paths = outputs
    line = run_cli(capsys, "generate", "--n", "2", "--out", paths[where])
    assert "error" in line, line
    assert not Path(os.devnull + ".run.json").exists() and not Path(os.devnull + ".lock").exists()


@pytest.mark.parametrize("where", ["folder", "empty", "devnull"])
def test_experiment_and_train_outs_that_cannot_be_used_are_one_line(capsys, outputs, where):
    data, paths = outputs
    (Path(paths["folder"]) / "mine.txt").write_text("my notes")
    line = run_cli(capsys, "train", "--data", str(data), "--out", paths[where], "--steps", "1", "--quiet")
    assert "error" in line, line
    assert (Path(paths["folder"]) / "mine.txt").read_text() == "my notes"


def test_a_cache_that_is_a_file_is_one_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setenv("ALPACA_COURSE_CACHE", str(tmp_path / "cache"))
    line = run_cli(capsys, "evaluate", "--n", "1")
    assert "ALPACA_COURSE_CACHE" in line and "cache" in line
