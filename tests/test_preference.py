"""Preference pairs from the verifier, and DPO on the bundled model: the mechanism, not a claimed gain."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from alpaca_course.constraints import TRAIN, constrained_prompts
from alpaca_course.curation import curate, verify
from alpaca_course.data import DataError
from alpaca_course.pairs import PairCollector, PreferencePair, family_counts, load_pairs, write_pairs
from alpaca_course.preference import (
    DPOSettings,
    answer_logps,
    dpo_loss,
    reward_accuracy,
    reward_margins,
    train_dpo,
    trl_loss,
)
from alpaca_course.teachers import Sampling

LORA = {"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]}


@pytest.fixture(scope="module")
def sampled(teacher):
    """Real best-of-4 samples of the bundled model on constrained training prompts, with the pairs they hold."""
    prompts = constrained_prompts(24, TRAIN, seed=3, kinds=("max_sentences", "max_words", "forbidden", "no_commas",
                                                             "lowercase", "starts_with"))
    seen: dict[str, list] = {}

    class Recorder(PairCollector):
        def add(self, prompt, answers, reasons=None):
            seen[prompt.id] = (prompt, list(answers))
            super().add(prompt, answers, reasons)

    collector = Recorder("verifier+repair")
    curate(teacher, prompts, k=4, sampling=Sampling(max_new_tokens=48, temperature=0.9, top_k=50), methods=("best",),
           progress=False, pairs=collector)
    return collector.pairs, seen


def test_pairs_from_real_best_of_k_output_pass_and_fail_the_same_prompt(sampled):
    pairs, seen = sampled
    assert any(p.meta["chosen_by"] == "verifier" for p in pairs), "no verifier pair in 24 prompts x 4 samples"
    for pair in pairs:
        prompt, answers = seen[pair.meta["prompt_id"]]
        assert pair.prompt == prompt.prompt
        assert verify(prompt, pair.chosen) is None  # every check and every output rule
        assert verify(prompt, pair.rejected).startswith("fails ")  # a check, not a cut or a broken output rule
        written = {a.text.strip(): a.finish_reason for a in answers}
        assert written[pair.rejected] == "stop"  # the rejected answer is one of the samples, and it finished
        if pair.meta["chosen_by"] == "verifier":
            assert pair.chosen in written
        else:  # the program's repair of that same sample, only when no sample passed
            assert pair.meta["passing"] == 0 and pair.chosen not in written
    assert sum(family_counts(pairs).values()) == len(pairs)


def test_only_the_verifier_pairs_when_asked(sampled):
    pairs, seen = sampled
    verifier = PairCollector("verifier")
    for prompt, answers in seen.values():
        verifier.add(prompt, answers)
    assert [p.chosen for p in verifier.pairs] == [p.chosen for p in pairs if p.meta["chosen_by"] == "verifier"]
    with pytest.raises(ValueError, match="unknown pair source"):
        PairCollector("judge")


def test_a_few_dpo_steps_raise_the_implicit_reward_accuracy_on_the_training_pairs(sampled, tmp_path):
    pairs = sampled[0][:8]
    assert len(pairs) >= 4
    from alpaca_course.finetune import FinetuneConfig, load_student

    model, tokenizer = load_student("bundled", FinetuneConfig())
    before = answer_logps(model, tokenizer, pairs)  # the reference: the student before DPO
    del model
    settings = DPOSettings(steps=6, batch_size=2, learning_rate=1e-3, held_out=0.25)
    model, tokenizer, result = train_dpo(pairs, tmp_path / "dpo", settings, progress=False, lora_kwargs=LORA)
    margins = reward_margins(answer_logps(model, tokenizer, pairs), before, settings.beta)
    assert reward_accuracy(reward_margins(before, before, settings.beta)) == 0.5  # ties: where every run starts
    assert reward_accuracy(margins) > 0.5
    assert dpo_loss(margins) < math.log(2)
    assert result.accuracy_before == 0.5 and result.loss_before == pytest.approx(math.log(2))
    assert (tmp_path / "dpo" / "adapter_config.json").is_file() and (tmp_path / "dpo" / "dpo_result.json").is_file()
    assert not (tmp_path / "dpo" / "ref").exists()  # TRL's frozen copy of the adapter is not saved


def test_dpo_on_top_of_an_sft_student_keeps_its_adapter_and_uses_it_as_reference(sampled, tmp_path):
    from alpaca_course.data import InstructionRecord
    from alpaca_course.finetune import FinetuneConfig, train
    from alpaca_course.model_folder import load_trained

    pairs = sampled[0][:6]
    records = [InstructionRecord(p.prompt, "", p.chosen) for p in pairs] * 2
    config = FinetuneConfig(template="chat", max_steps=4, batch_size=2, learning_rate=3e-3,
                            target_modules=("q_proj", "v_proj"))
    train(records, tmp_path / "sft", config, progress=False)
    settings = DPOSettings(steps=3, batch_size=2, learning_rate=1e-3, beta=1.0)
    _, _, result = train_dpo(pairs, tmp_path / "dpo", settings, start=tmp_path / "sft", progress=False)
    assert result.start == str(tmp_path / "sft")
    # the reference is the SFT student itself: the first step's loss is log 2, as for any student at its reference
    assert result.history[0]["loss"] == pytest.approx(math.log(2), abs=0.01)
    sft, _, _ = load_trained(tmp_path / "sft")
    dpo, _, trained = load_trained(tmp_path / "dpo")  # a LoRA student like any other, on the same base
    assert trained.config["dpo"]["beta"] == settings.beta and trained.config["start"] == str(tmp_path / "sft")
    b_sft = {n: p for n, p in sft.named_parameters() if "lora_B" in n}
    b_dpo = {n: p for n, p in dpo.named_parameters() if "lora_B" in n}
    assert b_sft.keys() == b_dpo.keys()
    assert any(p.abs().sum() > 0 for p in b_sft.values())  # the SFT adapter learned something ...
    assert any(not (b_dpo[n] == p).all() for n, p in b_sft.items())  # ... and DPO moved on from it


def test_every_dpo_config_argument_still_exists(tmp_path):
    from trl import DPOConfig

    from alpaca_course.preference import dpo_config_kwargs

    kwargs = dpo_config_kwargs(DPOSettings(beta=0.3, steps=5), str(tmp_path), None, "cpu")
    config = DPOConfig(**kwargs)  # a renamed argument raises TypeError here
    assert (config.beta, config.max_steps, config.precompute_ref_log_probs) == (0.3, 5, True)
    assert config.warmup_steps == 0  # a run this short must not spend its steps warming up
    # four pairs a step, two per forward pass: the gradients of two passes add up to one step
    assert (config.per_device_train_batch_size, config.gradient_accumulation_steps) == (2, 2)
    whole = DPOConfig(**dpo_config_kwargs(DPOSettings(micro_batch_size=None), str(tmp_path), None, "cpu"))
    assert (whole.per_device_train_batch_size, whole.gradient_accumulation_steps) == (4, 1)


def test_a_pair_too_long_is_left_out_not_cut(teacher):
    from alpaca_course.preference import pair_rows

    short = PreferencePair("Say hi.", "hi", "Hello there")
    long = PreferencePair("Say hi.", "hi " * 400, "Hello")
    assert pair_rows(teacher.tokenizer, short, 64) is not None
    assert pair_rows(teacher.tokenizer, long, 64) is None


def test_the_loss_written_by_hand_matches_trl(teacher):
    pair = PreferencePair("Name a colour. Use only lowercase letters.", "blue", "Blue")
    loss, chosen, rejected = trl_loss(teacher.model, teacher.tokenizer, pair, -9.0, -7.5, beta=0.3)
    assert loss == pytest.approx(dpo_loss(reward_margins([(chosen, rejected)], [(-9.0, -7.5)], 0.3)), rel=1e-4)
    assert loss != pytest.approx(math.log(2))  # the reference given, not the model itself


def test_pairs_file_round_trip_and_one_line_errors(tmp_path):
    pairs = [PreferencePair("p", "good", "bad", {"chosen_by": "verifier", "rejected_because": "fails lowercase"})]
    path = write_pairs(tmp_path / "pairs.jsonl", pairs)
    assert load_pairs(path) == pairs
    bad = {"missing": {"prompt": "p", "chosen": "a"}, "same": {"prompt": "p", "chosen": "a", "rejected": "a"},
           "type": {"prompt": "p", "chosen": 3, "rejected": "a"}, "extra": {"prompt": "p", "chosen": "a",
                                                                              "rejected": "b", "score": 1}}
    fields = {"missing": "rejected", "same": "rejected", "type": "chosen", "extra": "score"}
    for name, row in bad.items():
        file = tmp_path / f"{name}.jsonl"
        file.write_text(json.dumps(pairs[0].to_dict()) + "\n" + json.dumps(row) + "\n")
        with pytest.raises(DataError) as err:
            load_pairs(file)
        assert err.value.line == 2 and err.value.field == fields[name], str(err.value)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no preference pairs"):
        load_pairs(tmp_path / "empty.jsonl")


def test_cli_train_dpo_reports_a_bad_pairs_file_in_one_line(tmp_path):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a"}\n')
    run = subprocess.run([sys.executable, "-m", "alpaca_course", "train", "--dpo", str(bad), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert f"{bad}, line 1, field 'rejected': is missing" in run.stderr
    assert not (tmp_path / "out").exists()
