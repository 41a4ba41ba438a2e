"""Every checker passes a right answer, calls a stub 'not yet solved', and names the problem in a wrong answer."""

from __future__ import annotations

import gzip
import json
import math
import re

import numpy as np
import pytest

from alpaca_course import checks
from alpaca_course.templates import ALPACA_TEMPLATE_INPUT, ALPACA_TEMPLATE_NO_INPUT


def stub(*args):
    # YOUR CODE HERE
    ...


# ---- right answers, written independently of the package where that is short


def format_alpaca(instruction, input=""):
    if input.strip():
        return ALPACA_TEMPLATE_INPUT.format(instruction=instruction, input=input)
    return ALPACA_TEMPLATE_NO_INPUT.format(instruction=instruction)


def format_alpaca_wrong(instruction, input=""):  # always the input template
    return ALPACA_TEMPLATE_INPUT.format(instruction=instruction, input=input)


def to_chat(instruction, input, output):
    user = f"{instruction}\n\n{input}" if input.strip() else instruction
    return [{"role": "user", "content": user}, {"role": "assistant", "content": output}]


def to_chat_wrong(instruction, input, output):  # forgets the input
    return [{"role": "user", "content": instruction}, {"role": "assistant", "content": output}]


def build_labels(prompt, answer, eos):
    return prompt + answer + [eos], [-100] * len(prompt) + answer + [eos]


def build_labels_unmasked(prompt, answer, eos):
    return prompt + answer + [eos], prompt + answer + [eos]


def build_labels_no_eos(prompt, answer, eos):
    return prompt + answer, [-100] * len(prompt) + answer


def masked_loss(logits, labels):
    import torch

    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                                             ignore_index=-100)


def masked_loss_unshifted(logits, labels):
    import torch

    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                             ignore_index=-100)


def is_blacklisted(text, words):
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE) for w in words)


def is_blacklisted_substring(text, words):
    return any(w in text.lower() for w in words)


def parse_list(text):
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*\d+\s*[.)]\s*(.*)$", line)
        if m and m.group(1).strip():
            out.append(m.group(1).strip())
    return out


def parse_list_wrong(text):  # keeps every line
    return [line.strip() for line in text.splitlines() if line.strip()]


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def lcs_wrong(a, b):
    return len(set(a) & set(b))


def _tok(text):
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def rouge(target, prediction):
    t, p = _tok(target), _tok(prediction)
    if not t or not p:
        return 0.0
    common = lcs(t, p)
    precision, recall = common / len(p), common / len(t)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def rouge_precision_only(target, prediction):
    t, p = _tok(target), _tok(prediction)
    return lcs(t, p) / len(p) if p and t else 0.0


def novelty(candidates, pool, threshold):
    kept, pool = [], list(pool)
    for c in candidates:
        if max((rouge(p, c) for p in pool), default=0.0) <= threshold:
            kept.append(c)
            pool.append(c)
    return kept


def novelty_pool_only(candidates, pool, threshold):  # kept candidates never join the pool
    return [c for c in candidates if max((rouge(p, c) for p in pool), default=0.0) <= threshold]


def distinct(texts, n):
    grams = [tuple(t.split()[i:i + n]) for t in texts for i in range(len(t.split()) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def distinct_joined(texts, n):
    return distinct([" ".join(texts)], n)


def compression(texts):
    raw = " ".join(texts).encode("utf-8")
    return len(raw) / len(gzip.compress(raw)) if raw else 0.0


def compression_inverted(texts):
    raw = " ".join(texts).encode("utf-8")
    return len(gzip.compress(raw)) / len(raw) if raw else 0.0


def vendi(K):
    values = np.linalg.eigvalsh(K / K.shape[0])
    values = values[values > 0]
    return float(np.exp(-np.sum(values * np.log(values))))


def vendi_entropy(K):
    return float(np.log(vendi(K)))


def count_distinct(jokes):
    return len({re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", j.lower())).strip() for j in jokes})


def count_exact(jokes):
    return len(set(jokes))


def lora_params(d_in, d_out, r):
    return r * (d_in + d_out)


def lora_params_full(d_in, d_out, r):
    return d_in * d_out


def count_lora(shapes, r, targets, layers):
    return layers * sum(lora_params(*shapes[t], r) for t in targets)


def count_lora_one_layer(shapes, r, targets, layers):
    return sum(lora_params(*shapes[t], r) for t in targets)


def lora_config(r, alpha, targets):
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.05, bias="none",
                      task_type="CAUSAL_LM")


def lora_config_no_task(r, alpha, targets):
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.05, bias="none")


def sft_config(out_dir, steps, batch, lr):
    from trl import SFTConfig

    return SFTConfig(output_dir=out_dir, max_steps=steps, per_device_train_batch_size=batch, learning_rate=lr,
                     bf16=False, report_to="none", save_strategy="no", logging_steps=1)


def sft_config_default_precision(out_dir, steps, batch, lr):
    from trl import SFTConfig

    return SFTConfig(output_dir=out_dir, max_steps=steps, per_device_train_batch_size=batch, learning_rate=lr,
                     report_to="none", save_strategy="no", logging_steps=1)


def word_limit(response, n):
    return len(re.findall(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*", response)) <= n


def word_limit_split(response, n):
    return len(response.split()) <= n


def bullets(response, n):
    return len(re.findall(r"^\s*[-*\u2022]\s+\S", response, re.MULTILINE)) == n


def bullets_count_dashes(response, n):
    return response.count("-") == n


def is_json(response):
    try:
        json.loads(response.strip())
    except ValueError:
        return False
    return True


def is_json_braces(response):
    return response.strip().startswith("{") or response.strip().startswith("[")


def win_rate(outcomes):
    if not outcomes or any(o not in ("win", "loss", "tie") for o in outcomes):
        raise ValueError("need outcomes 'win', 'loss' or 'tie'")
    return (outcomes.count("win") + 0.5 * outcomes.count("tie")) / len(outcomes)


def win_rate_ties_lost(outcomes):
    return outcomes.count("win") / len(outcomes) if outcomes else 0.0


def win_rate_no_error(outcomes):
    return (outcomes.count("win") + 0.5 * outcomes.count("tie")) / len(outcomes) if outcomes else 0.0


def fit(x):
    return float(np.mean(x)), float(np.std(x, ddof=1))


def fit_ddof0(x):
    return float(np.mean(x)), float(np.std(x))


def tail(x, k):
    return float(np.mean(np.abs(x) > k))


def tail_one_sided(x, k):
    return float(np.mean(x > k))


def simulate(generations, n, mode, seed):
    if mode not in ("replace", "accumulate"):
        raise ValueError(mode)
    rng = np.random.default_rng(seed)
    data, stds = rng.normal(0, 1, n), []
    for _ in range(generations):
        mean, std = data.mean(), data.std(ddof=1)
        stds.append(float(std))
        fresh = rng.normal(mean, std, n)
        data = fresh if mode == "replace" else np.concatenate([data, fresh])
    return stds


def simulate_always_replace(generations, n, mode, seed):
    return simulate(generations, n, "replace", seed)


def use_forbidden(forbids, use):
    if use not in ("research", "commercial", "competing-model"):
        raise ValueError(use)
    implied = {"research": set(), "commercial": {"commercial"}, "competing-model": {"commercial", "competing-model"}}
    return bool(implied[use] & set(forbids))


def use_forbidden_literal(forbids, use):
    return use in forbids


def best_of_k(sample, passes, prompts, k):
    kept, passing, total = [], 0, 0
    for prompt in prompts:
        answers = sample(prompt, k)
        verdicts = [passes(prompt, a) for a in answers]
        passing, total = passing + sum(verdicts), total + len(answers)
        if any(verdicts):
            kept.append((prompt, answers[verdicts.index(True)]))
    return kept, (passing / total if total else 0.0)


def best_of_k_last(sample, passes, prompts, k):
    kept, passing, total = [], 0, 0
    for prompt in prompts:
        answers = sample(prompt, k)
        good = [a for a in answers if passes(prompt, a)]
        passing, total = passing + len(good), total + len(answers)
        if good:
            kept.append((prompt, good[-1]))
    return kept, (passing / total if total else 0.0)


def paired(a, b, samples, seed):
    if len(a) != len(b):
        raise ValueError("not pairs")
    a, b = np.asarray(a, float), np.asarray(b, float)
    idx = np.random.default_rng(seed).integers(0, len(a), (samples, len(a)))
    means = (b - a)[idx].mean(axis=1)
    return float((b - a).mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def paired_separately(a, b, samples, seed):
    if len(a) != len(b):
        raise ValueError("not pairs")
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    means = b[rng.integers(0, len(b), (samples, len(b)))].mean(1) - a[rng.integers(0, len(a), (samples, len(a)))].mean(1)
    return float((b - a).mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def dpo_loss(pc, pr, rc, rr, beta):
    margin = beta * ((pc - rc) - (pr - rr))
    return math.log1p(math.exp(-margin)) if margin > -30 else -margin


def dpo_loss_flipped(pc, pr, rc, rr, beta):
    return dpo_loss(pr, pc, rr, rc, beta)


def dpo_loss_no_reference(pc, pr, rc, rr, beta):
    return dpo_loss(pc, pr, 0.0, 0.0, beta)


CASES = [  # checker, right answer, plausible wrong answer, words the failure message must contain
    (checks.check_format_alpaca, format_alpaca, format_alpaca_wrong, "### Input:"),
    (checks.check_chat_messages, to_chat, to_chat_wrong, "input"),
    (checks.check_build_labels, build_labels, build_labels_unmasked, "-100"),
    (checks.check_build_labels, build_labels, build_labels_no_eos, "EOS"),
    (checks.check_masked_loss, masked_loss, masked_loss_unshifted, "t+1"),
    (checks.check_is_blacklisted, is_blacklisted, is_blacklisted_substring, "whole words"),
    (checks.check_parse_numbered_list, parse_list, parse_list_wrong, "expected"),
    (checks.check_lcs_length, lcs, lcs_wrong, "order"),
    (checks.check_rouge_l, rouge, rouge_precision_only, "precision or recall"),
    (checks.check_novelty_filter, novelty, novelty_pool_only, "joins the pool"),
    (checks.check_distinct_n, distinct, distinct_joined, "within each text"),
    (checks.check_compression_ratio, compression, compression_inverted, "raw / compressed"),
    (checks.check_vendi, vendi, vendi_entropy, "exp(entropy)"),
    (checks.check_count_distinct, count_distinct, count_exact, "normalize"),
    (checks.check_lora_params, lora_params, lora_params_full, "frozen weight"),
    (checks.check_count_lora_params, count_lora, count_lora_one_layer, "n_layers"),
    (checks.check_lora_config, lora_config, lora_config_no_task, "task_type"),
    (checks.check_sft_config, sft_config, sft_config_default_precision, "bf16"),
    (checks.check_within_word_limit, word_limit, word_limit_split, "punctuation"),
    (checks.check_has_n_bullets, bullets, bullets_count_dashes, "expected"),
    (checks.check_is_json, is_json, is_json_braces, "single quotes"),
    (checks.check_win_rate, win_rate, win_rate_ties_lost, "half a win"),
    (checks.check_win_rate, win_rate, win_rate_no_error, "ValueError"),
    (checks.check_best_of_k, best_of_k, best_of_k_last, "first"),
    (checks.check_dpo_loss, dpo_loss, dpo_loss_flipped, "sign is flipped"),
    (checks.check_dpo_loss, dpo_loss, dpo_loss_no_reference, "reference is missing"),
    (checks.check_paired_bootstrap, paired, paired_separately, "separately"),
    (checks.check_fit_gaussian, fit, fit_ddof0, "n - 1"),
    (checks.check_tail_fraction, tail, tail_one_sided, "both tails"),
    (checks.check_simulate, simulate, simulate_always_replace, "accumulate"),
    (checks.check_use_forbidden, use_forbidden, use_forbidden_literal, "commercial product"),
]


@pytest.mark.parametrize(("checker", "right", "wrong", "words"), CASES,
                         ids=[f"{c[0].__name__}-{c[2].__name__}" for c in CASES])
def test_checker_accepts_right_rejects_stub_and_names_the_wrong(checker, right, wrong, words):
    assert checker(right).passed, checker(right)
    pending = checker(stub)
    assert not pending.passed and not pending.solved and checks.NOT_YET in repr(pending)
    failed = checker(wrong)
    assert not failed.passed and failed.solved
    assert words in failed.message and failed.hint, repr(failed)


def test_a_crashing_answer_is_reported_not_raised():
    def crashes(*args):
        raise KeyError("oops")

    result = checks.check_lcs_length(crashes)
    assert not result.passed and "KeyError" in result.message and result.hint


def test_card_checkers(tmp_path):
    from alpaca_course.data import InstructionRecord, write_jsonl
    from alpaca_course.provenance import dataset_card, read_front_matter

    path = tmp_path / "data.jsonl"
    write_jsonl(path, [InstructionRecord(f"Name {i} birds of the coast.", "", "Gulls.") for i in range(3)])
    card = dataset_card(path, teacher="text-davinci-003", diversity=False)
    meta = read_front_matter(card)
    meta["size_categories"] = ["10K<n<100K"]
    assert checks.check_card_metadata(meta, 52_002, "text-davinci-003").passed
    assert not checks.check_card_metadata({}, 52_002, "text-davinci-003").solved
    human = dict(meta, language_creators=["crowdsourced"])
    assert "machine-generated" in checks.check_card_metadata(human, 52_002, "text-davinci-003").message
    small = dict(meta, size_categories=["n<1K"])
    assert "10K<n<100K" in checks.check_card_metadata(small, 52_002, "text-davinci-003").message
    assert not checks.check_card_text(card).passed  # only the default limitations
    assert "defaults" in checks.check_card_text(card).message
    mine = card.replace("## Licence", "- 13 of 24 outputs were cut off at the length limit.\n\n## Licence")
    assert checks.check_card_text(mine).passed
    assert not checks.check_card_text(None).solved


def test_measured_evidence_is_worded_by_the_result_either_way(tmp_path, monkeypatch):
    from alpaca_course.results import measured_evidence, save_result

    monkeypatch.setenv("ALPACA_COURSE_WORKSPACE", str(tmp_path))
    assert measured_evidence() == []
    for verdict, diff, low, high in (("better", 0.08, 0.02, 0.14), ("no detectable difference", 0.01, -0.03, 0.05)):
        save_result("evaluation", {"differences": {"curated student vs base": {
            "difference": diff, "low": low, "high": high, "n": 160, "gained": 9, "lost": 2, "verdict": verdict}}})
        (line,) = measured_evidence()
        assert f"{100 * diff:+.1f} points" in line and f"{100 * low:+.1f} to {100 * high:+.1f}" in line
        assert line.endswith(verdict) and "160" in line


def test_measured_evidence_cites_the_collapse_loop_with_its_interval(tmp_path, monkeypatch):
    from alpaca_course.results import measured_evidence, save_result

    monkeypatch.setenv("ALPACA_COURSE_WORKSPACE", str(tmp_path))
    save_result("collapse_changes", [{"name": "distinct-2 of the answers", "before": 0.94, "after": 0.95, "low": -0.02,
                                      "high": 0.03, "n": 32, "unit": "instructions"}])
    (line,) = measured_evidence()
    assert "no detectable change" in line and "-0.020 to +0.030" in line and "n = 32 instructions" in line


def test_a_first_failure_gives_a_nudge_and_the_fuller_hint_waits_for_repeated_tries():
    from alpaca_course.checks import check_fit_gaussian, harness

    harness._failed_tries.pop("fit_gaussian", None)
    wrong = lambda x: (float(x.mean()), float(x.std()))  # noqa: E731 (divides by n)
    said = [repr(check_fit_gaussian(wrong)) for _ in range(harness.ANSWER_AFTER)]
    assert all("[not right yet]" in s and "hint:" in s for s in said)
    assert all("ddof=1))" not in s for s in said[:-1]) and "a fuller hint comes from your try 3" in said[0]
    assert "fuller hint (try 3): return float(x.mean()), float(x.std(ddof=1))" in said[-1]

