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

A rejected answer must differ from the chosen one *in the constraint*. Answers cut at the token limit
are never rejected ones here: every chosen answer ends on its own, so a pair whose rejected answer is
merely cut would teach "be short" (preference tuning already tends to change answer length) instead of
"follow the constraint". Answers that break an output rule (a repeat of the prompt, a refusal, ...) are
left out for the same reason: the contrast would not be the constraint.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .data import DataError, InstructionRecord, parse_json_line
from .verifier import EvalPrompt

#: what a pairs file's lines hold; `meta` is optional
PAIR_FIELDS = ("prompt", "chosen", "rejected")


@dataclass
class PreferencePair:
    """One prompt, an answer the verifier accepted and one it rejected; meta says why."""

    prompt: str
    chosen: str
    rejected: str
    meta: dict = field(default_factory=dict)

    @property
    def family(self) -> str:
        """The constraint kind the rejected answer failed ('' when not recorded)."""
        return self.meta.get("rejected_because", "").removeprefix("fails ")

    def to_dict(self) -> dict:
        """Plain data: one JSONL line of a pairs file."""
        return asdict(self)


def pair_from_samples(prompt: EvalPrompt, answers: Sequence, repaired: bool = True,
                      reasons: Sequence[str | None] | None = None) -> PreferencePair | None:
    """A preference pair from one prompt's k samples, or None.

    The verifier's pair first: the first passing sample against the first that fails a check (finished,
    output rules kept). When no sample passes (and `repaired`), the program's pair: the first finished sample
    that a form repair makes pass (`curation.repair`), the repaired text against the sample as written.
    `meta["chosen_by"]` says which ("verifier" or "repair"). `reasons`: the verifier's verdict on each sample, if
    already known (`curation.verdicts`).
    """
    from .curation import repair, verdicts, verify

    texts = [a.text.strip() for a in answers]
    reasons = verdicts(prompt, answers) if reasons is None else list(reasons)
    meta = {"prompt_id": prompt.id, "checks": prompt.checks, "k": len(answers), "passing": reasons.count(None),
            "left_out_cut": reasons.count("cut at the token limit")}
    chosen = next((t for t, r in zip(texts, reasons, strict=True) if r is None), None)
    failing = [(t, r) for t, r in zip(texts, reasons, strict=True) if r and r.startswith("fails ")]
    if chosen is not None:
        rejected = next(((t, r) for t, r in failing if t != chosen), None)
        if rejected:
            return PreferencePair(prompt.prompt, chosen, rejected[0], {**meta, "rejected_because": rejected[1],
                                                                        "chosen_by": "verifier"})
        return None
    for text, reason in failing if repaired else []:
        fixed = repair(prompt, text)
        if fixed and fixed != text and verify(prompt, fixed) is None:
            return PreferencePair(prompt.prompt, fixed, text, {**meta, "rejected_because": reason, "chosen_by": "repair"})
    return None


#: which pairs a run trains on: the verifier's alone, or the program's repairs too
PAIR_SOURCES = ("verifier", "verifier+repair")


@dataclass
class PairCollector:
    """Collects the pairs of `source` (PAIR_SOURCES) while curation samples; `done` once it holds `wanted`."""

    source: str = "verifier"
    wanted: int = 0
    pairs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.source not in PAIR_SOURCES:
            raise ValueError(f"unknown pair source {self.source!r}; known: {', '.join(PAIR_SOURCES)}")

    def add(self, prompt: EvalPrompt, answers: Sequence, reasons: Sequence[str | None] | None = None) -> None:
        """Add this prompt's pair, if its samples hold one (`reasons`: the verifier's verdicts, if known)."""
        pair = pair_from_samples(prompt, answers, repaired=self.source == "verifier+repair", reasons=reasons)
        if pair is not None:
            self.pairs.append(pair)

    @property
    def done(self) -> bool:
        """Whether it holds as many pairs as wanted."""
        return len(self.pairs) >= self.wanted


def family_counts(pairs: Sequence[PreferencePair]) -> dict[str, int]:
    """How many pairs' rejected answers failed each kind of check."""
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.family] = counts.get(pair.family, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def write_pairs(path: str | Path, pairs: Sequence[PreferencePair]) -> Path:
    """Write pairs as JSONL (prompt, chosen, rejected, meta), replacing the file at once."""
    from .data import atomic_write_text

    return atomic_write_text(path, "".join(json.dumps(p.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"
                                           for p in pairs))


def pair_from_dict(row: Any, path=None, line: int | None = None) -> PreferencePair:
    """Validate one parsed line of a pairs file; a DataError names the file, line and field."""
    from .data import _check_text

    if not isinstance(row, dict):
        raise DataError(path, line, None, f"expected a JSON object, got {type(row).__name__}")
    unknown = sorted(set(row) - {*PAIR_FIELDS, "meta"})
    if unknown:
        raise DataError(path, line, unknown[0], f"unknown field; a pair has {', '.join(PAIR_FIELDS)} and meta")
    for name in PAIR_FIELDS:
        if name not in row:
            raise DataError(path, line, name, "is missing")
        _check_text(row[name], name, path, line, required=True)
    if row["chosen"].strip() == row["rejected"].strip():
        raise DataError(path, line, "rejected", "is the same text as 'chosen'; a pair needs two different answers")
    meta = row.get("meta", {})
    if not isinstance(meta, dict):
        raise DataError(path, line, "meta", f"expected a JSON object, got {type(meta).__name__}")
    return PreferencePair(row["prompt"], row["chosen"], row["rejected"], meta)


def load_pairs(path: str | Path) -> list[PreferencePair]:
    """Read a pairs file (JSONL: prompt, chosen, rejected, optional meta); at least one pair."""
    path = Path(path)
    if path.is_dir():
        raise DataError(path, None, None, "is a folder; expected a JSONL file of preference pairs")
    pairs = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                pairs.append(pair_from_dict(parse_json_line(raw, path, number), path, number))
    if not pairs:
        raise DataError(path, None, None, "holds no preference pairs")
    return pairs


def conversational(pair: PreferencePair) -> dict:
    """The pair in TRL's conversational preference format, so the chat template applies as in SFT."""
    return {"prompt": [{"role": "user", "content": pair.prompt}],
            "chosen": [{"role": "assistant", "content": pair.chosen}],
            "rejected": [{"role": "assistant", "content": pair.rejected}]}


def split_pairs(pairs: Sequence[PreferencePair], fraction: float, seed: int = 0):
    """(train, held-out) pairs, seeded; at least one held out (when there are 2 or more)."""
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    n_held = min(len(shuffled) - 1, max(1, round(len(shuffled) * fraction)))
    return shuffled[n_held:], shuffled[:n_held]


def pair_rows(tokenizer, pair: PreferencePair, max_length: int) -> list[dict] | None:
    """The chosen and the rejected answer tokenized as SFT tokenizes (chat template, answer tokens labelled),
    or None when either does not fit in max_length tokens."""
    from .finetune import FinetuneConfig, tokenize_example

    config = FinetuneConfig(template="chat", max_length=max_length)
    rows = [tokenize_example(tokenizer, InstructionRecord(pair.prompt, "", answer), config)
            for answer in (pair.chosen, pair.rejected)]
    return None if None in rows else rows


def answer_logps(model, tokenizer, pairs: Sequence[PreferencePair], max_length: int = 512,
                 batch_size: int = 8) -> list[tuple[float, float]]:
    """(log p(chosen), log p(rejected)) for each pair: the answer's tokens summed, given the prompt (chat template)."""
    import torch

    from .finetune import PadCollator, masked_token_losses

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

    from .finetune import (
        FinetuneConfig,
        count_parameters,
        heap_release_callback,
        peak_memory_mb,
        quiet_progress,
        ready_to_generate,
    )
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
