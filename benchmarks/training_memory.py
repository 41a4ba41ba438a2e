"""Memory of lesson 04's trainings on the CPU, side by side: what holds the peak, and what lowers it.

    python benchmarks/training_memory.py [--data GENERATED.jsonl] [--pairs PAIRS.jsonl --start CURATED_FOLDER]

Each variant trains in a fresh process of its own, so its peak (VmHWM) is its own:
- the plain SFT student of lesson 04 (the experiment's config: 48 steps of 4, micro-batches of 2), on a generated file;
- with `--pairs` and `--start`, the DPO student of lesson 04 (32 steps of 4 pairs) from that SFT folder.
Variants:
- "before": oneDNN's default kernel cache (1,024 shapes) and no heap release between steps;
- "kernel cache 16": ONEDNN_PRIMITIVE_CACHE_CAPACITY=16 (what `alpaca_course` sets);
- "kernel cache 16 + heap release": also the trainer callback that hands freed heap pages back after each step
  (what the course does).
We report the peak and the resident size after training, and the seconds of training.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from common import record

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {  # name: (oneDNN kernel cache, heap release after each step)
    "before": ("1024", False),
    "kernel cache 16": ("16", False),
    "kernel cache 16 + heap release": ("16", True),
}

CHILD = r"""
import json, re, sys, tempfile, time
from alpaca_course import finetune, memory

def status():
    text = open("/proc/self/status").read()
    return [int(re.search(name + r":\s+(\d+)", text).group(1)) / 1024 for name in ("VmHWM", "VmRSS")]

kind, release, data, pairs, start = sys.argv[1:6]
if release == "0":
    memory.release_heap = lambda: None  # the callback stays, and does nothing
from alpaca_course.experiment import dpo_lora, experiment_settings, finetune_config
from alpaca_course.profiles import get_profile

profile = get_profile("cpu")
settings = experiment_settings(profile)
with tempfile.TemporaryDirectory() as out:
    started = time.perf_counter()
    if kind == "sft":
        from alpaca_course.data import read_jsonl
        model, tokenizer = finetune.load_student(profile.student, finetune_config(profile, settings))
        finetune.train(read_jsonl(data), out + "/student", finetune_config(profile, settings), model=model,
                       tokenizer=tokenizer, progress=False)
    else:
        from alpaca_course.pairs import load_pairs
        from alpaca_course.preference import train_dpo
        train_dpo(load_pairs(pairs), out + "/dpo", settings.dpo, profile.student, start, progress=False,
                  lora_kwargs=dpo_lora(profile, settings))
    seconds = time.perf_counter() - started
peak, now = status()
print(json.dumps({"peak_mb": peak, "after_mb": now, "seconds": seconds}))
"""


def run(kind: str, variant: str, args) -> dict:
    """One training in a fresh process: its peak, resident size after, and seconds."""
    import json

    cache, release = VARIANTS[variant]
    env = {**os.environ, "ONEDNN_PRIMITIVE_CACHE_CAPACITY": cache, "ALPACA_COURSE_PROFILE": "cpu",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", CHILD, kind, "1" if release else "0", str(args.data),
                          str(args.pairs), str(args.start)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="workspace/generated.jsonl", help="generated records (lesson 02's file)")
    parser.add_argument("--pairs", help="preference pairs (lesson 04's workspace/pairs.jsonl)")
    parser.add_argument("--start", help="the SFT folder DPO starts from (lesson 04's workspace/curated)")
    args = parser.parse_args()
    kinds = ["sft"] + (["dpo"] if args.pairs and args.start else [])
    lines = ["Lesson 04's trainings on the cpu profile, each variant in a fresh process, one after the other.", "",
             "| training | variant | peak | resident after | seconds |", "|---|---|---|---|---|"]
    for kind in kinds:
        rows = {variant: run(kind, variant, args) for variant in VARIANTS}
        base = rows["before"]
        for variant, r in rows.items():
            lines.append(f"| {kind.upper()} | {variant} | {r['peak_mb']:,.0f} MB ({r['peak_mb'] / base['peak_mb']:.2f}x) | "
                         f"{r['after_mb']:,.0f} MB | {r['seconds']:.0f} ({r['seconds'] / base['seconds']:.2f}x) |")
    record("Memory of lesson 04's trainings (benchmarks/training_memory.py)", lines)


if __name__ == "__main__":
    main()
