"""Exercise checkers: run your function on several inputs, say exactly what failed, and give a hint.

Every checker takes your function (or value), never raises, and returns a `Feedback` that prints as
one line: passed, not yet solved (the stub is still there), or what went wrong with a hint. The
expected answers come from the course package itself, so a checker and a lesson never disagree.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NOT_YET = "not yet solved"


@dataclass
class Feedback:
    """The outcome of one check: passed, not yet solved, or failed with a message and a hint."""

    task: str
    passed: bool
    solved: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return f"[passed] {self.task}: {self.message}"
        if not self.solved:
            return f"[{NOT_YET}] {self.task}: {self.message}"
        return f"[not right yet] {self.task}: {self.message}\n  hint: {self.hint}"

    __str__ = __repr__


@dataclass
class Case:
    """One input to try: a label for messages, the arguments, and the expected result."""

    label: str
    args: tuple
    expected: Any = None


def _show(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _stub(task: str, what: str = "function") -> Feedback:
    return Feedback(task, False, False, f"the {what} still returns None or ...: write your code where it "
                                        "says # YOUR CODE HERE, then run this cell again")


def run_cases(task: str, fn: Callable, cases: Sequence[Case], hint: str,
              same: Callable[[Any, Any], bool] | None = None,
              diagnose: Callable[[Case, Any], str | None] | None = None) -> Feedback:
    """Call fn on each case; the first mismatch becomes the message (diagnose may name the likely mistake)."""
    same = same or (lambda got, expected: got == expected)
    if not callable(fn):
        return Feedback(task, False, True, f"expected a function, got {type(fn).__name__}", hint)
    for i, case in enumerate(cases):
        try:
            got = fn(*case.args)
        except NotImplementedError:
            return _stub(task)
        except Exception as err:  # the learner's code may fail in any way; report it, never raise
            return Feedback(task, False, True, f"on {case.label}: raised {type(err).__name__}: {err}", hint)
        if got is None or got is Ellipsis:
            if i == 0:
                return _stub(task)
            return Feedback(task, False, True, f"on {case.label}: returned None (is a `return` missing on "
                                               "some path?)", hint)
        try:
            ok = bool(same(got, case.expected))
        except Exception:  # an answer of the wrong type cannot be compared
            ok = False
        if not ok:
            specific = diagnose(case, got) if diagnose else None
            return Feedback(task, False, True, f"on {case.label}: expected {_show(case.expected)}, got {_show(got)}"
                            + (f". {specific}" if specific else ""), hint)
    return Feedback(task, True, True, f"all {len(cases)} cases right, edge cases included")


def close(got: Any, expected: float, tol: float = 1e-9) -> bool:
    """Floats equal up to a small relative tolerance."""
    return isinstance(got, (int, float, np.floating)) and math.isclose(float(got), expected, rel_tol=tol, abs_tol=tol)


def _first_difference(got: str, expected: str) -> str | None:
    if not isinstance(got, str):
        return f"the answer should be a str, not {type(got).__name__}"
    for n, (a, b) in enumerate(zip(got.split("\n"), expected.split("\n"), strict=False), start=1):
        if a != b:
            return f"first difference on line {n}: expected {b!r}, got {a!r}"
    return "the texts differ in length (a missing or extra line or trailing newline?)"


# ---------------------------------------------------------------- lesson 01: instruction data

def check_format_alpaca(fn: Callable[[str, str], str]) -> Feedback:
    """format_alpaca(instruction, input) -> the Alpaca prompt, ending at '### Response:'."""
    from .templates import alpaca_prompt

    pairs = [("no input", "Name three primary colours.", ""),
             ("an input", "Summarise the text.", "Cats sleep most of the day."),
             ("an input of only spaces", "Say hello.", "   "),
             ("an input over two lines", "Add the numbers.", "2\n3")]
    cases = [Case(label, (ins, inp), alpaca_prompt(ins, inp)) for label, ins, inp in pairs]
    return run_cases("format_alpaca", fn, cases,
                     "use the template with '### Input:' only when input.strip() is not empty; the prompt ends "
                     "with '### Response:' (no newline after it)",
                     diagnose=lambda case, got: (
                         "the input is blank, so use the template without '### Input:'"
                         if isinstance(got, str) and not case.args[1].strip() and "### Input:" in got
                         else _first_difference(got, case.expected)))


def check_chat_messages(fn: Callable[[str, str, str], list]) -> Feedback:
    """to_chat_messages(instruction, input, output) -> a user turn and an assistant turn."""
    from .data import InstructionRecord
    from .templates import chat_messages

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

    return run_cases("to_chat_messages", fn, cases, "user content = instruction + '\\n\\n' + input when the input "
                     "is not blank; the assistant content is the output", diagnose=diagnose)


def check_build_labels(fn: Callable[[list, list, int], tuple]) -> Feedback:
    """build_labels(prompt_ids, answer_ids, eos_id) -> (input_ids, labels) with the prompt masked by -100."""
    def expected(p, a, e):
        return list(p) + list(a) + [e], [-100] * len(p) + list(a) + [e]

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

    return run_cases("build_labels", fn, cases, "input_ids = prompt + answer + [eos]; labels = [-100] * len(prompt) "
                     "+ answer + [eos]", same=same, diagnose=diagnose)


def _reference_masked_loss(logits, labels):
    import torch

    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shift_logits.float(), shift_labels, ignore_index=-100)


def check_masked_loss(fn: Callable) -> Feedback:
    """masked_loss(logits, labels) -> mean cross-entropy of next-token predictions on unmasked labels."""
    import torch

    generator = torch.Generator().manual_seed(0)
    cases = []
    for label, (batch, length, vocab, masked) in {"one sequence, half masked": (1, 8, 11, 4),
                                                  "a batch of 3 with masked prompts": (3, 10, 17, 6),
                                                  "nothing masked": (2, 5, 7, 0)}.items():
        logits = torch.randn(batch, length, vocab, generator=generator)
        labels = torch.randint(0, vocab, (batch, length), generator=generator)
        labels[:, :masked] = -100
        cases.append(Case(label, (logits, labels), float(_reference_masked_loss(logits, labels))))

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

    return run_cases("masked_loss", fn, cases, "shift by one (logits[:, :-1] against labels[:, 1:]), then "
                     "cross_entropy(..., ignore_index=-100) averages over the positions that are not masked",
                     same=same, diagnose=diagnose)


# ---------------------------------------------------------------- lesson 02: generating data

def check_is_blacklisted(fn: Callable[[str, Sequence[str]], bool]) -> Feedback:
    """is_blacklisted(instruction, words) -> True when a blacklisted word appears as a whole word."""
    from .filters import blacklisted

    words = ["image", "map", "file"]
    texts = [("a plain match", "Draw an image of a cat."), ("a longer word that contains one", "Describe the imagery of the poem."),
             ("capitals", "Describe the MAP of Spain."), ("punctuation after the word", "Open the file, then read."),
             ("no match", "Write a poem about rain."), ("'maps' when only 'map' is listed", "Compare two maps.")]
    cases = [Case(label, (t, words), blacklisted(t, words)) for label, t in texts]
    cases.append(Case("an empty word list", ("Draw an image.", []), False))

    def diagnose(case: Case, got: Any) -> str | None:
        if case.label.startswith("a longer word"):
            return "'imagery' contains 'image' as letters, but not as a word: match whole words"
        if case.label.startswith("'maps'"):
            return "'maps' contains 'map' but is a different word: match whole words"
        if case.label == "capitals":
            return "compare case-insensitively"
        return None

    return run_cases("is_blacklisted", fn, cases, "a whole-word, case-insensitive match: re.search(rf'\\b{word}\\b', "
                     "text, re.IGNORECASE), for any word", diagnose=diagnose)


def _reference_parse_list(text: str) -> list[str]:
    import re

    items = []
    for line in text.splitlines():
        match = re.match(r"^\s*\d+\s*[.)]\s*(.*)$", line)
        if match and match.group(1).strip():
            items.append(match.group(1).strip())
    return items


def check_parse_numbered_list(fn: Callable[[str], list]) -> Feedback:
    """parse_numbered_list(text) -> the items of a numbered list, without numbers, blank items dropped."""
    texts = [("a clean list", "1. Name a colour.\n2. Add 2 and 3.\n3. Write a haiku."),
             ("blank lines and prose around it", "Here you go:\n\n4. Sort the words.\n\n5. Find the verb.\nThanks!"),
             ("'3)' style and extra spaces", "  3) Describe a storm.  \n4 ) Name a river."),
             ("an empty numbered item", "1. Say hi.\n2.\n3. Say bye."),
             ("numbers inside an item", "1. Add 12 and 30.\n2. List 3 birds.")]
    cases = [Case(label, (t,), _reference_parse_list(t)) for label, t in texts]
    return run_cases("parse_numbered_list", fn, cases, "for each line, match optional spaces, digits, '.' or ')' and "
                     "keep the rest stripped; skip lines without a number and items that are empty")


def check_lcs_length(fn: Callable[[Sequence[str], Sequence[str]], int]) -> Feedback:
    """lcs_length(a, b) -> length of the longest common subsequence of two token lists."""
    from .rouge import lcs_length_reference

    pairs = [("a textbook pair", "a b c b d a b".split(), "b d c a b a".split()),
             ("an empty list", [], ["x"]), ("identical lists", ["x", "y", "z"], ["x", "y", "z"]),
             ("shared words out of order", "the cat sat".split(), "sat the cat".split()),
             ("repeated words", "a a a".split(), "a a".split()), ("nothing shared", ["p"], ["q"])]
    rng = random.Random(1)
    for k in range(3):
        a = [rng.choice("abcd") for _ in range(rng.randint(5, 12))]
        b = [rng.choice("abcd") for _ in range(rng.randint(5, 12))]
        pairs.append((f"random lists #{k + 1}", a, b))
    cases = [Case(label, (a, b), lcs_length_reference(a, b)) for label, a, b in pairs]

    def diagnose(case: Case, got: Any) -> str | None:
        a, b = case.args
        if got == len(set(a) & set(b)):
            return "that counts shared words; a subsequence keeps the order and counts repeats"
        return None

    return run_cases("lcs_length", fn, cases, "table[i][j] = table[i-1][j-1] + 1 when a[i-1] == b[j-1], else "
                     "max(table[i-1][j], table[i][j-1])", diagnose=diagnose)


def check_rouge_l(fn: Callable[[str, str], float]) -> Feedback:
    """rouge_l(target, prediction) -> ROUGE-L F-measure with rouge_score's tokenizer (no stemming)."""
    from .rouge import lcs_length_reference, rouge_l, tokenize

    pairs = [("a near paraphrase", "Write a short poem about the sea.", "Write a poem about the sea."),
             ("capitals and punctuation", "Name THREE colours!", "name three colours"),
             ("an empty prediction", "Say hello.", ""), ("identical texts", "Sort the list.", "Sort the list."),
             ("different lengths", "Explain gravity to a child in two sentences.", "Explain gravity.")]
    cases = [Case(label, (t, p), rouge_l(t, p)) for label, t, p in pairs]

    def diagnose(case: Case, got: Any) -> str | None:
        target, prediction = tokenize(case.args[0]), tokenize(case.args[1])
        if not target or not prediction:
            return "with an empty text the score is 0.0"
        lcs = lcs_length_reference(target, prediction)
        if close(got, lcs / len(prediction)) or close(got, lcs / len(target)):
            return "that is precision or recall alone; ROUGE-L F combines them: 2PR / (P + R)"
        return "tokenize like rouge_score: lowercase, replace every run of non [a-z0-9] by a space, split"

    return run_cases("rouge_l", fn, cases, "P = LCS / len(prediction tokens), R = LCS / len(target tokens), "
                     "F = 2PR / (P + R)", same=lambda got, exp: close(got, exp, 1e-12), diagnose=diagnose)


def check_novelty_filter(fn: Callable[[Sequence[str], Sequence[str], float], list]) -> Feedback:
    """novelty_filter(candidates, pool, threshold) -> the candidates kept, in order (kept ones join the pool)."""
    from .filters import NoveltyFilter

    pool = ["Write a poem about the sea.", "Name three primary colours.", "Sort these numbers in order."]
    lists = [("one near-copy of the pool", ["Write a poem about the ocean.", "Explain how rain forms."]),
             ("two near-copies of each other",
              ["Describe your favourite book in detail.", "Describe your favourite film in detail.", "List two birds."]),
             ("nothing new at all", ["Name three primary colours."]), ("an empty list", [])]

    def kept(candidates):
        verdicts = NoveltyFilter(pool, threshold=0.7).admit(candidates)
        return [c for c, v in zip(candidates, verdicts, strict=True) if v["kept"]]

    cases = [Case(label, (c, pool, 0.7), kept(c)) for label, c in lists]

    def diagnose(case: Case, got: Any) -> str | None:
        if case.label.startswith("two near-copies") and isinstance(got, list) and len(got) == 3:
            return "a kept candidate joins the pool, so the second near-copy must be compared with the first"
        return None

    return run_cases("novelty_filter", fn, cases, "keep a candidate when its highest ROUGE-L against the pool "
                     "and everything kept so far is <= threshold; then add it to the pool", diagnose=diagnose)


# ---------------------------------------------------------------- lesson 03: measuring diversity

def check_distinct_n(fn: Callable[[Sequence[str], int], float]) -> Feedback:
    """distinct_n(texts, n) -> unique n-grams / all n-grams over the corpus (n-grams within each text)."""
    from .diversity import distinct_n

    corpora = [("two texts, bigrams", ["the cat sat", "the cat ran"], 2),
               ("repeats inside one text", ["a a a a"], 1),
               ("n-grams never cross texts", ["a b", "c d"], 2),
               ("texts shorter than n", ["hi", "yo"], 2), ("unigrams", ["x y z", "x y", "z"], 1)]
    cases = [Case(label, (texts, n), distinct_n(texts, n)) for label, texts, n in corpora]

    def diagnose(case: Case, got: Any) -> str | None:
        texts, n = case.args
        joined = distinct_n([" ".join(texts)], n)
        if close(got, joined) and not close(joined, case.expected):
            return "you joined the texts, so 'b c' counted as a bigram; take n-grams within each text"
        if case.label.startswith("texts shorter") :
            return "with no n-grams at all, return 0.0"
        per_text = [distinct_n([t], n) for t in texts if len(t.split()) >= n]
        if per_text and close(got, sum(per_text) / len(per_text)):
            return "that is the mean over texts (another variant); this course pools all n-grams first"
        return None

    return run_cases("distinct_n", fn, cases, "collect every n-gram of every text (split on whitespace) in one list, "
                     "then len(set(grams)) / len(grams)", same=close, diagnose=diagnose)


def check_compression_ratio(fn: Callable[[Sequence[str]], float]) -> Feedback:
    """compression_ratio(texts) -> raw bytes / gzip bytes of the texts joined by spaces."""
    from .diversity import compression_ratio

    corpora = [("varied texts", ["A fox jumps.", "Rain falls on the hills.", "Count to ten."]),
               ("one text repeated", ["same words again"] * 30), ("non-ASCII text", ["café naïve déjà vu"] * 3),
               ("no text", [])]
    cases = [Case(label, (texts,), compression_ratio(texts)) for label, texts in corpora]

    def diagnose(case: Case, got: Any) -> str | None:
        if not case.args[0]:
            return "with no text there is nothing to compress: return 0.0"
        if close(got, 1 / case.expected, 1e-9):
            return "the ratio is raw / compressed, not compressed / raw"
        return "count bytes (text.encode('utf-8')), not characters, and join the texts with single spaces"

    return run_cases("compression_ratio", fn, cases, "raw = ' '.join(texts).encode('utf-8'); "
                     "len(raw) / len(gzip.compress(raw))", same=lambda g, e: close(g, e, 1e-9), diagnose=diagnose)


def check_vendi(fn: Callable[[np.ndarray], float]) -> Feedback:
    """vendi(K) -> exp(entropy of the eigenvalues of K / n), the effective number of distinct items."""
    from .diversity import vendi_score

    two_clusters = np.kron(np.eye(2), np.ones((3, 3)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    matrices = [("4 items all different (identity)", np.eye(4)), ("5 identical items", np.ones((5, 5))),
                ("two clusters of three", two_clusters), ("cosine similarities of 6 vectors", x @ x.T)]
    cases = [Case(label, (K,), vendi_score(K)) for label, K in matrices]

    def diagnose(case: Case, got: Any) -> str | None:
        if case.label.startswith("4 items") and close(got, math.log(4)):
            return "that is the entropy; the Vendi score is exp(entropy)"
        if case.label.startswith("4 items") and close(got, 1.0):
            return "divide K by n before taking eigenvalues, so they sum to 1"
        return None

    return run_cases("vendi", fn, cases, "l = np.linalg.eigvalsh(K / n); keep l > 0; return exp(-sum(l * log(l)))",
                     same=lambda g, e: close(g, e, 1e-6), diagnose=diagnose)


def check_count_distinct(fn: Callable[[Sequence[str]], int]) -> Feedback:
    """count_distinct(jokes) -> how many different jokes after normalizing case, punctuation and spaces."""
    from .strategies import normalize

    lists = [("the same joke twice", ["Why did the chicken cross the road?", "why did the chicken cross the road"]),
             ("extra spaces and punctuation", ["A pun!  A pun.", "a pun a pun", "A different one."]),
             ("all different", ["one", "two", "three"]), ("an empty list", [])]
    cases = [Case(label, (jokes,), len({normalize(j) for j in jokes})) for label, jokes in lists]

    def diagnose(case: Case, got: Any) -> str | None:
        if got == len(set(case.args[0])):
            return "exact string comparison counts small differences as new jokes; normalize first"
        return None

    return run_cases("count_distinct", fn, cases, "normalize each joke (lowercase, punctuation to spaces, collapse "
                     "spaces, strip) and count the set", diagnose=diagnose)


# ---------------------------------------------------------------- lesson 04: fine-tuning

def check_lora_params(fn: Callable[[int, int, int], int]) -> Feedback:
    """lora_params(d_in, d_out, r) -> trainable parameters LoRA adds to one d_in x d_out linear layer."""
    shapes = [("a square layer", (576, 576, 8)), ("a rectangular layer", (576, 192, 8)),
              ("rank 1", (10, 20, 1)), ("rank 16", (2048, 512, 16))]
    cases = [Case(label, a, a[2] * (a[0] + a[1])) for label, a in shapes]

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

    def expected(shapes, r, targets, layers):
        return layers * sum(r * (shapes[t][0] + shapes[t][1]) for t in targets)

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


def _call(task: str, fn: Callable, args: tuple, hint: str,
          explain: Callable[[Exception], str | None] | None = None) -> tuple[Any, Feedback | None]:
    """Call the learner's function once: (result, None), or (None, feedback) for a stub or an error."""
    try:
        value = fn(*args)
    except NotImplementedError:
        return None, _stub(task)
    except Exception as err:  # report whatever the learner's code raised
        message = (explain(err) if explain else None) or f"raised {type(err).__name__}: {err}"
        return None, Feedback(task, False, True, message, hint)
    if value is None or value is Ellipsis:
        return None, _stub(task)
    return value, None


def _fields(task: str, rows: list[tuple[str, Any, Any]], hint: str, done: str) -> Feedback:
    """Compare (field, got, wanted) rows; the first mismatch is the message."""
    for name, got, want in rows:
        if got != want:
            return Feedback(task, False, True, f"{name} is {got!r}, expected {want!r}", hint)
    return Feedback(task, True, True, done)


def check_lora_config(fn: Callable[[int, int, Sequence[str]], Any]) -> Feedback:
    """make_lora_config(r, alpha, targets) -> a peft LoraConfig for causal language modelling."""
    task = "make_lora_config"
    hint = "LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.05, bias='none', " \
           "task_type='CAUSAL_LM')"
    config, problem = _call(task, fn, (8, 16, ["q_proj", "v_proj"]), hint)
    if problem is not None:
        return problem
    from peft import LoraConfig

    if not isinstance(config, LoraConfig):
        return Feedback(task, False, True, f"expected a peft.LoraConfig, got {type(config).__name__}", hint)
    rows = [("r", config.r, 8), ("lora_alpha", config.lora_alpha, 16),
            ("target_modules", set(config.target_modules or ()), {"q_proj", "v_proj"}),
            ("lora_dropout", config.lora_dropout, 0.05), ("bias", config.bias, "none"),
            ("task_type", str(config.task_type).split(".")[-1], "CAUSAL_LM")]
    return _fields(task, rows, hint, "r, alpha, targets, dropout, bias and task type all set")


def check_sft_config(fn: Callable[[str, int, int, float], Any]) -> Feedback:
    """make_sft_config(out_dir, max_steps, batch_size, learning_rate) -> a TRL SFTConfig that runs on this CPU."""
    task = "make_sft_config"
    hint = "SFTConfig(output_dir=..., max_steps=..., per_device_train_batch_size=..., learning_rate=..., " \
           "bf16=False, report_to='none', save_strategy='no', logging_steps=1)"

    def explain(err: Exception) -> str | None:
        if isinstance(err, ValueError) and "bf16" in str(err):
            return ("SFTConfig refused bf16 on this machine: TRL turns bf16 on by default, and a CPU without bf16 "
                    "support rejects it")
        return None

    config, problem = _call(task, fn, ("/tmp/alpaca-course-exercise", 12, 4, 2e-4), hint, explain)
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
    return _fields(task, rows, hint, "a config that trains on this machine, logs every step and saves nothing")


# ---------------------------------------------------------------- lesson 05: evaluation

def check_within_word_limit(fn: Callable[[str, int], bool]) -> Feedback:
    """within_word_limit(response, n) -> at most n words (words: runs of letters/digits; punctuation is not a word)."""
    from .evaluation import CHECKS

    rows = [("a short answer", "Paris is the capital.", 4), ("one word too many", "One two three four five.", 4),
            ("a dash between spaces", "Yes - of course - fine", 4), ("an empty answer", "", 0),
            ("exactly at the limit", "It's well-known, really.", 3)]
    cases = [Case(label, (r, n), CHECKS["max_words"](r, {"n": n})) for label, r, n in rows]

    def diagnose(case: Case, got: Any) -> str | None:
        if case.label.startswith("a dash"):
            return "a lone '-' is punctuation, not a word: count runs of letters or digits"
        return None

    return run_cases("within_word_limit", fn, cases, "count with word_count (or a regex for letter/digit runs); "
                     "'well-known' and \"it's\" are one word each", diagnose=diagnose)


def check_has_n_bullets(fn: Callable[[str, int], bool]) -> Feedback:
    """has_n_bullets(response, n) -> exactly n lines that start with '-', '*' or '•' and some text."""
    from .evaluation import CHECKS

    rows = [("three dash bullets", "- a\n- b\n- c", 3), ("mixed markers, indented", "Intro:\n * a\n• b\n- c", 3),
            ("one bullet too many", "- a\n- b\n- c\n- d", 3), ("a dash inside a sentence", "Well - no.\n- only one", 1),
            ("an empty bullet", "- a\n-\n- b", 3)]
    cases = [Case(label, (r, n), CHECKS["bullets"](r, {"n": n})) for label, r, n in rows]
    return run_cases("has_n_bullets", fn, cases, "count lines matching r'^\\s*[-*\\u2022]\\s+\\S' (re.MULTILINE); "
                     "a bullet needs text after its marker")


def check_is_json(fn: Callable[[str], bool]) -> Feedback:
    """is_json(response) -> True when the whole response (spaces stripped) parses as JSON."""
    from .evaluation import CHECKS

    rows = [("an object", '{"a": 1}'), ("spaces around it", '  [1, 2, 3]\n'), ("single quotes", "{'a': 1}"),
            ("a code fence", '```json\n{"a": 1}\n```'), ("an empty answer", ""), ("text before it", 'Sure: {"a": 1}')]
    cases = [Case(label, (r,), CHECKS["json"](r, {})) for label, r in rows]
    return run_cases("is_json", fn, cases, "try json.loads(response.strip()) and catch ValueError; strict checks "
                     "do not forgive code fences or chatter")


def check_win_rate(fn: Callable[[Sequence[str]], float]) -> Feedback:
    """win_rate(outcomes) -> (wins + ties / 2) / n for outcomes 'win', 'loss', 'tie'; ValueError when empty."""
    task, hint = "win_rate", "ties count half a win; raise ValueError for an empty list or an unknown outcome"
    rows = [("wins and losses", ["win", "loss", "win", "win"], 0.75), ("ties count half", ["tie", "tie", "loss"], 1 / 3),
            ("all ties", ["tie"] * 4, 0.5), ("all losses", ["loss", "loss"], 0.0)]
    result = run_cases(task, fn, [Case(label, (o,), e) for label, o, e in rows], hint, same=close,
                       diagnose=lambda case, got: "a tie is worth half a win" if "tie" in case.args[0] else None)
    if not result.passed:
        return result
    for label, bad in (("an empty list", []), ("an unknown outcome", ["win", "draw"])):
        try:
            fn(bad)
        except ValueError:
            continue
        except Exception as err:
            return Feedback(task, False, True, f"on {label}: raised {type(err).__name__}, expected ValueError", hint)
        return Feedback(task, False, True, f"on {label}: returned a number; raise ValueError instead (a win rate of "
                                           "nothing is undefined, and a typo should not count as a loss)", hint)
    return Feedback(task, True, True, "all cases right, including ties, an empty list and a bad label")


# ---------------------------------------------------------------- lesson 06: model collapse

def check_fit_gaussian(fn: Callable[[np.ndarray], tuple]) -> Feedback:
    """fit_gaussian(samples) -> (mean, standard deviation with n - 1), as floats."""
    rng = np.random.default_rng(0)
    rows = [("20 standard normal samples", rng.normal(0, 1, 20)), ("shifted and wide", rng.normal(5, 3, 50)),
            ("two points", np.array([1.0, 3.0]))]
    cases = [Case(label, (x,), (float(x.mean()), float(x.std(ddof=1)))) for label, x in rows]

    def same(got, exp):
        return isinstance(got, (tuple, list)) and len(got) == 2 and close(got[0], exp[0]) and close(got[1], exp[1])

    def diagnose(case: Case, got: Any) -> str | None:
        x = case.args[0]
        if isinstance(got, (tuple, list)) and len(got) == 2 and close(got[1], float(x.std())):
            return "that spread divides by n; the lesson's simulation divides by n - 1 (ddof=1)"
        return None

    return run_cases("fit_gaussian", fn, cases, "return float(x.mean()), float(x.std(ddof=1))", same=same,
                     diagnose=diagnose)


def check_tail_fraction(fn: Callable[[np.ndarray, float], float]) -> Feedback:
    """tail_fraction(samples, k) -> share of samples more than k away from 0 (the true mean)."""
    rows = [("a small list", np.array([-3.0, -1.0, 0.5, 2.5]), 2.0), ("none in the tail", np.zeros(5), 1.0),
            ("exactly at k is not beyond it", np.array([2.0, -2.0, 2.1]), 2.0)]
    cases = [Case(label, (x, k), float(np.mean(np.abs(x) > k))) for label, x, k in rows]
    return run_cases("tail_fraction", fn, cases, "np.mean(np.abs(samples) > k): both tails, strictly beyond k",
                     same=close, diagnose=lambda case, got: "count both tails (use the absolute value)"
                     if case.label == "a small list" else None)


def check_simulate(fn: Callable[[int, int, str, int], list]) -> Feedback:
    """simulate(generations, n, mode, seed) -> fitted std per generation; 'replace' collapses, 'accumulate' not."""
    task = "simulate"
    hint = ("generation 0 fits real N(0, 1) samples; each generation draws n samples from the last fit; 'replace' "
            "refits on the new samples only, 'accumulate' on everything so far")
    first, problem = _call(task, fn, (50, 20, "replace", 0), hint)
    if problem is not None:
        return problem
    try:
        values = [float(v) for v in first]
    except (TypeError, ValueError):
        return Feedback(task, False, True, f"expected a list of numbers, got {type(first).__name__}", hint)
    if len(values) != 50:
        return Feedback(task, False, True, f"asked for 50 generations, got {len(values)} values", hint)
    if [float(v) for v in fn(50, 20, "replace", 0)] != values:
        return Feedback(task, False, True, "two runs with the same seed differ: draw every number from "
                                           "np.random.default_rng(seed)", hint)
    final = {mode: float(np.median([fn(150, 20, mode, s)[-1] for s in range(30)])) for mode in ("replace", "accumulate")}
    if final["replace"] > 0.6:
        return Feedback(task, False, True, f"after 150 generations 'replace' still has a median spread of "
                                           f"{final['replace']:.2f}; it should shrink well below 0.6", hint)
    if not 0.7 < final["accumulate"] < 1.3:
        return Feedback(task, False, True, f"after 150 generations 'accumulate' has a median spread of "
                                           f"{final['accumulate']:.2f}; keeping all the data should hold it near 1",
                        hint)
    try:
        fn(5, 20, "shuffle", 0)
    except ValueError:
        return Feedback(task, True, True, f"median spread after 150 generations: replace {final['replace']:.2f}, "
                                          f"accumulate {final['accumulate']:.2f}")
    except Exception as err:
        return Feedback(task, False, True, f"an unknown mode raised {type(err).__name__}; raise ValueError", hint)
    return Feedback(task, False, True, "an unknown mode ('shuffle') was accepted; raise ValueError", hint)


# ---------------------------------------------------------------- lesson 07: ethics and provenance

REQUIRED_CARD_KEYS = ("license", "language", "annotations_creators", "language_creators", "size_categories",
                      "task_categories", "source_datasets", "pretty_name")


def check_card_metadata(meta: Any, records: int, source_model: str) -> Feedback:
    """Front-matter dict for a dataset card: Hub keys, machine-generated creators, right size bucket, source model."""
    from .provenance import size_category

    task, hint = "card metadata", "see the card lesson 07 printed: every key of REQUIRED_CARD_KEYS, plus " \
                                  "generation: {source_model: ...}"
    if meta is None or meta is Ellipsis or meta == {}:
        return _stub(task, "dict")
    if not isinstance(meta, dict):
        return Feedback(task, False, True, f"expected a dict, got {type(meta).__name__}", hint)
    missing = [k for k in REQUIRED_CARD_KEYS if k not in meta]
    if missing:
        return Feedback(task, False, True, f"missing field(s): {', '.join(missing)}", hint)
    for key in ("annotations_creators", "language_creators"):
        if "machine-generated" not in (meta[key] or []):
            return Feedback(task, False, True, f"{key} should include 'machine-generated': a model wrote this "
                                               "data", hint)
    if meta["size_categories"] != [size_category(records)]:
        return Feedback(task, False, True, f"size_categories is {meta['size_categories']!r}; {records:,} records "
                                           f"fall in {[size_category(records)]!r}", hint)
    if meta["license"] == "other" and not meta.get("license_name"):
        return Feedback(task, False, True, "license 'other' needs a license_name (and ideally a license_link)", hint)
    generation = meta.get("generation") or {}
    if source_model.lower() not in str(generation.get("source_model", "")).lower():
        return Feedback(task, False, True, f"generation.source_model should name {source_model!r}, the model "
                                           "that wrote the data", hint)
    try:
        import yaml

        yaml.safe_load(yaml.safe_dump(meta))
    except Exception as err:  # a value YAML cannot represent
        return Feedback(task, False, True, f"the metadata does not round-trip through YAML: {err}", hint)
    return Feedback(task, True, True, "every Hub field present, creators marked machine-generated, source model named")


def check_use_forbidden(fn: Callable[[Sequence[str], str], bool]) -> Feedback:
    """is_use_forbidden(forbids, use) -> True when the terms rule the use out (a competing model is also commercial)."""
    rows = [("a competing model under no-competing terms", (("competing-model",), "competing-model"), True),
            ("commercial use under no-competing terms", (("competing-model",), "commercial"), False),
            ("a competing model under non-commercial terms", (("commercial",), "competing-model"), True),
            ("research under non-commercial terms", (("commercial", "competing-model"), "research"), False),
            ("permissive terms", ((), "competing-model"), False)]
    result = run_cases("is_use_forbidden", fn, [Case(label, a, e) for label, a, e in rows],
                       "a competing model is also a commercial use; research is ruled out by none of these",
                       diagnose=lambda case, got: "a competing model is a commercial product too"
                       if case.label.startswith("a competing model under non-commercial") else None)
    if not result.passed:
        return result
    try:
        fn((), "selling")
    except ValueError:
        return result
    except Exception as err:
        return Feedback("is_use_forbidden", False, True, f"an unknown use raised {type(err).__name__}; raise "
                                                         "ValueError", "check use against provenance.USES")
    return Feedback("is_use_forbidden", False, True, "an unknown use ('selling') was accepted; raise ValueError "
                                                     "so a typo cannot pass as permitted", "check against USES")


def check_card_text(card: Any) -> Feedback:
    """Your dataset card: valid YAML front matter, the course's sections, and at least one limitation of your own."""
    from .provenance import LIMITATIONS, read_front_matter

    task, hint = "your dataset card", "start from dataset_card(path) and add a line under '## Bias, risks, and " \
                                      "limitations' about something you measured"
    if card is None or card is Ellipsis or card == "":
        return _stub(task, "card")
    if not isinstance(card, str):
        return Feedback(task, False, True, f"expected the card as a str, got {type(card).__name__}", hint)
    try:
        meta = read_front_matter(card)
    except Exception as err:
        return Feedback(task, False, True, f"the front matter does not parse: {err}", hint)
    if "machine-generated" not in (meta or {}).get("language_creators", []):
        return Feedback(task, False, True, "language_creators must include 'machine-generated'", hint)
    section = card.split("## Bias, risks, and limitations", 1)
    if len(section) < 2:
        return Feedback(task, False, True, "the '## Bias, risks, and limitations' section is missing", hint)
    lines = [line[2:].strip() for line in section[1].split("\n## ")[0].splitlines() if line.startswith("- ")]
    own = [line for line in lines if line not in LIMITATIONS]
    if not own:
        return Feedback(task, False, True, "the limitations are only the course's defaults; add one you found", hint)
    return Feedback(task, True, True, f"front matter valid; {len(own)} limitation(s) of your own")
