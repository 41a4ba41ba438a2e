"""The library's steps as the command line runs them: on files, with a profile's sizes, refusing bad input early.

Each function checks what it was given (the output path, the data file, the settings) before anything slow
loads, then calls the one library function that does the work. `cli` parses arguments and prints; this
module is what a script that wants the CLI's behaviour without a shell would call.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .data import DataError, records_to_extend
from .finetune import config_for_profile, train
from .model_folder import TrainResult
from .pairs import load_pairs
from .preference import DPOResult, DPOSettings, train_dpo
from .run_log import RunLog, run_log_path
from .self_instruct import ALPACA, SELF_INSTRUCT, generate, generation_settings
from .teachers import Teacher


def make_teacher(kind: str) -> Teacher:
    """'bundled', a Hub id or a folder (local model), or 'api' (OpenAI-compatible, from the environment)."""
    from .teachers import LocalTeacher, OpenAICompatibleTeacher

    return OpenAICompatibleTeacher.from_env() if kind == "api" else LocalTeacher.load(kind)


def generate_file(n: int, out: str | Path, seed: int = 0, teacher: str | None = None, preset: str = "alpaca",
                  style: str | None = None, profile=None, progress: bool = True,
                  seeds: str | Path | None = None) -> RunLog:
    """`generate` with the settings a profile, a preset and a teacher kind imply (what the CLI runs).

    `seeds` is a file of your own seed tasks: Self-Instruct/Alpaca `seed_tasks.jsonl` (with
    `instances`), instruction/input/output JSONL, an Alpaca JSON array, or a `save_to_disk` folder.
    """
    from .data import load_records, output_file
    from .locking import check_free
    from .profiles import get_profile

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    output_file(out)  # '' or a folder or /dev/null: refused before a lock or a run log is made beside it
    profile = profile or get_profile()
    check_free(out)  # refuse before the teacher loads ...
    records_to_extend(out, torn_tail_is_ours=run_log_path(Path(out)).exists(), change=False)  # ... and a bad file too
    seed_tasks = list(load_records(seeds)) if seeds else None  # a bad seed file fails before the teacher loads
    kind = teacher or profile.teacher
    base = {"alpaca": ALPACA, "self-instruct": SELF_INSTRUCT}[preset]
    model = make_teacher(kind)
    settings = generation_settings(profile, base, teacher=model.name)
    if style:
        settings = replace(settings, prompt_style=style)
    return generate(model, n, out, seed=seed, settings=settings, progress=progress, seeds=seed_tasks,
                    seed_file=str(seeds) if seeds else None)


def train_file(data: str | Path, out_dir: str | Path, profile=None, progress: bool = True, overwrite: bool = False,
               **changes) -> TrainResult:
    """Fine-tune the profile's student on a data file (what the CLI runs); `changes` override FinetuneConfig fields.
    An `out_dir` that already holds something is refused unless `overwrite` (then it is replaced whole)."""
    from .data import load_records
    from .model_folder import check_out
    from .profiles import get_profile

    check_out(out_dir, overwrite, data=data)
    profile = profile or get_profile()
    if changes.get("max_steps") is not None and changes["max_steps"] < 1:
        raise ValueError(f"steps must be at least 1, got {changes['max_steps']}")
    config = config_for_profile(profile, **{k: v for k, v in changes.items() if v is not None})
    records = list(load_records(data))
    if len(records) < 2:
        raise DataError(data, None, None, f"need at least 2 records to train and hold one out, found {len(records)}")
    return train(records, out_dir, config, student=profile.student, progress=progress, overwrite=overwrite)[2]


def train_dpo_file(pairs_path: str | Path, out_dir: str | Path, start: str | Path | None = None, profile=None,
                   progress: bool = True, overwrite: bool = False, **changes) -> DPOResult:
    """DPO on a pairs file (what `train --dpo` runs); `changes` override DPOSettings fields."""
    from .model_folder import check_out
    from .profiles import get_profile

    check_out(out_dir, overwrite, data=pairs_path)
    profile = profile or get_profile()
    settings = DPOSettings(**{k: v for k, v in changes.items() if v is not None}, start="sft" if start else "base")
    if settings.steps < 1 or settings.beta <= 0 or settings.learning_rate <= 0:
        raise ValueError("steps must be at least 1, and beta and the learning rate above 0")
    pairs = load_pairs(pairs_path)
    lora = {"r": profile.lora_r, "lora_alpha": 2 * profile.lora_r, "lora_dropout": 0.05,
            "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
    return train_dpo(pairs, out_dir, settings, profile.student, start, progress, overwrite, lora)[2]
