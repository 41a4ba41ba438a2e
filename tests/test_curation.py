"""Output-quality rules, constrained instructions, best-of-k curation, intervals and the experiment."""

from __future__ import annotations

import random

import pytest

from alpaca_course.constraints import (
    EVAL,
    FAMILIES,
    TRAIN,
    base_instructions,
    constrained_prompts,
    draw_check,
    held_out_prompts,
    phrasing_fragments,
)
from alpaca_course.curation import REPAIRS, best_of_k, repair, sentences, verify
from alpaca_course.evaluation import CHECKS, bootstrap_ci, check, paired_bootstrap, wilson_interval
from alpaca_course.filters import (
    OUTPUT_RULES,
    TRUNCATED,
    Funnel,
    degenerate_repetition,
    first_broken_output_rule,
    near_empty,
    repeats_prompt,
)
from alpaca_course.teachers import Sampling

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
    from alpaca_course.finetune import FinetuneConfig, build_dataset, tokenize_example

    cut = InstructionRecord("List ten rivers.", "", "1. Nile 2. Amazon 3.", {"output_truncated": True})
    whole = InstructionRecord("Name a river.", "", "The Nile.", {"output_truncated": False})
    config = FinetuneConfig()
    assert tokenize_example(teacher.tokenizer, cut, config) is None
    dataset, skipped = build_dataset(teacher.tokenizer, [cut, whole], config)
    assert len(dataset) == 1 and skipped == 1


# --- constrained instructions -----------------------------------------------------------------------------


def test_every_family_is_a_check_with_three_phrasings_on_each_side():
    assert set(FAMILIES) <= set(CHECKS)
    for family in FAMILIES.values():
        assert len(set(family.train)) >= 3 and len(set(family.eval)) >= 3, family.kind
        assert not set(family.train) & set(family.eval), family.kind
        assert not set(family.train_values) & set(family.eval_values), family.kind


def test_training_phrasings_never_appear_in_an_evaluation_prompt():
    evaluation = [p.prompt.lower() for p in held_out_prompts(400)]  # generated held-out + hand-written
    for family in FAMILIES.values():
        for phrasing in family.train:
            for fragment in phrasing_fragments(phrasing):
                leaks = [p for p in evaluation if fragment in p]
                assert not leaks, f"training phrasing {fragment!r} appears in {leaks[0]!r}"


def test_base_instructions_of_training_and_evaluation_are_disjoint():
    train, held = dict(base_instructions(TRAIN)), dict(base_instructions(EVAL))
    assert len(train) >= 30 and len(held) >= 30
    assert not set(train) & set(held) and not set(train.values()) & set(held.values())
    used_in_training = {p.prompt for p in constrained_prompts(400, TRAIN)}
    for p in held_out_prompts(200, handwritten=0):
        assert not any(p.prompt.startswith(instruction) for instruction in train.values())
        assert p.prompt not in used_in_training


def test_held_out_set_has_at_least_200_prompts_and_every_family():
    prompts = held_out_prompts()
    assert len(prompts) >= 200 and len({p.id for p in prompts}) == len(prompts)
    kinds = {c["kind"] for p in prompts for c in p.checks}
    assert kinds == set(FAMILIES)


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
    from alpaca_course.evaluation import EvalPrompt

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
    from alpaca_course.evaluation import EvalPrompt

    for spec in ({"kind": "keywords", "words": ["zebra"]}, {"kind": "forbidden", "words": ["the"]},
                 {"kind": "min_words", "n": 500}):
        assert repair(EvalPrompt("x", "Describe the sea.", [spec]), "The sea is big. It is blue.") is None
    assert sentences("- It is big.\n2. It is blue! And then") == ["It is big.", "It is blue!"]


def test_best_of_k_with_repair_marks_what_a_program_edited(teacher):
    prompts = constrained_prompts(4, TRAIN, seed=2, kinds=["uppercase", "quoted"])
    records, report = best_of_k(teacher, prompts, k=2, sampling=Sampling(max_new_tokens=48, temperature=0.9),
                                progress=False, repair_answers=True)
    by_prompt = {p.prompt: p for p in prompts}
    assert report.repaired == sum(r.meta["repaired"] for r in records) <= report.solved == len(records)
    for r in records:
        assert verify(by_prompt[r.instruction], r.output) is None
        assert r.meta["repaired"] == (r.meta["passing"] == 0)


# --- the experiment, end to end ---------------------------------------------------------------------------------


def test_both_students_share_one_learning_rate_and_a_full_fine_tune_keeps_its_own():
    from alpaca_course.experiment import finetune_config, settings_for_profile
    from alpaca_course.profiles import get_profile, with_overrides

    cpu, gpu = get_profile("cpu"), get_profile("gpu")
    assert finetune_config(cpu, settings_for_profile(cpu)).learning_rate == settings_for_profile(cpu).learning_rate
    for full in (gpu, with_overrides(cpu, full_finetune=True)):  # a full fine-tune keeps Alpaca's rate, not LoRA's
        assert full.full_finetune and finetune_config(full, settings_for_profile(full)).learning_rate == 2e-5


def test_experiment_runs_end_to_end_on_the_quick_profile(tmp_path, monkeypatch, capsys):
    import json

    from alpaca_course.cli import main
    from alpaca_course.data import write_jsonl
    from alpaca_course.resources import load_seed_tasks

    monkeypatch.setenv("ALPACA_COURSE_PROFILE", "quick")
    plain = write_jsonl(tmp_path / "plain.jsonl", [s for s in load_seed_tasks() if s.output][:10])
    assert main(["experiment", "--json", "--quiet", "--rounds", "2", "--out", str(tmp_path / "exp"),
                 "--plain-data", str(plain)]) == 0
    result = json.loads(capsys.readouterr().out)
    models = result["models"]
    assert list(models) == ["base", "plain student", "curated student", "round 2 student"]  # one expert iteration
    assert "round 2 student vs curated student" in result["differences"] and len(result["curation"]) == 2
    n = {m["n"] for m in models.values()}
    assert len(n) == 1 and n.pop() == 12  # the same held-out prompts for all three
    assert len({tuple(m["prompt_ids"]) for m in models.values()}) == 1
    for m in models.values():
        low, high = m["intervals"]["prompt_strict"][1:]
        assert 0 <= low <= m["prompt_strict"] <= high <= 1
    for d in result["differences"].values():
        assert d["low"] <= d["difference"] <= d["high"] and d["verdict"] in ("better", "worse", "no detectable difference")
    train = result["training"]
    assert train["plain student"]["steps"] == train["curated student"]["steps"] == train["round 2 student"]["steps"]
    assert result["curation"][0]["solved"] >= 2 and train["curated student"]["examples"] >= 1
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
