"""Screen one lever of the curation experiment fast, on the dev split: one curated student against the base.

    python benchmarks/curation_screen.py --set learning_rate=1e-3 [--set k=8 ...] [--plain GENERATED.jsonl]
                                         [--cache build/curation-screen] [--label "what changed"]

`benchmarks/curation.py` runs the whole experiment (every condition, seeds, both precision paths).
A screen is a choice, so it scores the dev split only. It keeps what a lever does not change: the
base's answers to the dev prompts and the
curated data (one file per curation setting) are cached, so a training lever (learning rate, steps,
rank) costs one training run and one evaluation (about 5 min). `--plain FILE` trains on that
generated data instead, for the plain student under the same settings. The paired difference
against the base is appended to RESULTS.md; the full experiment is what confirms a lever.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from common import parse_changes, record

from alpaca_course.data import InstructionRecord, load_records
from alpaca_course.evaluation import evaluate_model
from alpaca_course.experiment import (
    answer_all,
    curated_data,
    eval_prompts,
    experiment_settings,
    train_student,
)
from alpaca_course.profiles import get_profile
from alpaca_course.stats import paired_bootstrap
from alpaca_course.teachers import LocalTeacher

CURATION_KEYS = ("n_examples", "k", "temperature", "curation_max_new_tokens", "two_constraint_share", "families",
                 "method", "pool", "seed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", nargs="*", default=[], help="experiment settings, key=value")
    parser.add_argument("--plain", help="train on this generated data instead of the curated data")
    parser.add_argument("--cache", default="build/curation-screen")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    profile = get_profile("cpu")
    settings = experiment_settings(profile, **parse_changes(args.set))
    prompts = eval_prompts(settings, "dev")  # a screen is a choice: it never looks at the test split
    base = LocalTeacher.load(profile.student)
    base_file = cache / f"base-dev-{len(prompts)}-{settings.eval_max_new_tokens}-{settings.seed}.json"
    if not base_file.exists():
        report = evaluate_model(base.model, base.tokenizer, prompts, "chat", "base", settings.eval_max_new_tokens)
        base_file.write_text(json.dumps({"passes": report.passes(), "by_kind": report.scores.by_kind}))
    base_scores = json.loads(base_file.read_text())
    key = hashlib.md5(json.dumps({k: getattr(settings, k) for k in CURATION_KEYS}).encode()).hexdigest()[:8]
    data_file = cache / f"curated-{key}.jsonl"
    if args.plain:
        records = list(load_records(args.plain))[: settings.n_examples]
    elif data_file.exists():
        records = [InstructionRecord(**json.loads(line)) for line in data_file.read_text().splitlines()]
    else:
        records, _ = curated_data(LocalTeacher(base.model, base.tokenizer), settings, settings.seed, progress=False)
        data_file.write_text("\n".join(json.dumps(asdict(r)) for r in records))
    del base
    model, tok, trained = train_student(records, cache / "student", profile, settings, progress=False)
    report = answer_all(model, tok, prompts, settings.template, "student", settings)
    d = paired_bootstrap(base_scores["passes"], report.passes())
    families = Counter(c["kind"] for r in records for c in r.meta.get("checks", []))
    record("Curation screen: one student against the base (`benchmarks/curation_screen.py`)", [
        f"Attempt: {args.label or 'default settings'}; {'plain data ' + args.plain if args.plain else 'curated data'}; "
        f"changes: {args.set or 'none'}",
        "",
        f"- dev split, n = {d.n} prompts, prompt strict: base {sum(base_scores['passes']) / d.n:.3f}, "
        f"student {report.scores.prompt_strict:.3f}; student - base **{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]** "
        f"({d.gained} gained, {d.lost} lost)",
        f"- training: {trained['examples']} examples, {trained['steps']} steps, {trained['seconds']:.0f} s; held-out loss "
        f"{trained['eval_loss_before']:.3f} -> {trained['eval_loss_after']:.3f}",
        "- families in the training data: " + (", ".join(f"{k} {v}" for k, v in families.most_common()) or "none"),
        "- strict pass rate by kind, base / student: " + ", ".join(
            f"{k} {base_scores['by_kind'].get(k, 0):.2f}/{v:.2f}" for k, v in sorted(report.scores.by_kind.items()))])


if __name__ == "__main__":
    main()
