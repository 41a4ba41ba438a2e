import pytest

from alpaca_course.profiles import (
    PROFILES,
    ProfileError,
    choose_dtype,
    generation_dtype,
    get_profile,
    memory_plan_gb,
    training_precision,
)


def test_environment_variable_picks_the_profile(monkeypatch):
    monkeypatch.setenv("ALPACA_COURSE_PROFILE", "quick")
    assert get_profile().name == "quick"
    monkeypatch.setenv("ALPACA_COURSE_PROFILE", " CPU ")
    assert get_profile().name == "cpu"


def test_automatic_choice_follows_cuda(monkeypatch):
    monkeypatch.delenv("ALPACA_COURSE_PROFILE", raising=False)
    monkeypatch.setattr("alpaca_course.profiles.cuda_available", lambda: True)
    assert get_profile().name == "gpu"
    monkeypatch.setattr("alpaca_course.profiles.cuda_available", lambda: False)
    assert get_profile().name == "cpu"


def test_unknown_profile_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("ALPACA_COURSE_PROFILE", "turbo")
    with pytest.raises(ProfileError) as err:
        get_profile()
    message = str(err.value)
    assert "turbo" in message and "ALPACA_COURSE_PROFILE" in message
    for name in PROFILES:
        assert name in message


@pytest.mark.parametrize(("device", "capability", "expected"), [
    ("cpu", None, "float32"),
    ("cuda", (7, 5), "float16"),   # T4: is_bf16_supported() lies here, the capability does not
    ("cuda", (7, 0), "float16"),   # V100
    ("cuda", (8, 0), "bfloat16"),  # A100
    ("cuda", (9, 0), "bfloat16"),  # H100
])
def test_dtype_choice_from_compute_capability(device, capability, expected):
    assert choose_dtype(device, capability) == expected


@pytest.mark.parametrize(("device", "flags", "capability", "expected"), [
    ("cpu", {"avx", "avx2"}, None, "float32"),  # AVX2 only: bf16 would be emulated, several times slower
    ("cpu", {"avx2", "avx512f", "avx512_bf16"}, None, "bfloat16"),
    ("cpu", {"avx2", "amx_bf16", "amx_tile"}, None, "bfloat16"),
    ("cpu", set(), None, "float32"),  # not Linux, or flags unknown
    ("cuda", set(), (7, 5), "float16"),
    ("cuda", set(), (9, 0), "bfloat16"),
])
def test_generation_dtype_needs_native_bf16_on_a_cpu(device, flags, capability, expected):
    assert generation_dtype(device, flags, capability) == expected


@pytest.mark.parametrize(("device", "capability", "flags", "full", "expected"), [
    ("cpu", None, set(), True, ("float32", None)),            # no native bf16: float32, no autocast
    ("cpu", None, {"avx2"}, False, ("float32", None)),
    ("cpu", None, {"avx512_bf16"}, True, ("float32", "bf16")),   # full: float32 weights, bf16 autocast
    ("cpu", None, {"amx_bf16"}, False, ("bfloat16", "bf16")),   # LoRA: frozen bf16 base, fp32 adapters
    ("cuda", (7, 5), None, True, ("float32", "fp16")),    # T4 full: fp32 master weights, fp16 autocast
    ("cuda", (7, 5), None, False, ("float16", "fp16")),   # T4 LoRA: frozen fp16 base, fp32 adapters (peft)
    ("cuda", (8, 0), None, True, ("float32", "bf16")),
    ("cuda", (8, 0), None, False, ("bfloat16", "bf16")),
    ("cuda", (9, 0), None, True, ("float32", "bf16")),
    ("cuda", (9, 0), None, False, ("bfloat16", "bf16")),
])
def test_training_precision_by_hardware(device, capability, flags, full, expected):
    assert training_precision(device, full, capability, flags) == expected


def test_lora_adapters_stay_float32_on_a_half_precision_base():
    import torch
    from peft import LoraConfig, get_peft_model

    from alpaca_course.finetune import FinetuneConfig, lora_config_kwargs
    from alpaca_course.models import load_model

    model, _ = load_model("bundled", device="cpu", dtype="float16")
    peft_model = get_peft_model(model, LoraConfig(**lora_config_kwargs(FinetuneConfig())))
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)


def test_gpu_profile_on_a_cpu_trains_in_float32():
    """Without CUDA (and without native bf16) the gpu profile still runs: every training choice falls back to float32."""
    from alpaca_course.finetune import config_for_profile

    config = config_for_profile(PROFILES["gpu"])
    assert config.lora is False and training_precision("cpu", not config.lora, flags=set()) == ("float32", None)


def test_the_memory_plan_counts_the_bytes_a_real_training_step_holds():
    """The plan's per-parameter rules against torch: an fp16 copy for the teacher, and for a full fine-tune
    fp32 weights, gradients and AdamW's two moments after one real step (its margins for the KV cache and the
    activations aside)."""
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.Linear(200, 50))
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.randn(4, 300)).square().mean().backward()
    optimizer.step()
    n = sum(p.numel() for p in model.parameters())
    tensors = [*model.parameters(), *(p.grad for p in model.parameters()),
               *(v for state in optimizer.state.values() for v in state.values() if v.dim() > 0)]
    training_bytes = sum(t.numel() * t.element_size() for t in tensors) / n
    teacher_bytes = sum(p.numel() * p.element_size() for p in model.half().parameters()) / n
    plan = memory_plan_gb(teacher_params=1e9, student_params=1e9)
    assert plan["student_full_finetune"] / 1.3 == pytest.approx(training_bytes, abs=0.1)
    assert plan["teacher_generation"] / 1.25 == pytest.approx(teacher_bytes, abs=0.1)
    t4 = memory_plan_gb(gpu_gb=16)  # the gpu profile's models take turns on a 16 GB T4
    assert t4["peak"] == max(t4["teacher_generation"], t4["student_full_finetune"]) < 16


def test_profiles_shrink_from_gpu_to_quick():
    quick, cpu, gpu = PROFILES["quick"], PROFILES["cpu"], PROFILES["gpu"]
    assert quick.n_generate < cpu.n_generate < gpu.n_generate
    assert quick.n_eval_prompts < cpu.n_eval_prompts <= gpu.n_eval_prompts
    assert cpu.teacher == quick.teacher == "bundled"


def name_comparisons(text: str) -> list[str]:
    """Lines that choose by a profile's name: compare it, or look it up in a table."""
    import re

    pattern = re.compile(r"profile\w*\.name\s*(==|!=|\bin\b|\bnot in\b)|\.get\(\s*\w*profile\w*\.name"
                         r"|[\"'](quick|cpu|gpu)[\"']\s*(==|!=)\s*\w*profile\w*\.name", re.IGNORECASE)
    return [line.strip() for line in text.splitlines() if pattern.search(line)]


def test_nothing_outside_profiles_chooses_by_a_profile_name():
    """Sizes live in the Profile: code that branches on its name would give a new profile the wrong ones."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in sorted((root / "alpaca_course").rglob("*.py")):
        if path.name != "profiles.py":
            offenders += [f"{path.name}: {line}" for line in name_comparisons(path.read_text())]
    for folder in ("lessons", "solutions"):
        for path in sorted((root / folder).glob("*.ipynb")):
            cells = json.loads(path.read_text())["cells"]
            offenders += [f"{path.name}: {line}" for cell in cells if cell["cell_type"] == "code"
                          for line in name_comparisons("".join(cell["source"]))]
    assert not offenders, offenders


def test_the_name_check_catches_the_ways_code_branches_on_a_name():
    caught = ['base = {"quick": 1}.get(profile.name, 2)', 'n = 48 if PROFILE.name != "quick" else 24',
              'if profile.name in ("cpu", "quick"):', 'if "gpu" == profile.name:']
    assert all(name_comparisons(line) for line in caught)
    assert not name_comparisons('print(f"profile: {profile.name}")')
