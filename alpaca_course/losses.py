"""Cross-entropy on the trained tokens: the training loss written out, and held-out loss per record.

One function computes it (`masked_token_loss`): the logits at position t predict the token at t+1, and
positions labelled -100 (the prompt, the padding) do not count. Everything else here calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .data import InstructionRecord
from .tokenizing import IGNORE_INDEX, PadCollator, build_dataset

if TYPE_CHECKING:
    from .finetune import FinetuneConfig

def masked_token_loss(logits, labels, reduction: str = "mean"):
    """Next-token cross-entropy: logits at t predict the label at t+1; positions labelled -100 are ignored."""
    import torch

    shift_logits, shift_labels = logits[:, :-1], labels[:, 1:]
    return torch.nn.functional.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)).float(),
                                             shift_labels.reshape(-1), ignore_index=IGNORE_INDEX, reduction=reduction)


def masked_token_losses(logits, labels):
    """Each row's per-token cross-entropy, shape (rows, positions - 1), computed one row at a time: a float32 copy
    of a whole batch's logits would be rows x positions x 49,152 x 4 bytes (400 MB at 8 x 256)."""
    import torch

    return torch.stack([masked_token_loss(logits[i:i + 1], labels[i:i + 1], reduction="none")
                        for i in range(logits.size(0))])


def held_out_loss(model, tokenizer, records: list[InstructionRecord], config: FinetuneConfig,
                  batch_size: int = 8) -> float:
    """Mean cross-entropy per trained token (the response + EOS) on records the model did not train on."""
    sums = held_out_token_losses(model, tokenizer, records, config, batch_size)
    return sum(total for total, _ in sums) / max(sum(count for _, count in sums), 1)


def trained_token_losses(model, tokenizer, records: list[InstructionRecord], config: FinetuneConfig,
                         batch_size: int = 8) -> list[tuple[list[int], list[float]]]:
    """(token ids, cross-entropy of each) over the trained tokens of each record."""
    import torch

    dataset, _ = build_dataset(tokenizer, records, config)
    collate = PadCollator(tokenizer.pad_token_id)
    model.eval()
    out: list[tuple[list[int], list[float]]] = []
    with torch.inference_mode():
        for start in range(0, len(dataset), batch_size):
            batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
            batch = {k: v.to(model.device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            labels = batch["labels"][:, 1:]
            token_loss = masked_token_losses(logits, batch["labels"])
            trained = labels != IGNORE_INDEX
            out += [(labels[i][trained[i]].tolist(), token_loss[i][trained[i]].tolist()) for i in range(len(labels))]
    return out


def summed_losses(per_token: list[tuple[list[int], list[float]]], only: set[int] | None = None) -> list[tuple[float, int]]:
    """(summed cross-entropy, tokens) per record; `only` counts just these token ids."""
    return [(sum(x for t, x in zip(ids, losses, strict=True) if only is None or t in only),
             sum(only is None or t in only for t in ids)) for ids, losses in per_token]


def held_out_token_losses(model, tokenizer, records: list[InstructionRecord], config: FinetuneConfig,
                          batch_size: int = 8) -> list[tuple[float, int]]:
    """(summed cross-entropy, trained tokens) per record: what a paired bootstrap over records resamples."""
    return summed_losses(trained_token_losses(model, tokenizer, records, config, batch_size))
