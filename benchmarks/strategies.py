"""Diversity strategies compared at equal N on the bundled model, plus the joke experiment.

    python benchmarks/strategies.py [--n 40]

Each strategy collects up to --n valid instructions (parsed, passing the rule filters); all are
cut to the smallest count reached, and the panel is computed at that equal N.
"""

from __future__ import annotations

import argparse
import time

from common import record

from alpaca_course.diversity import diversity_report
from alpaca_course.jokes import joke_experiment
from alpaca_course.profiles import get_profile
from alpaca_course.self_instruct import generation_settings
from alpaca_course.strategies import run_strategy
from alpaca_course.teachers import LocalTeacher
from alpaca_course.verbnoun import analyze

METRICS = ["distinct-2", "self-BLEU-3", "compression ratio", "homogenization (ROUGE-L)", "n-gram Vendi"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--jokes", type=int, default=50)
    args = parser.parse_args()
    profile = get_profile("cpu")
    teacher = LocalTeacher.load(profile.teacher)
    settings = generation_settings(profile)
    runs = [("list", None), ("chat", None), ("persona", None), ("topic", None), ("magpie", None),
            ("temperature", 1.0), ("temperature", 1.3)]
    results, seconds = [], {}
    for name, temperature in runs:
        started = time.perf_counter()
        result = run_strategy(teacher, name, args.n, settings, seed=0, temperature=temperature)
        seconds[result.name] = time.perf_counter() - started
        results.append(result)
    n = min(len(r.instructions) for r in results)
    header = "| strategy | valid / asked | validity | " + " | ".join(METRICS) + " | verb-noun coverage | distinct verbs | s |"
    lines = [f"Equal N = {n} instructions per strategy (the smallest count reached; asked for {args.n}).", "",
             header, "|" + "---|" * (header.count("|") - 1)]
    for r in results:
        report = diversity_report(r.instructions[:n], metrics=METRICS)
        verbs = analyze(r.instructions[:n]).summary()
        cells = " | ".join(f"{report.values[m][0]:.3f}" for m in METRICS)
        lines.append(f"| {r.name} | {len(r.instructions)}/{r.slots} | {r.validity:.2f} | {cells} | "
                     f"{verbs['coverage']:.2f} | {verbs['distinct_verbs']} | {seconds[r.name]:.0f} |")
    lines += ["", f"Verb parser: {verbs['method']}.",
              "Readings: distinct-2 and Vendi up = more diverse; self-BLEU, compression, homogenization down = more diverse."]
    started = time.perf_counter()
    jokes = joke_experiment(teacher, n=args.jokes, temperature=1.0)
    lines += ["", f"Joke experiment ({time.perf_counter() - started:.0f} s, temperature 1.0): " + str(jokes).splitlines()[0]]
    record("Diversity strategies on the bundled model", lines)


if __name__ == "__main__":
    main()
