"""The course workspace: where lessons leave artefacts for later lessons (data in 02, an adapter in 04).

Every lesson still runs alone: when an artefact it needs is missing, a small one is made on the spot.
The folder is $ALPACA_COURSE_WORKSPACE, else `workspace/` at the repository root (or the current folder).
"""

from __future__ import annotations

import os
from pathlib import Path


def workspace_dir() -> Path:
    """The workspace folder (created if needed)."""
    if os.environ.get("ALPACA_COURSE_WORKSPACE"):
        folder = Path(os.environ["ALPACA_COURSE_WORKSPACE"])
    else:
        here = Path.cwd()
        root = next((p for p in (here, *here.parents) if (p / "pyproject.toml").exists()), here)
        folder = root / "workspace"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def generated_data(profile, minimum: int | None = None, teacher=None) -> Path:
    """workspace/generated.jsonl, generated (or topped up) so it holds at least `minimum` records."""
    from .data import read_jsonl
    from .self_instruct import generate, settings_for_profile
    from .teachers import LocalTeacher

    path = workspace_dir() / "generated.jsonl"
    needed = minimum or profile.n_generate
    have = len(read_jsonl(path)) if path.exists() else 0
    if have < needed:
        print(f"{path.name} has {have} records; generating up to {needed} (lesson 02 makes the full set)")
        teacher = teacher or LocalTeacher.load(profile.teacher)
        generate(teacher, needed, path, seed=0, settings=settings_for_profile(profile, teacher=teacher.name))
    return path


def adapter(profile, data: Path | None = None) -> Path:
    """workspace/adapter: the plain student, trained on the generated data if it is not there yet."""
    from .experiment import finetune_config, plain_data, settings_for_profile
    from .finetune import train

    folder = workspace_dir() / "adapter"
    if not (folder / "train_result.json").exists():
        print("no plain student in the workspace yet; training one (lesson 04 explains every step)")
        settings = settings_for_profile(profile)
        records = plain_data(data or generated_data(profile, settings.n_examples), settings.n_examples)
        train(records, folder, finetune_config(profile, settings), student=profile.student)
    return folder


def curated_folder(profile, method: str | None = None) -> Path:
    """Where a curated student lives: workspace/curated for the course's method, workspace/curated-METHOD for another."""
    from .experiment import settings_for_profile

    chosen = settings_for_profile(profile).method
    return workspace_dir() / ("curated" if method in (None, chosen) else f"curated-{method.replace('+', '_')}")


def curated_adapter(profile, method: str | None = None) -> Path:
    """A curated student (the course's method unless `method` names another), made if it is not there yet."""
    from .experiment import curated_data, curation_teacher, finetune_config, settings_for_profile
    from .finetune import load_student, train

    settings = settings_for_profile(profile, **({"method": method} if method else {}))
    folder = curated_folder(profile, method)
    if not (folder / "train_result.json").exists():
        print(f"no {settings.method} student in the workspace yet; curating and training one (lesson 04 explains)")
        config = finetune_config(profile, settings)
        model, tokenizer = load_student(profile.student, config)
        records, _ = curated_data(curation_teacher(profile, model, tokenizer), settings, settings.seed)
        train(records, folder, config, student=profile.student, model=model, tokenizer=tokenizer)
    return folder


def pairs_file() -> Path:
    """workspace/pairs.jsonl: the preference pairs lesson 04's best-of-k samples held."""
    return workspace_dir() / "pairs.jsonl"


def dpo_folder() -> Path:
    """workspace/dpo: the DPO student."""
    return workspace_dir() / "dpo"


def dpo_adapter(profile) -> Path:
    """The DPO student (lesson 04), made if it is not there yet: from the curated student, on the pairs file
    (curating again for pairs if lesson 04 left none)."""
    from .experiment import curation_teacher, dpo_lora, settings_for_profile
    from .preference import PairCollector, load_pairs, train_dpo, write_pairs

    settings = settings_for_profile(profile)
    folder = dpo_folder()
    if not (folder / "train_result.json").exists():
        print("no DPO student in the workspace yet; training one on the verifier's pairs (lesson 04 explains)")
        start = curated_adapter(profile) if settings.dpo.start == "sft" else None
        if not pairs_file().exists():
            from .experiment import curated_sets

            collector = PairCollector(settings.dpo.pairs, settings.dpo.min_pairs)
            curated_sets(curation_teacher(profile), settings, [settings.method], settings.seed, pairs=collector)
            write_pairs(pairs_file(), collector.pairs)
        train_dpo(load_pairs(pairs_file()), folder, settings.dpo, profile.student, start,
                  lora_kwargs=dpo_lora(profile, settings))
    return folder


def save_result(name: str, data) -> Path:
    """Keep a lesson's measurements as workspace/results/NAME.json, for later lessons to cite."""
    import json

    from .data import atomic_write_text

    path = workspace_dir() / "results" / f"{name}.json"
    atomic_write_text(path, json.dumps(data, indent=1))
    return path


def load_result(name: str):
    """A result saved by an earlier lesson, or None when that lesson has not run in this workspace."""
    import json

    path = workspace_dir() / "results" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def measured_evidence() -> list[str]:
    """Sentences a learner can cite from this workspace's saved results, each with its n and interval.

    Written from the numbers, whichever way they fell; empty when lessons 05-06 have not run here.
    """
    lines = []
    evaluation = load_result("evaluation") or {}
    for name, d in evaluation.get("differences", {}).items():
        lines.append(f"{name}, prompt-level strict pass rate: {100 * d['difference']:+.1f} points "
                     f"(95% paired interval {100 * d['low']:+.1f} to {100 * d['high']:+.1f}) on the same {d['n']} "
                     f"held-out prompts, {d['gained']} gained and {d['lost']} lost: {d['verdict']}")
    changes = load_result("collapse_changes")
    if changes:  # lesson 06's first-vs-last comparison, each with its paired interval
        from .collapse import Change

        lines += [f"self-training loop (lesson 06), {Change(**c).sentence()}" for c in changes]
        return lines
    collapse = load_result("collapse")
    if collapse:
        first, last = collapse[0], collapse[-1]
        lines.append(f"after {last['generation']} generations trained on its own outputs, distinct-2 went "
                     f"{first['distinct_2']:.3f} -> {last['distinct_2']:.3f} and loss on real text "
                     f"{first['held_out_loss']:.3f} -> {last['held_out_loss']:.3f}")
    return lines
