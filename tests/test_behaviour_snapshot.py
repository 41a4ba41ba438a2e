"""The refactor into one module per idea (issue 31) changed no behaviour: a snapshot recorded before it.

`behaviour()` runs everything the refactor touched that needs no model: the experiment's settings, prompts and
training pool on the quick profile, lesson 05's tables and "what we saw" sentences for fixed answers, the funnel
and the novelty filter on fixed candidates, and every interval (Wilson, bootstrap, paired, paired change). The
snapshot was written by the same function at commit 08ee063, before `stats.py` existed (with that commit's names for
the same functions). If a change is meant to alter one of these, write the snapshot again and say why in the commit:

    python tests/test_behaviour_snapshot.py --write

`model_behaviour()` adds what needs the bundled model: 8 generated records and the whole quick experiment
(curation, training, evaluation) with lesson 05's tables, all from seed 0. It runs in a child process pinned to
results that do not depend on the CPU: the float32 path (bf16 kernels differ between AVX-512 and AVX2), MKL's
conditional numerical reproducibility on its AVX2 code path (`MKL_CBWR`), torch's own kernels at the AVX2 level
(`ATEN_CPU_CAPABILITY`), and one thread (so no reduction is split differently). The same steps run at commit 08ee063, before the
split into modules (its names: `settings_for_profile` for both settings functions), gave this snapshot exactly:

    python tests/test_behaviour_snapshot.py --write-model

Written again once, on purpose (issue 29): `generate` now writes a group of rounds' answers in one call, so an answer
is seeded by its candidate's place among those that pass the rule filters, not among those that also pass the
novelty filter. The 8 instructions, the models' numbers and lesson 05's tables stayed the same; the last two answers
changed (a candidate before them fell to the novelty filter).
"""

import json
import sys
from dataclasses import asdict
from pathlib import Path

from alpaca_course.curation import repair
from alpaca_course.diversity import distinct_n
from alpaca_course.evaluation import scored_report
from alpaca_course.experiment import (
    compare_by_kind,
    differences_table,
    eval_prompts,
    experiment_settings,
    results_table,
    training_pool,
    what_we_saw,
)
from alpaca_course.filters import NOVELTY, NoveltyFilter, apply_rules
from alpaca_course.jokes import normalize
from alpaca_course.profiles import CPU_PRECISION_ENV, get_profile
from alpaca_course.resources import load_seed_tasks
from alpaca_course.self_instruct import _same_words
from alpaca_course.stats import bootstrap_ci, paired_bootstrap, paired_change, wilson_interval

SNAPSHOT = Path(__file__).parent / "snapshots" / "behaviour_quick.json"
MODEL_SNAPSHOT = Path(__file__).parent / "snapshots" / "behaviour_quick_model.json"


def behaviour() -> dict:
    """What the refactor must not change, on the quick profile, without a model: the experiment's prompts and pool,
    lesson 05's tables and sentences for fixed answers, the funnel on fixed candidates, and every interval."""
    profile = get_profile("quick")
    settings = experiment_settings(profile)
    out = {"settings": {k: v for k, v in sorted(asdict(settings).items()) if k != "dpo"}}
    pool = training_pool(settings, 0)
    out["training_pool"] = [[p.id, p.prompt] for p in pool]
    for split in ("dev", "test"):
        prompts = eval_prompts(settings, split)
        echo = [p.prompt for p in prompts]
        plain = "Here is my answer to that, in a few words."
        fixed = [repair(p, plain) or plain for p in prompts]
        half = [f if i % 3 else e for i, (e, f) in enumerate(zip(echo, fixed, strict=True))]
        reports = {name: scored_report(name, "chat", prompts, texts, [True] * len(prompts))
                   for name, texts in (("base", echo), ("student", fixed), ("half", half))}
        by_kind = compare_by_kind(reports, [("base", "student"), ("base", "half"), ("half", "student")], prompts)
        out[split] = {"prompts": [[p.id, p.prompt] for p in prompts],
                      "tables": [results_table(reports, by_kind["all"])]
                      + [differences_table(by_kind[k]) for k in ("seen", "unseen") if by_kind.get(k)],
                      "what_we_saw": {k: what_we_saw(d) for k, d in by_kind.items()},
                      "intervals": {k: [list(v) for v in sorted(r.intervals().items())] for k, r in reports.items()}}
    seeds = [s.instruction for s in load_seed_tasks()]
    candidates = seeds[:40] + [s + " Please." for s in seeds[:20]] + ["Hi", "Write a program that sorts.", "!!! odd"]
    kept_at, funnel = apply_rules(candidates)
    verdicts = NoveltyFilter(seeds[40:80]).admit([candidates[i] for i in kept_at])
    out["funnel"] = {"kept_at": kept_at, "removed": dict(sorted(funnel.removed.items())),
                     "novelty": [[v["kept"], round(v["max_rouge"], 6)] for v in verdicts], "label": NOVELTY}
    texts = [s.output for s in load_seed_tasks()][:60]
    out["intervals"] = {
        "wilson": [wilson_interval(k, 32) for k in (0, 7, 12, 32)],
        "bootstrap": bootstrap_ci([1, 0, 0, 1, 1, 0, 1] * 9),
        "paired": str(paired_bootstrap([1, 0, 0, 1] * 20, [1, 1, 0, 1] * 20)),
        "paired_change": paired_change("distinct-2", texts[:30], texts[30:60], lambda t: distinct_n(t, 2),
                                       "instructions").sentence(),
        "normalize": [normalize(t) for t in texts[:10]],
        "same_words": [_same_words(a, b) for a, b in zip(seeds[:10], [s.upper() + "!" for s in seeds[:10]], strict=True)],
    }
    return json.loads(json.dumps(out))


def test_the_refactor_changed_no_behaviour():
    recorded = json.loads(SNAPSHOT.read_text())
    current = behaviour()
    assert sorted(current) == sorted(recorded)
    for key in recorded:  # one key at a time, so a failure names the part that changed
        assert current[key] == recorded[key], f"{key} changed"


def model_behaviour(tmp: Path) -> dict:
    """Seed 0, quick profile (float32 under `PINNED`): 8 generated records, and the experiment's reports and lesson 05's tables."""
    from alpaca_course.experiment import run_experiment
    from alpaca_course.self_instruct import generate, generation_settings
    from alpaca_course.teachers import LocalTeacher

    profile = get_profile("quick")
    teacher = LocalTeacher.load(profile.teacher)
    path = tmp / "generated.jsonl"
    generate(teacher, 8, path, seed=0, settings=generation_settings(profile, teacher=teacher.name), progress=False)
    del teacher
    result = run_experiment(profile, experiment_settings(profile), out_dir=tmp / "experiment", plain_data_path=path,
                            progress=False)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return json.loads(json.dumps({"records": records, "tables": {s: result.table(s) for s in result.reports},
                                  "models": result.to_dict()["models"]}))


#: what makes a CPU's arithmetic the same as any other x86 CPU's, set before torch loads
PINNED = {CPU_PRECISION_ENV: "float32", "MKL_CBWR": "AVX2,STRICT", "ATEN_CPU_CAPABILITY": "avx2",
          "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def pinned_model_behaviour(folder: Path) -> dict:
    """`model_behaviour` in a child process with the `PINNED` environment."""
    import os
    import subprocess

    out = folder / "behaviour.json"
    subprocess.run([sys.executable, __file__, "--model-json", str(out)], check=True, env={**os.environ, **PINNED})
    return json.loads(out.read_text())


def test_the_same_seeds_give_the_same_records_and_lesson_05_table(tmp_path):
    recorded = json.loads(MODEL_SNAPSHOT.read_text())
    current = pinned_model_behaviour(tmp_path)
    assert [r["instruction"] for r in current["records"]] == [r["instruction"] for r in recorded["records"]]
    assert current["records"] == recorded["records"], "the generated records changed"
    assert current["tables"] == recorded["tables"], "lesson 05's tables changed"
    assert current["models"] == recorded["models"], "the models' answers or pass rates changed"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    SNAPSHOT.write_text(json.dumps(behaviour(), indent=1, sort_keys=True) + "\n")
if __name__ == "__main__" and sys.argv[1:] == ["--write-model"]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        MODEL_SNAPSHOT.write_text(json.dumps(pinned_model_behaviour(Path(folder)), indent=1, sort_keys=True) + "\n")
if __name__ == "__main__" and sys.argv[1:2] == ["--model-json"]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        Path(sys.argv[2]).write_text(json.dumps(model_behaviour(Path(folder))), encoding="utf-8")
