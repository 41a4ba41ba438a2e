"""The gpu profile's fine-tuning path on a real GPU: generate data, full fine-tuning (the gpu profile's
default) and LoRA, evaluation before and after. Prints a Markdown block for RESULTS.md.

    python benchmarks/gpu_train_check.py [--n 400]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from alpaca_course.evaluation import evaluate_model
from alpaca_course.finetune import config_for_profile, train
from alpaca_course.models import load_model
from alpaca_course.profiles import choose_dtype, get_profile
from alpaca_course.self_instruct import generate, generation_settings, read_jsonl
from alpaca_course.teachers import LocalTeacher
from alpaca_course.verifier import load_eval_prompts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    args = parser.parse_args()
    profile = get_profile()
    lines = [f"- {torch.cuda.get_device_name()}, profile **{profile.name}**, dtype {choose_dtype('cuda')}"]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "g.jsonl"
        teacher = LocalTeacher.load(profile.teacher)
        started = time.perf_counter()
        generate(teacher, args.n, data, seed=0, settings=generation_settings(profile, teacher=teacher.name),
                 progress=False)
        lines.append(f"- generated {args.n} records in {time.perf_counter() - started:.0f} s")
        del teacher
        records = list(read_jsonl(data))
        prompts = load_eval_prompts(limit=profile.n_eval_prompts)
        base, tok = load_model(profile.student)
        before = evaluate_model(base, tok, prompts, "chat", "base")
        del base
        for lora in (False, True):
            config = config_for_profile(profile, lora=lora, learning_rate=3e-4 if lora else 2e-5)
            torch.cuda.reset_peak_memory_stats()
            model, tokenizer, result = train(records, Path(tmp) / f"run-{lora}", config, student=profile.student,
                                             progress=False)
            after = evaluate_model(model, tokenizer, prompts, "alpaca", "after")
            lines.append(
                f"- {'LoRA r=' + str(config.lora_r) if lora else 'full fine-tuning'} ({config.num_train_epochs:g} epochs, "
                f"lr {config.learning_rate}, batch {config.batch_size}, {config.max_length} tokens): {result.steps} steps in "
                f"**{result.seconds:.0f} s**, {result.tokens_per_second:.0f} tokens/s, peak GPU memory "
                f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB; trainable {result.trainable_params:,}; held-out loss "
                f"{result.eval_loss_before:.3f} -> {result.eval_loss_after:.3f}; prompt-level strict pass "
                f"{before.scores.prompt_strict:.3f} (base, chat) -> {after.scores.prompt_strict:.3f}; "
                f"template adherence {after.adherence:.3f}")
            del model
    print("\n".join(lines))


if __name__ == "__main__":
    main()
