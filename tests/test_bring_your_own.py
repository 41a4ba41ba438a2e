"""Your own seed tasks, your own evaluation prompts, and two data files compared at one N.

tests/data/garden_seed_tasks.jsonl is written for these tests in Self-Instruct's seed-task format
(`instances`, `is_classification`); tests/data/my_prompts.jsonl mixes prompts with checks and
records with a reference output.
"""

import json
from pathlib import Path

import pytest

from alpaca_course.cli import main
from alpaca_course.data import DataError, load_records, read_jsonl, to_dataset
from alpaca_course.verifier import load_prompt_file

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "garden_seed_tasks.jsonl"
PROMPTS = DATA / "my_prompts.jsonl"


def one_error_line(capsys, *argv) -> str:
    status = main(list(argv))
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_a_self_instruct_seed_file_reads_as_records():
    records = load_records(SEEDS)
    assert len(records) == 8
    pests = next(r for r in records if r.meta["name"] == "pest_identify")
    assert pests.input.startswith("Silvery trails") and pests.output == "Slugs or snails."
    assert pests.meta["is_classification"] is True and pests.meta["id"] == "seed_task_4"


def test_every_seed_format_gives_the_same_records(tmp_path):
    records = list(load_records(SEEDS))
    alpaca = tmp_path / "seeds.json"
    alpaca.write_text(json.dumps([r.to_dict() for r in records]))
    plain = tmp_path / "seeds.jsonl"
    plain.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in records))
    saved = tmp_path / "saved"
    to_dataset(records).save_to_disk(str(saved))
    for path in (alpaca, plain, saved):
        again = load_records(path)
        assert [(r.instruction, r.input, r.output) for r in again] == [(r.instruction, r.input, r.output) for r in records]


def test_a_saved_dataset_in_seed_format_and_a_dataset_dict(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = [json.loads(line) for line in SEEDS.read_text().splitlines()]
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "seedfmt"))
    assert len(load_records(tmp_path / "seedfmt")) == 8
    DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "dd"))
    assert load_records(tmp_path / "dd")[0].meta["name"] == rows[0]["name"]


@pytest.mark.parametrize("row, field", [
    ({"instruction": "x", "instances": []}, "instances"),
    ({"instruction": "x", "instances": ["text"]}, "instances[0]"),
    ({"instruction": "x", "instances": [{"input": ""}]}, "instances[0].output"),
    ({"instruction": "x", "instances": [{"input": 3, "output": "y"}]}, "instances[0].input"),
    ({"instances": [{"input": "", "output": "y"}]}, "instruction"),
])
def test_a_bad_seed_task_names_file_line_and_field(tmp_path, row, field):
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps({"instruction": "ok", "instances": [{"input": "", "output": "fine"}]}) + "\n"
                    + json.dumps(row) + "\n")
    with pytest.raises(DataError) as err:
        load_records(path)
    assert (err.value.line, err.value.field) == (2, field) and "seeds.jsonl" in str(err.value)


def test_an_ordinary_folder_is_not_a_dataset(capsys, tmp_path):
    line = one_error_line(capsys, "generate", "--n", "2", "--out", str(tmp_path / "o.jsonl"), "--seeds", str(tmp_path))
    assert str(tmp_path) in line and "save_to_disk" in line
    assert not (tmp_path / "o.jsonl").exists()


def test_a_bad_seed_file_fails_before_anything_is_written(capsys, tmp_path):
    bad = tmp_path / "seeds.jsonl"
    bad.write_text(json.dumps({"instruction": "x", "instances": [{"input": ""}]}) + "\n")
    line = one_error_line(capsys, "generate", "--n", "2", "--out", str(tmp_path / "o.jsonl"), "--seeds", str(bad))
    assert "seeds.jsonl" in line and "line 1" in line and "instances[0].output" in line
    assert not (tmp_path / "o.jsonl").exists()


def test_generate_from_your_own_seed_tasks(capsys, tmp_path):
    out = tmp_path / "garden.jsonl"
    assert main(["generate", "--n", "2", "--out", str(out), "--seeds", str(SEEDS), "--quiet"]) == 0
    records = read_jsonl(out)
    assert len(records) == 2 and all(r.instruction.strip() and r.output.strip() for r in records)
    seeds = {r.instruction for r in load_records(SEEDS)}
    assert not seeds & {r.instruction for r in records}  # the novelty filter compares with *your* seeds
    log = json.loads(out.with_name(out.name + ".run.json").read_text())
    assert log["seed_tasks"] == str(SEEDS) and log["written"] == 2
    assert "records in" in capsys.readouterr().out


def test_your_own_prompt_file_reads_checks_and_references():
    prompts = load_prompt_file(PROMPTS)
    assert [bool(p.checks) for p in prompts] == [True, True, False, False]
    assert prompts[3].reference == "The cat slept on the mat." and "The cat sleeps" in prompts[3].prompt
    assert prompts[0].id == "mine-1" and prompts[2].id == "my_prompts-0003"


@pytest.mark.parametrize("row, field", [
    ({"prompt": "Say hi.", "checks": [{"kind": "shouting"}]}, "checks[0].kind"),
    ({"prompt": "Say hi.", "checks": [{"kind": "max_words"}]}, "checks[0].n"),
    ({"prompt": "Say hi.", "checks": [{"kind": "keywords", "words": []}]}, "checks[0].words"),
    ({"prompt": "Say hi.", "checks": {"kind": "json"}}, "checks"),
    ({"prompt": "Say hi."}, "checks"),
    ({"prompt": ""}, "prompt"),
    ({"instruction": "Say hi."}, "checks"),
])
def test_a_bad_prompt_names_file_line_and_field(tmp_path, row, field):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prompt": "fine", "checks": [{"kind": "json"}]}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError) as err:
        load_prompt_file(path)
    assert (err.value.line, err.value.field) == (2, field)


def test_evaluate_on_your_own_prompts(capsys):
    assert main(["evaluate", "--prompts", str(PROMPTS), "--json"]) == 0
    checked, referenced = json.loads(capsys.readouterr().out)
    assert checked["n"] == 2 and checked["prompt_ids"] == ["mine-1", "mine-2"] and 0 <= checked["prompt_strict"] <= 1
    assert referenced["score"] == "rouge_l" and referenced["n"] == 2
    assert all(0 <= x <= 1 for x in referenced["per_prompt"]) and len(referenced["responses"]) == 2
    assert main(["evaluate", "--prompts", str(PROMPTS), "--n", "2"]) == 0
    text = capsys.readouterr().out
    assert "prompt-level strict" in text and "ROUGE-L" not in text  # only the first two (checked) prompts


def test_two_files_are_compared_at_the_smaller_ones_size(capsys, tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"instruction": f"Write a note about topic number {i} and colour {i * 7}.",
                                       "output": "ok"}) + "\n" for i in range(30)))
    assert main(["diversity", str(SEEDS), str(big), "--json"]) == 0
    small_report, big_report = json.loads(capsys.readouterr().out)
    assert small_report["n"] == big_report["n"] == 8
    assert small_report["samples"] == 1 and big_report["samples"] == 10
    assert main(["diversity", str(SEEDS), str(big)]) == 0
    assert "N = 8 texts from each file" in capsys.readouterr().out


@pytest.mark.parametrize("damage, words", [
    ("outside", "must name a file inside"),
    ("missing", "which is not in"),
    ("state", "invalid JSON"),
    ("arrow", "could not be read as a saved dataset"),
    ("splits", "must name a file inside"),
])
def test_a_damaged_saved_dataset_is_one_line_and_nothing_outside_it_is_read(tmp_path, damage, words):
    from datasets import Dataset, DatasetDict

    rows = [json.loads(line) for line in SEEDS.read_text().splitlines()]
    folder = tmp_path / "saved"
    if damage == "splits":
        DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(folder))
        (folder / "dataset_dict.json").write_text(json.dumps({"splits": ["../elsewhere"]}))
    else:
        Dataset.from_list(rows).save_to_disk(str(folder))
        state = json.loads((folder / "state.json").read_text())
        arrow = folder / state["_data_files"][0]["filename"]
        if damage == "outside":  # a copy of the data one folder up, named as if it were ours
            arrow.rename(tmp_path / "stolen.arrow")
            state["_data_files"][0]["filename"] = "../stolen.arrow"
        elif damage == "missing":
            state["_data_files"][0]["filename"] = "nothing-here.arrow"
        elif damage == "arrow":
            arrow.write_bytes(arrow.read_bytes()[:100])
        (folder / "state.json").write_text("{broken" if damage == "state" else json.dumps(state))
    with pytest.raises(DataError) as err:
        load_records(folder)
    assert words in str(err.value) and "\n" not in str(err.value), err.value
