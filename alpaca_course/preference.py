"""Preference tuning (DPO): the answers best-of-k threw away become data too.

Best-of-k samples k answers to an instruction and keeps one that passes the verifier. When some of
the k pass and some fail, the same samples also give a **preference pair**: a chosen answer (passes
every check and the output rules) and a rejected one (fails a check), to the same prompt. Direct
Preference Optimization (Rafailov et al., 2023) trains on such pairs with no reward model and no
sampling during training. With pi the student and ref a frozen copy of where it started,

    loss = -log sigmoid(beta * [(log pi(chosen) - log ref(chosen)) - (log pi(rejected) - log ref(rejected))])

The bracket, times beta, is the *implicit reward margin*: how much more the student now favours the
chosen answer than the reference did. Its sign on held-out pairs (the implicit-reward accuracy) is a
direct measure of what the pairs taught.

The pairs themselves come from `pairs`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .data import DataError, InstructionRecord
from .pairs import PreferencePair, conversational, split_pairs


def pair_rows(tokenizer, pair: PreferencePair, max_length: int) -> list[dict] | None:
    """The chosen and the rejected answer tokenized as SFT tokenizes (chat template, answer tokens labelled),
    or None when either does not fit in max_length tokens."""
    from .finetune import FinetuneConfig
    from .tokenizing import tokenize_example

    config = FinetuneConfig(template="chat", max_length=max_length)
    rows = [tokenize_example(tokenizer, InstructionRecord(pair.prompt, "", answer), config)
            for answer in (pair.chosen, pair.rejected)]
    return None if None in rows else rows


def answer_logps(model, tokenizer, pairs: Sequence[PreferencePair], max_length: int = 512,
                 batch_size: int = 8) -> list[tuple[float, float]]:
    """(log p(chosen), log p(rejected)) for each pair: the answer's tokens summed, given the prompt (chat template)."""
    import torch

    from .losses import masked_token_losses
    from .tokenizing import PadCollator

    rows = []
    for pair in pairs:
        both = pair_rows(tokenizer, pair, max_length)
        if both is None:
            raise ValueError(f"a pair is longer than {max_length} tokens; raise max_length")
        rows += both
    collate = PadCollator(tokenizer.pad_token_id)
    device = next(model.parameters()).device
    logps = []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            batch = {k: v.to(device) for k, v in collate(rows[start:start + batch_size]).items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            per_token = masked_token_losses(logits, batch["labels"])
            logps += (-per_token.sum(dim=1)).tolist()
    model.train(was_training)
    return list(zip(logps[0::2], logps[1::2], strict=True))


def reward_margins(policy: Sequence[tuple[float, float]], reference: Sequence[tuple[float, float]],
                   beta: float) -> list[float]:
    """beta * ((log pi(c) - log ref(c)) - (log pi(r) - log ref(r))) for each pair: DPO's implicit reward margin."""
    return [beta * ((pc - rc) - (pr - rr)) for (pc, pr), (rc, rr) in zip(policy, reference, strict=True)]


def dpo_loss(margins: Sequence[float]) -> float:
    """Mean -log sigmoid(margin): DPO's loss (log 2 = 0.693 when the student still equals its reference)."""
    return sum(math.log1p(math.exp(-m)) if m > -30 else -m for m in margins) / len(margins)


def reward_accuracy(margins: Sequence[float]) -> float:
    """Share of pairs whose chosen answer gets the higher implicit reward; a tie (margin 0) counts as half."""
    return sum(1.0 if m > 0 else 0.5 if m == 0 else 0.0 for m in margins) / len(margins)


@dataclass(frozen=True)
class DPOSettings:
    """DPO's levers (benchmarks/RESULTS.md records which were tried, and on which split). The defaults had the highest
    mean dev pass rate of 2-seed screens: 2026-12-06 (64 pairs: 0.381; beta 0.5: 0.379, learning rate 1e-3: 0.340,
    starting from the base: 0.306) and 2026-12-07 (up to 128 pairs: 0.383, with 64 steps: 0.365). Margins this small
    are a rule's choice, not a finding."""

    beta: float = 0.1  # how far from the reference the student may move: larger keeps it closer
    learning_rate: float = 5e-4  # for the LoRA adapter
    steps: int = 32
    batch_size: int = 4  # pairs per step
    micro_batch_size: int | None = 2  # pairs per forward pass (None: the whole batch), for memory (RESULTS.md)
    held_out: float = 0.2  # pairs kept out of training, to measure the implicit-reward accuracy
    start: str = "sft"  # "sft": from the course's curated student (also the reference); "base": from the base
    pairs: str = "verifier"  # PAIR_SOURCES: the verifier's pairs alone, or the program's repairs too
    min_pairs: int = 128  # curation samples on (past the SFT examples it needs) until it has this many pairs, or the
    # instructions run out (about 80 pairs on the cpu profile's pool)
    max_length: int = 256
    seed: int = 0


@dataclass
class DPOResult:
    """What a DPO run did and measured (held-out pairs: implicit-reward accuracy and DPO loss, before and after)."""

    out_dir: str
    start: str  # "base" or the SFT folder the student started from (and that is its reference)
    settings: dict
    train_pairs: int
    held_out_pairs: int
    steps: int
    seconds: float
    accuracy_before: float
    accuracy_after: float
    loss_before: float
    loss_after: float
    held_out_margins: list[float] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)  # per step: loss, reward margin, reward accuracy (training batch)

    def accuracy_interval(self) -> tuple[float, float]:
        """95% Wilson interval of the held-out accuracy (ties counted half, so rounded to whole pairs)."""
        from .stats import wilson_interval

        return wilson_interval(round(self.accuracy_after * self.held_out_pairs), self.held_out_pairs)

    def __str__(self) -> str:
        low, high = self.accuracy_interval()
        return (f"DPO from {self.start}: {self.steps} steps on {self.train_pairs} pairs in {self.seconds:.0f} s; "
                f"held-out pairs ({self.held_out_pairs}): implicit-reward accuracy {self.accuracy_before:.2f} -> "
                f"{self.accuracy_after:.2f} [95% CI {low:.2f}, {high:.2f}], DPO loss {self.loss_before:.3f} -> "
                f"{self.loss_after:.3f}")


def dpo_config_kwargs(settings: DPOSettings, out_dir: str, mixed: str | None, device: str) -> dict[str, Any]:
    """Keyword arguments for trl.DPOConfig (a test checks each still exists)."""
    from .finetune import micro_batches

    per_pass, passes = micro_batches(settings.batch_size, settings.micro_batch_size)
    return {"output_dir": out_dir, "max_steps": settings.steps, "per_device_train_batch_size": per_pass,
            "gradient_accumulation_steps": passes,
            "learning_rate": settings.learning_rate, "lr_scheduler_type": "cosine", "warmup_steps": 0.1 if settings.steps >= 10 else 0,
            "beta": settings.beta, "max_length": settings.max_length, "precompute_ref_log_probs": True,
            "precompute_ref_batch_size": 4, "activation_checkpointing": False, "logging_steps": 1,
            "save_strategy": "no", "report_to": "none", "seed": settings.seed, "bf16": mixed == "bf16",
            "fp16": mixed == "fp16", **({"use_cpu": True} if mixed and device == "cpu" else {}),
            "dataloader_pin_memory": device == "cuda"}


def load_policy(student: str, start: str | Path | None, lora_kwargs: dict):
    """(model, tokenizer, peft_config): the SFT student with its adapter trainable (TRL copies it as the reference),
    or the base with a fresh LoRA config (the reference is the base, adapter off)."""
    from peft import LoraConfig, PeftModel

    from .finetune import FinetuneConfig, load_student
    from .model_folder import read_train_result

    if start is None:
        model, tokenizer = load_student(student, FinetuneConfig(lora=True))
        return model, tokenizer, LoraConfig(task_type="CAUSAL_LM", **lora_kwargs)
    result, trained_from = read_train_result(start)
    if not result.config.get("lora", False) or not (Path(start) / "adapter_config.json").is_file():
        raise ValueError(f"{start}: DPO starts from a LoRA student; this folder holds a full fine-tune")
    model, tokenizer = load_student(trained_from, FinetuneConfig(lora=True))
    return PeftModel.from_pretrained(model, str(start), is_trainable=True), tokenizer, None


def train_dpo(pairs: Sequence[PreferencePair], out_dir: str | Path, settings: DPOSettings | None = None,
              student: str = "bundled", start: str | Path | None = None, progress: bool = True,
              overwrite: bool = False, lora_kwargs: dict | None = None):
    """DPO on preference pairs with TRL's DPOTrainer; returns (model ready to answer, tokenizer, DPOResult).

    `start` is a LoRA student folder (`train` wrote it): its adapter trains on, and a frozen copy of it
    is the reference. Without it, a new adapter on the base student (`lora_kwargs`: LoraConfig
    arguments), with the base as reference. The folder holds the adapter like any trained student.
    """
    from .locking import output_lock
    from .model_folder import check_out

    settings = settings or DPOSettings()
    if len(pairs) < 2:
        raise DataError(None, None, None, f"need at least 2 preference pairs to train and hold one out, found {len(pairs)}")
    check_out(out_dir, overwrite, trained_ok=True)
    with output_lock(out_dir, "DPO run", folder=True):  # one training at a time into one folder
        return _train_dpo(list(pairs), out_dir, settings, student, start, progress, overwrite, lora_kwargs or {})


def _train_dpo(pairs, out_dir, settings, student, start, progress, overwrite, lora_kwargs):
    """`train_dpo` while its lock is held."""
    import warnings

    import transformers
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from .finetune import FinetuneConfig, count_parameters, quiet_progress, ready_to_generate
    from .memory import heap_release_callback, peak_memory_mb
    from .model_folder import TrainResult, check_out, save, staging_folder
    from .profiles import training_precision

    out_dir = check_out(out_dir, overwrite, trained_ok=True)
    transformers.set_seed(settings.seed)
    model, tokenizer, peft_config = load_policy(student, start, lora_kwargs)
    fitting = [p for p in pairs if pair_rows(tokenizer, p, settings.max_length) is not None]  # never cut an answer
    if len(fitting) < 2:
        raise DataError(None, None, None, f"only {len(fitting)} of {len(pairs)} pairs fit in max_length="
                                          f"{settings.max_length} tokens; need at least 2")
    train_pairs, held = split_pairs(fitting, settings.held_out, settings.seed)
    reference = answer_logps(model, tokenizer, held, settings.max_length)  # before training, the student *is* ref
    device = next(model.parameters()).device.type
    _, mixed = training_precision(device, full_finetune=False)
    args = DPOConfig(**dpo_config_kwargs(settings, str(staging_folder(out_dir) / "checkpoints"), mixed, device))
    args.disable_tqdm = True
    warnings.filterwarnings("ignore", message=".*tokenized prompt is not a prefix.*")
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list([conversational(p) for p in train_pairs]),
                         processing_class=tokenizer, peft_config=peft_config)
    quiet_progress(trainer, progress)
    if device == "cpu":
        trainer.add_callback(heap_release_callback())
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model = trainer.model
    if "ref" in getattr(model, "peft_config", {}):
        model.delete_adapter("ref")  # TRL's frozen copy of the starting adapter: not part of the student
    ready_to_generate(model)
    margins = reward_margins(answer_logps(model, tokenizer, held, settings.max_length), reference, settings.beta)
    history = [{"step": h["step"], "loss": h["loss"], "margin": h.get("rewards/margins", 0.0),
                "accuracy": h.get("rewards/accuracies", 0.0)} for h in trainer.state.log_history if "loss" in h]
    result = DPOResult(str(out_dir), str(start) if start else "base", asdict(settings), len(train_pairs), len(held),
                       trainer.state.global_step, seconds, 0.5, reward_accuracy(margins), math.log(2),
                       dpo_loss(margins), margins, history)
    config = FinetuneConfig(template="chat", lora=True, max_length=settings.max_length,
                            learning_rate=settings.learning_rate, max_steps=settings.steps,
                            batch_size=settings.batch_size, seed=settings.seed, **_lora_fields(model))
    trainable, total = count_parameters(model)
    record = TrainResult(str(out_dir), {**asdict(config), "dpo": asdict(settings), "start": result.start},
                         trainable, total, len(train_pairs), len(held), len(pairs) - len(fitting), result.steps,
                         seconds, 0.0,
                         peak_memory_mb(), result.loss_before, result.loss_after, [h["loss"] for h in history])
    save(model, tokenizer, out_dir, record, student_of(start, student),
         extra={"dpo_result.json": json.dumps(asdict(result), indent=1)})
    return model, tokenizer, result


def _lora_fields(model) -> dict:
    """The adapter's r, alpha, dropout and modules, as FinetuneConfig names them."""
    config = model.peft_config["default"]
    return {"lora_r": config.r, "lora_alpha": config.lora_alpha, "lora_dropout": config.lora_dropout,
            "target_modules": tuple(sorted(config.target_modules))}


def student_of(start: str | Path | None, student: str) -> str:
    """The base student under the adapter: the one `start` was trained from, else `student`."""
    if start is None:
        return student
    from .model_folder import read_train_result

    return read_train_result(start)[1]


def read_dpo_result(folder: str | Path) -> DPOResult:
    """The DPOResult a DPO run saved beside its adapter."""
    from .data import loads_strict

    path = Path(folder) / "dpo_result.json"
    data = loads_strict(path.read_bytes(), path)
    if not isinstance(data, dict) or set(data) != set(DPOResult.__dataclass_fields__):
        raise DataError(path, None, None, "not a DPO result written by `train --dpo`")
    return DPOResult(**data)


def trl_loss(model, tokenizer, pair: PreferencePair, ref_chosen: float, ref_rejected: float,
             beta: float) -> tuple[float, float, float]:
    """TRL's own DPO loss on one pair, with the reference log-probabilities given: (loss, log pi(chosen),
    log pi(rejected)) as DPOTrainer computed them. For checking a loss written by hand."""
    import tempfile

    import torch
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    with tempfile.TemporaryDirectory() as out:
        args = DPOConfig(output_dir=out, beta=beta, report_to="none", precompute_ref_log_probs=True,
                         per_device_train_batch_size=1, bf16=False, use_cpu=model.device.type == "cpu",
                         disable_tqdm=True)
        trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list([conversational(pair)]),
                             processing_class=tokenizer)
        batch = trainer.data_collator([trainer.train_dataset[0]])
        batch["ref_chosen_logps"] = torch.tensor([ref_chosen])
        batch["ref_rejected_logps"] = torch.tensor([ref_rejected])
        with torch.no_grad():
            loss = trainer.compute_loss(trainer.model, batch)
        metrics = trainer._metrics["train" if trainer.model.training else "eval"]
        return float(loss), metrics["logps/chosen"][-1], metrics["logps/rejected"][-1]
