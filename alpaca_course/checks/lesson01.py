"""Checkers for lesson 01 (instruction data); expected values come from the package wherever it computes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .harness import Case, Feedback, close, first_difference, run_cases


def check_format_alpaca(fn: Callable[[str, str], str]) -> Feedback:
    """format_alpaca(instruction, input) -> the Alpaca prompt, ending at '### Response:'."""
    from ..templates import alpaca_prompt

    pairs = [("no input", "Name three primary colours.", ""),
             ("an input", "Summarise the text.", "Cats sleep most of the day."),
             ("an input of only spaces", "Say hello.", "   "),
             ("an input over two lines", "Add the numbers.", "2\n3")]
    cases = [Case(label, (ins, inp), alpaca_prompt(ins, inp)) for label, ins, inp in pairs]
    return run_cases("format_alpaca", fn, cases,
                     ("compare your text with the template in the lesson line by line: which records get an "
                      "'### Input:' section, and how does the prompt end?",
                      "use the template with '### Input:' only when input.strip() is not empty; the prompt ends "
                      "with '### Response:' (no newline after it)"),
                     diagnose=lambda case, got: (
                         "the input is blank, so use the template without '### Input:'"
                         if isinstance(got, str) and not case.args[1].strip() and "### Input:" in got
                         else first_difference(got, case.expected)))


def check_chat_messages(fn: Callable[[str, str, str], list]) -> Feedback:
    """to_chat_messages(instruction, input, output) -> a user turn and an assistant turn."""
    from ..data import InstructionRecord
    from ..templates import chat_messages

    triples = [("no input", "Name a fruit.", "", "An apple."),
               ("an input", "Translate to French.", "Good morning", "Bonjour"),
               ("an input of only spaces", "Say hi.", "  ", "Hi!")]
    cases = [Case(label, (i, x, o), chat_messages(InstructionRecord(i, x, o), with_output=True))
             for label, i, x, o in triples]

    def diagnose(case: Case, got: Any) -> str | None:
        if not isinstance(got, list) or not all(isinstance(m, dict) for m in got):
            return "return a list of dicts with 'role' and 'content'"
        if [m.get("role") for m in got] != ["user", "assistant"]:
            return "the roles should be 'user' then 'assistant'"
        return "the user turn is the instruction, then a blank line and the input (when there is one)"

    return run_cases("to_chat_messages", fn, cases, ("two messages, user then assistant: where does the input go, and what "
                     "separates it from the instruction?", "user content = instruction + '\\n\\n' + input when the "
                     "input is not blank; the assistant content is the output"), diagnose=diagnose)


def check_build_labels(fn: Callable[[list, list, int], tuple]) -> Feedback:
    """build_labels(prompt_ids, answer_ids, eos_id) -> (input_ids, labels) with the prompt masked by -100."""
    from ..tokenizing import join_prompt_and_target

    def expected(p, a, e):
        return join_prompt_and_target(p, list(a) + [e])

    args = [("a short example", ([5, 6, 7], [8, 9], 2)), ("an empty answer", ([5, 6], [], 2)),
            ("an empty prompt", ([], [4], 2)), ("a longer example", (list(range(10, 30)), [1, 3, 5], 0))]
    cases = [Case(label, a, expected(*a)) for label, a in args]

    def same(got, exp):
        return isinstance(got, (tuple, list)) and len(got) == 2 and list(got[0]) == exp[0] and list(got[1]) == exp[1]

    def diagnose(case: Case, got: Any) -> str | None:
        prompt, answer, eos = case.args
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return "return a pair (input_ids, labels)"
        ids, labels = list(got[0]), list(got[1])
        if len(ids) != len(labels):
            return "input_ids and labels must have the same length (one label per position)"
        if labels[: len(prompt)] == list(prompt) and prompt:
            return "the prompt positions must be -100 so the loss ignores them"
        if not ids or ids[-1] != eos or labels[-1] != eos:
            return "end with the EOS token, in input_ids and in labels, or the model never learns to stop"
        return None

    return run_cases("build_labels", fn, cases, ("the model should learn the answer and when to stop, not the prompt: "
                     "which label tells the loss to skip a position?", "input_ids = prompt + answer + [eos]; labels = "
                     "[-100] * len(prompt) + answer + [eos]"), same=same, diagnose=diagnose)


def check_masked_loss(fn: Callable) -> Feedback:
    """masked_loss(logits, labels) -> mean cross-entropy of next-token predictions on unmasked labels."""
    import torch

    from ..losses import masked_token_loss

    generator = torch.Generator().manual_seed(0)
    cases = []
    for label, (batch, length, vocab, masked) in {"one sequence, half masked": (1, 8, 11, 4),
                                                  "a batch of 3 with masked prompts": (3, 10, 17, 6),
                                                  "nothing masked": (2, 5, 7, 0)}.items():
        logits = torch.randn(batch, length, vocab, generator=generator)
        labels = torch.randint(0, vocab, (batch, length), generator=generator)
        labels[:, :masked] = -100
        cases.append(Case(label, (logits, labels), float(masked_token_loss(logits, labels))))

    def same(got, exp):
        return close(float(got), exp, 1e-5)

    def diagnose(case: Case, got: Any) -> str | None:
        logits, labels = case.args
        flat = torch.nn.functional.cross_entropy
        unshifted = float(flat(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100))
        if close(float(got), unshifted, 1e-5):
            return ("you compared the logits at position t with the label at t; the model at t predicts token "
                    "t+1, so drop the last logit and the first label")
        return None

    return run_cases("masked_loss", fn, cases, ("position t predicts token t + 1: line the logits and labels up before "
                     "the loss, and let the masked positions drop out of the average", "shift by one (logits[:, :-1] "
                     "against labels[:, 1:]), then cross_entropy(..., ignore_index=-100) averages over the positions "
                     "that are not masked"),
                     same=same, diagnose=diagnose)
