import pytest

from alpaca_course.profiles import (
    PROFILES,
    ProfileError,
    choose_dtype,
    generation_dtype,
    get_profile,
    memory_plan_gb,
    training_precision,
    with_overrides,
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


def test_t4_memory_plan_fits_when_teacher_and_student_take_turns():
    plan = memory_plan_gb(gpu_gb=16)
    assert plan["teacher_generation"] < 16 and plan["student_full_finetune"] < 16
    assert plan["peak"] == max(plan["teacher_generation"], plan["student_full_finetune"])


def test_profiles_shrink_from_gpu_to_quick():
    quick, cpu, gpu = PROFILES["quick"], PROFILES["cpu"], PROFILES["gpu"]
    assert quick.n_generate < cpu.n_generate < gpu.n_generate
    assert quick.n_eval_prompts < cpu.n_eval_prompts <= gpu.n_eval_prompts
    assert cpu.teacher == quick.teacher == "bundled"


def test_overrides_are_checked():
    assert with_overrides(PROFILES["cpu"], n_generate=5).n_generate == 5
    with pytest.raises(ProfileError):
        with_overrides(PROFILES["cpu"], n_generated=5)
