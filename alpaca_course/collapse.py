"""Model collapse: what happens when models learn from their own outputs, generation after generation.

1. The Gaussian toy: fit a mean and a spread to some data, sample new data from the fit, fit again.
   Replacing the data each time lets estimation errors compound and the spread drifts towards 0;
   accumulating (keeping the real data and adding the synthetic) keeps it near the truth.
2. The small-model loop: sample answers from the model, fine-tune it on them, repeat; track how
   diverse its samples are and its loss on real held-out text that was never generated.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .data import InstructionRecord
from .stats import Difference, paired_change


def fit_gaussian(samples: np.ndarray) -> tuple[float, float]:
    """(mean, standard deviation with n - 1) of the samples: the "model" the toy fits each generation."""
    samples = np.asarray(samples, dtype=float)
    return float(samples.mean()), float(samples.std(ddof=1))


def tail_fraction(samples: np.ndarray, k: float, center: float = 0.0) -> float:
    """Share of samples more than k away from `center` (both tails): what collapse loses first."""
    return float(np.mean(np.abs(np.asarray(samples, dtype=float) - center) > k))


def gaussian_collapse(generations: int = 200, n: int = 20, mode: str = "replace", seed: int = 0,
                      true_mean: float = 0.0, true_std: float = 1.0) -> dict[str, np.ndarray]:
    """Fitted mean and standard deviation per generation, for 'replace' or 'accumulate'."""
    if mode not in ("replace", "accumulate"):
        raise ValueError("mode must be 'replace' or 'accumulate'")
    rng = np.random.default_rng(seed)
    data = rng.normal(true_mean, true_std, n)
    means, stds = [], []
    for _ in range(generations):
        mean, std = fit_gaussian(data)
        means.append(mean)
        stds.append(std)
        fresh = rng.normal(mean, std, n)
        data = fresh if mode == "replace" else np.concatenate([data, fresh])
    return {"mean": np.array(means), "std": np.array(stds)}


@dataclass
class GenerationStats:
    """What we track per generation of the self-training loop."""

    generation: int
    distinct_2: float
    self_bleu: float
    mean_words: float
    held_out_loss: float
    samples: list[str] = field(default_factory=list)
    record_losses: list[tuple[float, int]] = field(default_factory=list)  # (summed loss, tokens) per real record
    rare_loss: float = float("nan")  # mean loss on the real text's rare tokens (those seen once in it)
    rare_losses: list[tuple[float, int]] = field(default_factory=list)  # the same per real record
    mode: str = "replace"


def rare_tokens(per_token: list[tuple[list[int], list[float]]]) -> set[int]:
    """Token ids that occur exactly once in the real held-out text: its tail, where collapse shows first."""
    from collections import Counter

    counts = Counter(t for ids, _ in per_token for t in ids)
    return {t for t, c in counts.items() if c == 1}


def self_training_loop(instructions: list[str], real_held_out: list[InstructionRecord], generations: int = 3,
                       config=None, seed: int = 0, max_new_tokens: int = 64, temperature: float = 0.7,
                       mode: str = "replace", progress: bool = True) -> list[GenerationStats]:
    """Generation 0 is the bundled model; each next one is its predecessor LoRA-tuned on model samples.

    `mode="replace"` trains each generation on the latest samples only; `"accumulate"` on every generation's
    samples so far (the data grows, as in the Gaussian toy). Sampling below temperature 1 cuts the tails, as
    in the collapse papers. Each generation the adapter is merged into the weights, so the next one starts
    from the result.
    """
    return self_training_loops(instructions, real_held_out, generations, config, seed, max_new_tokens, temperature,
                               (mode,), progress)[mode]


def self_training_loops(instructions: list[str], real_held_out: list[InstructionRecord], generations: int = 3,
                        config=None, seed: int = 0, max_new_tokens: int = 64, temperature: float = 0.7,
                        modes: tuple[str, ...] = ("replace", "accumulate"),
                        progress: bool = True) -> dict[str, list[GenerationStats]]:
    """The loop of `self_training_loop` in several modes. The modes agree until generation 1 is trained (its data
    is generation 0's samples in every mode), so that part runs once and each mode goes on from a copy."""
    import copy

    from tqdm.auto import tqdm

    from .finetune import FinetuneConfig
    from .models import load_model

    for mode in modes:
        if mode not in ("replace", "accumulate"):
            raise ValueError(f"mode must be 'replace' or 'accumulate', got {mode!r}")
    config = config or FinetuneConfig(max_steps=15, max_length=160, learning_rate=5e-4)
    model, tokenizer = load_model("bundled")
    bar = tqdm(total=1 + len(modes) * generations, desc="collapse loop (" + ", ".join(modes) + ")",
               disable=not progress)
    first, rare = measure_generation(model, tokenizer, instructions, real_held_out, 0, config, seed, max_new_tokens,
                                     temperature, None, modes[0])
    shared = train_generation(model, tokenizer, fresh_records(instructions, first), config, seed) if generations else model
    bar.update()
    out: dict[str, list[GenerationStats]] = {}
    for number, mode in enumerate(modes):
        model = shared if number == len(modes) - 1 else copy.deepcopy(shared)
        stats, records = [replace(first, mode=mode)], fresh_records(instructions, first)
        for generation in range(1, generations + 1):
            stats.append(measure_generation(model, tokenizer, instructions, real_held_out, generation, config, seed,
                                            max_new_tokens, temperature, rare, mode)[0])
            bar.update()
            if generation == generations:
                break
            fresh = fresh_records(instructions, stats[-1])
            records = fresh if mode == "replace" else records + fresh
            model = train_generation(model, tokenizer, records, config, seed + generation)
        out[mode] = stats
    bar.close()
    return out


def fresh_records(instructions: list[str], stats: GenerationStats) -> list[InstructionRecord]:
    """One generation's samples as training records (an empty sample is left out)."""
    return [InstructionRecord(i, "", s) for i, s in zip(instructions, stats.samples, strict=True) if s]


def measure_generation(model, tokenizer, instructions: list[str], real_held_out: list[InstructionRecord],
                       generation: int, config, seed: int, max_new_tokens: int, temperature: float,
                       rare: set[int] | None, mode: str) -> tuple[GenerationStats, set[int]]:
    """Sample an answer per instruction and score the real held-out text; also the rare tokens scored
    (pass generation 0's; None finds them in this text)."""
    from .diversity import distinct_n, self_bleu
    from .losses import summed_losses, trained_token_losses
    from .teachers import LocalTeacher, Sampling

    conversations = [[{"role": "user", "content": text}] for text in instructions]
    sampling = Sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=1.0, seed=seed + generation)
    samples = [c.text.strip() for c in LocalTeacher(speaking_copy(model), tokenizer).chat(conversations, sampling)]
    tokenizer.padding_side = "right"
    per_token = trained_token_losses(model, tokenizer, real_held_out, config)
    rare = rare_tokens(per_token) if rare is None else rare
    losses, tail = summed_losses(per_token), summed_losses(per_token, rare)
    stats = GenerationStats(generation, distinct_n(samples, 2), self_bleu(samples),
                            float(np.mean([len(s.split()) for s in samples])), _token_mean(losses), samples,
                            losses, _token_mean(tail), tail, mode)
    return stats, rare


def speaking_copy(model):
    """The model in the precision it generates fastest in (`profiles.generation_dtype`): a half-precision copy
    where that differs, so the float32 weights that keep training never lose their small updates to rounding."""
    import copy

    from .profiles import generation_dtype, torch_dtype

    dtype = torch_dtype(generation_dtype(model.device.type))
    return model if model.dtype == dtype else copy.deepcopy(model).to(dtype)


def train_generation(model, tokenizer, records: list[InstructionRecord], config, seed: int):
    """The next generation: LoRA-tune on the records (chat template), then merge the adapter into the weights."""
    import torch
    from peft import LoraConfig, get_peft_model

    from .finetune import fit, lora_config_kwargs
    from .tokenizing import build_dataset

    dataset, _ = build_dataset(tokenizer, records, replace(config, template="chat"))
    peft_model = get_peft_model(model, LoraConfig(**lora_config_kwargs(config)))
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as scratch:
        fit(peft_model, tokenizer, dataset, config, scratch, progress=False)  # leaves it ready to generate
    return peft_model.merge_and_unload()


def stats_table(stats: list[GenerationStats]) -> str:
    """A Markdown table of the tracked quantities."""
    rows = ["| mode | generation | distinct-2 | self-BLEU-3 | mean words | loss on real text | on its rare tokens |",
            "|---|---|---|---|---|---|---|"]
    rows += [f"| {s.mode} | {s.generation} | {s.distinct_2:.3f} | {s.self_bleu:.3f} | {s.mean_words:.1f} | "
             f"{s.held_out_loss:.3f} | {s.rare_loss:.3f} |" for s in stats]
    return "\n".join(rows)


def default_split(seed: int = 0, n_instructions: int = 40) -> tuple[list[str], list[InstructionRecord]]:
    """Instructions to sample answers for, and real (human-written) held-out records, from the seed tasks.

    The instructions come from seed tasks without an input, so each one makes sense on its own."""
    from .self_instruct import load_seed_tasks

    seeds = load_seed_tasks()
    random.Random(seed).shuffle(seeds)
    prompts = [s for s in seeds if not s.input.strip()][:n_instructions]
    rest = [s for s in seeds if s not in prompts]
    return [s.instruction for s in prompts], rest[:40]


def as_dicts(stats: list[GenerationStats]) -> list[dict]:
    """Stats without the samples and per-record losses, for JSON."""
    return [{k: v for k, v in asdict(s).items() if k not in ("samples", "record_losses", "rare_losses")} for s in stats]


def _token_mean(losses) -> float:
    return sum(t for t, _ in losses) / max(sum(c for _, c in losses), 1)


def loop_changes(stats: list[GenerationStats], seed: int = 0) -> list[Difference]:
    """First against last generation: distinct-2 of the answers (resampling instructions), loss on real text and
    on its rare tokens (resampling the real records), each with its paired interval."""
    from .diversity import distinct_n

    first, last = stats[0], stats[-1]
    tag = f"{last.mode}: " if last.mode else ""
    changes = [paired_change(f"{tag}distinct-2 of the answers", first.samples, last.samples,
                             lambda t: distinct_n(t, 2), "instructions", seed=seed)]
    for name, before, after in (("loss on real held-out text", first.record_losses, last.record_losses),
                                ("loss on the real text's rare tokens", first.rare_losses, last.rare_losses)):
        if before and after:
            changes.append(paired_change(tag + name, before, after, _token_mean, "real records", seed=seed))
    return changes


def compare_modes(replaced: GenerationStats, accumulated: GenerationStats, seed: int = 0) -> list[Difference]:
    """Accumulate against replace at the same generation, paired over the same instructions and real records."""
    from .diversity import distinct_n

    label = f"generation {accumulated.generation}, accumulate against replace: "
    return [paired_change(label + "distinct-2 of the answers", replaced.samples, accumulated.samples,
                          lambda t: distinct_n(t, 2), "instructions", seed=seed),
            paired_change(label + "loss on the real text's rare tokens", replaced.rare_losses, accumulated.rare_losses,
                          _token_mean, "real records", seed=seed)]


def what_we_saw(stats: list[GenerationStats], changes: list[Difference]) -> str:
    """'What we saw' for the self-training loop, written from the intervals."""
    lines = [f"What we saw ({stats[-1].mode}), generation 0 against generation {stats[-1].generation}:"]
    lines += [f"- {c.sentence()}" for c in changes]
    if all(c.verdict() == "no detectable change" for c in changes):
        lines.append("- In this run the loop shows no detectable change: a null result at this size, not evidence "
                     "that recycling is safe (the toy above shows the mechanism).")
    return "\n".join(lines)
