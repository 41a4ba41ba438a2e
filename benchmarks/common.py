"""Helpers shared by the benchmark scripts: machine facts and appending to RESULTS.md."""

from __future__ import annotations

import ast
import datetime
import os
import platform
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    """One line about this machine and the key versions."""
    cpu = platform.processor() or platform.machine()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("torch", "transformers", "rapidfuzz", "rouge-score"))
    return f"{os.cpu_count()} CPU cores ({cpu}), Python {platform.python_version()}; {versions}"


def record(title: str, lines: list[str]) -> None:
    """Print a result block and append it to RESULTS.md with the date and machine."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"\n### {title} ({stamp})", "", f"Machine: {machine()}", ""] + lines + [""]
    print("\n".join(block))
    with open(RESULTS, "a", encoding="utf-8") as fh:
        fh.write("\n".join(block) + "\n")


def parse_changes(pairs: list[str]) -> dict:
    """'key=value' pairs, values read as Python literals where they are ones."""
    changes = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        try:
            changes[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            changes[key] = value
    return changes
