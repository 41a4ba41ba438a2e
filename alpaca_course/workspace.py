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
    from .self_instruct import generate, generation_settings
    from .teachers import LocalTeacher

    path = workspace_dir() / "generated.jsonl"
    needed = minimum or profile.n_generate
    have = len(read_jsonl(path)) if path.exists() else 0
    if have < needed:
        print(f"{path.name} has {have} records; generating up to {needed} (lesson 02 makes the full set)")
        teacher = teacher or LocalTeacher.load(profile.teacher)
        generate(teacher, needed, path, seed=0, settings=generation_settings(profile, teacher=teacher.name))
    return path


def adapter(profile, data: Path | None = None) -> Path:
    """workspace/adapter: the plain student, trained on the generated data if it is not there yet."""
    from .experiment import experiment_settings, finetune_config, plain_data
    from .finetune import train

    folder = workspace_dir() / "adapter"
    if not (folder / "train_result.json").exists():
        print("no plain student in the workspace yet; training one (lesson 04 explains every step)")
        settings = experiment_settings(profile)
        records = plain_data(data or generated_data(profile, settings.n_examples), settings.n_examples)
        train(records, folder, finetune_config(profile, settings), student=profile.student)
    return folder


def curated_folder(profile, method: str | None = None) -> Path:
    """Where a curated student lives: workspace/curated for the course's method, workspace/curated-METHOD for another."""
    from .experiment import experiment_settings

    chosen = experiment_settings(profile).method
    return workspace_dir() / ("curated" if method in (None, chosen) else f"curated-{method.replace('+', '_')}")


def curated_adapter(profile, method: str | None = None) -> Path:
    """A curated student (the course's method unless `method` names another), made if it is not there yet."""
    from .experiment import curated_data, curation_teacher, experiment_settings, finetune_config
    from .finetune import load_student, train

    settings = experiment_settings(profile, **({"method": method} if method else {}))
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
    from .experiment import curation_teacher, dpo_lora, experiment_settings
    from .pairs import PairCollector, load_pairs, write_pairs
    from .preference import train_dpo

    settings = experiment_settings(profile)
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
