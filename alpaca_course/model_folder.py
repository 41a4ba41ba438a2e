"""Where a trained model goes: a folder that `train` owns, filled beside it and swapped in whole.

A model folder is several files (weights, adapter_config.json or config.json, tokenizer, card,
train_result.json) that only make sense together. Writing them one by one over an old folder is how a
kill at the wrong moment leaves new weights under an old train_result.json, or an old LoRA adapter
beside a new full model. So the files go to a staging folder next to the target, are flushed to disk,
and the two folders trade places in one step (`renameat2(RENAME_EXCHANGE)` on Linux; two renames
elsewhere). A kill leaves the old model or the new one, whole.

It also owns what is in the folder: `TrainResult` (train_result.json), the model card, and reading it all back
(`read_train_result`, `load_trained`), with a one-line `TrainedModelNotFound` for a folder that is not whole.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .data import DataError

TRAINED_MARKER = "train_result.json"  # every folder `train` writes has one


class OutputFolderError(ValueError):
    """An output folder that training must not fill or replace."""


def is_trained_folder(folder: Path) -> bool:
    """True when `train` wrote this folder: it holds train_result.json, or only the trainer's checkpoints."""
    return (folder / TRAINED_MARKER).is_file() or {p.name for p in folder.iterdir()} <= {"checkpoints"}


def check_out(out: str | os.PathLike, overwrite: bool = False, data: str | os.PathLike | None = None,
              trained_ok: bool = False) -> Path:
    """The folder to train into, or OutputFolderError when it is '', a file, the current, home or root
    folder, holds the training data, or holds anything already (unless `overwrite`; `trained_ok` lets a
    folder that `train` wrote be replaced without it)."""
    if not str(out).strip():
        raise OutputFolderError("--out is empty: name a new folder for the trained model")
    path = Path(out)
    real = Path(os.path.realpath(path))
    for name, special in (("the current folder", Path.cwd()), ("your home folder", Path.home()), ("the root folder",
                                                                                               Path(real.anchor))):
        if real == Path(os.path.realpath(special)):
            raise OutputFolderError(f"{out}: is {name}; train into a folder of its own (it is replaced whole)")
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{out}: is a file, not a folder; name a folder for the trained model")
    if data is not None and Path(os.path.realpath(data)).is_relative_to(real):
        raise OutputFolderError(f"{out}: holds the training data {data}; train into another folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        if not is_trained_folder(path):
            shown = ", ".join(sorted(p.name for p in path.iterdir())[:3])
            raise OutputFolderError(f"{out}: holds files that `train` did not write ({shown}, ...); choose a new "
                                    "folder, or pass --overwrite to replace the whole folder")
        if not trained_ok:
            raise OutputFolderError(f"{out}: holds a trained model already; pass --overwrite to replace it, "
                                    "or choose a new folder")
    return path


def staging_folder(out: str | os.PathLike) -> Path:
    """The folder beside `out` where its replacement is written (the same file system, so it can be swapped in)."""
    real = Path(os.path.realpath(out))
    return real.with_name(f".{real.name}.staging")


def fresh_staging(out: str | os.PathLike) -> Path:
    """An empty staging folder for `out` (a killed run's leftovers are removed)."""
    staging = staging_folder(out)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def swap_in(staging: Path, out: str | os.PathLike) -> Path:
    """Make the finished staging folder the model at `out`; the old folder there (if any) goes."""
    real = Path(os.path.realpath(out))
    _fsync_tree(staging)
    if not real.exists():
        os.rename(staging, real)
    elif _exchange(staging, real):
        shutil.rmtree(staging)  # now the old folder
    else:
        old = real.with_name(f".{real.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(real, old)
        os.rename(staging, real)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(real.parent)
    return Path(out)


@dataclass
class TrainResult:
    """What a run did and measured."""

    out_dir: str
    config: dict
    trainable_params: int
    total_params: int
    train_examples: int
    eval_examples: int
    skipped_too_long: int
    steps: int
    seconds: float
    tokens_per_second: float
    peak_memory_mb: float
    eval_loss_before: float
    eval_loss_after: float
    losses: list[float] = field(default_factory=list)

    @property
    def perplexity_before(self) -> float:
        """exp(held-out loss) before training."""
        return math.exp(self.eval_loss_before)

    @property
    def perplexity_after(self) -> float:
        """exp(held-out loss) after training."""
        return math.exp(self.eval_loss_after)


def save(model, tokenizer, out_dir: Path, result: TrainResult, student: str, extra: dict[str, str] | None = None) -> None:
    """Save weights (only the adapter for LoRA), the tokenizer, train_result.json, a model card and any `extra`
    files (name -> text), all at once: written to a staging folder beside `out_dir`, then swapped in whole
    (model_folder.swap_in)."""
    staging = fresh_staging(out_dir)
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "README.md").write_text(model_card(result, student), encoding="utf-8")
        (staging / "train_result.json").write_text(json.dumps({**asdict(result), "student": student}, indent=1),
                                                   encoding="utf-8")
        for name, text in (extra or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        swap_in(staging, out_dir)
    except Exception:  # a full disk, say: the old model stays, and no half-written staging folder is left behind
        shutil.rmtree(staging, ignore_errors=True)
        raise


def model_card(result: TrainResult, student: str) -> str:
    """A Hugging Face model card (YAML front matter + prose) for the adapter or model."""
    config = result.config
    kind = "LoRA adapter" if config["lora"] else "fully fine-tuned model"
    base = "HuggingFaceTB/SmolLM2-135M-Instruct" if student == "bundled" else student
    dpo = config.get("dpo")
    trained_on = (f"by DPO (beta {dpo['beta']}, starting from {config.get('start', 'base')}) on "
                  f"{result.train_examples} preference pairs of its teacher's own answers, a verifier's pick against "
                  f"an answer that failed a check," if isinstance(dpo, dict) else
                  f"on {result.train_examples} machine-generated instruction examples")
    held_out = ("held-out preference pairs; the loss is DPO's, log 2 = 0.693 before training" if isinstance(dpo, dict)
                else "held-out examples from the same generated data")
    return f"""---
base_model: {base}
library_name: {"peft" if config["lora"] else "transformers"}
license: apache-2.0
tags: [alpaca-course, {"dpo" if isinstance(dpo, dict) else "sft"}, {"lora" if config["lora"] else "full-finetune"}, synthetic-data]
---

# {kind} trained with Alpaca Course

A course exercise, not a product: a {kind} for `{base}`, trained {trained_on} with the {config["template"]} template.

## Training

- loss on: {"prompt and response" if config["train_on_inputs"] else "response + EOS only (prompt tokens masked with -100)"}
- steps: {result.steps}, batch {config["batch_size"]} x {config["gradient_accumulation_steps"]}, learning rate {config["learning_rate"]},
  {config["lr_scheduler_type"]} schedule, max length {config["max_length"]} tokens
- LoRA: r={config["lora_r"]}, alpha={config["lora_alpha"]}, dropout={config["lora_dropout"]}, modules={list(config["target_modules"])}
- trainable parameters: {result.trainable_params:,} of {result.total_params:,} ({100 * result.trainable_params / result.total_params:.2f}%)
- examples skipped (too long, or an output cut at the teacher's token limit): {result.skipped_too_long}

## Evaluation ({held_out})

| | loss | perplexity |
|---|---|---|
| before | {result.eval_loss_before:.3f} | {result.perplexity_before:.1f} |
| after | {result.eval_loss_after:.3f} | {result.perplexity_after:.1f} |

## Limitations

Trained on text written by a small model; it copies that model's errors and style. Lower held-out loss
on the same kind of data says little about being more helpful; see lesson 05.
"""


class TrainedModelNotFound(FileNotFoundError):
    """A folder that `train` did not write (or that is incomplete)."""


def read_train_result(folder: str | Path) -> tuple[TrainResult, str]:
    """The TrainResult saved in a training folder, and the student it was trained from."""
    path = Path(folder) / "train_result.json"
    if not Path(folder).is_dir():
        raise TrainedModelNotFound(f"{folder}: no such folder (expected one written by `train`)")
    from .data import loads_strict

    try:
        data = loads_strict(path.read_bytes(), path)
    except FileNotFoundError:
        raise TrainedModelNotFound(f"{path}: missing; is {folder} a folder written by `train`?") from None
    except DataError as err:
        raise TrainedModelNotFound(str(err)) from None
    if not isinstance(data, dict):
        raise TrainedModelNotFound(f"{path}: not a train result (expected a JSON object, got {type(data).__name__})")
    number = (int, float)
    kinds = {"out_dir": (str,), "config": (dict,), "losses": (list,), "student": (str,)}
    for name in (*TrainResult.__dataclass_fields__, "student"):
        value, kind = data.get(name), kinds.get(name, number)
        if name not in data:
            if name in ("losses", "student"):
                continue
            raise TrainedModelNotFound(f"{path}: field '{name}' is missing; is {folder} a folder written by `train`?")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TrainedModelNotFound(f"{path}: field '{name}': expected {' or '.join(k.__name__ for k in kind)}, "
                                       f"got {type(value).__name__}")
    if not all(isinstance(x, number) and not isinstance(x, bool) for x in data.get("losses", [])):
        raise TrainedModelNotFound(f"{path}: field 'losses': expected a list of numbers")
    for name, kind in (("template", str), ("lora", bool)):
        if name in data["config"] and not isinstance(data["config"][name], kind):
            raise TrainedModelNotFound(f"{path}: field 'config.{name}': expected {kind.__name__}")
    known = {k: v for k, v in data.items() if k in TrainResult.__dataclass_fields__}
    return TrainResult(**known), data.get("student", "bundled")


def load_trained(folder: str | Path, merge: bool = False):
    """(model, tokenizer, TrainResult) from a folder written by `train`: a LoRA adapter or a full fine-tune.

    An adapter is put back on its base student (merged into plain weights with `merge`); a full
    fine-tune is loaded from its own config and weights.
    """
    from .models import load_model

    folder = Path(folder)
    result, student = read_train_result(folder)
    if (folder / "adapter_config.json").is_file():
        from peft import PeftModel

        model, tokenizer = load_model(student)
        try:
            model = PeftModel.from_pretrained(model, str(folder))
        except Exception as err:  # peft, safetensors and json each raise their own kinds for a damaged adapter
            raise TrainedModelNotFound(f"{folder}: the LoRA adapter could not be loaded ({type(err).__name__}: "
                                       f"{' '.join(str(err).split())[:300]})") from None
        if merge:
            model = model.merge_and_unload()
    elif (folder / "config.json").is_file():
        try:
            model, tokenizer = load_model(str(folder), fallback=False)
        except Exception as err:  # transformers and safetensors raise their own kinds for damaged weights
            raise TrainedModelNotFound(f"{folder}: the fine-tuned model could not be loaded ({type(err).__name__}: "
                                       f"{' '.join(str(err).split())[:300]})") from None
    else:
        raise TrainedModelNotFound(f"{folder}: neither adapter_config.json (LoRA) nor config.json (full) is there")
    model.eval()
    return model, tokenizer, result
