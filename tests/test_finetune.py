from dataclasses import fields

import pytest

from alpaca_course.data import InstructionRecord
from alpaca_course.finetune import (
    IGNORE_INDEX,
    FinetuneConfig,
    PadCollator,
    lora_config_kwargs,
    sft_config_kwargs,
    tokenize_example,
    train,
)
from alpaca_course.self_instruct import load_seed_tasks
from alpaca_course.templates import alpaca_prompt

RECORD = InstructionRecord("Add the numbers.", "2 and 3", "The sum is 5.")


@pytest.mark.parametrize("template", ["alpaca", "chat"])
def test_labels_mask_the_prompt_and_train_the_response_and_eos(teacher, template):
    tok = teacher.tokenizer
    row = tokenize_example(tok, RECORD, FinetuneConfig(template=template))
    ids, labels = row["input_ids"], row["labels"]
    trained = [i for i, label in enumerate(labels) if label != IGNORE_INDEX]
    first = trained[0]
    assert all(label == IGNORE_INDEX for label in labels[:first]), "every prompt token is masked"
    assert labels[first:] == ids[first:], "every response token is trained"
    assert ids[-1] == tok.eos_token_id and labels[-1] == tok.eos_token_id, "the final EOS is trained"
    assert tok.decode(ids[first:], skip_special_tokens=True).strip() == RECORD.output
    if template == "alpaca":
        assert tok.decode(ids[:first]) == alpaca_prompt(RECORD.instruction, RECORD.input)


def test_train_on_inputs_trains_everything(teacher):
    row = tokenize_example(teacher.tokenizer, RECORD, FinetuneConfig(train_on_inputs=True))
    assert row["labels"] == row["input_ids"]


def test_too_long_examples_are_skipped_not_cut(teacher):
    assert tokenize_example(teacher.tokenizer, RECORD, FinetuneConfig(max_length=10)) is None


def test_collator_keeps_eos_although_pad_equals_eos(teacher):
    tok = teacher.tokenizer
    assert tok.pad_token_id == tok.eos_token_id  # the trap this collator avoids
    rows = [tokenize_example(tok, RECORD, FinetuneConfig()),
            tokenize_example(tok, InstructionRecord("Say hi.", "", "Hi!"), FinetuneConfig())]
    batch = PadCollator(tok.pad_token_id)(rows)
    short = 1 if len(rows[1]["input_ids"]) < len(rows[0]["input_ids"]) else 0
    n = len(rows[short]["input_ids"])
    assert batch["labels"][short, n - 1] == tok.eos_token_id  # the real EOS: trained
    assert (batch["labels"][short, n:] == IGNORE_INDEX).all()  # the padding (same id!): ignored
    assert batch["attention_mask"][short, n:].sum() == 0


def test_keyword_arguments_still_exist():
    """API drift: every keyword we pass to TRL's SFTConfig and peft's LoraConfig must still exist."""
    from peft import LoraConfig
    from trl import SFTConfig

    sft_fields = {f.name for f in fields(SFTConfig)}
    assert set(sft_config_kwargs(FinetuneConfig(), "out", "float32")) <= sft_fields
    assert set(lora_config_kwargs(FinetuneConfig())) <= {f.name for f in fields(LoraConfig)}


@pytest.mark.slow
def test_short_lora_run_lowers_held_out_loss_and_stops_at_eos(tmp_path):
    from alpaca_course.evaluation import load_eval_prompts, respond

    records = load_seed_tasks()
    config = FinetuneConfig(max_steps=12, batch_size=4, max_length=160, learning_rate=5e-4)
    model, tokenizer, result = train(records[:120], tmp_path / "adapter", config, eval_records=records[150:],
                                     progress=False)
    assert result.eval_loss_after < result.eval_loss_before
    assert 0 < result.trainable_params < result.total_params / 100
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert "base_model:" in (tmp_path / "adapter" / "README.md").read_text()
    texts, stopped = respond(model, tokenizer, load_eval_prompts(limit=6), template="alpaca", max_new_tokens=120)
    assert sum(stopped) >= 5, "the fine-tuned model should end its answers with EOS"
    from alpaca_course.finetune import load_adapter

    merged, _ = load_adapter(tmp_path / "adapter", merge=True)
    assert not hasattr(merged, "peft_config")
