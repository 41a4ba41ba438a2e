"""Saved results: what a lesson measures and keeps for later lessons to cite, in one place.

Each result is `workspace/results/NAME.json`, written whole, with its name, the lesson that writes it and a schema
version beside the data. The names are listed here (`RESULTS`), the shapes are built here (`evaluation_result`,
`preference_result`), and lesson 07 and the exercises read them back through `load_result` and `measured_evidence`.
A file written under another schema is not read as if it were current: the reader is told which lesson to run again.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA = 1
#: name -> the lesson that writes it, and what it holds
RESULTS = {
    "jokes": ("03", "the joke study, one row per condition"),
    "preference": ("04", "the preference pairs and what DPO learned about held-out pairs"),
    "evaluation": ("05", "each model's pass rate on the test split, and every paired difference"),
    "collapse": ("06", "the self-training loop's statistics, generation by generation"),
    "collapse_changes": ("06", "first against last generation, each change with its paired interval"),
}


def result_path(name: str) -> Path:
    """workspace/results/NAME.json, for a name in RESULTS."""
    from .workspace import workspace_dir

    if name not in RESULTS:
        raise ValueError(f"unknown result {name!r}; known: {', '.join(RESULTS)}")
    return workspace_dir() / "results" / f"{name}.json"


def save_result(name: str, data) -> Path:
    """Keep a lesson's measurements as workspace/results/NAME.json (schema, lesson and data), replaced whole."""
    from .data import atomic_write_text

    path = result_path(name)
    lesson = RESULTS[name][0]
    atomic_write_text(path, json.dumps({"result": name, "schema": SCHEMA, "lesson": lesson, "data": data}, indent=1))
    return path


def load_result(name: str):
    """The data an earlier lesson saved, or None when it has not run in this workspace (or ran under an older
    schema: then a line says which lesson to run again)."""
    from .data import DataError, loads_strict

    path = result_path(name)
    if not path.exists():
        return None
    saved = loads_strict(path.read_bytes(), path)
    if not isinstance(saved, dict) or saved.get("result") != name or "data" not in saved:
        raise DataError(path, None, None, f"not a saved {name!r} result; run lesson {RESULTS[name][0]} again to "
                                          "write it")
    if saved.get("schema") != SCHEMA:
        print(f"{path} was written under result schema {saved.get('schema')!r}, this course reads {SCHEMA}: "
              f"run lesson {RESULTS[name][0]} again")
        return None
    return saved["data"]


def evaluation_result(reports: dict, by_kind: dict, split: str) -> dict:
    """Lesson 05's result: each model's prompt-level strict pass rate with its interval, and every paired difference
    (named "B vs A, SUBSET kinds")."""
    models = {name: {"n": len(r.responses), "prompt_strict": r.scores.prompt_strict,
                     "interval": list(r.intervals()["prompt_strict"][1:]), "adherence": r.adherence,
                     "mean_words": r.lengths["mean_words"]} for name, r in reports.items()}
    differences = {f"{name}, {subset} kinds": {"difference": d.difference, "low": d.low, "high": d.high, "n": d.n,
                                               "gained": d.gained, "lost": d.lost, "verdict": d.verdict()}
                   for subset, diffs in by_kind.items() for name, d in diffs.items()}
    return models | {"split": split, "differences": differences}


def preference_result(pairs: list, dpo) -> dict:
    """Lesson 04's result: how many pairs (by family) and what the DPO run measured on held-out pairs."""
    from .pairs import family_counts

    low, high = dpo.accuracy_interval()
    return {"pairs": len(pairs), "families": family_counts(pairs), "train_pairs": dpo.train_pairs,
            "held_out": dpo.held_out_pairs, "accuracy": dpo.accuracy_after, "interval": [low, high],
            "loss_before": dpo.loss_before, "loss_after": dpo.loss_after, "start": dpo.start}


def measured_evidence() -> list[str]:
    """Sentences a learner can cite from this workspace's saved results, each with its n and interval.

    Written from the numbers, whichever way they fell; empty when lessons 05-06 have not run here.
    """
    from .stats import UP_DOWN, Difference

    lines = []
    evaluation = load_result("evaluation") or {}
    for name, d in evaluation.get("differences", {}).items():
        lines.append(f"{name}, prompt-level strict pass rate: {100 * d['difference']:+.1f} points "
                     f"(95% paired interval {100 * d['low']:+.1f} to {100 * d['high']:+.1f}) on the same {d['n']} "
                     f"held-out prompts, {d['gained']} gained and {d['lost']} lost: {d['verdict']}")
    changes = load_result("collapse_changes")
    if changes:  # lesson 06's first-vs-last comparison, each with its paired interval
        lines += [f"self-training loop (lesson 06), {Difference.from_dict({'words': UP_DOWN, **c}).sentence()}"
                  for c in changes]
        return lines
    collapse = load_result("collapse")
    if collapse:
        first, last = collapse[0], collapse[-1]
        lines.append(f"after {last['generation']} generations trained on its own outputs, distinct-2 went "
                     f"{first['distinct_2']:.3f} -> {last['distinct_2']:.3f} and loss on real text "
                     f"{first['held_out_loss']:.3f} -> {last['held_out_loss']:.3f}")
    return lines
