"""The instruction record, and reading/writing it safely (JSONL, Alpaca's JSON array, HF datasets).

Seed files in Self-Instruct's and Alpaca's `seed_tasks.jsonl` format (an `instances` list of
input/output pairs instead of input/output fields) are read as records too: the first instance
gives the input and output, the other keys (`name`, `is_classification`, ...) go to `meta`.

Every error names the file, the line and the field. Nothing is dropped silently: skipping bad
lines is opt-in, and each skipped line is reported.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TEXT_FIELDS = ("instruction", "input", "output")
MAX_FIELD_CHARS = 20_000  # a generated field longer than this is a runaway generation, not data
MAX_LINE_BYTES = 1_000_000
MAX_FILE_BYTES = 2_000_000_000  # a .json array is read whole; bigger belongs in JSONL
_SURROGATE = re.compile("[\ud800-\udfff]")


class DataError(ValueError):
    """A bad record, with where it is: file, line (1-based) and field."""

    def __init__(self, path: str | os.PathLike | None, line: int | None, field: str | None, message: str):
        self.path, self.line, self.field, self.message = (str(path) if path else None), line, field, message
        where = ", ".join(p for p in (
            self.path or "<data>",
            f"line {line}" if line is not None else None,
            f"field {field!r}" if field else None,
        ) if p)
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        """Rebuilt from its four parts, so the error crosses a process boundary (multiprocessing, DataLoader workers)."""
        return type(self), (self.path, self.line, self.field, self.message)


@dataclass
class InstructionRecord:
    """One example: what to do, optional context, the answer; plus free-form metadata."""

    instruction: str
    input: str = ""
    output: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the three text fields, plus `meta` when it is not empty."""
        row: dict[str, Any] = {"instruction": self.instruction, "input": self.input, "output": self.output}
        if self.meta:
            row["meta"] = self.meta
        return row


class Records(list):
    """A list of InstructionRecord that also remembers which lines were skipped (and why)."""

    def __init__(self, items: Iterable[InstructionRecord] = (), skipped: list[DataError] | None = None):
        super().__init__(items)
        self.skipped: list[DataError] = skipped or []


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


MAX_JSON_DEPTH = 32  # records, prompts and run logs nest a few levels; deeper is not ours


def _check_tree(value: Any, depth: int = 0) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH, and strings with lone surrogates (they cannot be written
    as UTF-8, so they would fail later, far from the file that brought them)."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_tree(key, depth + 1)
            _check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)


def loads_strict(text: str | bytes, path, line: int | None = None) -> Any:
    """Parse JSON as every reader of the course does: UTF-8, no NaN or Infinity, no duplicate keys, no lone
    surrogates, at most MAX_JSON_DEPTH levels. Any fault is a DataError that names the file (and line)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(path, line, None, f"not valid UTF-8 (byte {err.start}): {err.reason}") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
        _check_tree(value)
    except json.JSONDecodeError as err:
        where = f"column {err.colno}" if line is not None else f"line {err.lineno} column {err.colno}"
        raise DataError(path, line, None, f"invalid JSON at {where}: {err.msg}") from None
    except RecursionError:
        raise DataError(path, line, None, f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as err:
        raise DataError(path, line, None, f"invalid JSON: {err}") from None
    return value


def _check_text(value: Any, name: str, path, line, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise DataError(path, line, name, f"expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise DataError(path, line, name, "must not be empty")
    if len(value) > MAX_FIELD_CHARS:
        raise DataError(path, line, name, f"is {len(value):,} characters long (limit {MAX_FIELD_CHARS:,})")
    if "\x00" in value:
        raise DataError(path, line, name, "contains a NUL character")
    return value


def from_seed_task(row: dict, path=None, line: int | None = None) -> dict:
    """A Self-Instruct/Alpaca seed task ({instruction, instances: [{input, output}], ...}) as a flat row."""
    instances = row["instances"]
    if not isinstance(instances, list) or not instances:
        raise DataError(path, line, "instances", "expected a non-empty list of {input, output} objects")
    first = instances[0]
    if not isinstance(first, dict):
        raise DataError(path, line, "instances[0]", f"expected a JSON object, got {type(first).__name__}")
    if "output" not in first:
        raise DataError(path, line, "instances[0].output", "is missing")
    for key in ("input", "output"):
        if key in first and not isinstance(first[key], str):
            raise DataError(path, line, f"instances[0].{key}", f"expected a string, got {type(first[key]).__name__}")
    flat = {k: v for k, v in row.items() if k != "instances"}
    return {**flat, "input": first.get("input", ""), "output": first["output"],
            **({"extra_instances": instances[1:]} if len(instances) > 1 else {})}


def record_from_dict(row: Any, path=None, line: int | None = None, require_output: bool = True) -> InstructionRecord:
    """Validate one parsed row and build the record; unknown keys are kept in `meta`, never lost."""
    if not isinstance(row, dict):
        raise DataError(path, line, None, f"expected a JSON object, got {type(row).__name__}")
    if "instances" in row and "output" not in row:
        row = from_seed_task(row, path, line)
    if "instruction" not in row:
        raise DataError(path, line, "instruction", "is missing")
    if require_output and "output" not in row:
        raise DataError(path, line, "output", "is missing")
    instruction = _check_text(row["instruction"], "instruction", path, line, required=True)
    input_ = _check_text(row.get("input", ""), "input", path, line, required=False)
    output = _check_text(row.get("output", ""), "output", path, line, required=require_output)
    meta = row.get("meta", {})
    if not isinstance(meta, dict):
        raise DataError(path, line, "meta", f"expected a JSON object, got {type(meta).__name__}")
    extra = {k: v for k, v in row.items() if k not in (*TEXT_FIELDS, "meta")}
    return InstructionRecord(instruction, input_, output, {**extra, **meta} if extra else dict(meta))


def parse_json_line(raw: bytes, path, line: int) -> Any:
    """One line of a JSONL file parsed strictly (UTF-8, no NaN, no duplicate keys); a DataError names the line."""
    if len(raw) > MAX_LINE_BYTES:
        raise DataError(path, line, None, f"line is {len(raw):,} bytes (limit {MAX_LINE_BYTES:,})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(path, line, None, f"not valid UTF-8 (byte {err.start}): {err.reason}") from None
    if line == 1:
        text = text.lstrip("\ufeff")  # tolerate a byte-order mark written by some editors
    return loads_strict(text, path, line)


def read_jsonl(path: str | os.PathLike, skip_invalid: bool = False, require_output: bool = True) -> Records:
    """Read a JSONL file of records. Bad lines raise DataError, or with skip_invalid are reported and skipped."""
    path = Path(path)
    records, skipped = [], []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue  # blank lines carry nothing
            try:
                records.append(record_from_dict(parse_json_line(raw, path, number), path, number, require_output))
            except DataError as err:
                if not skip_invalid:
                    raise
                skipped.append(err)
                log.warning("skipped %s", err)
    if skipped:
        log.warning("%s: skipped %d bad line(s) of %d", path, len(skipped), len(records) + len(skipped))
    return Records(records, skipped)


def _json_line(record: InstructionRecord) -> str:
    return json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"


def output_file(path: str | os.PathLike) -> Path:
    """The real path a file will be written to (through a symlink, the file it points to); OSError naming it
    when it is empty, or exists and is not a regular file (a folder, /dev/null, a pipe: never replaced)."""
    import errno
    import stat

    if not str(path).strip():
        raise OSError(errno.EINVAL, "an empty path names no file", repr(str(path)))
    real = Path(os.path.realpath(path))
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(os.stat(real).st_mode):
            raise OSError(errno.EISDIR if real.is_dir() else errno.EINVAL, "is not a regular file", str(path))
    return real


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Replace a file's content all at once: write a temporary file beside it, fsync it, then rename it over the
    old one. A crash or a full disk leaves either the old file or the new one, whole, never a cut one."""
    import tempfile

    given, path = Path(path), output_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename is None:  # a full disk names no file; say which one it was
            raise OSError(err.errno, err.strerror or str(err), str(path)) from None
        raise
    return given


def write_jsonl(path: str | os.PathLike, records: Iterable[InstructionRecord]) -> Path:
    """Write records to a new JSONL file atomically (a crash never leaves half a file)."""
    return atomic_write_text(path, "".join(_json_line(r) for r in records))


def append_jsonl(path: str | os.PathLike, records: Iterable[InstructionRecord]) -> None:
    """Append records with one write and an fsync, so a killed run loses at most the batch in flight."""
    payload = "".join(_json_line(r) for r in records).encode("utf-8")
    if not payload:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def records_to_extend(path: str | os.PathLike, torn_tail_is_ours: bool, change: bool = True) -> Records:
    """Validate a file that records will be appended to, *before* anything in it is touched; return its records.

    Every complete line must be a valid record (else DataError, and the file is left as it was).
    A last line without a final newline is handled by what it is:
    - a valid record (a hand-written file that just lacks the newline): kept, and the newline added;
    - not a record, in a file our own run log says we wrote (`torn_tail_is_ours`): the tail of a write
      that was killed, so it is cut;
    - not a record otherwise: DataError, nothing cut (it may be someone's data, or the end of a JSON array).
    With `change=False` nothing is cut or added (a check before a slow start).
    """
    path = Path(path)
    if not path.exists():
        return Records([])
    if not path.is_file():
        raise DataError(path, None, None, "is not a regular file; give --out a file path")
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    body, tail = data[:cut], data[cut:]
    records = []
    for number, raw in enumerate(body.splitlines(keepends=True), start=1):
        if raw.strip():
            records.append(record_from_dict(parse_json_line(raw, path, number), path, number))
    if not tail.strip():
        return Records(records)
    line = body.count(b"\n") + 1
    try:
        last = record_from_dict(parse_json_line(tail, path, line), path, line)
    except DataError as err:
        if not torn_tail_is_ours:
            raise DataError(path, line, err.field, f"the last line is incomplete ({err.message}) and no run log of ours "
                                                    "says this run wrote it; nothing was changed: fix or remove that "
                                                    "line, or write to a new file") from None
        if change:
            with open(path, "rb+") as fh:  # the torn tail of our own killed write
                fh.truncate(cut)
        return Records(records)
    if change:
        with open(path, "ab") as fh:  # a valid record that only lacks its newline: keep it
            fh.write(b"\n")
            os.fsync(fh.fileno())
    return Records(records + [last])


def read_alpaca_json(path: str | os.PathLike, require_output: bool = True) -> Records:
    """Read Alpaca's release format: one JSON array of {instruction, input, output} objects."""
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise DataError(path, None, None, f"is {len(raw):,} bytes (limit {MAX_FILE_BYTES:,})")
    rows = loads_strict(raw.removeprefix(b"\xef\xbb\xbf"), path)
    if not isinstance(rows, list):
        raise DataError(path, None, None, f"expected a JSON array of objects, got {type(rows).__name__}")
    # Alpaca's file has no lines per record, so the "line" we report is the 1-based item number.
    out = []
    for i, row in enumerate(rows, start=1):
        try:
            out.append(record_from_dict(row, path, None, require_output))
        except DataError as err:
            raise DataError(path, None, err.field, f"item {i}: {err.message}") from None
    return Records(out)


def load_records(path: str | os.PathLike, skip_invalid: bool = False) -> Records:
    """Read .jsonl, Alpaca-style .json, a seed-task file, or a `save_to_disk` dataset folder; never empty."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, None, None, "file not found")
    if path.is_dir():
        records = read_saved_dataset(path)
        if not records:
            raise DataError(path, None, None, "no records (the dataset is empty)")
        return records
    if path.suffix == ".json":
        records = read_alpaca_json(path)
    else:
        with open(path, "rb") as fh:
            array = path.suffix != ".jsonl" and fh.read(64).lstrip().startswith(b"[")
        records = read_alpaca_json(path) if array else read_jsonl(path, skip_invalid=skip_invalid)
    if not records:
        raise DataError(path, None, None, "no records (the file is empty)")
    return records


def to_dataset(records: Iterable[InstructionRecord]):
    """A `datasets.Dataset` with instruction/input/output columns (metadata as a JSON string column)."""
    from datasets import Dataset

    rows = list(records)
    return Dataset.from_dict({
        "instruction": [r.instruction for r in rows],
        "input": [r.input for r in rows],
        "output": [r.output for r in rows],
        "meta": [json.dumps(r.meta, ensure_ascii=False) for r in rows],
    })


def _inside(folder: Path, name: Any, where: Path, field: str) -> Path:
    """`folder/name` when `name` is a plain file or folder name that stays inside `folder`; else a DataError."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise DataError(where, None, field, f"must name a file inside {folder}, got {name!r}")
    return folder / name


def _check_saved_folder(folder: Path, depth: int = 0) -> None:
    """A `save_to_disk` folder's own JSON files read strictly, and every file they name inside the folder
    (a state.json that points elsewhere is refused, never followed)."""
    if (folder / "dataset_dict.json").is_file() and depth == 0:
        where = folder / "dataset_dict.json"
        splits = loads_strict(where.read_bytes(), where)
        if not isinstance(splits, dict) or not isinstance(splits.get("splits"), list) or not splits["splits"]:
            raise DataError(where, None, "splits", "expected a non-empty list of split names")
        for i, name in enumerate(splits["splits"]):
            _check_saved_folder(_inside(folder, name, where, f"splits[{i}]"), depth + 1)
        return
    where = folder / "state.json"
    if not where.is_file():
        raise DataError(folder, None, None, "has no state.json (is it a folder written by save_to_disk?)")
    state = loads_strict(where.read_bytes(), where)
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not files:
        raise DataError(where, None, "_data_files", "expected a non-empty list of {filename: ...}")
    for i, entry in enumerate(files):
        name = entry.get("filename") if isinstance(entry, dict) else None
        path = _inside(folder, name, where, f"_data_files[{i}].filename")
        if not path.is_file():
            raise DataError(where, None, f"_data_files[{i}].filename", f"names {name!r}, which is not in {folder}")
    info = folder / "dataset_info.json"
    if info.is_file():
        loads_strict(info.read_bytes(), info)


def read_saved_dataset(folder: str | os.PathLike) -> Records:
    """Records from a Hugging Face dataset folder written by `save_to_disk` (a DatasetDict: its 'train' split,
    or its only split)."""
    folder = Path(folder)
    if not any((folder / marker).exists() for marker in ("dataset_info.json", "state.json", "dataset_dict.json")):
        raise DataError(folder, None, None, "is a folder, not a data file or a dataset saved with save_to_disk")
    from datasets import DatasetDict, load_from_disk

    _check_saved_folder(folder)
    try:
        dataset = load_from_disk(str(folder))
    except Exception as err:  # datasets and pyarrow raise many kinds for a damaged folder; all mean the same here
        text = " ".join(str(err).split())[:300]
        raise DataError(folder, None, None, f"could not be read as a saved dataset ({type(err).__name__}: {text})") \
            from None
    if isinstance(dataset, DatasetDict):
        splits = list(dataset)
        if "train" not in splits and len(splits) != 1:
            raise DataError(folder, None, None, f"holds several splits ({', '.join(splits)}) and none is 'train'")
        dataset = dataset["train" if "train" in splits else splits[0]]
    return from_dataset(dataset, str(folder))


def from_dataset(dataset, name: str = "<dataset>") -> Records:
    """Records from any Hugging Face dataset with instruction/input/output columns (input optional)."""
    seed_format = "instances" in dataset.column_names and "output" not in dataset.column_names
    required = ("instruction",) if seed_format else ("instruction", "output")
    missing = [c for c in required if c not in dataset.column_names]
    if missing:
        raise DataError(name, None, missing[0], f"column is missing (columns: {', '.join(dataset.column_names)})")
    out = []
    for i, row in enumerate(dataset, start=1):
        row = dict(row)
        if isinstance(row.get("meta"), str):
            try:
                row["meta"] = json.loads(row["meta"]) if row["meta"] else {}
            except ValueError:
                raise DataError(name, i, "meta", "is not a JSON object string") from None
        out.append(record_from_dict(row, name, i))
    return Records(out)

