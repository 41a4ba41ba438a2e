from dataclasses import fields

import pytest

from alpaca_course.data import InstructionRecord
from alpaca_course.finetune import FinetuneConfig, lora_config_kwargs, sft_config_kwargs, train
from alpaca_course.self_instruct import load_seed_tasks
from alpaca_course.templates import alpaca_prompt
from alpaca_course.tokenizing import IGNORE_INDEX, PadCollator, tokenize_example

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
    assert set(sft_config_kwargs(FinetuneConfig(), "out", "fp16")) <= sft_fields
    assert set(lora_config_kwargs(FinetuneConfig())) <= {f.name for f in fields(LoraConfig)}


@pytest.mark.slow
def test_short_lora_run_lowers_held_out_loss_and_stops_at_eos(tmp_path):
    from alpaca_course.evaluation import respond
    from alpaca_course.verifier import load_eval_prompts

    records = load_seed_tasks()
    config = FinetuneConfig(max_steps=12, batch_size=4, max_length=160, learning_rate=5e-4)
    model, tokenizer, result = train(records[:120], tmp_path / "adapter", config, eval_records=records[150:],
                                     progress=False)
    assert result.eval_loss_after < result.eval_loss_before
    assert 0 < result.trainable_params < result.total_params / 100
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert "base_model:" in (tmp_path / "adapter" / "README.md").read_text()
    # ready to generate: no checkpointing, and no autocast wrapper left on any forward by the Trainer
    assert not model.training and not getattr(model, "is_gradient_checkpointing", False)
    assert not [name for name, m in model.named_modules() if "forward" in m.__dict__]
    texts, stopped = respond(model, tokenizer, load_eval_prompts(limit=6), template="alpaca", max_new_tokens=120)
    assert sum(stopped) >= 5, "the fine-tuned model should end its answers with EOS"
    from alpaca_course.model_folder import load_trained

    merged, _, loaded = load_trained(tmp_path / "adapter", merge=True)
    assert not hasattr(merged, "peft_config")
    assert loaded.steps == result.steps and loaded.config["lora"] is True


def test_sft_config_mixed_precision_flags():
    assert sft_config_kwargs(FinetuneConfig(), "out", "fp16")["fp16"] is True
    assert sft_config_kwargs(FinetuneConfig(), "out", "bf16")["bf16"] is True
    flags = sft_config_kwargs(FinetuneConfig(), "out", None)
    assert flags["fp16"] is False and flags["bf16"] is False


def test_bf16_autocast_on_a_cpu_makes_a_valid_sft_config(tmp_path):
    """transformers refuses bf16 without a GPU unless told the run is on the CPU on purpose (use_cpu)."""
    from trl import SFTConfig

    args = SFTConfig(**sft_config_kwargs(FinetuneConfig(), str(tmp_path), "bf16", "cpu"))
    assert args.bf16 and args.use_cpu
    assert "use_cpu" not in sft_config_kwargs(FinetuneConfig(), str(tmp_path), None, "cpu")


@pytest.mark.slow
def test_full_finetune_saves_loads_back_and_evaluates(tmp_path):
    """`train --full` then `evaluate --adapter DIR`: a full fine-tune is loaded from its own config."""
    import json
    import os
    import subprocess
    import sys

    from alpaca_course.data import write_jsonl
    from alpaca_course.model_folder import load_trained

    data = write_jsonl(tmp_path / "data.jsonl", load_seed_tasks()[:40])
    env = {**os.environ, "ALPACA_COURSE_PROFILE": "quick"}
    out = tmp_path / "full"

    def train_cli(*extra):
        return subprocess.run([sys.executable, "-m", "alpaca_course", "train", "--data", str(data), "--out", str(out),
                               "--steps", "2", "--quiet", *extra], env=env, capture_output=True, text=True)

    assert train_cli().returncode == 0 and (out / "adapter_config.json").is_file()  # a LoRA adapter there first
    refused = train_cli("--full")
    assert refused.returncode == 2 and "--overwrite" in refused.stderr and len(refused.stderr.splitlines()) == 1
    trained = train_cli("--full", "--overwrite")
    assert trained.returncode == 0, trained.stderr
    assert (out / "config.json").is_file() and not (out / "adapter_config.json").exists()
    model, _, result = load_trained(out)
    assert result.config["lora"] is False and result.trainable_params == result.total_params
    assert not hasattr(model, "peft_config")
    evaluated = subprocess.run([sys.executable, "-m", "alpaca_course", "evaluate", "--adapter", str(out), "--n", "2",
                                "--json"], env=env, capture_output=True, text=True)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert len(report["responses"]) == 2 and 0 <= report["prompt_strict"] <= 1


def test_a_run_too_short_for_warm_up_skips_it_and_still_learns(tmp_path):
    from alpaca_course.finetune import warmup_steps

    assert warmup_steps(FinetuneConfig(max_steps=48)) == FinetuneConfig().warmup  # the Trainer's share, unchanged
    assert warmup_steps(FinetuneConfig(max_steps=1)) == 0  # its one step would be spent at learning rate 0
    assert warmup_steps(FinetuneConfig(max_steps=2)) == FinetuneConfig().warmup  # one step warms up, one learns
    assert warmup_steps(FinetuneConfig(max_steps=0, num_train_epochs=1)) == FinetuneConfig().warmup
    config = FinetuneConfig(max_steps=1, batch_size=2, max_length=128, learning_rate=1e-3)
    model, _, result = train(load_seed_tasks()[:8], tmp_path / "one-step", config, progress=False)
    assert result.steps == 1
    moved = [name for name, p in model.named_parameters() if "lora_B" in name and p.abs().max() > 0]
    assert moved, "one step of training left every lora_B at 0: the learning rate was 0"


def test_micro_batches_split_a_step_without_changing_the_update(tmp_path):
    """Two passes of 2 examples make the optimizer step one pass of 4 makes (float32, no dropout, plain SGD:
    Adam's first step is about lr x sign(gradient), which would hide a gradient scaled wrong)."""

    from alpaca_course.finetune import make_trainer, micro_batches
    from alpaca_course.models import load_model
    from alpaca_course.tokenizing import build_dataset

    assert micro_batches(4, 2) == (2, 2) and micro_batches(4, None) == (4, 1) and micro_batches(4, 8) == (4, 1)
    with pytest.raises(ValueError, match="does not split"):
        micro_batches(4, 3)
    records = [r for r in load_seed_tasks() if r.output][:4]
    adapters = []
    for micro in (None, 2):
        config = FinetuneConfig(template="chat", max_steps=1, batch_size=4, micro_batch_size=micro, lora_dropout=0.0,
                                learning_rate=1.0, warmup=0.0, activation_checkpointing=False, max_length=96)
        kwargs = sft_config_kwargs(config, str(tmp_path), None, "cpu")
        assert kwargs["per_device_train_batch_size"] * kwargs["gradient_accumulation_steps"] == 4
        model, tokenizer = load_model("bundled", device="cpu", dtype="float32")
        dataset, _ = build_dataset(tokenizer, records, config)
        trainer = make_trainer(model, tokenizer, dataset, config, str(tmp_path / f"run-{micro}"), progress=False,
                               mixed=None)
        trainer.args.optim = "sgd"
        trainer.train()
        adapters.append({k: v.detach().clone() for k, v in trainer.model.named_parameters() if "lora_" in k})
    moved = max((adapters[0][k] - adapters[1][k]).abs().max().item() for k in adapters[0])
    step = max(v.abs().max().item() for k, v in adapters[0].items() if "lora_B" in k)
    assert step > 1e-6, "the step moved the adapters"
    assert moved < 1e-3 * step, f"micro-batches changed the update by {moved:.2e} (step {step:.2e})"
