"""Checkers for lesson 04 (fine-tuning); expected values come from the package wherever it computes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .harness import Case, Feedback, call_once, close, compare_fields, run_cases


def check_lora_params(fn: Callable[[int, int, int], int]) -> Feedback:
    """lora_params(d_in, d_out, r) -> trainable parameters LoRA adds to one d_in x d_out linear layer."""
    from ..finetune import lora_added_params

    shapes = [("a square layer", (576, 576, 8)), ("a rectangular layer", (576, 192, 8)),
              ("rank 1", (10, 20, 1)), ("rank 16", (2048, 512, 16))]
    cases = [Case(label, a, lora_added_params(*a)) for label, a in shapes]

    def diagnose(case: Case, got: Any) -> str | None:
        d_in, d_out, r = case.args
        if got == d_in * d_out:
            return "that is the frozen weight matrix itself; LoRA trains only A (r x d_in) and B (d_out x r)"
        if got == r * d_in * d_out:
            return "multiply each factor's two sides, then add: r*d_in + d_out*r"
        return None

    return run_cases("lora_params", fn, cases, "A is r x d_in and B is d_out x r", diagnose=diagnose)


def check_count_lora_params(fn: Callable[[dict, int, Sequence[str], int], int]) -> Feedback:
    """count_lora_params(shapes, r, targets, n_layers) -> LoRA parameters over every layer and target module."""
    smol = {"q_proj": (576, 576), "k_proj": (576, 192), "v_proj": (576, 192), "o_proj": (576, 576),
            "gate_proj": (576, 1536), "up_proj": (576, 1536), "down_proj": (1536, 576)}

    from ..finetune import lora_params_for as expected

    args = [("SmolLM2-135M, q and v, r=8", (smol, 8, ["q_proj", "v_proj"], 30)),
            ("all linear layers, r=16", (smol, 16, list(smol), 30)), ("no target modules", (smol, 8, [], 30)),
            ("one layer", (smol, 4, ["o_proj"], 1))]
    cases = [Case(label, a, expected(*a)) for label, a in args]

    def diagnose(case: Case, got: Any) -> str | None:
        shapes, r, targets, layers = case.args
        if layers and got == expected(*case.args) // layers:
            return "every one of the n_layers layers has its own copy of each target module"
        return None

    return run_cases("count_lora_params", fn, cases, "sum lora_params over the target modules, times n_layers",
                     diagnose=diagnose)


def check_lora_config(fn: Callable[[int, int, Sequence[str]], Any]) -> Feedback:
    """make_lora_config(r, alpha, targets) -> a peft LoraConfig for causal language modelling."""
    task = "make_lora_config"
    hint = ("compare with the LoraConfig the lesson builds: the message names the field that differs",
            "LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.05, bias='none', "
            "task_type='CAUSAL_LM')")
    config, problem = call_once(task, fn, (8, 16, ["q_proj", "v_proj"]), hint)
    if problem is not None:
        return problem
    from peft import LoraConfig

    if not isinstance(config, LoraConfig):
        return Feedback(task, False, True, f"expected a peft.LoraConfig, got {type(config).__name__}", hint)
    rows = [("r", config.r, 8), ("lora_alpha", config.lora_alpha, 16),
            ("target_modules", set(config.target_modules or ()), {"q_proj", "v_proj"}),
            ("lora_dropout", config.lora_dropout, 0.05), ("bias", config.bias, "none"),
            ("task_type", str(config.task_type).split(".")[-1], "CAUSAL_LM")]
    return compare_fields(task, rows, hint, "r, alpha, targets, dropout, bias and task type all set")


def check_sft_config(fn: Callable[[str, int, int, float], Any]) -> Feedback:
    """make_sft_config(out_dir, max_steps, batch_size, learning_rate) -> a TRL SFTConfig that runs on this CPU."""
    task = "make_sft_config"
    hint = ("the message names the field that differs; look up its name in the SFTConfig the lesson shows",
            "SFTConfig(output_dir=..., max_steps=..., per_device_train_batch_size=..., learning_rate=..., "
            "bf16=False, report_to='none', save_strategy='no', logging_steps=1)")

    def explain(err: Exception) -> str | None:
        if isinstance(err, ValueError) and "bf16" in str(err):
            return ("SFTConfig refused bf16 on this machine: TRL turns bf16 on by default, and a CPU without bf16 "
                    "support rejects it")
        return None

    config, problem = call_once(task, fn, ("/tmp/alpaca-course-exercise", 12, 4, 2e-4), hint, explain)
    if problem is not None:
        return problem
    from trl import SFTConfig

    if not isinstance(config, SFTConfig):
        return Feedback(task, False, True, f"expected a trl.SFTConfig, got {type(config).__name__}", hint)
    report = config.report_to if isinstance(config.report_to, list) else [config.report_to]
    rows = [("max_steps", config.max_steps, 12), ("per_device_train_batch_size", config.per_device_train_batch_size, 4),
            ("learning_rate", config.learning_rate, 2e-4), ("logging_steps", config.logging_steps, 1),
            ("save_strategy", str(config.save_strategy).split(".")[-1].lower(), "no"),
            ("report_to", [r for r in report if r not in ("none", None)], [])]
    return compare_fields(task, rows, hint, "a config that trains on this machine, logs every step and saves nothing")


def check_best_of_k(fn: Callable) -> Feedback:
    """best_of_k(sample, passes, prompts, k) -> (kept, pass_rate): per prompt one call sample(prompt, k), keep the
    first answer that passes(prompt, answer) as (prompt, answer); pass_rate = passing answers / all answers."""
    task, hint = "best_of_k", ("call sample(prompt, k) once per prompt; keep the *first* passing answer; a prompt "
                               "with none is left out; the pass rate counts every answer, passing or not")
    answers = {"a": ["no", "yes 1", "yes 2"], "b": ["no", "no", "no"], "c": ["yes 3", "no", "yes 4"]}
    calls: list[tuple[str, int]] = []

    def sample(prompt: str, k: int) -> list[str]:
        calls.append((prompt, k))
        return list(answers[prompt][:k])

    def passes(prompt: str, answer: str) -> bool:
        return answer.startswith("yes")

    value, problem = call_once(task, fn, (sample, passes, ["a", "b", "c"], 3), hint)
    if problem is not None:
        return problem
    try:
        kept, rate = value
    except (TypeError, ValueError):
        return Feedback(task, False, True, f"expected a pair (kept, pass_rate), got {value!r}", hint)
    if sorted(calls) != [("a", 3), ("b", 3), ("c", 3)]:
        return Feedback(task, False, True, f"sample was called as {calls}; call it once per prompt with k", hint)
    if list(kept) == [("a", "yes 2"), ("c", "yes 4")]:
        return Feedback(task, False, True, "you kept the last passing answer; keep the first", hint)
    if list(kept) != [("a", "yes 1"), ("c", "yes 3")]:
        return Feedback(task, False, True, f"kept {list(kept)!r}, expected [('a', 'yes 1'), ('c', 'yes 3')]", hint)
    if not isinstance(rate, (int, float)) or abs(rate - 4 / 9) > 1e-9:
        detail = " (that is the share of prompts solved, not of answers)" if rate == 2 / 3 else ""
        return Feedback(task, False, True, f"pass_rate is {rate!r}, expected 4/9 = {4 / 9:.4f}{detail}", hint)
    calls.clear()
    value, problem = call_once(task, fn, (sample, passes, [], 3), hint)
    if problem is None and (list(value[0]), value[1]) != ([], 0.0):
        return Feedback(task, False, True, f"with no prompts expected ([], 0.0), got {value!r}", hint)
    return Feedback(task, True, True, "first passing answer kept, failures skipped, pass rate per answer")


def check_dpo_loss(fn: Callable[[float, float, float, float, float], float]) -> Feedback:
    """dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta) -> DPO's loss for one pair, from four
    summed log-probabilities."""
    import math

    from ..preference import dpo_loss, reward_margins

    def expected(pc: float, pr: float, rc: float, rr: float, beta: float) -> float:
        return dpo_loss(reward_margins([(pc, pr)], [(rc, rr)], beta))

    rows = [("the student equals its reference", (-12.0, -15.0, -12.0, -15.0, 0.1)),
            ("the chosen answer gained", (-10.0, -15.0, -12.0, -15.0, 0.1)),
            ("the rejected answer gained", (-12.0, -13.0, -12.0, -15.0, 0.5)),
            ("a large beta", (-30.5, -41.0, -33.0, -40.0, 2.0)),
            ("a huge margin", (-1.0, -400.0, -50.0, -20.0, 1.0))]
    cases = [Case(label, args, expected(*args)) for label, args in rows]
    hint = ("each answer's implicit reward compares the policy with the reference; the loss rewards a chosen answer "
            "that beats the rejected one", "the implicit reward of an answer is beta x (log pi - log ref); the loss "
            "is -log sigmoid(reward of chosen - reward of rejected). Write -log sigmoid(x) as log(1 + exp(-x)) "
            "(math.log1p), and mind large margins")

    def softplus(x: float) -> float:  # log(1 + e^x) = -log sigmoid(-x), without overflow
        return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))

    def diagnose(case: Case, got: Any) -> str | None:
        pc, pr, rc, rr, beta = case.args
        margin = beta * ((pc - rc) - (pr - rr))
        if close(got, softplus(margin), 1e-6):
            return "the sign is flipped: the loss must fall as the chosen answer gains on the rejected one"
        if close(got, softplus(-margin / beta), 1e-6):
            return "beta is missing: multiply the difference of log-ratios by beta"
        if close(got, softplus(-beta * (pc - pr)), 1e-6):
            return "the reference is missing: each answer's reward is log pi - log ref, not log pi alone"
        return None

    return run_cases("dpo_loss", fn, cases, hint, same=lambda got, exp: close(got, exp, 1e-6), diagnose=diagnose)
