"""Supervised fine-tuning (SFT) of the student on instruction data: LoRA by default, full on the gpu profile.

The examples come from `tokenizing` (template, labels, end token), the held-out loss from `losses`, and
the heap handed back between steps from `memory`. This module holds the run itself: the settings, TRL's
`SFTTrainer` around them, and what a finished run saves.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .data import InstructionRecord
from .losses import held_out_loss
from .memory import heap_release_callback, peak_memory_mb
from .model_folder import TrainResult, save
from .tokenizing import PadCollator, build_dataset, split_records


@dataclass
class FinetuneConfig:
    """Everything a run needs; alpaca-lora's LoRA settings and Alpaca's schedule as defaults."""

    template: str = "alpaca"  # "alpaca" or "chat"
    train_on_inputs: bool = False
    max_length: int = 256
    lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    learning_rate: float = 3e-4
    max_steps: int = 60  # 0: use num_train_epochs
    num_train_epochs: float = 1.0
    batch_size: int = 4  # examples per optimizer step
    micro_batch_size: int | None = None  # examples per forward pass (None: the whole batch); gradients accumulate
    gradient_accumulation_steps: int = 1
    warmup: float = 0.03  # a fraction of the steps
    lr_scheduler_type: str = "cosine"
    weight_decay: float = 0.0
    activation_checkpointing: bool = True  # recompute activations in the backward pass: less memory, more time
    eval_fraction: float = 0.1
    seed: int = 0


def config_for_profile(profile, **changes) -> FinetuneConfig:
    """Sizes from the profile: LoRA on cpu/quick, full fine-tuning (Alpaca's lr 2e-5) on gpu."""
    config = FinetuneConfig(max_length=profile.max_seq_len, max_steps=profile.train_steps,
                            num_train_epochs=profile.train_epochs, batch_size=profile.train_batch_size,
                            micro_batch_size=profile.train_micro_batch,
                            lora=not profile.full_finetune, lora_r=profile.lora_r,
                            activation_checkpointing=profile.activation_checkpointing)
    if profile.full_finetune:
        config.learning_rate = 2e-5
    for key, value in changes.items():
        if not hasattr(config, key):
            raise ValueError(f"unknown fine-tuning setting {key!r}")
        setattr(config, key, value)
    return config


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def lora_added_params(d_in: int, d_out: int, r: int) -> int:
    """Parameters LoRA trains for one d_in -> d_out linear layer: A (r x d_in) and B (d_out x r)."""
    return r * (d_in + d_out)


def lora_params_for(shapes: dict[str, tuple[int, int]], r: int, targets: list[str] | tuple[str, ...],
                    n_layers: int) -> int:
    """LoRA parameters over every layer, for the target modules named (shapes: module -> (d_in, d_out))."""
    return n_layers * sum(lora_added_params(*shapes[t], r) for t in targets)


def lora_config_kwargs(config: FinetuneConfig) -> dict[str, Any]:
    """Keyword arguments for peft.LoraConfig (a test checks each still exists)."""
    return {"r": config.lora_r, "lora_alpha": config.lora_alpha, "lora_dropout": config.lora_dropout,
            "target_modules": list(config.target_modules), "bias": "none", "task_type": "CAUSAL_LM"}


def world_size() -> int:
    """How many training processes run together (`accelerate launch --num_processes N` sets WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_process() -> bool:
    """Whether this is the process that saves and prints (rank 0, or the only one)."""
    return int(os.environ.get("RANK", "0") or 0) == 0


def per_process_batch(batch_size: int, processes: int) -> int:
    """The global batch split evenly across data-parallel processes, so the optimizer steps stay the same."""
    if batch_size % processes:
        raise ValueError(f"a batch of {batch_size} does not split evenly across {processes} processes; "
                         f"use a batch size that {processes} divides")
    return batch_size // processes


def micro_batches(batch_size: int, micro_batch_size: int | None) -> tuple[int, int]:
    """(examples per forward pass, passes per optimizer step): the same step in smaller pieces, for less memory.

    Each pass keeps only its own activations; the gradients add up over the passes, and the loss is divided by
    the step's token count, so the update is the one the whole batch would make."""
    if not micro_batch_size or micro_batch_size >= batch_size:
        return batch_size, 1
    if batch_size % micro_batch_size:
        raise ValueError(f"a batch of {batch_size} does not split into micro-batches of {micro_batch_size}; "
                         f"use a micro-batch size that divides it")
    return micro_batch_size, batch_size // micro_batch_size


def warmup_steps(config: FinetuneConfig) -> float:
    """Warm-up for the Trainer: the configured share, or none when it would take every step.

    The learning rate starts at 0 and climbs during warm-up. The Trainer rounds the share up, so a
    run of a few steps could spend all of them warming up and leave the adapters exactly where they
    started (LoRA's B matrices at 0). Such a run skips warm-up instead.
    """

    if config.max_steps and config.warmup < 1 and math.ceil(config.warmup * config.max_steps) >= config.max_steps:
        return 0
    return config.warmup


def sft_config_kwargs(config: FinetuneConfig, out_dir: str, mixed: str | None = None,
                      device: str = "cpu") -> dict[str, Any]:
    """Keyword arguments for trl.SFTConfig (a test checks each still exists); `mixed` is "bf16", "fp16" or None.

    Under `accelerate launch` each process gets its share of the global batch (gloo on CPUs).
    """
    processes = world_size()
    per_pass, passes = micro_batches(per_process_batch(config.batch_size, processes), config.micro_batch_size)
    return {
        "output_dir": out_dir, "max_steps": config.max_steps if config.max_steps else -1,
        "num_train_epochs": config.num_train_epochs,
        "per_device_train_batch_size": per_pass,
        **({"ddp_backend": "gloo"} if processes > 1 and device == "cpu" else {}),
        "gradient_accumulation_steps": config.gradient_accumulation_steps * passes,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": config.lr_scheduler_type, "warmup_steps": warmup_steps(config),
        "weight_decay": config.weight_decay, "activation_checkpointing": config.activation_checkpointing,
        "logging_steps": 1, "save_strategy": "no", "report_to": "none",
        "seed": config.seed, "max_length": config.max_length, "bf16": mixed == "bf16",
        "fp16": mixed == "fp16", **({"use_cpu": True} if mixed and device == "cpu" else {}), "dataset_kwargs": {"skip_prepare_dataset": True},
        "remove_unused_columns": False, "disable_tqdm": False, "dataloader_pin_memory": device == "cuda",
    }


def train(records: list[InstructionRecord], out_dir: str | Path, config: FinetuneConfig | None = None,
          student: str = "bundled", eval_records: list[InstructionRecord] | None = None,
          progress: bool = True, model=None, tokenizer=None, overwrite: bool = False) -> tuple[Any, Any, TrainResult]:
    """Fine-tune the student; save the adapter (or full model), a model card and train_result.json.

    The folder is replaced whole at the end. One that `train` wrote before may be replaced; one holding
    anything else is refused unless `overwrite`.

    Pass an already loaded (model, tokenizer) to avoid loading the student again. Returns
    (model, tokenizer, result); the model is ready to generate (eval mode).
    """
    import contextlib

    from .locking import output_lock
    from .model_folder import check_out

    config = config or FinetuneConfig()
    check_out(out_dir, overwrite, trained_ok=True)  # before the lock, which sits beside the folder
    lock = output_lock(out_dir, "train run", folder=True) if is_main_process() else contextlib.nullcontext()
    with lock:  # one training at a time into one folder
        return _train(records, out_dir, config, student, eval_records, progress, model, tokenizer, overwrite)


def _train(records, out_dir, config, student, eval_records, progress, model, tokenizer, overwrite):
    """`train` while its lock is held (the folder is checked again: it may have changed while we waited)."""
    import transformers

    from .model_folder import check_out, staging_folder

    out_dir = check_out(out_dir, overwrite, trained_ok=True)
    transformers.set_seed(config.seed)
    if model is None:
        model, tokenizer = load_student(student, config)
    if eval_records is None:
        records, eval_records = split_records(records, config.eval_fraction, config.seed)
    tokenizer.padding_side = "right"
    eval_before = held_out_loss(model, tokenizer, eval_records, config)
    dataset, skipped = build_dataset(tokenizer, records, config)
    trainer = make_trainer(model, tokenizer, dataset, config, str(staging_folder(out_dir) / "checkpoints"), progress)
    started = time.perf_counter()
    trainer.train()
    result = finish_run(trainer, tokenizer, out_dir, config, eval_records, eval_before, student,
                        time.perf_counter() - started, skipped)
    return trainer.model, tokenizer, result


def describe_training(result: TrainResult) -> str:
    """What a run did, in three lines."""
    return "\n".join([
        f"trained {result.steps} steps on {result.train_examples} examples in {result.seconds:.0f} s "
        f"({result.tokens_per_second:.0f} tokens/s, peak memory {result.peak_memory_mb:.0f} MB); "
        f"skipped (too long or cut off): {result.skipped_too_long}",
        f"trainable parameters: {result.trainable_params:,} of {result.total_params:,}",
        f"held-out loss {result.eval_loss_before:.3f} -> {result.eval_loss_after:.3f} "
        f"(perplexity {result.perplexity_before:.1f} -> {result.perplexity_after:.1f}); saved to {result.out_dir}"])


def load_student(student: str, config: FinetuneConfig):
    """The student (model, tokenizer) in the precision its kind of training needs on this hardware."""
    from .models import load_model
    from .profiles import choose_device, training_precision

    device = choose_device()
    weights, _ = training_precision(device, full_finetune=not config.lora)
    return load_model(student, device=device, dtype=weights)


def make_trainer(model, tokenizer, dataset, config: FinetuneConfig, out_dir: str, progress: bool = True,
                 mixed: str | None = "auto"):
    """TRL's SFTTrainer for a tokenized dataset: our collator, one progress bar, LoRA when asked.

    With `config.lora`, TRL wraps the model with the adapters itself (`peft_config`), as its sft script does; a model
    already wrapped (`fit`: collapse's generations) gets none.
    `mixed` ("bf16", "fp16" or None) overrides the precision `training_precision` picks for this hardware.
    """
    import warnings

    from peft import LoraConfig, PeftModel
    from trl import SFTConfig, SFTTrainer

    from .profiles import training_precision

    wrapped = isinstance(model, PeftModel)
    # TRL still calls transformers' renamed gradient-checkpointing helpers; those notices are not for learners.
    warnings.filterwarnings("ignore", category=FutureWarning, message=".*checkpointing.*")
    device = next(model.parameters()).device.type
    if mixed == "auto":
        _, mixed = training_precision(device, full_finetune=not config.lora)
    args = SFTConfig(**sft_config_kwargs(config, out_dir, mixed, device))
    args.disable_tqdm = not progress
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         data_collator=PadCollator(tokenizer.pad_token_id),
                         peft_config=LoraConfig(**lora_config_kwargs(config)) if config.lora and not wrapped else None)
    quiet_progress(trainer, progress)
    if device == "cpu":
        trainer.add_callback(heap_release_callback())
    return trainer


def fit(model, tokenizer, dataset, config: FinetuneConfig, out_dir: str, progress: bool = True):
    """Train an already prepared model (e.g. one wrapped with adapters) on a tokenized dataset; returns the trainer."""
    trainer = make_trainer(model, tokenizer, dataset, config, out_dir, progress)
    trainer.train()
    ready_to_generate(trainer.model)
    return trainer


def ready_to_generate(model) -> None:
    """After training: evaluation mode, no activation checkpointing, and the training's autocast taken off `forward`.

    The Trainer turns checkpointing on and writes `use_cache = False` into the config (which a saved
    full fine-tune would keep); with mixed precision, accelerate wraps `forward` in autocast with
    outputs cast to float32, and the wrapper outlives training. After this the student answers as it will when loaded from disk.
    """
    model.eval()
    if getattr(model, "is_gradient_checkpointing", False):
        model.gradient_checkpointing_disable()
    model.config.use_cache = True
    for module in model.modules():
        wrapped = module.__dict__.get("forward")
        if wrapped is not None and hasattr(getattr(wrapped, "__func__", wrapped), "__wrapped__"):
            del module.forward  # the class's own forward again
            module.__dict__.pop("_original_forward", None)


def finish_run(trainer, tokenizer, out_dir: str | Path, config: FinetuneConfig, eval_records: list[InstructionRecord],
               eval_before: float, student: str, seconds: float, skipped: int = 0) -> TrainResult:
    """After `trainer.train()`: measure the held-out loss again, then save the model, its card and the numbers."""
    model, dataset = trainer.model, trainer.train_dataset
    steps = trainer.state.global_step
    tokens_seen = steps * config.batch_size * config.gradient_accumulation_steps * (
        sum(len(x) for x in dataset["input_ids"]) / len(dataset))
    ready_to_generate(model)  # also what a saved full fine-tune's config.json says
    eval_after = held_out_loss(model, tokenizer, eval_records, config)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    trainable, total = count_parameters(model)
    result = TrainResult(str(out_dir), asdict(config), trainable, total, len(dataset), len(eval_records), skipped,
                         steps, seconds, tokens_seen / max(seconds, 1e-9), peak_memory_mb(), eval_before,
                         eval_after, losses)
    if is_main_process():  # with several processes, one writes
        save(model, tokenizer, Path(out_dir), result, student)
    return result


def quiet_progress(trainer, show: bool) -> None:
    """Replace the trainer's printed log dicts with one progress bar that shows the loss."""
    from tqdm.auto import tqdm
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    class LossBar(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = tqdm(total=state.max_steps, desc="training", unit="step", disable=not show)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}")

        def on_step_end(self, args, state, control, **kwargs):
            self.bar.update(1)

        def on_train_end(self, args, state, control, **kwargs):
            self.bar.close()

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LossBar())
