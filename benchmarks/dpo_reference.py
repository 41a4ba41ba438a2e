"""Does computing the reference log-probabilities once, before training, pay? DPO steps side by side.

    python benchmarks/dpo_reference.py [--pairs PAIRS.jsonl] [--steps 16] [--repeat 2]

The same DPO run (the course's DPOSettings, a fresh LoRA adapter on the bundled model) with
`precompute_ref_log_probs=True` (the reference runs once over the training pairs before the first step)
and with False (TRL runs the reference, the adapter switched off, in every step). The two alternate; each
keeps its fastest run. Pairs: a file (lesson 04 writes workspace/pairs.jsonl), else a few written here.
Appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from unittest import mock

from common import record

from alpaca_course import preference
from alpaca_course.experiment import dpo_lora, experiment_settings
from alpaca_course.pairs import PreferencePair, load_pairs
from alpaca_course.preference import train_dpo
from alpaca_course.profiles import generation_dtype, get_profile


def sample_pairs(n: int) -> list[PreferencePair]:
    """n pairs of the kind the verifier makes: a lowercase answer against the same answer with capitals."""
    topics = ["rain", "a library", "bread", "the sea", "a bicycle", "winter", "a garden", "music"]
    return [PreferencePair(f"Describe {t} in two sentences. Use only lowercase letters.",
                           f"{t} is something many people know well. it changes with the day and the season.",
                           f"{t.capitalize()} is something many people know well. It changes with the day and the season.")
            for t in (topics * (n // len(topics) + 1))[:n]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", help="a pairs file (default: 40 written here)")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    profile = get_profile("cpu")
    settings = experiment_settings(profile)
    pairs = load_pairs(args.pairs) if args.pairs else sample_pairs(40)
    run = replace(settings.dpo, steps=args.steps)
    kwargs = preference.dpo_config_kwargs
    best: dict[bool, float] = {}
    for _ in range(args.repeat):
        for precompute in (True, False):
            def config(*a, precompute=precompute, **k):
                return {**kwargs(*a, **k), "precompute_ref_log_probs": precompute}

            with tempfile.TemporaryDirectory() as tmp, mock.patch.object(preference, "dpo_config_kwargs", config):
                started = time.perf_counter()
                train_dpo(pairs, f"{tmp}/dpo", run, profile.student, progress=False,
                          lora_kwargs=dpo_lora(profile, settings))
                seconds = time.perf_counter() - started
            best[precompute] = min(best.get(precompute, seconds), seconds)
            print(f"precompute={precompute}: {seconds:.1f} s", flush=True)
    record("DPO: the reference computed once against in every step (`benchmarks/dpo_reference.py`)", [
        f"{len(pairs)} pairs ({'from ' + args.pairs if args.pairs else 'written by the script'}), {args.steps} steps, "
        f"batch {run.batch_size}, {generation_dtype('cpu')} CPU path; whole `train_dpo` call (load, reference, "
        f"training, held-out scoring, save), fastest of {args.repeat}, alternating.", "",
        "| reference | seconds |", "|---|---|",
        f"| once, before training (`precompute_ref_log_probs=True`) | {best[True]:.1f} |",
        f"| in every step | {best[False]:.1f} |", "",
        f"Ratio once / every step: **{best[True] / best[False]:.2f}x**."])


if __name__ == "__main__":
    main()
