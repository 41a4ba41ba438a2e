"""Prompt formats: Alpaca's two templates (with and without input) and the model's chat template.

Alpaca's strings end with "### Response:" and no newline; the training target (output + EOS)
follows directly. Chat models instead wrap each turn in special tokens via the tokenizer's template.
"""

from __future__ import annotations

from .data import InstructionRecord

ALPACA_PREAMBLE_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request."
)
ALPACA_PREAMBLE_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request."
)
ALPACA_TEMPLATE_INPUT = ALPACA_PREAMBLE_INPUT + "\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
ALPACA_TEMPLATE_NO_INPUT = ALPACA_PREAMBLE_NO_INPUT + "\n\n### Instruction:\n{instruction}\n\n### Response:"
RESPONSE_MARKER = "### Response:"


def alpaca_prompt(instruction: str, input: str = "") -> str:
    """The Alpaca prompt for one task; the template with an Input block is used only when input is non-empty."""
    if input.strip():
        return ALPACA_TEMPLATE_INPUT.format(instruction=instruction, input=input)
    return ALPACA_TEMPLATE_NO_INPUT.format(instruction=instruction)


def record_prompt(record: InstructionRecord) -> str:
    """The Alpaca prompt for a record (its output not included)."""
    return alpaca_prompt(record.instruction, record.input)


def user_message(instruction: str, input: str = "") -> str:
    """The user's turn for a chat model: the instruction, then the input after a blank line."""
    return f"{instruction}\n\n{input}" if input.strip() else instruction


def chat_messages(record: InstructionRecord, with_output: bool = False, system: str | None = None) -> list[dict]:
    """The record as chat messages (system optional; assistant turn only when with_output)."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user_message(record.instruction, record.input)})
    if with_output:
        messages.append({"role": "assistant", "content": record.output})
    return messages

