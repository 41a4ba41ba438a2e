"""Seeded random damage to valid files: every reader either reads the file or raises the course's own error.

No other exception may escape (a RecursionError, a KeyError, a UnicodeEncodeError three steps later ...),
because the CLI turns only the course's errors into one line.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

import pytest

from alpaca_course.data import DataError, load_records
from alpaca_course.model_folder import TrainedModelNotFound, TrainResult, read_train_result
from alpaca_course.run_log import read_run_log, run_log_path
from alpaca_course.verifier import load_prompt_file

TOKENS = [b"[", b"]", b"{", b"}", b'"', b",", b":", b"\\", b"\\u", b"\\ud800", b"\\udfff", b"NaN", b"-Infinity",
          b"1e999", b"null", b"true", b"0", b"-1", b"\n", b"\r\n", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf",
          b'"instruction"', b'"output"', b'"checks"', b'"kind"', b'"n"', b'"meta"', b'"prompt"', b"[" * 2000]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: a byte changed, a range cut or repeated, a token inserted, the tail cut off."""
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        i = rng.randrange(len(data) + 1)
        j = min(len(data), i + rng.randint(1, 40))
        if op == 0 and data:
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
        elif op == 1:
            data = data[:i] + data[j:]
        elif op == 2:
            data = data[:j] + data[i:j] + data[j:]
        elif op == 3:
            data = data[:i] + rng.choice(TOKENS) + data[i:]
        else:
            data = data[:i]
    return data


RECORDS = [{"instruction": "Name a colour.", "input": "", "output": "Blue.", "meta": {"checks": [{"kind": "lowercase"}]}},
           {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5", "meta": {}},
           {"instruction": "Write a haiku about rain.", "output": "Soft rain on the roof"}]
PROMPTS = [{"prompt": "Answer in lowercase.", "checks": [{"kind": "lowercase"}, {"kind": "max_words", "n": 20}]},
           {"prompt": "List two fruits.", "checks": [{"kind": "bullets", "n": 2}], "id": "fruit"},
           {"prompt": "Summarise the text.", "reference": "A short summary."}]


def valid_files() -> dict[str, bytes]:
    result = TrainResult("out", {"template": "chat", "lora": True}, 1, 2, 3, 1, 0, 1, 1.0, 1.0, 1.0, 1.0, 1.0, [2.0, 1.5])
    return {
        "data.jsonl": b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS),
        "data.json": json.dumps(RECORDS, indent=1).encode(),
        "prompts.jsonl": b"".join(json.dumps(p).encode() + b"\n" for p in PROMPTS),
        "prompts.json": json.dumps(PROMPTS).encode(),
        "run.json": json.dumps({"settings": {"k": 1}, "teacher": "bundled", "seed": 0, "batches": 2, "written": 3,
                                "funnel": {"removed": {"too short": 1}}, "seed_tasks": "packaged"}).encode(),
        "train_result.json": json.dumps({**asdict(result), "student": "bundled"}).encode(),
    }


def read(kind: str, folder: Path, content: bytes):
    """Write `content` where the reader of `kind` looks, then read it."""
    if kind.startswith("data"):
        path = folder / kind
        path.write_bytes(content)
        return load_records(path)
    if kind.startswith("prompts"):
        path = folder / kind
        path.write_bytes(content)
        return load_prompt_file(path)
    if kind == "run.json":
        out = folder / "g.jsonl"
        run_log_path(out).write_bytes(content)
        return read_run_log(out)
    (folder / "train_result.json").write_bytes(content)
    return read_train_result(folder)


@pytest.mark.parametrize("kind", list(valid_files()))
def test_damaged_files_are_read_or_refused_by_the_course_never_crash(tmp_path, kind):
    original = valid_files()[kind]
    read(kind, tmp_path, original)  # the undamaged file reads
    rng = random.Random(f"fuzz-{kind}")
    outcomes = {"read": 0, "refused": 0}
    for trial in range(300):
        content = mutate(original, rng)
        try:
            read(kind, tmp_path, content)
            outcomes["read"] += 1
        except (DataError, TrainedModelNotFound) as err:
            message = str(err)
            assert message and "\n" not in message and "Traceback" not in message, (trial, content, message)
            outcomes["refused"] += 1
        except Exception as err:  # noqa: BLE001 - the point of the test
            pytest.fail(f"trial {trial}: {type(err).__name__}: {err} on {content[:300]!r}")
    assert outcomes["refused"] > 0  # the mutator does damage files
