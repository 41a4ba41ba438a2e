"""The full diversity panel on 2,000 texts (the bar: under 30 s on 2 cores), metric by metric.

    python benchmarks/diversity_speed.py [--n 2000]
"""

from __future__ import annotations

import argparse
import time

from common import record
from rouge_speed import synthetic_instructions

from alpaca_course.diversity import PANEL
from alpaca_course.self_instruct import load_seed_tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    texts = ([s.instruction for s in load_seed_tasks()] + synthetic_instructions(args.n))[: args.n]
    lines, total = [f"Panel on {len(texts):,} instruction-like texts:", ""], 0.0
    for name, (metric, _) in PANEL.items():
        started = time.perf_counter()
        metric(texts)
        took = time.perf_counter() - started
        total += took
        lines.append(f"- {name}: {took:.2f} s")
    lines.append(f"- **whole panel: {total:.1f} s** (self-BLEU uses its default 500-text subsample, as Texygen does)")
    record("Diversity panel speed", lines)


if __name__ == "__main__":
    main()
