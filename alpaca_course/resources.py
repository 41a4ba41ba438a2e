"""The packaged data, in one place: seed tasks, evaluation prompts, personas and topics (all written for this course)."""

from __future__ import annotations

import json
from pathlib import Path

from .data import InstructionRecord, read_jsonl

RESOURCES = Path(__file__).resolve().parent / "resources"


def resource_path(name: str) -> Path:
    """The path of a packaged file, e.g. 'seed_tasks.jsonl'."""
    return RESOURCES / name


def load_seed_tasks() -> list[InstructionRecord]:
    """The course's seed tasks, with name/type/is_classification in meta."""
    return list(read_jsonl(resource_path("seed_tasks.jsonl")))


def load_lines(name: str) -> list[str]:
    """A packaged one-item-per-line list: 'personas.txt' or 'topics.txt'."""
    text = resource_path(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_json_lines(name: str) -> list[dict]:
    """The rows of a packaged JSONL file as dicts (e.g. 'eval_prompts.jsonl')."""
    text = resource_path(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
