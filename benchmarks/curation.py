"""What makes the student better? Every condition of the experiment, over seeds and both precision paths.

    python benchmarks/curation.py [--seeds 3] [--precision native float32] [--data GENERATED.jsonl]
                                  [--conditions plain random best repair best+repair]
                                  [--dev 128 48] [--test 256 96] [--set key=value ...] [--label "what changed"]
                                  [--json build/curation.json] [--dev-only]

`--dev-only` screens a lever: it scores the dev split alone (never the test split) for the conditions and
precision paths given, so that a setting is chosen before the test split sees it.

For each seed (data, sampling and training all follow it) and the native precision path (bf16 on a
CPU with native bf16, else float32), `experiment.run_experiment` trains one student per condition on
the same number of examples and scores the base and every student on the **dev** split (seed tasks,
phrasings and values of its own, 2 kinds held out whole, the 64 hand-written prompts) and on the
**test** split (4 other kinds held out whole). The method is then *chosen on dev*: the curated
condition other than the random control with the highest mean dev pass rate. Only that method
and the base run again on the float32 path (ALPACA_COURSE_CPU_PRECISION=float32).

Reported on the test split, seen and unseen kinds apart: each seed's difference to the base with its
paired 95% interval, the mean and spread over seeds, and the chosen method against random-of-k pooled
over the seeds (one paired bootstrap over all seeds' prompts). Appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import parse_changes, record

from alpaca_course.constraints import DEV, TEST, held_out_prompts, is_unseen
from alpaca_course.experiment import CONDITIONS, experiment_settings, run_experiment
from alpaca_course.profiles import CPU_PRECISION_ENV, generation_dtype, get_profile
from alpaca_course.stats import paired_bootstrap

SUBSETS = ("seen", "unseen")


def passes_by_subset(result, split: str, prompts) -> dict[str, dict[str, list[bool]]]:
    """model -> subset ('all', 'seen', 'unseen') -> prompt-level strict passes, in prompt order."""
    unseen = [is_unseen(p) for p in prompts]
    out = {}
    for name, report in result.reports[split].items():
        flags = report.passes()
        out[name] = {"all": flags, "seen": [f for f, u in zip(flags, unseen, strict=True) if not u],
                     "unseen": [f for f, u in zip(flags, unseen, strict=True) if u]}
    return out


def fmt(d) -> str:
    """A paired difference as '+0.050 [-0.010, +0.110]'."""
    return f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"


def spread(values: list[float]) -> str:
    """Mean, standard deviation and range over seeds."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):+.3f} (sd {sd:.3f}; {min(values):+.3f} to {max(values):+.3f})"


def choose_on_dev(mean: dict[str, float], worst: dict[str, float], n_dev: int) -> str:
    """The method with the highest mean dev pass rate; methods within one dev prompt of it (a tie at this
    resolution) are decided by their worst seed's dev rate, then by the conditions' order."""
    top = max(mean.values())
    tied = [c for c in mean if top - mean[c] < 1 / n_dev]
    return max(tied, key=lambda c: worst[c])


def screen(args, seeds: list[int], run, runs: dict, log: list[dict], started: float) -> None:
    """A lever on the dev split only: each precision path's pass rates per seed, all, seen and unseen kinds."""
    for precision in args.precision:
        for seed in seeds:
            run(precision, seed, tuple(args.conditions))
    minutes = (time.perf_counter() - started) / 60
    settings = log[0]["result"]["settings"]
    lines = [f"Attempt: {args.label}. Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()
                                                             if k not in ("seed", "conditions", "eval_split")),
             f"Seeds {seeds}; dev split only ({args.dev[0]} seen-kind generated, {args.dev[1]} with a dev-only "
             f"unseen kind, 64 hand-written); the test split was not scored. All {minutes:.0f} min.", "",
             "Prompt-level strict pass rate per seed; mean over seeds (sd):", "",
             "| path | model | kinds | " + " | ".join(f"seed {s}" for s in seeds) + " | mean (sd) |",
             "|---|---|---|" + "---|" * (len(seeds) + 1)]
    for precision in args.precision:
        dtype = next(r["dtype"] for r in log if r["precision"] == precision)
        for name in runs[(precision, seeds[0])][DEV]:
            for subset in ("all", *SUBSETS):
                rates = [statistics.mean(runs[(precision, s)][DEV][name][subset]) for s in seeds]
                sd = statistics.stdev(rates) if len(rates) > 1 else 0.0
                lines.append(f"| {precision} ({dtype}) | {name} | {subset} | " + " | ".join(f"{r:.3f}" for r in rates)
                             + f" | {statistics.mean(rates):.3f} ({sd:.3f}) |")
    lines.append("- time per run: " + ", ".join(f"{r['precision']} seed {r['seed']} {r['minutes']:.1f} min" for r in log))
    record("Dev screen of a curation lever (`benchmarks/curation.py --dev-only`)", lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--precision", nargs="+", default=["native", "float32"], choices=["native", "float32"])
    parser.add_argument("--data", help="generated data for the plain student (default: the workspace's)")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    parser.add_argument("--dev", nargs=2, type=int, default=[128, 48], metavar=("SEEN", "UNSEEN"))
    parser.add_argument("--test", nargs=2, type=int, default=[256, 96], metavar=("SEEN", "UNSEEN"))
    parser.add_argument("--set", nargs="*", default=[], help="experiment settings, key=value")
    parser.add_argument("--label", default="the course's settings")
    parser.add_argument("--json", default="build/curation.json", help="where every run's numbers go")
    parser.add_argument("--profile", default="cpu", help="quick: a smoke run of the script itself")
    parser.add_argument("--dev-only", action="store_true",
                        help="a lever screen: score the dev split only, every condition on every precision path given")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    sets = {DEV: held_out_prompts(args.dev[0], 0, None, DEV, args.dev[1])}
    if not args.dev_only:  # a screen is a choice: it never looks at the test split
        sets[TEST] = held_out_prompts(args.test[0], 0, None, TEST, args.test[1])
    native = generation_dtype("cpu")
    runs: dict = {}  # (precision, seed) -> {split: {model: {subset: passes}}}
    log: list[dict] = []
    started = time.perf_counter()

    def run(precision: str, seed: int, conditions: tuple[str, ...]) -> None:
        if precision == "float32":
            os.environ[CPU_PRECISION_ENV] = "float32"
        else:
            os.environ.pop(CPU_PRECISION_ENV, None)
        settings = experiment_settings(profile, **{**parse_changes(args.set), "seed": seed, "conditions": conditions})
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            result = run_experiment(profile, settings, out_dir=tmp, plain_data_path=args.data, progress=False,
                                    prompt_sets=sets)
        runs[(precision, seed)] = {s: passes_by_subset(result, s, sets[s]) for s in sets}
        log.append({"precision": precision, "dtype": generation_dtype("cpu"), "seed": seed,
                    "minutes": (time.perf_counter() - t0) / 60, "result": result.to_dict()})
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(log), encoding="utf-8")
        print(f"[{(time.perf_counter() - started) / 60:.1f} min] {precision} seed {seed} done", flush=True)

    seeds = list(range(args.seeds))
    if args.dev_only:
        screen(args, seeds, run, runs, log, started)
        return
    for seed in seeds:
        run("native", seed, tuple(args.conditions))
    curated = [c for c in args.conditions if c not in ("plain", "random")]
    dev_mean = {c: statistics.mean(statistics.mean(runs[("native", s)][DEV][CONDITIONS[c]]["all"]) for s in seeds)
                for c in curated}
    chosen = choose_on_dev(dev_mean, {c: min(statistics.mean(runs[("native", s)][DEV][CONDITIONS[c]]["all"])
                                             for s in seeds) for c in curated}, len(sets[DEV]))
    if "float32" in args.precision and native != "float32":
        for seed in seeds:
            run("float32", seed, (chosen,))
    minutes = (time.perf_counter() - started) / 60

    lines = [f"Attempt: {args.label}. Settings: " + ", ".join(f"{k}={v}" for k, v in log[0]["result"]["settings"].items()
                                                             if k not in ("seed", "conditions")),
             f"Seeds {seeds}; native path {native}; dev {len(sets[DEV])} prompts ({args.dev[0]} seen-kind generated, "
             f"{args.dev[1]} with a dev-only unseen kind, 64 hand-written); test {len(sets[TEST])} prompts "
             f"({args.test[0]} seen, {args.test[1]} with a test-only unseen kind). All {minutes:.0f} min.",
             "", "**Dev split (for choosing)**: mean prompt-level strict pass rate over seeds, all dev prompts:",
             "", "| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |", "|---|" + "---|" * (len(seeds) + 1)]
    for name in runs[("native", 0)][DEV]:
        rates = [statistics.mean(runs[("native", s)][DEV][name]["all"]) for s in seeds]
        lines.append(f"| {name} | " + " | ".join(f"{r:.3f}" for r in rates) + f" | {statistics.mean(rates):.3f} |")
    lines += ["", f"Chosen on dev: **{CONDITIONS[chosen]}** (highest mean dev pass rate among the curated methods, "
                  "methods within one dev prompt of it decided by their worst seed; the random control is not eligible).", ""]
    for precision in [p for p in ("native", "float32") if any(k[0] == p for k in runs)]:
        names = [n for n in runs[(precision, 0)][TEST] if n != "base"]
        lines += [f"**Test split, {precision} path** ({next(run['dtype'] for run in log if run['precision'] == precision)}): "
                  "each student minus the base, prompt-level strict, paired 95% interval per seed; then the mean "
                  "and spread of the seeds' differences.", "",
                  "| student | kinds | n | " + " | ".join(f"seed {s}" for s in seeds) + " | mean over seeds |",
                  "|---|---|---|" + "---|" * (len(seeds) + 1)]
        for name in names:
            for subset in SUBSETS:
                diffs = [paired_bootstrap(runs[(precision, s)][TEST]["base"][subset],
                                          runs[(precision, s)][TEST][name][subset]) for s in seeds]
                lines.append(f"| {name} | {subset} | {diffs[0].n} | " + " | ".join(fmt(d) for d in diffs) +
                             f" | {spread([d.difference for d in diffs])} |")
        lines.append("")
        base_rates = {sub: [statistics.mean(runs[(precision, s)][TEST]["base"][sub]) for s in seeds] for sub in SUBSETS}
        lines.append(f"Base pass rate on test ({precision}): seen {spread(base_rates['seen'])[1:]}, "
                     f"unseen {spread(base_rates['unseen'])[1:]}.")
        lines.append("")
    if "random" in args.conditions:
        lines += ["**Against the random-of-k control, pooled over seeds** (test, native path; one paired bootstrap over "
                  "every seed's prompts):", "", "| student | kinds | n | minus random-of-k [95% paired CI] |", "|---|---|---|---|"]
        for c in curated:
            for subset in SUBSETS:
                a = [f for s in seeds for f in runs[("native", s)][TEST][CONDITIONS["random"]][subset]]
                b = [f for s in seeds for f in runs[("native", s)][TEST][CONDITIONS[c]][subset]]
                lines.append(f"| {CONDITIONS[c]} | {subset} | {len(a)} | {fmt(paired_bootstrap(a, b))} |")
        lines.append("")
    cur = log[0]["result"]["curation"][0] if log[0]["result"]["curation"] else None
    if cur:
        lines.append(f"- curation, seed 0: {cur['prompts']} instructions sampled k={cur['k']}; single-sample pass rate "
                     f"{cur['pass_rate']:.3f}; kept: " + ", ".join(f"{m} {n}" for m, n in cur["kept"].items()) +
                     "; edited by a program: " + ", ".join(f"{m} {n}" for m, n in cur["edited"].items()))
    lines.append("- time per run: " + ", ".join(f"{r['precision']} seed {r['seed']} {r['minutes']:.1f} min" for r in log))
    record("Curation experiment with controls, seeds and both precision paths (`benchmarks/curation.py`)", lines)


if __name__ == "__main__":
    main()
