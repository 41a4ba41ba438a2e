"""Supervised fine-tuning (SFT) of the student on instruction data: LoRA by default, full on the gpu profile.

The three things that decide whether a fine-tuned model behaves:
1. Format: the same template at training and at inference (Alpaca's or the chat template).
2. Loss: by default only the response and the final EOS are trained; prompt tokens get label
   -100 (ignored). `train_on_inputs=True` trains on everything, as alpaca-lora does by default.
3. EOS: this tokenizer's pad token *is* its EOS token. A collator that masks every pad id in the
   labels would also mask the real EOS, and the model would never learn to stop. We therefore
   build labels ourselves and pad them with -100 by length, never by token id.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .data import DataError, InstructionRecord
from .model_folder import TrainResult, save
from .templates import alpaca_prompt, chat_messages

IGNORE_INDEX = -100


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


def prompt_and_target(tokenizer, record: InstructionRecord, template: str) -> tuple[str, str]:
    """The prompt text and the target text (response + the end-of-turn/EOS token) for one record."""
    if template == "alpaca":
        return alpaca_prompt(record.instruction, record.input), record.output + tokenizer.eos_token
    if template == "chat":
        prompt = tokenizer.apply_chat_template(chat_messages(record), tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(chat_messages(record, with_output=True), tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template does not extend the prompt with the answer; use template='alpaca'")
        target = full[len(prompt):].rstrip("\n")
        return prompt, target if target.endswith(tokenizer.eos_token) else target + tokenizer.eos_token
    raise ValueError(f"unknown template {template!r}; use 'alpaca' or 'chat'")


def tokenize_example(tokenizer, record: InstructionRecord, config: FinetuneConfig) -> dict | None:
    """input_ids, attention_mask and labels for one record; None when it does not fit max_length,
    or when its output was cut at the teacher's token limit (meta "output_truncated").

    Prompt and target are tokenized separately and concatenated, so the boundary between them is
    exact (tokenizing the joined text can merge tokens across it). A cut-off output never gets an
    end token appended: that would teach the student to stop mid-sentence.
    """
    if record.meta.get("output_truncated"):
        return None
    prompt, target = prompt_and_target(tokenizer, record, config.template)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    if len(prompt_ids) + len(target_ids) > config.max_length:
        return None  # cutting it would lose the EOS and teach the model not to stop
    input_ids, labels = join_prompt_and_target(prompt_ids, target_ids, config.train_on_inputs)
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


def join_prompt_and_target(prompt_ids: list[int], target_ids: list[int],
                           train_on_inputs: bool = False) -> tuple[list[int], list[int]]:
    """(input_ids, labels): the prompt then the target (which ends with EOS); prompt labels are -100 unless trained."""
    input_ids = list(prompt_ids) + list(target_ids)
    labels = list(input_ids) if train_on_inputs else [IGNORE_INDEX] * len(prompt_ids) + list(target_ids)
    return input_ids, labels


def masked_token_loss(logits, labels, reduction: str = "mean"):
    """Next-token cross-entropy: logits at t predict the label at t+1; positions labelled -100 are ignored."""
    import torch

    shift_logits, shift_labels = logits[:, :-1], labels[:, 1:]
    return torch.nn.functional.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)).float(),
                                             shift_labels.reshape(-1), ignore_index=IGNORE_INDEX, reduction=reduction)


def masked_token_losses(logits, labels):
    """Each row's per-token cross-entropy, shape (rows, positions - 1), computed one row at a time: a float32 copy
    of a whole batch's logits would be rows x positions x 49,152 x 4 bytes (400 MB at 8 x 256)."""
    import torch

    return torch.stack([masked_token_loss(logits[i:i + 1], labels[i:i + 1], reduction="none")
                        for i in range(logits.size(0))])


def build_dataset(tokenizer, records: list[InstructionRecord], config: FinetuneConfig):
    """A tokenized datasets.Dataset, and how many records were skipped (too long, or a cut-off output)."""
    from datasets import Dataset

    rows = [tokenize_example(tokenizer, r, config) for r in records]
    kept = [r for r in rows if r is not None]
    if not kept:
        raise DataError(None, None, None, f"no example fits in max_length={config.max_length} tokens")
    return Dataset.from_list(kept), len(rows) - len(kept)


@dataclass
class PadCollator:
    """Right-pads a batch by length: pad ids in input_ids, 0 in attention_mask, -100 in labels."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        batch: dict[str, list] = {"input_ids": [], "attention_mask": [], "labels": []}
        for f in features:
            gap = width - len(f["input_ids"])
            batch["input_ids"].append(list(f["input_ids"]) + [self.pad_token_id] * gap)
            batch["attention_mask"].append([1] * len(f["input_ids"]) + [0] * gap)
            batch["labels"].append(list(f["labels"]) + [IGNORE_INDEX] * gap)
        return {k: torch.tensor(v) for k, v in batch.items()}


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


def held_out_loss(model, tokenizer, records: list[InstructionRecord], config: FinetuneConfig,
                  batch_size: int = 8) -> float:
    """Mean cross-entropy per trained token (the response + EOS) on records the model did not train on."""
    sums = held_out_token_losses(model, tokenizer, records, config, batch_size)
    return sum(total for total, _ in sums) / max(sum(count for _, count in sums), 1)


def trained_token_losses(model, tokenizer, records: list[InstructionRecord], config: FinetuneConfig,
                         batch_size: int = 8) -> list[tuple[list[int], list[float]]]:
    """(token ids, cross-entropy of each) over the trained tokens of each record."""
    import torch

    dataset, _ = build_dataset(tokenizer, records, config)
    collate = PadCollator(tokenizer.pad_token_id)
    model.eval()
    out: list[tuple[list[int], list[float]]] = []
    with torch.inference_mode():
        for start in range(0, len(dataset), batch_size):
            batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
            batch = {k: v.to(model.device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            labels = batch["labels"][:, 1:]
            token_loss = masked_token_losses(logits, batch["labels"])
            trained = labels != IGNORE_INDEX
            out += [(labels[i][trained[i]].tolist(), token_loss[i][trained[i]].tolist()) for i in range(len(labels))]
    return out


def summed_losses(per_token: list[tuple[list[int], list[float]]], only: set[int] | None = None) -> list[tuple[float, int]]:
    """(summed cross-entropy, tokens) per record; `only` counts just these token ids."""
    return [(sum(x for t, x in zip(ids, losses, strict=True) if only is None or t in only),
             sum(only is None or t in only for t in ids)) for ids, losses in per_token]


def held_out_token_losses(model, tokenizer, records: list[InstructionRecord], config: FinetuneConfig,
                          batch_size: int = 8) -> list[tuple[float, int]]:
    """(summed cross-entropy, trained tokens) per record: what a paired bootstrap over records resamples."""
    return summed_losses(trained_token_losses(model, tokenizer, records, config, batch_size))


def split_records(records: list[InstructionRecord], fraction: float, seed: int = 0):
    """(train, held-out) split, seeded; at least one held-out record."""
    import random

    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    n_eval = max(1, int(round(len(shuffled) * fraction)))
    return shuffled[n_eval:], shuffled[:n_eval]


def peak_memory_mb(children: bool = False) -> float:
    """Peak resident memory of this process so far, in MB (with `children`: or of the largest process it waited for).

    Linux: VmHWM, the process's own high-water mark (ru_maxrss also keeps what the parent held when it forked,
    so a Jupyter kernel started by a large process would report that). Elsewhere ru_maxrss (bytes on macOS)."""
    scale = 2**20 if sys.platform == "darwin" else 1024
    try:
        with open("/proc/self/status") as status:
            own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError, IndexError):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale) if children else own


def release_heap() -> None:
    """Hand freed heap pages back to the operating system (glibc keeps them for reuse otherwise)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to hand back this way
        pass


def release_memory() -> None:
    """Collect garbage, then hand freed heap pages back, so that the next training starts from a lower resident size."""
    import gc

    gc.collect()
    release_heap()


def heap_release_callback():
    """A Trainer callback that hands freed heap pages back after every optimizer step.

    On a CPU each batch has its own lengths, so its tensors have their own sizes; the freed ones leave holes in
    the heap that later tensors do not fit, and the resident size grows step after step (in lesson 04, 3.1 GB
    after 48 steps against 2.5 GB with this; benchmarks/training_memory.py)."""
    from transformers import TrainerCallback

    class ReleaseHeap(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            release_heap()

    return ReleaseHeap()


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
