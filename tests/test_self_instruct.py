import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from alpaca_course.data import read_jsonl
from alpaca_course.filters import first_broken_rule
from alpaca_course.profiles import get_profile
from alpaca_course.resources import load_lines
from alpaca_course.run_log import read_run_log, run_log_path
from alpaca_course.self_instruct import (
    ALPACA,
    SELF_INSTRUCT,
    encode_prompt,
    generate,
    generation_settings,
    load_seed_tasks,
    parse_numbered,
)


def test_packaged_seed_tasks_are_ours_and_varied():
    seeds = load_seed_tasks()
    assert len(seeds) >= 150
    assert len({s.meta["type"] for s in seeds}) >= 20
    share_with_input = sum(bool(s.input) for s in seeds) / len(seeds)
    assert 0.3 <= share_with_input <= 0.5
    assert any(s.meta["is_classification"] for s in seeds)
    assert len({s.meta["name"] for s in seeds}) == len(seeds)
    assert all(first_broken_rule(s.instruction) is None for s in seeds), "seeds must pass our own filters"


def test_persona_and_topic_lists():
    personas, topics = load_lines("personas.txt"), load_lines("topics.txt")
    assert len(set(personas)) >= 100 and len(set(topics)) >= 100


def test_defaults_are_alpacas():
    assert (ALPACA.num_prompt_instructions, ALPACA.temperature, ALPACA.top_p) == (3, 1.0, 1.0)
    assert ALPACA.rouge_threshold == 0.7 and ALPACA.stop_number() == 20  # so at most 16 new items
    assert SELF_INSTRUCT.num_machine_instructions == 2 and SELF_INSTRUCT.top_p == 0.5


def test_prompt_numbers_the_demos_and_ends_at_the_next_item():
    seeds = load_seed_tasks()[:3]
    prompt = encode_prompt(seeds)
    assert prompt.endswith("4. Instruction:")
    assert "1. Instruction:" in prompt and "3. Input:" in prompt and "<noinput>" in prompt


def test_parser_tolerates_small_model_mess():
    text = (" Name three rivers in Africa.\n4. Input: <noinput>\n\n"
            "5. instruction: Translate the sentence into Italian:\n5. Input: Good night,\nsleep well.\n\n"
            "6) Summarize the news story\n"
            "7. Instruction:\nDescribe a sunset.\n7. Input: N/A\n\n"
            "These tasks are all useful for practice.\nAlso try harder ones.\n")
    items = parse_numbered(text, first_number=4)
    assert [i.instruction for i in items] == [
        "Name three rivers in Africa.", "Translate the sentence into Italian", "Summarize the news story",
        "Describe a sunset."]
    assert [i.input for i in items] == ["", "Good night,\nsleep well.", "", ""]
    assert [i.number for i in items] == [4, 5, 6, 7]
    assert len(parse_numbered(text, 4, truncated=True)) == 3


def test_an_input_that_repeats_the_instruction_counts_as_no_input():
    items = parse_numbered(" Create a playlist of 10 songs.\n4. Input: create a playlist of 10 songs\n"
                           "5. Instruction: Sort the numbers.\n5. Input: 3, 1, 2", 4)
    assert [(i.instruction, i.input) for i in items] == [("Create a playlist of 10 songs.", ""),
                                                         ("Sort the numbers.", "3, 1, 2")]


def test_parser_ignores_outputs_and_prose():
    items = parse_numbered(" Add the numbers.\n4. Input: 2 and 5\n4. Output: 7\nThat is all!", 4)
    assert len(items) == 1 and items[0].input == "2 and 5"
    assert parse_numbered("", 4) == []


def _run_small(teacher, path, n, seed):
    settings = generation_settings(get_profile("quick"))
    return generate(teacher, n, path, seed=seed, settings=settings, progress=False)


def test_generation_end_to_end_is_deterministic_and_resumes(teacher, tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log = _run_small(teacher, first, 4, seed=11)
    _run_small(teacher, second, 4, seed=11)
    assert first.read_bytes() == second.read_bytes()  # same seed, profile and machine: same file
    records = read_jsonl(first)
    assert len(records) == 4 and len({r.instruction for r in records}) == 4
    for r in records:
        assert r.output.strip() and first_broken_rule(r.instruction) is None
        assert r.meta["max_rouge"] <= 0.7 and r.meta["source"] == "generated"
    assert log.prompts > 0 and log.written == 4 and read_run_log(first).written == 4
    # Asking for more appends to the same file and keeps what is there.
    _run_small(teacher, first, 6, seed=11)
    grown = read_jsonl(first)
    assert len(grown) == 6 and [r.instruction for r in grown[: len(records)]] == [r.instruction for r in records]


def test_a_run_cut_after_a_group_of_rounds_resumes_to_the_same_file(teacher, tmp_path, monkeypatch):
    """Rounds whose lists were proposed in one call are written in one go; a kill leaves whole groups."""
    from alpaca_course import self_instruct

    settings = dataclasses.replace(generation_settings(get_profile("quick")), batch_size=2)
    monkeypatch.setattr(self_instruct, "LIST_ROWS", 4)  # 2 prompts a round: 2 rounds a group
    first_group = self_instruct.rounds_ahead(settings, 10, 0, 0)
    assert first_group == 2
    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    generate(teacher, 10, whole, seed=4, settings=settings, progress=False)
    lines = whole.read_text().splitlines(keepends=True)
    batches = [json.loads(x)["meta"]["batch"] for x in lines]
    first = [x for x, b in zip(lines, batches, strict=True) if b < first_group]
    assert 0 < len(first) < len(lines) and max(batches) >= first_group + 1, "needs groups of two rounds after the first"
    # What a kill during the second group's write leaves: the first group, and half a line of the second.
    cut.write_text("".join(first) + lines[len(first)][:25])
    run_log_path(cut).write_text(run_log_path(whole).read_text())  # the run log of ours that says we wrote it
    generate(teacher, 10, cut, seed=4, settings=settings, progress=False)
    assert cut.read_bytes() == whole.read_bytes()


@pytest.mark.slow
def test_kill_at_random_points_and_restart(tmp_path):
    """SIGKILL a real `generate` run at random moments; restarts end with exactly N unique records."""
    n, out = 8, tmp_path / "killed.jsonl"
    command = [sys.executable, "-m", "alpaca_course", "generate", "--n", str(n), "--out", str(out),
               "--seed", "5", "--quiet"]
    env = {**os.environ, "ALPACA_COURSE_PROFILE": "quick"}
    rng = random.Random(2024)
    kills = 0
    seen: list[str] = []
    for attempt in range(6):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill at a random moment (start-up, generation, writing); the last attempt runs to the end. A whole run
        # takes about 12 s here (start-up alone over 4 s), so the first kill always lands before the end.
        limit = rng.uniform(1, 4) if attempt == 0 else rng.uniform(1, 10) if attempt < 5 else 600
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        lines = [json.loads(x)["instruction"] for x in out.read_text().splitlines()[:-1]] if out.exists() else []
        assert lines[: len(seen)] == seen[: len(lines)], "a finished record changed or vanished"
        seen = max(seen, lines, key=len)
        if process.returncode == 0:
            break
        time.sleep(0.2)
    assert process.returncode == 0, "never finished"
    records = read_jsonl(out)
    assert len(records) == n and len({r.instruction for r in records}) == n
    assert kills >= 1, "the run was never killed; lower the kill times"


def test_a_stale_lock_from_a_killed_run_is_taken_over(teacher, tmp_path):
    from alpaca_course.locking import lock_path

    out = tmp_path / "stale.jsonl"
    lock_path(out).write_text("999999\n")  # what SIGKILL leaves: the file, but no process holding its lock
    _run_small(teacher, out, 2, seed=3)
    assert len(read_jsonl(out)) == 2 and not lock_path(out).exists()


@pytest.mark.slow
def test_a_second_generate_on_a_file_in_use_is_refused(tmp_path):
    from alpaca_course.locking import lock_path

    out = tmp_path / "shared.jsonl"
    command = [sys.executable, "-m", "alpaca_course", "generate", "--n", "40", "--out", str(out), "--quiet"]
    env = {**os.environ, "ALPACA_COURSE_PROFILE": "quick"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not (lock_path(out).exists() and lock_path(out).read_text().strip()) and time.time() < deadline:
            time.sleep(0.1)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        assert f"PID {first.pid}" in second.stderr and "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    records = read_jsonl(out) if out.exists() and out.read_text().endswith("\n") else []
    assert len({r.instruction for r in records}) == len(records), "only one writer: no duplicates"


def test_a_round_without_answers_counts_slots_and_keeps_no_records(teacher):
    from alpaca_course.filters import Funnel
    from alpaca_course.self_instruct import generation_round, pick_demos

    settings = generation_settings(get_profile("quick"))
    demos = [pick_demos(random.Random(i), load_seed_tasks(), [], settings) for i in range(2)]
    funnel = Funnel()
    result = generation_round(teacher, demos, settings, seed=1, funnel=funnel, answer=False)
    assert result.slots == 2 * settings.slots_per_prompt() and result.records == []
    assert len(result.novel) <= len(result.passed) <= len(result.candidates) <= result.slots
    assert funnel.entered == len(result.candidates)


class SeedEcho:
    """A teacher that writes each request's seed into its one new instruction, and keeps every call's sampling."""

    name, tokenizer = "echo", None

    def __init__(self):
        self.calls = []

    def complete(self, prompts, sampling):
        from alpaca_course.teachers import Completion

        self.calls.append(sampling)
        sampling.check(len(prompts))
        return [Completion(f" Write the number {sampling.seed_of(i)} in words.\n", 1, 1, "stop") for i in range(len(prompts))]


def test_rounds_proposed_together_keep_the_seeds_each_has_alone():
    from alpaca_course.self_instruct import pick_demos, propose, propose_rounds

    settings = generation_settings(get_profile("quick"))
    rounds = [([pick_demos(random.Random(r), load_seed_tasks(), [], settings) for _ in range(3)], 100 * r + 7)
              for r in range(3)]
    together = SeedEcho()
    grouped = propose_rounds(together, rounds, settings)
    assert len(together.calls) == 1 and len(together.calls[0].seeds) == 9, "three rounds, one call"
    alone = [propose(SeedEcho(), demos, settings, seed) for demos, seed in rounds]
    as_text = [[(c.instruction, c.prompt_index, c.number) for c in cands] for cands in grouped]
    assert as_text == [[(c.instruction, c.prompt_index, c.number) for c in cands] for cands in alone]
    assert as_text[1][2][0] == "Write the number 109 in words.", "round 1's third prompt: its seed 107 + 2"


class AnswerEcho:
    """A chat teacher whose answer names its seed; seeds divisible by 3 are cut at the first budget."""

    name, tokenizer = "echo", None

    def __init__(self):
        self.calls = []

    def chat(self, conversations, sampling):
        from alpaca_course.teachers import Completion

        self.calls.append(len(conversations))
        sampling.check(len(conversations))
        seeds = [sampling.seed_of(i) for i in range(len(conversations))]
        return [Completion(f"Answer {s} at {sampling.max_new_tokens} tokens.", 1, 1,
                           "length" if s % 3 == 0 and sampling.max_new_tokens < 100 else "stop") for s in seeds]


def test_rounds_answered_together_get_what_each_round_gets_alone():
    from alpaca_course.filters import TRUNCATED, Funnel
    from alpaca_course.self_instruct import Candidate, answer_rounds, checked_outputs

    settings = generation_settings(get_profile("quick"))
    rounds = [([Candidate(f"Name {w} red fruits, please.") for w in ("two", "three", "four", "five")], 10 * r + 4)
              for r in range(3)]
    together = AnswerEcho()
    grouped = answer_rounds(together, rounds, settings)
    assert together.calls[0] == 12 and len(together.calls) == 2, "one call for every answer, one for the cut ones"
    for (cands, seed), answers in zip(rounds, grouped, strict=True):
        funnel = Funnel()
        alone = checked_outputs(AnswerEcho(), cands, settings, seed, funnel)
        assert [(i, text, again) for i, (text, finish, again) in enumerate(answers) if finish == "stop"] == alone
        assert funnel.removed[TRUNCATED] == sum(finish == "length" for _, finish, _ in answers)
    assert grouped[0][2] == (f"Answer {4 + 7} at {2 * settings.output_max_new_tokens} tokens.", "stop", True), \
        "round 0's first cut answer (seed 6) is asked again at its seed + 7"


def test_a_grouped_call_on_the_generate_engine_runs_each_round_as_its_own_batch(monkeypatch):
    from alpaca_course.teachers import LocalTeacher, Sampling

    teacher = LocalTeacher(model=None, tokenizer=None, engine="generate", slots=64)
    seen = []
    monkeypatch.setattr(teacher, "_generate_batch", lambda texts, sampling, special: seen.append(
        (len(texts), sampling.seed, sampling.seeds)) or [None] * len(texts))
    teacher._generate_hf(["p"] * 7, Sampling(seeds=(50, 51, 52, 90, 91, 92, 93)), True)
    assert seen == [(3, 50, ()), (4, 90, ())]
    with pytest.raises(ValueError, match="3 seeds for 2 prompts"):
        teacher._generate(["a", "b"], Sampling(seeds=(1, 2, 3)), True)


def test_what_we_saw_in_a_run_is_read_from_its_counts():
    from dataclasses import asdict

    from alpaca_course.run_log import RunLog, what_we_saw
    from alpaca_course.self_instruct import ALPACA

    removed = {"too short (<4 words)": 3, "too similar (ROUGE-L > 0.7)": 15, "output cut at the token limit": 2}
    log = RunLog(settings=asdict(ALPACA) | {"an_old_setting": 1}, teacher="t", seed=0, prompts=10, parsed=30,
                 written=10, funnel={"entered": 30, "removed": removed})
    saw = what_we_saw(log)
    assert "10 of 160" in saw and "30 of 160" in saw  # 10 prompts x 16 slots (Alpaca's list of 20 after 3 demos)
    assert "'too similar (ROUGE-L > 0.7)', 15 of 27" in saw  # 27 reached the novelty filter after 3 were too short
    assert "2 of 12" in saw and "95% interval" in saw


def test_a_resume_with_another_recipe_stops_and_changes_nothing(teacher, tmp_path):
    from alpaca_course.data import DataError

    out = tmp_path / "mixed.jsonl"
    _run_small(teacher, out, 2, seed=3)
    before, log_before = out.read_bytes(), run_log_path(out).read_bytes()
    with pytest.raises(DataError, match="seed 3, this run asks for 4"):
        _run_small(teacher, out, 4, seed=4)
    renamed = dataclasses.replace(teacher, name="another-teacher")
    with pytest.raises(DataError, match="teacher"):
        _run_small(renamed, out, 4, seed=3)
    assert out.read_bytes() == before and run_log_path(out).read_bytes() == log_before
