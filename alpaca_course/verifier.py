"""The verifier: checks a program can run on a response, and the evaluation prompts that carry them.

The checks are our own, in the spirit of IFEval: each prompt carries constraints a program can
verify (word counts, bullets, JSON, keywords, case, ...). "Strict" applies a check to the
response as written; "loose" also accepts it after removing markdown asterisks, the first line,
or the last line (a model that adds "Sure! Here you go:" is not failed for that alone). Curation keeps the
answers the verifier accepts, DPO pairs them with ones it rejects, and evaluation counts its verdicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_BULLET = re.compile(r"^\s*[-*\u2022]\s+\S", re.MULTILINE)
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)


def word_count(text: str) -> int:
    """Words: runs of letters or digits (punctuation does not count)."""
    return len(re.findall(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*", text))


def sentence_count(text: str) -> int:
    """Sentences: pieces ending in . ! or ? followed by a space or the end (a final unpunctuated piece counts)."""
    pieces = [p for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    return len(pieces)


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE) is not None


def _json_ok(text: str) -> bool:
    try:
        json.loads(text.strip())
    except ValueError:
        return False
    return True


#: kind -> function(response, arguments) -> passed
CHECKS: dict[str, Callable[[str, dict], bool]] = {
    "max_words": lambda r, a: word_count(r) <= a["n"],
    "min_words": lambda r, a: word_count(r) >= a["n"],
    "max_sentences": lambda r, a: 0 < sentence_count(r) <= a["n"],
    "bullets": lambda r, a: len(_BULLET.findall(r)) == a["n"],
    "numbered": lambda r, a: len(_NUMBERED.findall(r)) == a["n"],
    "json": lambda r, a: _json_ok(r),
    "keywords": lambda r, a: all(_has_word(r, w) for w in a["words"]),
    "forbidden": lambda r, a: not any(_has_word(r, w) for w in a["words"]),
    "lowercase": lambda r, a: any(c.isalpha() for c in r) and r == r.lower(),
    "uppercase": lambda r, a: any(c.isalpha() for c in r) and r == r.upper(),
    "ends_with": lambda r, a: r.strip().endswith(a["phrase"]),
    "starts_with": lambda r, a: r.strip().startswith(a["phrase"]),
    "paragraphs": lambda r, a: len([p for p in re.split(r"\n\s*\n", r.strip()) if p.strip()]) == a["n"],
    "title": lambda r, a: re.search(r"<<[^<>\n]+>>", r) is not None,
    "no_commas": lambda r, a: "," not in r,
    "quoted": lambda r, a: len(r.strip()) > 1 and r.strip()[0] == '"' and r.strip()[-1] == '"',
    # Kinds from IFEval that no training phrasing, curation or repair touches: held out as whole kinds
    # (constraints.UNSEEN_KINDS), so a student's score on them shows whether it learned to follow
    # instructions or only the formats it was trained on.
    "postscript": lambda r, a: re.search(r"^\s*P\.\s?S\.", r, re.MULTILINE) is not None,
    "separator": lambda r, a: len([p for p in r.split("******") if p.strip()]) == 2,
    "sections": lambda r, a: len(re.findall(r"^\W*SECTION\s+\d+", r, re.MULTILINE)) == a["n"],
    "capital_words": lambda r, a: len(re.findall(r"\b[A-Z]{2,}\b", r)) >= a["n"],
    "placeholders": lambda r, a: len(re.findall(r"\[[^\[\]\n]+\]", r)) >= a["n"],
    "highlights": lambda r, a: len(re.findall(r"(?<!\*)\*[^*\n]+\*(?!\*)", r)) >= a["n"],
}


def loose_variants(response: str) -> list[str]:
    """The response, and versions without markdown asterisks, without the first line, without the last line."""
    lines = response.split("\n")
    base = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [v for text in base for v in (text, text.replace("*", "")) if v]


def check(response: str, spec: dict, loose: bool = False) -> bool:
    """Does the response satisfy one constraint ({"kind": ..., args})?"""
    if spec["kind"] not in CHECKS:
        raise ValueError(f"unknown check kind {spec['kind']!r}; known: {', '.join(sorted(CHECKS))}")
    variants = loose_variants(response) if loose else [response]
    return any(CHECKS[spec["kind"]](v, spec) for v in variants)


#: kind -> the arguments its check reads, and their type
CHECK_ARGUMENTS: dict[str, dict[str, type]] = {
    "max_words": {"n": int}, "min_words": {"n": int}, "max_sentences": {"n": int}, "bullets": {"n": int},
    "numbered": {"n": int}, "paragraphs": {"n": int}, "keywords": {"words": list}, "forbidden": {"words": list},
    "ends_with": {"phrase": str}, "starts_with": {"phrase": str}, "sections": {"n": int}, "capital_words": {"n": int},
    "placeholders": {"n": int}, "highlights": {"n": int},
}


MAX_CHECK_COUNT = 10_000  # words, sentences, bullets ...: more than any answer the course scores
MAX_CHECK_TEXT = 200  # a keyword or a phrase
MAX_PROMPT_CHARS = 20_000  # as a record's field (data.MAX_FIELD_CHARS)


@dataclass
class EvalPrompt:
    """A held-out prompt and its verifiable constraints (or, with no checks, a reference output to compare with)."""

    id: str
    prompt: str
    checks: list[dict]
    reference: str | None = None


def load_eval_prompts(limit: int | None = None) -> list[EvalPrompt]:
    """The packaged evaluation prompts (written for this course)."""
    from .resources import load_json_lines

    prompts = [EvalPrompt(**row) for row in load_json_lines("eval_prompts.jsonl")]
    return prompts[:limit] if limit else prompts


def validate_check(spec, path, line, name: str) -> dict:
    """One check object, its kind known and its arguments of the right type; else a DataError naming the field."""
    from .data import DataError

    if not isinstance(spec, dict):
        raise DataError(path, line, name, f"expected a JSON object, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in CHECKS:
        raise DataError(path, line, f"{name}.kind", f"unknown check {kind!r}; known: {', '.join(sorted(CHECKS))}")
    arguments = CHECK_ARGUMENTS.get(kind, {})
    for arg in spec:
        if arg != "kind" and arg not in arguments:
            takes = ", ".join(arguments) or "no arguments"
            raise DataError(path, line, f"{name}.{arg}", f"{kind} takes {takes}; {arg!r} is not one of them")
    for arg, kind_type in arguments.items():
        value = spec.get(arg)
        ok = isinstance(value, kind_type) and not isinstance(value, bool)
        if ok and kind_type is list:
            ok = bool(value) and all(isinstance(w, str) and w.strip() and len(w) <= MAX_CHECK_TEXT for w in value)
        if ok and kind_type is str:
            ok = bool(value.strip()) and len(value) <= MAX_CHECK_TEXT
        if ok and kind_type is int:
            ok = 1 <= value <= MAX_CHECK_COUNT
        if not ok:
            wanted = {int: f"a whole number from 1 to {MAX_CHECK_COUNT:,}",
                      str: f"a non-empty string of at most {MAX_CHECK_TEXT} characters",
                      list: f"a non-empty list of non-empty strings (each at most {MAX_CHECK_TEXT} characters)"}[kind_type]
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise DataError(path, line, f"{name}.{arg}", f"{kind} needs {arg} as {wanted}, got {shown}")
    return spec


def prompt_from_row(row, path=None, line: int | None = None, number: int = 1) -> EvalPrompt:
    """One prompt of a user's file: {prompt, checks[, id, reference]}, or a data record whose output is the reference."""
    from .data import DataError, record_from_dict
    from .templates import user_message

    if isinstance(row, dict) and "prompt" in row:
        text = row["prompt"]
        if not isinstance(text, str) or not text.strip():
            raise DataError(path, line, "prompt", "must be a non-empty string")
        if len(text) > MAX_PROMPT_CHARS:
            raise DataError(path, line, "prompt", f"is {len(text):,} characters long (limit {MAX_PROMPT_CHARS:,})")
        checks, reference = row.get("checks", []), row.get("reference")
        if not isinstance(checks, list):
            raise DataError(path, line, "checks", f"expected a list of check objects, got {type(checks).__name__}")
        if reference is not None and (not isinstance(reference, str) or not reference.strip()):
            raise DataError(path, line, "reference", "must be a non-empty string")
        if "id" in row and (not isinstance(row["id"], str) or not row["id"].strip()):
            raise DataError(path, line, "id", "must be a non-empty string")
        if checks and reference is not None:  # scored by one or the other: say so rather than ignore one silently
            raise DataError(path, line, "reference", "a prompt with checks is scored by them; give checks or a "
                                                     "reference, not both")
    else:  # instruction/input/output (or a seed task): the output is the reference answer
        record = record_from_dict(row, path, line, require_output=False)
        text, checks = user_message(record.instruction, record.input), record.meta.get("checks", [])
        reference = record.output or None
        if not isinstance(checks, list):
            raise DataError(path, line, "checks", f"expected a list of check objects, got {type(checks).__name__}")
    checks = [validate_check(c, path, line, f"checks[{i}]") for i, c in enumerate(checks)]
    if not checks and not reference:
        raise DataError(path, line, "checks", "a prompt needs verifiable checks or a reference output to score against")
    ident = row.get("id") if isinstance(row.get("id"), str) else f"{Path(str(path)).stem if path else 'prompt'}-{number:04d}"
    return EvalPrompt(ident, text, checks, reference)


def load_prompt_file(path) -> list[EvalPrompt]:
    """Your own evaluation prompts: JSONL (or a JSON array) of {prompt, checks} like the packaged ones, or of
    records with a reference output (scored by ROUGE-L, as Self-Instruct scored SuperNI). Never empty."""
    from .data import DataError, loads_strict, parse_json_line

    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, None, "file not found" if not path.exists() else "is a folder, not a prompt file")
    raw = path.read_bytes()
    if raw.lstrip().startswith(b"["):
        rows = loads_strict(raw, path)
        if not isinstance(rows, list):
            raise DataError(path, None, None, f"expected a JSON array of prompts, got {type(rows).__name__}")
        rows = [(None, r) for r in rows]
    else:
        rows = [(i, parse_json_line(line, path, i)) for i, line in enumerate(raw.splitlines(), start=1) if line.strip()]
    prompts = []
    for n, (line, row) in enumerate(rows, start=1):
        try:
            prompts.append(prompt_from_row(row, path, line, n))
        except DataError as err:
            if line is not None:
                raise
            raise DataError(path, None, err.field, f"item {n}: {err.message}") from None
    if not prompts:
        raise DataError(path, None, None, "no prompts (the file is empty)")
    return prompts
