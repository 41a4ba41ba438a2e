"""Local generation: batched vs one prompt at a time, side by side in one run; model load from cache;
and an end-to-end `generate` run on the cpu profile.

    python benchmarks/generation_speed.py [--n 200] [--answers-n 40]

`--answers-n` also runs `generate` twice side by side: answers asked for with no system turn, and with
Alpaca's "fewer than 100 words" system turn (`GenerationSettings.output_system`, the default).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import record

from alpaca_course.filters import TRUNCATED
from alpaca_course.models import ensure_bundled_checkpoint, load_model
from alpaca_course.profiles import get_profile
from alpaca_course.self_instruct import (
    encode_prompt,
    funnel_from_log,
    generate,
    load_seed_tasks,
    settings_for_profile,
)
from alpaca_course.teachers import LocalTeacher, Sampling, Usage


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="records for the end-to-end run (0: skip it)")
    parser.add_argument("--answers-n", type=int, default=40, help="records per side of the system-turn comparison (0: skip)")
    parser.add_argument("--skip-batching", action="store_true", help="skip the batched vs one-at-a-time section")
    parser.add_argument("--keep", help="keep the generated file here (e.g. for finetune_eval.py)")
    args = parser.parse_args()
    ensure_bundled_checkpoint()
    import transformers  # noqa: F401  (library import time is not model load time)

    started = time.perf_counter()
    load_model("bundled", device="cpu")
    load_s = time.perf_counter() - started
    lines = [f"- Bundled model load from the safetensors cache (libraries already imported): **{load_s:.1f} s**"]

    seeds = load_seed_tasks()
    workloads = {  # name: (inputs, new tokens, chat?)
        "answers (short chat turns, 96 new tokens)": ([[{"role": "user", "content": s.instruction}] for s in seeds[:32]], 96, True),
        "instructions (long list prompts, 48 new tokens)": ([encode_prompt(seeds[i:i + 3]) for i in range(0, 96, 3)], 48, False),
    }
    for dtype in () if args.skip_batching else ("float32", "bfloat16"):
        teacher = LocalTeacher.load("bundled", device="cpu", dtype=dtype)
        for name, (inputs, new_tokens, chat) in workloads.items():
            sampling = Sampling(max_new_tokens=new_tokens, temperature=0.7, top_p=0.9, seed=1)
            rates = {}
            for batch, count in ((1, 4), (16, 32), (32, 32)):
                started, tokens = time.perf_counter(), 0
                for i in range(0, count, batch):
                    chunk = inputs[i:i + batch]
                    out = teacher.chat(chunk, sampling) if chat else teacher.complete(chunk, sampling)
                    tokens += sum(c.completion_tokens for c in out)
                rates[batch] = tokens / (time.perf_counter() - started)
            lines.append(f"- {dtype}, {name}: one at a time {rates[1]:.1f} tok/s; batch 16 {rates[16]:.1f} "
                         f"(**{rates[16] / rates[1]:.1f}x**); batch 32 {rates[32]:.1f} (**{rates[32] / rates[1]:.1f}x**)")

    if args.n:
        profile = get_profile("cpu")
        teacher = LocalTeacher.load(profile.teacher)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(args.keep) if args.keep else Path(tmp) / "gen.jsonl"
            out.unlink(missing_ok=True)
            Path(str(out) + ".run.json").unlink(missing_ok=True)
            started = time.perf_counter()
            log = generate(teacher, args.n, out, seed=0, settings=settings_for_profile(profile), progress=False)
            took = time.perf_counter() - started
        lines.append(f"- `generate --n {args.n}` on the cpu profile (bundled teacher, bf16): **{took / 60:.1f} min**, "
                     f"{log.written} records from {log.prompts} prompts (yield {log.yield_per_prompt():.2f} per prompt), "
                     f"{log.completion_tokens:,} completion tokens")
        lines += ["", "  Funnel:", "", "  ```"] + ["  " + x for x in str(funnel_from_log(log)).splitlines()] + ["  ```"]
    if args.answers_n:
        lines += system_turn_comparison(args.answers_n)
    record("Generation speed", lines)


def system_turn_comparison(n: int) -> list[str]:
    """`generate` n records with and without the short-answer system turn: time, prompts, cut answers."""
    from dataclasses import replace

    profile = get_profile("cpu")
    teacher = LocalTeacher.load(profile.teacher)
    base, rows = settings_for_profile(profile), {}
    for label, system in (("no system turn", ""), ("'fewer than 100 words' system turn", base.output_system)):
        teacher.usage = Usage()  # each side counts its own tokens
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            log = generate(teacher, n, Path(tmp) / "gen.jsonl", seed=0, settings=replace(base, output_system=system),
                           progress=False)
            rows[label] = (time.perf_counter() - started, log, funnel_from_log(log))
    lines = ["", f"Answers with and without a system turn asking for fewer than 100 words ({n} records each, same seed):", ""]
    for label, (seconds, log, funnel) in rows.items():
        lines.append(f"- {label}: **{seconds:.0f} s**, {log.prompts} prompts, {funnel.removed[TRUNCATED]} "
                     f"answers cut even after the retry, {log.completion_tokens:,} completion tokens")
    (plain, *_), (short, *_) = rows.values()
    lines.append(f"- ratio: the system turn took **{short / plain:.2f}x** the time")
    return lines


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
