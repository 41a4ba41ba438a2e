"""Profiles: one object decides every size, the device and the precision.

Lessons never hard-code sizes; they ask the profile. Choose one with ALPACA_COURSE_PROFILE,
or let the course pick `gpu` when CUDA is present and `cpu` otherwise.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

PROFILE_ENV = "ALPACA_COURSE_PROFILE"


class ProfileError(ValueError):
    """An unknown or malformed profile name."""


@dataclass(frozen=True)
class Profile:
    """Sizes and models for one way of running the course."""

    name: str
    teacher: str  # "bundled" or a Hub model id
    student: str
    n_generate: int  # instruction examples to generate
    gen_batch_size: int  # prompts per generate() call
    max_new_tokens: int  # per teacher completion
    train_steps: int  # optimizer steps for LoRA (0: use train_epochs)
    train_epochs: float
    train_batch_size: int
    max_seq_len: int
    lora_r: int
    full_finetune: bool
    n_eval_prompts: int
    joke_samples: int
    collapse_generations: int
    activation_checkpointing: bool = True  # off on the CPU profiles: 0.69x the step time, 2.8 GB (RESULTS.md)
    train_micro_batch: int | None = None  # examples per forward pass (None: the whole batch); the CPU profiles
    # use 2: bf16 2.9 -> 2.1 GB and float32 3.8 -> 2.4 GB at about the same step time (RESULTS.md, 2026-12-07)
    collapse_max_new_tokens: int = 48  # per answer in lesson 06's self-training loop
    smoke_test: bool = False  # too small for any interval to show a difference: the setup cell says so
    # The experiment's sizes (experiment.ExperimentSettings fields; "dpo": preference.DPOSettings fields), where they
    # differ from the defaults, which are the cpu profile's.
    experiment: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain dict, for printing and for metadata."""
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "cpu": Profile(
        name="cpu", teacher="bundled", student="bundled",
        n_generate=96, gen_batch_size=16, max_new_tokens=384,
        train_steps=60, train_epochs=1.0, train_batch_size=4, max_seq_len=256, lora_r=8,
        full_finetune=False, n_eval_prompts=32, joke_samples=32, collapse_generations=5,
        activation_checkpointing=False, train_micro_batch=2,
    ),
    "quick": Profile(
        name="quick", teacher="bundled", student="bundled",
        n_generate=24, gen_batch_size=8, max_new_tokens=256,
        train_steps=10, train_epochs=1.0, train_batch_size=4, max_seq_len=192, lora_r=8,
        full_finetune=False, n_eval_prompts=8, joke_samples=16, collapse_generations=2,
        activation_checkpointing=False, train_micro_batch=2, collapse_max_new_tokens=24, smoke_test=True,
        experiment={"n_examples": 6, "k": 2, "eval_generated": 6, "eval_unseen": 4, "eval_handwritten": 6, "steps": 3,
                    "curation_max_new_tokens": 40, "eval_max_new_tokens": 40,
                    "dpo": {"steps": 3, "batch_size": 2, "min_pairs": 4, "pairs": "verifier+repair"}},
    ),
    "gpu": Profile(
        name="gpu", teacher="HuggingFaceTB/SmolLM2-1.7B-Instruct", student="HuggingFaceTB/SmolLM2-360M",
        n_generate=2000, gen_batch_size=64, max_new_tokens=512,
        train_steps=0, train_epochs=2.0, train_batch_size=16, max_seq_len=512, lora_r=16,
        full_finetune=True, n_eval_prompts=60, joke_samples=200, collapse_generations=5,
        experiment={"n_examples": 1000, "k": 8, "eval_generated": 400, "eval_unseen": 200, "steps": 250, "lora_r": 16,
                    "dpo": {"micro_batch_size": None}},
    ),
}


def cuda_available() -> bool:
    """True when torch sees a CUDA device (False when torch is missing)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return torch.cuda.is_available()


def get_profile(name: str | None = None) -> Profile:
    """The named profile, else $ALPACA_COURSE_PROFILE, else `gpu` with CUDA and `cpu` without."""
    chosen = name if name is not None else os.environ.get(PROFILE_ENV)
    if chosen is None or chosen.strip() == "":
        chosen = "gpu" if cuda_available() else "cpu"
    key = chosen.strip().lower()
    if key not in PROFILES:
        source = "argument" if name is not None else f"environment variable {PROFILE_ENV}"
        valid = ", ".join(sorted(PROFILES))
        raise ProfileError(f"unknown profile {chosen!r} (from the {source}); valid profiles: {valid}")
    return PROFILES[key]


def choose_device() -> str:
    """'cuda' when a GPU is usable, else 'cpu'."""
    return "cuda" if cuda_available() else "cpu"


def choose_dtype(device: str, capability: tuple[int, int] | None = None) -> str:
    """Precision by hardware: bf16 at compute capability >= 8.0, fp16 on older GPUs, fp32 on CPU.

    `torch.cuda.is_bf16_supported()` answers True on a T4 through slow emulation, so we look at
    the compute capability itself. Pass `capability` to test the rule without a GPU.
    """
    if device != "cuda":
        return "float32"
    if capability is None:
        import torch

        capability = torch.cuda.get_device_capability()
    return "bfloat16" if tuple(capability) >= (8, 0) else "float16"


#: Set to "float32" to take the float32 path on a CPU with native bf16 (how benchmarks measure both paths).
CPU_PRECISION_ENV = "ALPACA_COURSE_CPU_PRECISION"
#: CPU flags (Linux /proc/cpuinfo names) of native bfloat16 arithmetic; without them bf16 is emulated, and slow.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux reports them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def generation_dtype(device: str, flags: set[str] | None = None,
                     capability: tuple[int, int] | None = None) -> str:
    """Precision for generating text (no training): half precision where the hardware computes it natively.

    Decoding reads every weight once per token, so bfloat16 decodes about twice as fast on a CPU
    with native bf16 (AVX-512 BF16 or AMX). Without those instructions bf16 is emulated and a batch
    runs several times *slower* than float32 (measured: 23 against 81 tokens/s at batch 32 on an
    AVX2-only CPU), so there we keep float32. Pass `flags` to test the rule on any machine.
    """
    if device == "cuda":
        return choose_dtype(device, capability)
    if os.environ.get(CPU_PRECISION_ENV, "auto") == "float32":  # the path of CPUs without bf16, on any CPU
        return "float32"
    flags = cpu_flags() if flags is None else flags
    return "bfloat16" if any(f in flags for f in BF16_CPU_FLAGS) else "float32"


def training_precision(device: str, full_finetune: bool, capability: tuple[int, int] | None = None,
                       flags: set[str] | None = None) -> tuple[str, str | None]:
    """(dtype the weights load in, the Trainer's mixed-precision mode: "bf16", "fp16" or None).

    Mixed precision keeps trainable weights in float32 and computes in half precision. A full
    fine-tune therefore loads float32 weights on every GPU (the HF Trainer refuses to unscale
    float16 gradients), and autocasts to bf16 at capability >= 8.0 or to fp16 below it (a T4).
    LoRA may load the frozen base in half precision: peft keeps the small adapters in float32.
    A CPU with native bf16 (see `generation_dtype`) follows the bf16 rule: LoRA steps on generated
    data took 0.67x the float32 time here (benchmarks/training_speed.py). Any other CPU stays float32. Pass
    `capability` or `flags` to test the rule on any machine.
    """
    half = generation_dtype(device, flags, capability)
    mixed = {"bfloat16": "bf16", "float16": "fp16"}.get(half)
    return ("float32" if full_finetune or mixed is None else half), mixed


def memory_plan_gb(teacher_params: float = 1.7e9, student_params: float = 360e6,
                   gpu_gb: float = 16.0) -> dict[str, float]:
    """A rough GPU memory budget (GB) for the gpu profile: the teacher generates, is released, then the student trains.

    Teacher: fp16 weights (2 bytes/parameter) plus ~25% for the KV cache of a batch. Student, full
    fine-tune with AdamW in mixed precision: fp32 weights, gradients and two Adam moments (16
    bytes/parameter) plus ~30% for activations at batch 16 x 512 tokens. They never share the GPU.
    """
    teacher = teacher_params * 2 * 1.25 / 1e9
    student = student_params * 16 * 1.3 / 1e9
    return {"teacher_generation": round(teacher, 1), "student_full_finetune": round(student, 1),
            "peak": round(max(teacher, student), 1), "gpu": gpu_gb}


def torch_dtype(name: str):
    """The torch dtype for a name from `choose_dtype`."""
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
