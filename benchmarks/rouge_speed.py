"""ROUGE-L: fast all-pairs vs rouge_score, measured side by side in one run; and the novelty
filter over a 52,000-instruction synthetic pool.

    python benchmarks/rouge_speed.py [--pool 52000]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from common import record
from rouge_score import rouge_scorer

from alpaca_course.filters import NoveltyFilter
from alpaca_course.rouge import rouge_l_matrix
from alpaca_course.self_instruct import load_seed_tasks

VERBS = "write explain list describe summarize translate classify compare suggest create find give name rewrite".split()


def synthetic_instructions(n: int, seed: int = 0) -> list[str]:
    """Instruction-like texts: a verb, then 5-20 words from a 3,000-word vocabulary."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)] + "the a of to and in for with about".split() * 40
    return [" ".join([rng.choice(VERBS).capitalize()] + rng.choices(vocab, k=rng.randint(5, 20))) + "."
            for _ in range(n)]


def all_pairs(texts: list[str]) -> tuple[float, float, int]:
    """Seconds for rouge_score and for ours on all pairs of `texts`; mismatches."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    started = time.perf_counter()
    slow = np.array([[scorer.score(t, p)["rougeL"].fmeasure for p in texts] for t in texts])
    slow_s = time.perf_counter() - started
    fast = rouge_l_matrix(texts, texts)  # warm-up: thread pool and first-call costs are not per-pair work
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        fast = rouge_l_matrix(texts, texts)
        runs.append(time.perf_counter() - started)
    fast_s = sorted(runs)[1]  # the median of three
    return slow_s, fast_s, int((slow != fast).sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=52_000)
    parser.add_argument("--pairs-side", type=int, default=1000)
    args = parser.parse_args()
    seeds = [s.instruction for s in load_seed_tasks()]
    texts = (seeds + synthetic_instructions(args.pairs_side))[: args.pairs_side]
    slow_s, fast_s, mismatches = all_pairs(texts)
    n_pairs = len(texts) ** 2
    lines = [
        f"All-pairs ROUGE-L on {len(texts)} x {len(texts)} = {n_pairs:,} pairs (seed tasks + synthetic):",
        f"- rouge_score: {slow_s:.2f} s; alpaca_course.rouge.rouge_l_matrix (median of 3 after a warm-up, "
        f"tokenization included): {fast_s * 1000:.1f} ms; "
        f"**speed-up {slow_s / fast_s:,.0f}x**; scores differing: {mismatches}",
    ]
    pool = synthetic_instructions(args.pool, seed=1)
    novelty = NoveltyFilter(seeds)
    started = time.perf_counter()
    kept = 0
    for start in range(0, len(pool), 1000):
        kept += sum(v["kept"] for v in novelty.admit(pool[start:start + 1000], top=1))
    took = time.perf_counter() - started
    lines.append(f"- Novelty filter (sequential Alpaca rule, threshold 0.7) over {args.pool:,} synthetic instructions "
                 f"plus {len(seeds)} seeds: **{took:.1f} s**, kept {kept:,}")
    record("ROUGE-L and the novelty filter", lines)


if __name__ == "__main__":
    main()
