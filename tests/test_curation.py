"""Output-quality rules, constrained instructions, best-of-k curation, intervals and the experiment."""

from __future__ import annotations

import random

import pytest

from alpaca_course.constraints import (
    DEV,
    FAMILIES,
    SEEN_KINDS,
    SPLITS,
    TEST,
    TRAIN,
    UNSEEN_KINDS,
    base_instructions,
    constrained_prompts,
    draw_check,
    held_out_prompts,
    is_unseen,
    phrasing_fragments,
)
from alpaca_course.curation import REPAIRS, best_of_k, repair, sentences, verify
from alpaca_course.filters import (
    OUTPUT_RULES,
    TRUNCATED,
    Funnel,
    degenerate_repetition,
    first_broken_output_rule,
    near_empty,
    repeats_prompt,
)
from alpaca_course.stats import bootstrap_ci, paired_bootstrap, wilson_interval
from alpaca_course.teachers import Sampling
from alpaca_course.verifier import CHECKS, check

# --- output rules ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_answers(teacher):
    """Real answers of the bundled model to a few short questions (greedy, so the same every run)."""
    instructions = ["What is the capital of France?", "Give one synonym for the word happy.",
                    "What colour do you get by mixing blue and yellow?", "How many days are in a week?"]
    outs = teacher.chat([[{"role": "user", "content": i}] for i in instructions], Sampling(max_new_tokens=80, temperature=0))
    return [(i, o.text.strip(), o.finish_reason) for i, o in zip(instructions, outs, strict=True)]


def test_real_answers_that_finished_pass_every_output_rule(real_answers):
    finished = [(i, a) for i, a, f in real_answers if f == "stop"]
    assert finished, "expected the bundled model to finish at least one short answer"
    for instruction, answer in finished:
        assert first_broken_output_rule(answer, instruction) is None, answer


def test_each_output_rule_catches_its_case_on_real_text(real_answers):
    instruction, answer, _ = real_answers[0]
    assert near_empty("") and near_empty("Sure!") and near_empty(" ... ") and not near_empty(answer)
    assert repeats_prompt(instruction, instruction)  # the instruction said back
    assert repeats_prompt(f"{instruction}.", instruction)
    assert repeats_prompt("The passage: a cat sat on a mat.", "Summarize it.", "The passage: a cat sat on a mat.")
    assert not repeats_prompt(answer, instruction)
    loop = " ".join([" ".join(answer.split()[:6])] * 6)  # a real phrase of the model, looping
    assert degenerate_repetition(loop)
    assert degenerate_repetition("\n".join(["Tip: drink more water today."] * 3))
    assert not degenerate_repetition(answer)
    names = [name for name, _ in OUTPUT_RULES]
    assert first_broken_output_rule("", instruction) == names[0]
    assert first_broken_output_rule(instruction, instruction) == names[1]
    assert first_broken_output_rule(loop, instruction) == names[2]


def test_an_answer_cut_at_the_limit_is_regenerated_once_then_dropped(teacher):
    from alpaca_course.self_instruct import ALPACA, Candidate, checked_outputs

    long_task = Candidate("Write a detailed essay of at least 300 words about the history of the bicycle.")
    short_task = Candidate("What is the capital of France? Answer in one word.")
    funnel = Funnel()
    settings = ALPACA.__class__(output_max_new_tokens=6, output_temperature=0.7, batch_size=2)
    kept = checked_outputs(teacher, [long_task, short_task], settings, seed=1, funnel=funnel)
    assert funnel.removed[TRUNCATED] >= 1  # 6 tokens, then 12: the essay is cut both times
    assert all(i != 0 for i, _, _ in kept)
    assert set(funnel.removed) >= {TRUNCATED, *(name for name, _ in OUTPUT_RULES)}


def test_training_never_appends_an_end_token_to_a_cut_off_output(teacher):
    from alpaca_course.data import InstructionRecord
    from alpaca_course.finetune import FinetuneConfig
    from alpaca_course.tokenizing import build_dataset, tokenize_example

    cut = InstructionRecord("List ten rivers.", "", "1. Nile 2. Amazon 3.", {"output_truncated": True})
    whole = InstructionRecord("Name a river.", "", "The Nile.", {"output_truncated": False})
    config = FinetuneConfig()
    assert tokenize_example(teacher.tokenizer, cut, config) is None
    dataset, skipped = build_dataset(teacher.tokenizer, [cut, whole], config)
    assert len(dataset) == 1 and skipped == 1


# --- constrained instructions -----------------------------------------------------------------------------


def test_every_family_is_a_check_with_its_own_phrasings_in_each_split():
    assert set(FAMILIES) <= set(CHECKS)
    for family in FAMILIES.values():
        present = [split for split in SPLITS if family.phrasings(split)]
        assert present, family.kind
        for split in present:
            assert len(set(family.phrasings(split))) >= 3, (family.kind, split)
        for i, a in enumerate(SPLITS):
            for b in SPLITS[i + 1:]:
                assert not set(family.phrasings(a)) & set(family.phrasings(b)), (family.kind, a, b)
                assert not set(family.values(a)) & set(family.values(b)), (family.kind, a, b)
        if family.train_values:
            assert family.dev_values and family.test_values, family.kind


def _split_material():
    """Every prompt each split can produce: training pools of several seeds; dev and test as the benchmark draws them."""
    return {TRAIN: [p for seed in range(3) for p in constrained_prompts(400, TRAIN, seed)],
            DEV: held_out_prompts(256, 0, None, DEV, 96) + held_out_prompts(64, 1, 0, DEV, 32),
            TEST: held_out_prompts(256, 0, None, TEST, 96) + held_out_prompts(64, 1, 0, TEST, 32)}


def test_train_dev_and_test_are_disjoint_on_every_axis():
    material = _split_material()
    assert len(held_out_prompts(256, 0, None, TEST, 96)) >= 300  # the benchmark's test split
    tasks = {split: dict(base_instructions(split)) for split in SPLITS}
    assert min(len(t) for t in tasks.values()) >= 20
    texts = {split: [p.prompt.lower() for p in prompts] for split, prompts in material.items()}
    for a in SPLITS:
        for b in SPLITS:
            if a == b:
                continue
            # seed tasks: no split's prompt starts with another split's task
            assert not set(tasks[a]) & set(tasks[b])
            for p in material[b]:
                if p.id.startswith(b):  # generated (hand-written prompts are dev's and have no seed task)
                    assert not any(p.prompt.startswith(t) for t in tasks[a].values()), (a, b, p.prompt)
            # phrasings: the fixed pieces of one split's phrasings never appear in another split's prompts
            for family in FAMILIES.values():
                for phrasing in family.phrasings(a):
                    for fragment in phrasing_fragments(phrasing):
                        leak = next((t for t in texts[b] if fragment in t), None)
                        assert leak is None, f"{a} phrasing {fragment!r} appears in a {b} prompt: {leak!r}"
            # argument values: no split checks a value that another split uses
            values_a = {str(c.get("words", c.get("phrase"))) for p in material[a] for c in p.checks
                        if c["kind"] in ("keywords", "forbidden", "ends_with", "starts_with")}
            values_b = {str(c.get("words", c.get("phrase"))) for p in material[b] for c in p.checks
                        if c["kind"] in ("keywords", "forbidden", "ends_with", "starts_with")}
            assert not values_a & values_b, (a, b, values_a & values_b)
    # kinds held out whole: never in training, never repaired, and dev's and test's are different kinds
    trained = {c["kind"] for p in material[TRAIN] for c in p.checks}
    assert trained == set(SEEN_KINDS)
    assert len(UNSEEN_KINDS[TEST]) >= 4 and len(UNSEEN_KINDS[DEV]) >= 1
    assert not set(UNSEEN_KINDS[TEST]) & set(UNSEEN_KINDS[DEV])
    for split in (DEV, TEST):
        kinds = {c["kind"] for p in material[split] for c in p.checks}
        assert set(UNSEEN_KINDS[split]) <= kinds and not kinds & set(UNSEEN_KINDS[DEV if split == TEST else TEST])
        assert not set(UNSEEN_KINDS[split]) & (set(REPAIRS) | trained)
        assert sum(map(is_unseen, material[split])) >= 32


def test_held_out_sets_have_distinct_ids_and_every_seen_family():
    for split in (DEV, TEST):
        prompts = held_out_prompts(96, 0, None, split, 48)
        assert len({p.id for p in prompts}) == len(prompts)
        assert {c["kind"] for p in prompts for c in p.checks} >= set(SEEN_KINDS) - ({"title"} if split == TEST else set())
    assert len(held_out_prompts(96, 0, None, TEST, 48)) == 144  # test never has the hand-written (dev) prompts
    with pytest.raises(ValueError, match="dev or the test split"):
        held_out_prompts(10, split=TRAIN)


def test_constraints_are_gradable_and_sometimes_two():
    prompts = constrained_prompts(100, TRAIN, seed=3)
    assert {len(p.checks) for p in prompts} == {1, 2}
    for p in prompts:
        for c in p.checks:
            check("a reply", c)  # every spec is one the checker understands
        assert "{" not in p.prompt and "1 sentences" not in p.prompt


# --- intervals ----------------------------------------------------------------------------------------------


def test_wilson_interval_on_known_cases():
    assert [round(x, 2) for x in wilson_interval(12, 32)] == [0.23, 0.55]
    assert [round(x, 2) for x in wilson_interval(7, 32)] == [0.11, 0.39]
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


def test_paired_bootstrap_identical_models_contain_zero():
    rng = random.Random(0)
    a = [rng.random() < 0.4 for _ in range(200)]
    d = paired_bootstrap(a, list(a))
    assert d.difference == 0 and d.low <= 0 <= d.high and d.gained == d.lost == 0
    assert d.verdict() == "no detectable difference"


def test_paired_bootstrap_a_model_that_passes_strictly_more_is_better():
    rng = random.Random(1)
    a = [rng.random() < 0.3 for _ in range(200)]
    b = [x or rng.random() < 0.3 for x in a]  # passes everything a passes, and more
    d = paired_bootstrap(a, b)
    assert d.difference > 0 and d.low > 0 and d.lost == 0 and d.gained > 0 and d.verdict() == "better"
    assert paired_bootstrap(b, a).verdict() == "worse"


def test_bootstrap_interval_brackets_the_rate_and_narrows_with_n():
    small = bootstrap_ci([1, 0, 1, 0] * 5)
    large = bootstrap_ci([1, 0, 1, 0] * 100)
    assert small[1] <= 0.5 <= small[2] and large[1] <= 0.5 <= large[2]
    assert large[2] - large[1] < small[2] - small[1]


# --- best-of-k ---------------------------------------------------------------------------------------------------


def test_best_of_k_keeps_only_verified_answers_and_counts_honestly(teacher):
    prompts = constrained_prompts(6, TRAIN, seed=5, kinds=["lowercase", "max_words", "no_commas"])
    records, report = best_of_k(teacher, prompts, k=3, sampling=Sampling(max_new_tokens=40, temperature=0.9),
                                progress=False)
    assert report.prompts == 6 and report.samples == 18
    assert report.solved == len(records) <= 6
    assert 0 <= report.passing_samples <= report.samples
    by_prompt = {p.prompt: p for p in prompts}
    for r in records:
        assert verify(by_prompt[r.instruction], r.output) is None
        assert r.meta["k"] == 3 and 1 <= r.meta["passing"] <= 3
    assert report.completion_tokens > 0
    assert set(report.family_rates()) <= {"lowercase", "max_words", "no_commas", *FAMILIES}


@pytest.mark.parametrize("kind", sorted(REPAIRS))
def test_each_repair_makes_real_answers_pass_its_check_or_declines(real_answers, kind):
    from alpaca_course.verifier import EvalPrompt

    repaired = failed = 0
    for instruction, answer, finish in real_answers:
        if finish == "length":
            continue
        spec, _ = draw_check(kind, random.Random(7), TRAIN)
        prompt = EvalPrompt("x", instruction, [spec])
        fixed = repair(prompt, answer)
        if check(answer, spec):
            assert fixed is None  # nothing to repair
            continue
        failed += 1
        if fixed is not None:
            assert check(fixed, spec), (kind, fixed)
            repaired += 1
    if failed and kind not in ("bullets", "numbered", "paragraphs", "max_sentences", "max_words"):  # these need
        # enough whole sentences, which short answers may not have
        assert repaired >= 1, f"no real answer was repaired for {kind}"


def test_content_checks_have_no_repair_and_sentences_drop_an_unfinished_tail():
    from alpaca_course.verifier import EvalPrompt

    for spec in ({"kind": "keywords", "words": ["zebra"]}, {"kind": "forbidden", "words": ["the"]},
                 {"kind": "min_words", "n": 500}):
        assert repair(EvalPrompt("x", "Describe the sea.", [spec]), "The sea is big. It is blue.") is None
    assert sentences("- It is big.\n2. It is blue! And then") == ["It is big.", "It is blue!"]


def test_best_of_k_with_repair_marks_what_a_program_edited(teacher):
    prompts = constrained_prompts(4, TRAIN, seed=2, kinds=["uppercase", "quoted"])
    records, report = best_of_k(teacher, prompts, k=2, sampling=Sampling(max_new_tokens=48, temperature=0.9),
                                progress=False, repair_answers=True)
    by_prompt = {p.prompt: p for p in prompts}
    assert report.repaired == sum(r.meta["repaired"] for r in records) <= report.kept["best+repair"] == len(records)
    assert report.solved == sum(not r.meta["repaired"] for r in records)  # solved: a sample passed unedited
    for r in records:
        assert verify(by_prompt[r.instruction], r.output) is None
        assert r.meta["repaired"] == (r.meta["passing"] == 0)


# --- the experiment, end to end ---------------------------------------------------------------------------------


def test_both_students_share_one_learning_rate_and_a_full_fine_tune_keeps_its_own():
    from dataclasses import replace

    from alpaca_course.experiment import experiment_settings, finetune_config
    from alpaca_course.profiles import get_profile

    cpu, gpu = get_profile("cpu"), get_profile("gpu")
    assert finetune_config(cpu, experiment_settings(cpu)).learning_rate == experiment_settings(cpu).learning_rate
    for full in (gpu, replace(cpu, full_finetune=True)):  # a full fine-tune keeps Alpaca's rate, not LoRA's
        assert full.full_finetune and finetune_config(full, experiment_settings(full)).learning_rate == 2e-5


def test_experiment_runs_end_to_end_on_the_quick_profile(tmp_path, monkeypatch, capsys):
    import json

    from alpaca_course.cli import main
    from alpaca_course.data import write_jsonl
    from alpaca_course.resources import load_seed_tasks

    monkeypatch.setenv("ALPACA_COURSE_PROFILE", "quick")
    plain = write_jsonl(tmp_path / "plain.jsonl", [s for s in load_seed_tasks() if s.output][:10])
    assert main(["experiment", "--json", "--quiet", "--rounds", "2", "--out", str(tmp_path / "exp"),
                 "--plain-data", str(plain), "--conditions", "plain", "random", "best+repair", "--method", "best+repair"]) == 0
    result = json.loads(capsys.readouterr().out)
    models = result["models"]["test"]  # the settings' split; the quick profile scores 6 seen + 4 unseen prompts
    assert list(models) == ["base", "plain student", "random-of-k student", "best-of-k + repair student",
                            "round 2 student"]  # one expert iteration
    differences = result["differences"]["test"]
    assert set(differences) == {"all", "seen", "unseen"}
    assert "round 2 student vs best-of-k + repair student" in differences["all"] and len(result["curation"]) == 2
    assert "best-of-k + repair student vs random-of-k student" in differences["all"]
    n = {m["n"] for m in models.values()}
    assert len(n) == 1 and n.pop() == 10  # the same held-out prompts for every model
    assert len({tuple(m["prompt_ids"]) for m in models.values()}) == 1
    for m in models.values():
        low, high = m["intervals"]["prompt_strict"][1:]
        assert 0 <= low <= m["prompt_strict"] <= high <= 1
    for subset, size in (("all", 10), ("seen", 6), ("unseen", 4)):
        for d in differences[subset].values():
            assert d["n"] == size
            assert d["low"] <= d["difference"] <= d["high"] and d["verdict"] in ("better", "worse", "no detectable difference")
    train = result["training"]
    assert len({t["steps"] for t in train.values()}) == 1  # same steps ...
    assert len({t["examples"] for n, t in train.items() if not n.startswith("round")}) == 1  # ... and examples
    curation = result["curation"][0]
    assert curation["kept"]["random"] >= 2 and curation["kept"]["best+repair"] >= 2
    assert (tmp_path / "exp" / "experiment.json").is_file()


# --- "what we saw", written from the numbers ------------------------------------------------------------------


def test_what_we_saw_follows_the_interval_on_both_outcomes():
    from alpaca_course.experiment import contradictions, what_we_saw

    a = [True] * 30 + [False] * 70
    better = paired_bootstrap(a, [True] * 60 + [False] * 40)  # B passes strictly more prompts
    same = paired_bootstrap(a, a)
    worse = paired_bootstrap([True] * 60 + [False] * 40, a)
    differences = {"curated student vs base": better, "plain student vs base": same, "base vs curated student": worse}
    text = what_we_saw(differences)
    assert "The curated student passed more prompts than the base" in text
    assert "The plain student showed no detectable difference from the base" in text
    assert "The base passed fewer prompts than the curated student" in text
    assert contradictions(text, differences) == []
    flipped = text.replace("passed more prompts than", "showed no detectable difference from")
    assert len(contradictions(flipped, differences)) == 1  # a claim the interval does not back is caught
    assert contradictions("", differences)[0].endswith("no sentence about it")


def test_the_cli_trains_the_default_method_against_the_plain_student(tmp_path, monkeypatch):
    from alpaca_course.cli import build_parser
    from alpaca_course.experiment import ExperimentSettings, control_for

    args = build_parser().parse_args(["experiment", "--no-repair"])
    assert args.repair is False and args.method is None
    assert ExperimentSettings().method in ExperimentSettings().conditions
    assert control_for("repair") == control_for("best+repair") == "best" and control_for("best") == "random"
