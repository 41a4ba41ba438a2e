"""From instruction records to training examples: the template, the labels and the end token.

The three things that decide whether a fine-tuned model behaves:
1. Format: the same template at training and at inference (Alpaca's or the chat template).
2. Loss: by default only the response and the final EOS are trained; prompt tokens get label
   -100 (ignored). `train_on_inputs=True` trains on everything, as alpaca-lora does by default.
3. EOS: this tokenizer's pad token *is* its EOS token. A collator that masks every pad id in the
   labels would also mask the real EOS, and the model would never learn to stop. We therefore
   build labels ourselves and pad them with -100 by length, never by token id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .data import DataError, InstructionRecord
from .templates import alpaca_prompt, chat_messages

if TYPE_CHECKING:
    from .finetune import FinetuneConfig

IGNORE_INDEX = -100


def prompt_and_target(tokenizer, record: InstructionRecord, template: str) -> tuple[str, str]:
    """The prompt text and the target text (response + the end-of-turn/EOS token) for one record."""
    if template == "alpaca":
        return alpaca_prompt(record.instruction, record.input), record.output + tokenizer.eos_token
    if template == "chat":
        prompt = tokenizer.apply_chat_template(chat_messages(record), tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(chat_messages(record, with_output=True), tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template does not extend the prompt with the answer; use template='alpaca'")
        target = full[len(prompt):].rstrip("\n")
        return prompt, target if target.endswith(tokenizer.eos_token) else target + tokenizer.eos_token
    raise ValueError(f"unknown template {template!r}; use 'alpaca' or 'chat'")


def tokenize_example(tokenizer, record: InstructionRecord, config: FinetuneConfig) -> dict | None:
    """input_ids, attention_mask and labels for one record; None when it does not fit max_length,
    or when its output was cut at the teacher's token limit (meta "output_truncated").

    Prompt and target are tokenized separately and concatenated, so the boundary between them is
    exact (tokenizing the joined text can merge tokens across it). A cut-off output never gets an
    end token appended: that would teach the student to stop mid-sentence.
    """
    if record.meta.get("output_truncated"):
        return None
    prompt, target = prompt_and_target(tokenizer, record, config.template)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    if len(prompt_ids) + len(target_ids) > config.max_length:
        return None  # cutting it would lose the EOS and teach the model not to stop
    input_ids, labels = join_prompt_and_target(prompt_ids, target_ids, config.train_on_inputs)
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


def join_prompt_and_target(prompt_ids: list[int], target_ids: list[int],
                           train_on_inputs: bool = False) -> tuple[list[int], list[int]]:
    """(input_ids, labels): the prompt then the target (which ends with EOS); prompt labels are -100 unless trained."""
    input_ids = list(prompt_ids) + list(target_ids)
    labels = list(input_ids) if train_on_inputs else [IGNORE_INDEX] * len(prompt_ids) + list(target_ids)
    return input_ids, labels


def build_dataset(tokenizer, records: list[InstructionRecord], config: FinetuneConfig):
    """A tokenized datasets.Dataset, and how many records were skipped (too long, or a cut-off output)."""
    from datasets import Dataset

    rows = [tokenize_example(tokenizer, r, config) for r in records]
    kept = [r for r in rows if r is not None]
    if not kept:
        raise DataError(None, None, None, f"no example fits in max_length={config.max_length} tokens")
    return Dataset.from_list(kept), len(rows) - len(kept)


@dataclass
class PadCollator:
    """Right-pads a batch by length: pad ids in input_ids, 0 in attention_mask, -100 in labels."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        batch: dict[str, list] = {"input_ids": [], "attention_mask": [], "labels": []}
        for f in features:
            gap = width - len(f["input_ids"])
            batch["input_ids"].append(list(f["input_ids"]) + [self.pad_token_id] * gap)
            batch["attention_mask"].append([1] * len(f["input_ids"]) + [0] * gap)
            batch["labels"].append(list(f["labels"]) + [IGNORE_INDEX] * gap)
        return {k: torch.tensor(v) for k, v in batch.items()}


def split_records(records: list[InstructionRecord], fraction: float, seed: int = 0):
    """(train, held-out) split, seeded; at least one held-out record."""
    import random

    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    n_eval = max(1, int(round(len(shuffled) * fraction)))
    return shuffled[n_eval:], shuffled[:n_eval]
