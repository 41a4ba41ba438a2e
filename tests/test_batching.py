"""Continuous batching (`alpaca_course/batching.py`) against `model.generate`, on the real bundled model."""

from __future__ import annotations

import pytest
import torch

from alpaca_course import batching
from alpaca_course.batching import DecodeStats, decode, supports
from alpaca_course.models import load_model
from alpaca_course.teachers import LocalTeacher, Sampling

QUESTIONS = ["Hi.", "Name three fruits.", "What is the capital of France? Answer in one word.",
             "Write one sentence about the sea, the wind and the sky at night, with a colour in it.",
             "List two uses of a paper clip.", "Say hello in Spanish and then in German, please, and nothing else."]


@pytest.fixture(scope="module")
def model_f32():
    """The bundled model in float32 (no bf16 rounding between the two paths)."""
    return load_model("bundled", device="cpu", dtype="float32")


def chat_ids(tokenizer, questions):
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
             for q in questions]
    return texts, [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


def generate_reference(model, tokenizer, texts, max_new_tokens):
    """`model.generate`, greedy, on one left-padded batch: each row's new tokens up to and with the end token."""
    tokenizer.padding_side = "left"
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    rows = []
    for row in out[:, batch["input_ids"].shape[1]:].tolist():
        rows.append(row[: row.index(tokenizer.eos_token_id) + 1] if tokenizer.eos_token_id in row else row)
    return rows


def test_greedy_tokens_match_generate_on_a_batch_of_mixed_lengths(model_f32):
    model, tokenizer = model_f32
    texts, prompts = chat_ids(tokenizer, QUESTIONS)
    assert len({len(p) for p in prompts}) == len(prompts), "the prompts should differ in length"
    reference = generate_reference(model, tokenizer, texts, 40)
    for slots in (len(prompts), 2):  # all at once, and two slots refilled as rows finish
        rows = decode(model, prompts, max_new_tokens=40, slots=slots, end_tokens=[tokenizer.eos_token_id])
        assert [r.tokens for r in rows] == reference
        assert [r.finish for r in rows] == ["stop" if r[-1] == tokenizer.eos_token_id else "length" for r in reference]


def test_finished_rows_leave_the_batch_and_free_slots_are_refilled(model_f32):
    model, tokenizer = model_f32
    _, prompts = chat_ids(tokenizer, QUESTIONS)
    stats = DecodeStats()
    rows = decode(model, prompts, max_new_tokens=48, slots=len(prompts), end_tokens=[tokenizer.eos_token_id],
                  stats=stats)
    lengths = [len(r.tokens) for r in rows]
    assert len(set(lengths)) > 1, "answers of different lengths are what this test is about"
    # The first token comes from the prefill; decode step t computes exactly the rows still running.
    assert stats.batch_sizes == [sum(n > t + 1 for n in lengths) for t in range(max(lengths) - 1)]
    assert stats.batch_sizes[-1] < len(prompts)
    padded = len(prompts) * max(lengths)  # what a static batch computes in its decode steps
    assert sum(stats.batch_sizes) == sum(n - 1 for n in lengths) < padded

    two = DecodeStats()
    again = decode(model, prompts, max_new_tokens=48, slots=2, end_tokens=[tokenizer.eos_token_id], stats=two)
    assert max(two.batch_sizes) == 2 and sum(two.batch_sizes) == sum(len(r.tokens) - 1 for r in again)


def test_prompts_that_share_a_prefix_reuse_its_keys(model_f32):
    model, tokenizer = model_f32
    _, prompts = chat_ids(tokenizer, ["Tell me a joke."] * 4 + ["Tell me a joke about cats."])
    stats = DecodeStats()
    decode(model, prompts, max_new_tokens=4, slots=8, temperature=1.0, seed=3, stats=stats)
    # One prompt in full; its three copies recompute one token each; the last only its own words.
    assert stats.prefill_positions < len(prompts[0]) + len(prompts[-1])


def test_sampling_is_seeded_per_request(model_f32):
    model, tokenizer = model_f32
    _, prompts = chat_ids(tokenizer, ["Tell me a joke."] * 3)
    sample = dict(max_new_tokens=16, temperature=1.0, top_p=0.9, slots=3)
    first = [r.tokens for r in decode(model, prompts, seed=5, **sample)]
    assert first == [r.tokens for r in decode(model, prompts, seed=5, **sample)]
    assert len({tuple(t) for t in first}) > 1, "copies of one prompt are seeded apart"
    assert first != [r.tokens for r in decode(model, prompts, seed=6, **sample)]


@pytest.mark.parametrize("top_p,top_k", [(0.9, 0), (0.5, 20), (1.0, 5)])
def test_sampled_tokens_stay_inside_the_cut_transformers_makes(top_p, top_k):
    from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper

    torch.manual_seed(0)
    vocab = 2000
    logits = torch.cat([torch.randn(3, vocab) * 6, torch.randn(1, vocab) * 0.05])  # peaked rows and one flat row
    allowed = logits / 0.8
    if top_k:
        allowed = TopKLogitsWarper(top_k)(None, allowed)
    if top_p < 1.0:
        allowed = TopPLogitsWarper(top_p)(None, allowed)
    kept = [set(torch.nonzero(row > -float("inf")).flatten().tolist()) for row in allowed]
    generators = [torch.Generator().manual_seed(i) for i in range(len(logits))]
    draws = [batching._sample(logits, generators, 0.8, top_p, top_k) for _ in range(300)]
    for r in range(len(logits)):
        seen = {d[r] for d in draws}
        assert seen <= kept[r]
    if top_p == 0.9 and not top_k:  # the flat row's nucleus is wider than the candidates looked at first
        assert len(kept[-1]) > batching.NUCLEUS_CANDIDATES
        assert len({d[-1] for d in draws}) > batching.NUCLEUS_CANDIDATES // 2


def test_a_lora_student_decodes_with_its_adapter(model_f32):
    from peft import LoraConfig, get_peft_model

    base, tokenizer = load_model("bundled", device="cpu", dtype="float32")
    student = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj", "down_proj"]))
    torch.manual_seed(0)
    for name, p in student.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.02)  # a trained adapter is not zero
    student.eval()
    assert supports(student)
    texts, prompts = chat_ids(tokenizer, QUESTIONS[:3])
    reference = generate_reference(student, tokenizer, texts, 16)
    assert [r.tokens for r in decode(student, prompts, max_new_tokens=16, end_tokens=[tokenizer.eos_token_id])] == reference
    plain = generate_reference(model_f32[0], tokenizer, texts, 16)
    assert reference != plain, "the adapter should change what the model says"


def test_a_model_of_another_layout_falls_back_to_generate(model_f32):
    from transformers import GPT2Config, GPT2LMHeadModel

    _, tokenizer = model_f32
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_layer=1, n_embd=32, n_head=2, n_positions=256))
    gpt2.generation_config.eos_token_id = tokenizer.eos_token_id
    assert not supports(gpt2)
    teacher = LocalTeacher(gpt2, tokenizer)
    out = teacher.chat([[{"role": "user", "content": "Hi."}]] * 3, Sampling(max_new_tokens=5, temperature=0))
    assert len(out) == 3 and all(c.completion_tokens > 0 for c in out)
    assert teacher.stats.steps == 0, "the slot loop must not run a model it cannot read"


def test_the_environment_names_the_engine_a_teacher_gets_and_a_typo_is_refused(model_f32, monkeypatch):
    """ALPACA_COURSE_TEACHER_ENGINE=generate runs a whole course on `model.generate` (the old path, to compare)."""
    from alpaca_course.teachers import ENGINE_ENV, TeacherConfigError

    model, tokenizer = model_f32
    monkeypatch.setenv(ENGINE_ENV, "generate")
    old = LocalTeacher(model, tokenizer)
    out = old.chat([[{"role": "user", "content": "Hi."}]] * 2, Sampling(max_new_tokens=4, temperature=0))
    assert old.engine == "generate" and len(out) == 2 and old.stats.steps == 0, "generate must not run the slot loop"
    assert LocalTeacher(model, tokenizer, engine="slots").engine == "slots", "a caller's choice wins"
    monkeypatch.setenv(ENGINE_ENV, "slot")
    with pytest.raises(TeacherConfigError, match="ALPACA_COURSE_TEACHER_ENGINE='slot'"):
        LocalTeacher(model, tokenizer)
    monkeypatch.delenv(ENGINE_ENV)
    assert LocalTeacher(model, tokenizer).engine == "slots"


def test_stop_strings_end_a_row_and_are_cut_from_the_text(model_f32):
    model, tokenizer = model_f32
    teacher = LocalTeacher(model, tokenizer)
    prompt = "Count from one to twenty in words, separated by commas: one, two, three,"
    out = teacher.complete([prompt], Sampling(max_new_tokens=40, temperature=0, stop=("seven",)))[0]
    assert out.finish_reason == "stop" and "seven" not in out.text
    assert out.completion_tokens < 40


def test_the_key_value_budget_caps_the_slots(model_f32, monkeypatch):
    model, tokenizer = model_f32
    _, prompts = chat_ids(tokenizer, QUESTIONS)
    capacity = max(map(len, prompts)) + 8
    monkeypatch.setattr(batching, "KV_BUDGET", 3 * batching.slot_bytes(model, capacity))
    stats = DecodeStats()
    decode(model, prompts, max_new_tokens=8, slots=64, stats=stats)
    assert max(stats.batch_sizes) == 3


def test_prefill_split_pads_less_than_one_pass():
    sizes = [10, 11, 12, 200, 204]
    chunks = batching._chunks(list(range(5)), sizes)
    assert chunks == [[0, 1, 2], [3, 4]]
    assert batching._chunks(list(range(3)), [50, 50, 50]) == [[0, 1, 2]]


def test_without_onednn_the_plain_matmul_path_gives_the_same_tokens(model_f32, monkeypatch):
    """The path every non-float32 model takes (and a CPU without oneDNN): stacked weights through F.linear."""
    model, tokenizer = model_f32
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    texts, prompts = chat_ids(tokenizer, QUESTIONS[:4])
    engine = batching.SlotDecoder(model, 2, 64)
    assert not engine.pack and all(engine.qkv) and all(engine.gate_up)
    reference = generate_reference(model, tokenizer, texts, 24)
    assert [r.tokens for r in decode(model, prompts, max_new_tokens=24, end_tokens=[tokenizer.eos_token_id])] == reference


def test_bf16_decoding_starts_as_generate_does():
    """bf16 rounds differently in the two paths, so only the opening tokens are compared."""
    model, tokenizer = load_model("bundled", device="cpu", dtype="bfloat16")
    texts, prompts = chat_ids(tokenizer, QUESTIONS[1:4])
    reference = generate_reference(model, tokenizer, texts, 4)
    rows = decode(model, prompts, max_new_tokens=4, end_tokens=[tokenizer.eos_token_id])
    assert [r.tokens[:3] for r in rows] == [r[:3] for r in reference]
