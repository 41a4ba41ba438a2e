"""Does preference tuning on the verifier's pairs make the student better? DPO against the base and the SFT student.

    python benchmarks/preference.py --split dev --seeds 2 --variants "start='sft'" "start='base'" "beta=0.5"
    python benchmarks/preference.py --split test --seeds 3 --set beta=0.1 [--label "chosen on dev"]

For each seed (curation samples, SFT and DPO training all follow it), `experiment.run_experiment` scores
the base, trains the course's curated SFT student (its method: repair-only) and a DPO student on the
preference pairs the same k samples held, and scores both. Further `--variants` (DPOSettings fields that
differ from the first) train more DPO students on the *same* pairs, from the same SFT folder, and are
scored on the same prompts: a screen of beta, the learning rate and the starting point.

`--split dev` is for choosing (the dev split: its own seed tasks, phrasings and 2 kinds held out whole,
plus the 64 hand-written prompts); `--split test` is scored once, for a setting already chosen on dev.
Reported: each DPO student against the base and against the SFT student, seen and unseen kinds apart, with
paired 95% intervals per seed; the held-out implicit-reward accuracy; mean answer length. Appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import parse_changes, record

from alpaca_course.constraints import DEV, TEST, held_out_prompts, is_unseen
from alpaca_course.experiment import (
    CONDITIONS,
    answer_all,
    experiment_settings,
    run_experiment,
    train_dpo_student,
)
from alpaca_course.memory import release_memory
from alpaca_course.pairs import family_counts, load_pairs
from alpaca_course.profiles import generation_dtype, get_profile
from alpaca_course.stats import paired_bootstrap

SUBSETS = ("all", "seen", "unseen")


def fmt(d) -> str:
    """A paired difference as '+0.050 [-0.010, +0.110]'."""
    return f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"


def by_subset(report, prompts) -> dict[str, list[bool]]:
    """Prompt-level strict passes: all prompts, seen kinds, unseen kinds."""
    flags = report.passes()
    unseen = [is_unseen(p) for p in prompts]
    return {"all": flags, "seen": [f for f, u in zip(flags, unseen, strict=True) if not u],
            "unseen": [f for f, u in zip(flags, unseen, strict=True) if u]}


def variant_name(changes: dict) -> str:
    """A DPO variant's label, e.g. 'DPO (start=base, beta=0.5)'."""
    return "DPO (" + (", ".join(f"{k}={v}" for k, v in changes.items()) or "settings") + ")"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=[DEV, TEST], required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--set", nargs="*", default=[], help="DPOSettings fields for every variant, key=value")
    parser.add_argument("--variants", nargs="*", default=[""],
                        help="DPO variants, each a space-free list of key=value separated by ';' (first: the run's own)")
    parser.add_argument("--size", nargs=2, type=int, metavar=("SEEN", "UNSEEN"), help="prompts (default dev 128 48, "
                                                                                        "test 256 96)")
    parser.add_argument("--label", default="the course's settings")
    parser.add_argument("--json", default="build/preference.json")
    parser.add_argument("--profile", default="cpu", help="quick: a smoke run of the script itself")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    seen_n, unseen_n = args.size or ((128, 48) if args.split == DEV else (256, 96))
    prompts = held_out_prompts(seen_n, 0, None, args.split, unseen_n)
    common = parse_changes(args.set)
    variants = [{**common, **parse_changes([kv for kv in v.split(";") if kv])} for v in args.variants]
    started = time.perf_counter()
    log, passes, rows = [], {}, {}  # passes: seed -> model -> subset -> flags
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        base_settings = experiment_settings(profile, seed=seed, conditions=("dpo",))
        settings = replace(base_settings, dpo=replace(base_settings.dpo, **variants[0]))
        with tempfile.TemporaryDirectory() as tmp:
            result = run_experiment(profile, settings, out_dir=tmp, progress=False, prompt_sets={args.split: prompts})
            reports = dict(result.reports[args.split])
            reports[variant_name(variants[0])] = reports.pop(CONDITIONS["dpo"])
            training = {variant_name(variants[0]): result.training[CONDITIONS["dpo"]]}
            pairs = load_pairs(Path(tmp) / "pairs.jsonl")
            for changes in variants[1:]:
                release_memory()
                varied = replace(settings, dpo=replace(base_settings.dpo, **changes))
                model, tok, row = train_dpo_student(pairs, Path(tmp), profile, varied, progress=False)
                name = variant_name(changes)
                reports[name] = answer_all(model, tok, prompts, settings.template, name, settings)
                training[name] = row
                del model
        passes[seed] = {name: by_subset(r, prompts) for name, r in reports.items()}
        rows[seed] = {"training": training, "words": {n: r.lengths["mean_words"] for n, r in reports.items()},
                      "pairs": len(pairs), "pair_families": family_counts(pairs), "curation": result.curation[0]}
        log.append({"seed": seed, "minutes": (time.perf_counter() - t0) / 60, "result": result.to_dict(),
                    "variants": training, "words": rows[seed]["words"]})
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(log), encoding="utf-8")
        print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} done", flush=True)

    seeds = list(range(args.seeds))
    sft = CONDITIONS[settings.method]
    names = [variant_name(v) for v in variants]
    minutes = (time.perf_counter() - started) / 60
    lines = [f"Attempt: {args.label}. Split: **{args.split}** ({len(prompts)} prompts: {seen_n} seen-kind, {unseen_n} with "
             f"a kind held out whole" + (", 64 hand-written" if args.split == DEV else "") + f"). Seeds {seeds}; "
             f"precision {generation_dtype('cpu')}; all {minutes:.0f} min.",
             f"SFT student: {sft} ({settings.n_examples} examples, {settings.steps} steps). DPO settings: "
             + ", ".join(f"{k}={v}" for k, v in vars(settings.dpo).items() if k != "seed") + " (first variant's).", "",
             "| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |", "|---|" + "---|" * (len(seeds) + 1)]
    for name in ["base", sft, *names]:
        rates = [statistics.mean(passes[s][name]["all"]) for s in seeds]
        lines.append(f"| {name} | " + " | ".join(f"{r:.3f}" for r in rates) + f" | {statistics.mean(rates):.3f} |")
    lines += ["", "Paired differences, prompt-level strict, 95% paired bootstrap interval per seed:", "",
              "| comparison | kinds | n | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |",
              "|---|---|---|" + "---|" * (len(seeds) + 1)]
    for name in names:
        for other in ("base", sft):
            for subset in SUBSETS:
                diffs = [paired_bootstrap(passes[s][other][subset], passes[s][name][subset]) for s in seeds]
                lines.append(f"| {name} vs {other} | {subset} | {diffs[0].n} | " + " | ".join(fmt(d) for d in diffs)
                             + f" | {statistics.mean(d.difference for d in diffs):+.3f} |")
    for subset in SUBSETS:
        diffs = [paired_bootstrap(passes[s]["base"][subset], passes[s][sft][subset]) for s in seeds]
        lines.append(f"| {sft} vs base | {subset} | {diffs[0].n} | " + " | ".join(fmt(d) for d in diffs)
                     + f" | {statistics.mean(d.difference for d in diffs):+.3f} |")
    lines += ["", "Held-out preference pairs (20% of each seed's pairs, never trained on): implicit-reward accuracy "
                  "[95% Wilson interval], DPO loss; and mean words per answer:", "",
              "| variant | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
    for name in names:
        cells = []
        for s in seeds:
            t = rows[s]["training"][name]
            low, high = t["accuracy_interval"]
            cells.append(f"{t['accuracy_after']:.2f} [{low:.2f}, {high:.2f}] of {t['held_out_pairs']}, loss "
                         f"{t['loss_after']:.3f}, {t['seconds']:.0f} s")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name in ["base", sft, *names]:
        lines.append(f"| words: {name} | " + " | ".join(f"{rows[s]['words'][name]:.1f}" for s in seeds) + " |")
    lines += ["", "- pairs per seed: " + ", ".join(f"seed {s}: {rows[s]['pairs']} ({rows[s]['pair_families']})"
                                                   for s in seeds),
              "- curation per seed: " + ", ".join(f"{rows[s]['curation']['prompts']} instructions x "
                                                  f"{rows[s]['curation']['k']}" for s in seeds),
              "- time per seed: " + ", ".join(f"seed {r['seed']} {r['minutes']:.1f} min" for r in log)]
    record(f"Preference tuning (DPO) on the verifier's pairs (`benchmarks/preference.py --split {args.split}`)", lines)


if __name__ == "__main__":
    main()
