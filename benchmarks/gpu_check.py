"""The gpu profile on a real GPU: device and dtype choice, Hub fallback, batched generation speed and
an end-to-end `generate` run. Prints a Markdown block for RESULTS.md.

    python benchmarks/gpu_check.py [--n 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from alpaca_course.profiles import choose_device, choose_dtype, get_profile
from alpaca_course.run_log import funnel_from_log
from alpaca_course.self_instruct import (
    encode_prompt,
    generate,
    generation_settings,
    load_seed_tasks,
)
from alpaca_course.teachers import LocalTeacher, Sampling


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    device = choose_device()
    capability = torch.cuda.get_device_capability() if device == "cuda" else None
    profile = get_profile()
    lines = [f"- GPU: {torch.cuda.get_device_name() if device == 'cuda' else 'none'}, compute capability {capability}; "
             f"torch {torch.__version__}; profile chosen: **{profile.name}**; dtype chosen: **{choose_dtype(device)}**"]
    started = time.perf_counter()
    teacher = LocalTeacher.load(profile.teacher)
    lines.append(f"- Teacher asked for: {profile.teacher}; loaded: **{teacher.name}** "
                 f"(Hub unreachable here, so the fallback) in {time.perf_counter() - started:.1f} s "
                 f"(includes the one-time GGUF conversion), dtype {teacher.model.dtype}")
    seeds = load_seed_tasks()
    prompts = [encode_prompt(seeds[i % 160:i % 160 + 3]) for i in range(0, 192, 3)]  # 64 prompts
    sampling = Sampling(max_new_tokens=64, temperature=0.7, top_p=0.9, seed=1)
    teacher.complete(prompts[:2], sampling)  # warm-up
    for batch in (1, 16, 64):
        torch.cuda.synchronize()
        started, tokens = time.perf_counter(), 0
        chunk = prompts[: max(batch, 8)] if batch > 1 else prompts[:8]
        for i in range(0, len(chunk), batch):
            tokens += sum(c.completion_tokens for c in teacher.complete(chunk[i:i + batch], sampling))
        torch.cuda.synchronize()
        lines.append(f"- Generation at batch {batch}: {tokens / (time.perf_counter() - started):.0f} tok/s")
    settings = generation_settings(profile, teacher=teacher.name)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        log = generate(teacher, args.n, Path(tmp) / "g.jsonl", seed=0, settings=settings, progress=False)
        took = time.perf_counter() - started
    lines.append(f"- `generate --n {args.n}` on the gpu profile (batch {settings.batch_size}): **{took:.0f} s**, "
                 f"{log.written} records from {log.prompts} prompts, yield {log.yield_per_prompt():.2f} per prompt")
    lines += ["", "  ```"] + ["  " + x for x in str(funnel_from_log(log)).splitlines()] + ["  ```"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
