"""LoRA training on the CPU: precision and gradient checkpointing, side by side in one run, same data and steps.

    python benchmarks/training_speed.py [--steps 12] [--examples 64] [--data GENERATED.jsonl] [--only NAME ...]

Ways to train lesson 04's student (the experiment's LoRA settings: chat template, all seven projection
modules, r 8, batch 4):
- float32 weights, TRL's default gradient checkpointing (what the cpu profile did up to 2026-12-03);
- float32 weights without gradient checkpointing (activations kept, not recomputed in the backward pass);
- bf16 autocast on float32 weights, and a bf16 frozen base with float32 adapters, with or without autocast;
- the same batch of 4 per optimizer step in micro-batches of 2 or 1 (gradient accumulation), which keeps
  fewer activations at once.
Each runs the same records and seed, in a fresh process of its own, so its peak resident memory is its
own; we report seconds per step after a warm-up step, that peak memory, the training loss of the last
steps, and the held-out loss after training (computed in float32 for all).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time

from common import record

from alpaca_course.data import read_jsonl
from alpaca_course.experiment import experiment_settings, finetune_config
from alpaca_course.finetune import make_trainer
from alpaca_course.losses import held_out_loss
from alpaca_course.memory import peak_memory_mb
from alpaca_course.models import ensure_bundled_checkpoint, load_model
from alpaca_course.profiles import get_profile
from alpaca_course.resources import load_seed_tasks
from alpaca_course.tokenizing import build_dataset


class StepClock:
    """A Trainer callback that records when each optimizer step ends."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def callback(self):
        """The transformers callback object."""
        from transformers import TrainerCallback

        clock = self

        class Clock(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                clock.times.append(time.perf_counter())

        return Clock()


VARIANTS = {  # name: (weights, mixed precision, gradient checkpointing, micro-batch: None for the whole batch)
    "float32, checkpointing": ("float32", None, True, None),
    "float32": ("float32", None, False, None),
    "float32, micro-batches of 2": ("float32", None, False, 2),
    "float32, micro-batches of 1": ("float32", None, False, 1),
    "bf16 autocast": ("float32", "bf16", False, None),
    "bf16 weights": ("bfloat16", None, False, None),
    "bf16 weights and autocast": ("bfloat16", "bf16", False, None),
    "bf16 weights and autocast, checkpointing": ("bfloat16", "bf16", True, None),
    "bf16 weights and autocast, micro-batches of 2": ("bfloat16", "bf16", False, 2),
    "bf16 weights and autocast, micro-batches of 1": ("bfloat16", "bf16", False, 1),
}


def run(variant: str, train_records, held_out, config, steps: int) -> dict:
    """Train `steps` steps one way; seconds per step (after the first), last losses, held-out loss after."""
    import dataclasses

    import torch

    weights, mixed, checkpointing, micro = VARIANTS[variant]
    config = dataclasses.replace(config, activation_checkpointing=checkpointing)
    if micro:  # the same batch per optimizer step, in pieces: gradients accumulate over batch // micro passes
        config = dataclasses.replace(config, batch_size=micro,
                                     gradient_accumulation_steps=config.batch_size // micro)
    model, tokenizer = load_model("bundled", device="cpu", dtype=weights)
    tokenizer.padding_side = "right"
    dataset, _ = build_dataset(tokenizer, train_records, config)
    with tempfile.TemporaryDirectory() as out:
        trainer = make_trainer(model, tokenizer, dataset, config, out, progress=False,
                               mixed=mixed)
        clock = StepClock()
        trainer.add_callback(clock.callback())
        started = time.perf_counter()
        trainer.train()
    per_step = (clock.times[-1] - clock.times[0]) / max(len(clock.times) - 1, 1)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    merged = trainer.model.merge_and_unload().to(torch.float32).eval()
    return {"variant": variant, "first_step_s": clock.times[0] - started, "per_step_s": per_step,
            "peak_mb": peak_memory_mb(),
            "last_losses": sum(losses[-4:]) / len(losses[-4:]),
            "held_out_loss": held_out_loss(merged, tokenizer, held_out, config)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--data", help="generated records to train on (default: the seed tasks)")
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), help="run these variants (default: all)")
    args = parser.parse_args()
    ensure_bundled_checkpoint()
    profile = get_profile("cpu")
    config = finetune_config(profile, experiment_settings(profile, steps=args.steps))
    pool = list(read_jsonl(args.data)) if args.data else load_seed_tasks()
    records = [r for r in pool if r.output][: args.examples + 16]
    train_records, held_out = records[: args.examples], records[args.examples:]
    spawn = multiprocessing.get_context("spawn")  # one fresh process per variant: its peak memory is its own
    rows = []
    for variant in args.only or list(VARIANTS):
        with spawn.Pool(1) as pool:
            rows.append(pool.apply(run, (variant, train_records, held_out, config, args.steps)))
    base = rows[0]["per_step_s"]
    lines = [f"- {args.steps} LoRA steps (experiment settings: r {config.lora_r}, {len(config.target_modules)} modules, "
             f"batch {config.batch_size}, {config.template} template) on {len(train_records)} records of "
             f"{args.data or 'the seed tasks'}; "
             f"held-out loss on {len(held_out)} others, in float32",
             "", "| variant | s/step | vs the first | peak memory | mean loss, last 4 steps | held-out loss after |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['variant']} | {r['per_step_s']:.2f} | {r['per_step_s'] / base:.2f}x | {r['peak_mb'] / 1024:.1f} GB | "
              f"{r['last_losses']:.3f} | "
              f"{r['held_out_loss']:.3f} |" for r in rows]
    record("LoRA training precision on the CPU (benchmarks/training_speed.py)", lines)


if __name__ == "__main__":
    main()
