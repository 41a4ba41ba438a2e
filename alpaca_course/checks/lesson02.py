"""Checkers for lesson 02 (generating data); expected values come from the package wherever it computes them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from .harness import Case, Feedback, close, run_cases


def check_is_blacklisted(fn: Callable[[str, Sequence[str]], bool]) -> Feedback:
    """is_blacklisted(instruction, words) -> True when a blacklisted word appears as a whole word."""
    from ..filters import blacklisted

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

    return run_cases("is_blacklisted", fn, cases, ("a word inside another word ('image' in 'imagine') is not a match, "
                     "and case does not matter", "a whole-word, case-insensitive match: re.search(rf'\\b{word}\\b', "
                     "text, re.IGNORECASE), for any word"), diagnose=diagnose)


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
    return run_cases("parse_numbered_list", fn, cases, ("look at how the failing case numbers its lines: which separators and "
                     "which lines must your parser allow for?", "for each line, match optional spaces, digits, '.' or "
                     "')' and keep the rest stripped; skip lines without a number and items that are empty"))


def check_lcs_length(fn: Callable[[Sequence[str], Sequence[str]], int]) -> Feedback:
    """lcs_length(a, b) -> length of the longest common subsequence of two token lists."""
    from ..rouge import lcs_length_reference

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

    return run_cases("lcs_length", fn, cases, ("fill a table of the longest common subsequence of every pair of "
                     "prefixes; each cell depends on the cells above and to the left", "table[i][j] = table[i-1][j-1] "
                     "+ 1 when a[i-1] == b[j-1], else max(table[i-1][j], table[i][j-1])"), diagnose=diagnose)


def check_rouge_l(fn: Callable[[str, str], float]) -> Feedback:
    """rouge_l(target, prediction) -> ROUGE-L F-measure with rouge_score's tokenizer (no stemming)."""
    from ..rouge import lcs_length_reference, rouge_l, tokenize

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

    return run_cases("rouge_l", fn, cases, ("ROUGE-L is an F-measure: a precision and a recall, both made from the "
                     "LCS length", "P = LCS / len(prediction tokens), R = LCS / len(target tokens), F = 2PR / (P + R)"), same=lambda got, exp: close(got, exp, 1e-12), diagnose=diagnose)


def check_novelty_filter(fn: Callable[[Sequence[str], Sequence[str], float], list]) -> Feedback:
    """novelty_filter(candidates, pool, threshold) -> the candidates kept, in order (kept ones join the pool)."""
    from ..filters import NoveltyFilter

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

    return run_cases("novelty_filter", fn, cases, ("a candidate must be compared with what you kept before it too, "
                     "not only with the seed pool", "keep a candidate when its highest ROUGE-L against the pool and "
                     "everything kept so far is <= threshold; then add it to the pool"), diagnose=diagnose)
