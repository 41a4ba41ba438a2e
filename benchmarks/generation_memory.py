"""Peak memory of batched sampling on the CPU, side by side in one run: the cases lesson 04 meets.

    python benchmarks/generation_memory.py [--batch 64] [--tokens 64]

Lesson 04 samples best-of-k answers from the base model it just trained a LoRA adapter on: bf16
weights that no longer require gradients. Each case below generates from the same constrained
prompts with the same settings; we reset the process's peak resident memory (Linux: write 5 to
/proc/self/clear_refs) before each and report how far it rose, and the seconds taken:
- float32 weights, for reference;
- bf16 weights as loaded (they require gradients: a fresh model);
- bf16 weights frozen (a LoRA base), calling `generate` directly;
- the same frozen bf16 weights through `LocalTeacher`, which hands the output layer a contiguous input.
"""

from __future__ import annotations

import argparse
import time

from common import record

from alpaca_course.constraints import TRAIN, constrained_prompts
from alpaca_course.models import ensure_bundled_checkpoint, load_model
from alpaca_course.teachers import LocalTeacher, Sampling


def peak_mb() -> float:
    """This process's peak resident memory since the last reset (VmHWM), in MB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM"))


def reset_peak() -> None:
    """Start the peak over from the current resident memory."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def sample(model, tokenizer, conversations, sampling: Sampling, fix: bool) -> None:
    """One batch of sampled answers: through LocalTeacher (fix) or with the hook removed again."""
    import contextlib
    from unittest import mock

    if fix:
        LocalTeacher(model, tokenizer).chat(conversations, sampling)
        return
    with mock.patch("alpaca_course.teachers.contiguous_head_input", lambda m: contextlib.nullcontext()):
        LocalTeacher(model, tokenizer).chat(conversations, sampling)


CASES = {  # name: (weights, frozen, contiguous head input)
    "float32 weights": ("float32", False, False),
    "bf16 weights, as loaded": ("bfloat16", False, False),
    "bf16 weights, frozen": ("bfloat16", True, False),
    "bf16 weights, frozen, contiguous head input": ("bfloat16", True, True),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=64, help="sequences per batch (best-of-k: prompts x k)")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per answer")
    args = parser.parse_args()
    ensure_bundled_checkpoint()
    conversations = [[{"role": "user", "content": p.prompt}] for p in constrained_prompts(args.batch, TRAIN, 0)]
    sampling = Sampling(max_new_tokens=args.tokens, temperature=0.8, top_p=1.0, top_k=50, seed=0)
    rows = []
    for name, (weights, frozen, fix) in CASES.items():
        model, tokenizer = load_model("bundled", device="cpu", dtype=weights)
        model.requires_grad_(not frozen)
        sample(model, tokenizer, conversations[:2], sampling, fix)  # warm-up
        reset_peak()
        before, started = peak_mb(), time.perf_counter()
        sample(model, tokenizer, conversations, sampling, fix)
        rows.append((name, peak_mb() - before, time.perf_counter() - started))
        del model
    lines = [f"- one batch of {args.batch} sampled answers, {args.tokens} new tokens at most, bundled model on the CPU", "",
             "| case | peak memory rise | seconds |", "|---|---|---|"]
    lines += [f"| {name} | {rise:,.0f} MB | {seconds:.1f} |" for name, rise, seconds in rows]
    record("Memory of lesson 04: sampling from a frozen bf16 model (benchmarks/generation_memory.py)", lines)


if __name__ == "__main__":
    main()
