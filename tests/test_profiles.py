import pytest

from alpaca_course.profiles import PROFILES, ProfileError, choose_dtype, get_profile, with_overrides


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


def test_profiles_shrink_from_gpu_to_quick():
    quick, cpu, gpu = PROFILES["quick"], PROFILES["cpu"], PROFILES["gpu"]
    assert quick.n_generate < cpu.n_generate < gpu.n_generate
    assert quick.n_eval_prompts < cpu.n_eval_prompts <= gpu.n_eval_prompts
    assert cpu.teacher == quick.teacher == "bundled"


def test_overrides_are_checked():
    assert with_overrides(PROFILES["cpu"], n_generate=5).n_generate == 5
    with pytest.raises(ProfileError):
        with_overrides(PROFILES["cpu"], n_generated=5)
