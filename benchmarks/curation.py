"""Does curation make the student better? Base vs plain student vs curated student, measured in one run.

    python benchmarks/curation.py [--data GENERATED.jsonl] [--k 4] [--examples 100] [--steps 60]
                                  [--rounds 1] [--temperature 0.8] [--lora-r 8] [--modules q_proj v_proj]
                                  [--learning-rate 1e-3] [--families bullets title ...] [--repair] [--label "what this attempt changed"]

Runs `experiment.run_experiment` on the cpu profile (the bundled model as teacher and student) and
appends the table (pass rates with 95% bootstrap intervals, paired differences with prompts gained
and lost), the curation report and the timings to RESULTS.md. Each lever is a flag, so every attempt
of the issue's "keep going" list is one command.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from common import record

from alpaca_course.experiment import run_experiment, settings_for_profile
from alpaca_course.profiles import get_profile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="generated data for the plain student (default: generate it)")
    parser.add_argument("--k", type=int)
    parser.add_argument("--examples", type=int, dest="n_examples")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--lora-r", type=int, dest="lora_r")
    parser.add_argument("--modules", nargs="+", dest="target_modules")
    parser.add_argument("--learning-rate", type=float, dest="learning_rate")
    parser.add_argument("--template", choices=["chat", "alpaca"])
    parser.add_argument("--families", nargs="+", help="constraint families to train on (default: all)")
    parser.add_argument("--repair", action="store_true", default=None,
                        help="also keep answers a program repaired to pass form-only checks (then verified)")
    parser.add_argument("--label", default="default settings")
    args = parser.parse_args()
    profile = get_profile("cpu")
    levers = {k: v for k, v in vars(args).items() if k not in ("data", "label") and v is not None}
    for key in ("target_modules", "families"):
        if key in levers:
            levers[key] = tuple(levers[key])
    settings = settings_for_profile(profile, **levers)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_experiment(profile, settings, out_dir=tmp, plain_data=args.data, progress=False)
    minutes = (time.perf_counter() - started) / 60
    curation = result.curation[0]
    lines = [f"Attempt: {args.label}. Settings: " + ", ".join(f"{k}={v}" for k, v in result.settings.items()), "",
             result.table(), "",
             f"- curation: {curation['solved']}/{curation['prompts']} instructions solved by best-of-{curation['k']} "
             f"({curation['solved_share']:.2f}); single-sample pass rate {curation['pass_rate']:.3f}; "
             f"{curation['tokens_per_kept']:,.0f} tokens per kept example; {curation['repaired']} kept answers repaired",
             "- single-sample pass rate by family: " + ", ".join(f"{k} {v:.2f}" for k, v in curation["family_rates"].items()),
             "- held-out loss of each student on its own data: " + "; ".join(
                 f"{n} {t['eval_loss_before']:.3f} -> {t['eval_loss_after']:.3f}" for n, t in result.training.items()
                 if "eval_loss_before" in t),
             "- time: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in result.seconds.items()) + f"; all {minutes:.1f} min"]
    record("Curation experiment on the cpu profile (`benchmarks/curation.py`)", lines)


if __name__ == "__main__":
    main()
