import json
import logging

import pytest

from alpaca_course.data import (
    MAX_FIELD_CHARS,
    DataError,
    InstructionRecord,
    append_jsonl,
    from_dataset,
    load_records,
    read_alpaca_json,
    read_jsonl,
    records_to_extend,
    to_dataset,
    write_jsonl,
)

GOOD = '{"instruction": "Name a colour.", "input": "", "output": "Blue."}\n'

# (label, bad line as bytes, the field the error must name or None, a phrase the message must contain)
MALFORMED = [
    ("not json", b"{instruction: 1}\n", None, "invalid JSON"),
    ("truncated object", b'{"instruction": "Name a col\n', None, "invalid JSON"),
    ("array instead of object", b'["Name a colour.", "", "Blue."]\n', None, "expected a JSON object"),
    ("bare number", b"42\n", None, "expected a JSON object"),
    ("missing instruction", b'{"input": "", "output": "Blue."}\n', "instruction", "missing"),
    ("missing output", b'{"instruction": "Name a colour.", "input": ""}\n', "output", "missing"),
    ("instruction not a string", b'{"instruction": 7, "input": "", "output": "x"}\n', "instruction", "expected a string"),
    ("empty instruction", b'{"instruction": "   ", "input": "", "output": "x"}\n', "instruction", "empty"),
    ("empty output", b'{"instruction": "Name a colour.", "input": "", "output": ""}\n', "output", "empty"),
    ("input is a list", b'{"instruction": "Sort.", "input": [3, 1], "output": "1 3"}\n', "input", "expected a string"),
    ("meta not an object", b'{"instruction": "Sort.", "input": "", "output": "x", "meta": 5}\n', "meta", "expected a JSON object"),
    ("not utf-8", b'{"instruction": "Caf\xe9", "input": "", "output": "x"}\n', None, "UTF-8"),
    ("NaN value", b'{"instruction": "Sort.", "input": "", "output": "x", "score": NaN}\n', None, "NaN"),
    ("duplicate key", b'{"instruction": "A.", "instruction": "B.", "input": "", "output": "x"}\n', None, "duplicate key"),
    ("NUL character", b'{"instruction": "A\\u0000B", "input": "", "output": "x"}\n', "instruction", "NUL"),
    ("huge field", ('{"instruction": "Go.", "input": "", "output": "' + "x" * (MAX_FIELD_CHARS + 1) + '"}\n').encode(),
     "output", "characters long"),
]


@pytest.mark.parametrize(("label", "bad", "field", "phrase"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_line_names_file_line_and_field(tmp_path, label, bad, field, phrase):
    path = tmp_path / "data.jsonl"
    path.write_bytes(GOOD.encode() + GOOD.encode() + bad + GOOD.encode())
    with pytest.raises(DataError) as caught:
        read_jsonl(path)
    err = caught.value
    assert err.path == str(path) and err.line == 3 and err.field == field
    message = str(err)
    assert str(path) in message and "line 3" in message and phrase in message
    if field:
        assert repr(field) in message


def test_skipping_is_opt_in_and_reports_every_skipped_line(tmp_path, caplog):
    path = tmp_path / "mixed.jsonl"
    lines = [GOOD.encode()] + [m[1] for m in MALFORMED[:5]] + [GOOD.encode()]
    path.write_bytes(b"".join(lines))
    with caplog.at_level(logging.WARNING):
        records = read_jsonl(path, skip_invalid=True)
    assert len(records) == 2
    assert [e.line for e in records.skipped] == [2, 3, 4, 5, 6]
    for line in (2, 3, 4, 5, 6):
        assert f"line {line}" in caplog.text
    assert "skipped 5 bad line(s) of 7" in caplog.text


def test_round_trip_keeps_metadata_and_unknown_keys(tmp_path):
    path = tmp_path / "round.jsonl"
    path.write_text('{"instruction": "Add.", "input": "2 and 3", "output": "5", "source": "seed", "meta": {"k": 1}}\n')
    (record,) = read_jsonl(path)
    assert record.meta == {"source": "seed", "k": 1}  # nothing is lost
    out = tmp_path / "out.jsonl"
    write_jsonl(out, [record])
    assert read_jsonl(out)[0] == record


def test_blank_lines_and_bom_are_tolerated(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\n   \n" + GOOD.encode())
    assert len(read_jsonl(path)) == 2


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="nope.jsonl: file not found"):
        load_records(tmp_path / "nope.jsonl")


def test_alpaca_release_format(tmp_path):
    path = tmp_path / "alpaca_data.json"
    rows = [{"instruction": "Name a colour.", "input": "", "output": "Blue."},
            {"instruction": "Add.", "input": "2, 3", "output": "5"}]
    path.write_text(json.dumps(rows, indent=2))
    records = load_records(path)
    assert [r.input for r in records] == ["", "2, 3"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rows + [{"instruction": "", "input": "", "output": "x"}]))
    with pytest.raises(DataError, match="item 3.*empty") as caught:
        read_alpaca_json(bad)
    assert caught.value.field == "instruction"
    (tmp_path / "obj.json").write_text("{}")
    with pytest.raises(DataError, match="JSON array"):
        read_alpaca_json(tmp_path / "obj.json")


def test_datasets_round_trip():
    records = [InstructionRecord("Name a colour.", "", "Blue.", {"source": "seed"}),
               InstructionRecord("Add.", "2, 3", "5")]
    dataset = to_dataset(records)
    assert dataset.column_names == ["instruction", "input", "output", "meta"]
    assert list(from_dataset(dataset)) == records


def test_foreign_dataset_without_input_column():
    from datasets import Dataset

    dataset = Dataset.from_dict({"instruction": ["Say hi."], "output": ["Hi!"]})
    assert from_dataset(dataset)[0].input == ""
    with pytest.raises(DataError, match="'output'"):
        from_dataset(Dataset.from_dict({"instruction": ["Say hi."]}))


def test_append_and_repair_a_torn_tail(tmp_path):
    path = tmp_path / "run.jsonl"
    append_jsonl(path, [InstructionRecord("A thing to do.", "", "Done.")])
    with open(path, "ab") as fh:
        fh.write(b'{"instruction": "half a li')  # what a kill in mid-write would leave
    before = path.read_bytes()
    with pytest.raises(DataError, match="incomplete"):  # without a run log of ours, a torn tail is not ours to cut
        records_to_extend(path, torn_tail_is_ours=False)
    assert path.read_bytes() == before
    assert len(records_to_extend(path, torn_tail_is_ours=True)) == 1
    assert len(read_jsonl(path)) == 1 and path.read_bytes().endswith(b"Done.\"}\n")


def test_atomic_write_keeps_the_old_file_whole_when_the_write_fails(tmp_path, monkeypatch):
    import os as os_module

    from alpaca_course.data import atomic_write_text

    path = tmp_path / "run.json"
    atomic_write_text(path, "old")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os_module, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(path, "new and longer")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left behind


def test_a_data_error_crosses_a_process_boundary_whole():
    import pickle

    from alpaca_course.data import DataError

    error = pickle.loads(pickle.dumps(DataError("data.jsonl", 7, "output", "expected a string")))
    assert isinstance(error, DataError) and (error.path, error.line, error.field) == ("data.jsonl", 7, "output")
    assert str(error) == "data.jsonl, line 7, field 'output': expected a string"
