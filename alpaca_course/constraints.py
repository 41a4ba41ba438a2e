"""Verifiable constraints: turn plain instructions into ones a program can grade.

Each family is one kind of check from `evaluation.CHECKS` ("at most N words", "in lowercase",
...). A family has several natural phrasings, and they come in two disjoint sets: the ones used to
build *training* data and the ones used to build the *held-out evaluation*. The base instructions
are split the same way (seed tasks without inputs, by name). A student that improves on the
held-out prompts has therefore learned to follow constraints it was asked for in words it never
saw during training, on tasks it never trained on.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from .evaluation import EvalPrompt

TRAIN, EVAL = "train", "eval"


@dataclass(frozen=True)
class Family:
    """One kind of constraint: phrasings for training and for evaluation, and how to draw its arguments.

    A phrasing is a format string; `{task}` marks where the instruction goes (else it is appended),
    and `{n}`, `{words}`, `{phrase}` are filled from the drawn arguments.
    """

    kind: str
    train: tuple[str, ...]
    eval: tuple[str, ...]
    numbers: tuple[int, ...] = ()
    train_values: tuple[str, ...] = ()  # words or phrases to draw from, for training ...
    eval_values: tuple[str, ...] = ()  # ... and, different ones, for evaluation


FAMILIES: dict[str, Family] = {f.kind: f for f in [
    Family("max_words",
           ("Keep the reply under {n} words.", "Use {n} words or fewer.", "Your reply must not be longer than {n} words."),
           ("Limit yourself to {n} words at most.", "Do not go over {n} words.", "Stay within a {n}-word limit."),
           numbers=(25, 30, 40, 50)),
    Family("min_words",
           ("Write no fewer than {n} words.", "The reply should run to {n} words or more.", "Use a minimum of {n} words."),
           ("Make it {n} words long at the very least.", "Say it in more than {n} words.", "Reach at least {n} words."),
           numbers=(30, 40, 50)),
    Family("max_sentences",
           ("Reply in {n} sentences or fewer.", "Use no more than {n} sentences.", "Keep it to at most {n} sentences."),
           ("Answer with {n} sentences at most.", "Do not write more than {n} sentences.", "Limit the reply to {n} sentences."),
           numbers=(1, 2, 3)),
    Family("bullets",
           ("Format the reply as exactly {n} bullet points that begin with '-'.",
            "Answer with {n} bullet points, each starting with a dash, and nothing else.",
            "Give your reply as a dash list of exactly {n} items."),
           ("Present exactly {n} points, each on its own line starting with '* '.",
            "Reply with a list of {n} bulleted lines.",
            "Use {n} bullets and no other text."),
           numbers=(2, 3, 4)),
    Family("numbered",
           ("Format the reply as a list numbered 1 to {n}.", "Answer with exactly {n} numbered points.",
            "Write {n} items, numbered '1.', '2.' and so on."),
           ("Number your points from 1 to {n}.", "Give {n} points in a numbered list and nothing else.",
            "Reply as an ordered list with {n} entries."),
           numbers=(3, 4, 5)),
    Family("json",
           ("Format your whole reply as valid JSON.", "Reply only with a JSON object.", "Give the answer as JSON and nothing else."),
           ("Your output must parse as JSON.", "Respond in JSON format only.", "Encode the reply as a JSON value with no other text.")),
    Family("keywords",
           ("Make sure the word '{words}' appears in your reply.", "Be sure to use the word '{words}'.",
            "Your reply has to contain the word '{words}'."),
           ("Use the word '{words}' somewhere in the answer.", "Work the word '{words}' into your reply.",
            "Mention '{words}' at least once."),
           train_values=("simple", "people", "important", "example", "time", "good", "help", "easy"),
           eval_values=("useful", "world", "clear", "best", "idea", "day", "life", "small")),
    Family("forbidden",
           ("Steer clear of the word '{words}'.", "Avoid the word '{words}' entirely.", "Never write the word '{words}'."),
           ("The word '{words}' must not appear.", "Leave out the word '{words}'.", "Write it without the word '{words}'."),
           train_values=("very", "also", "many", "can", "more", "most"),
           eval_values=("really", "just", "some", "will", "other", "great")),
    Family("lowercase",
           ("Write the entire reply in lowercase letters, with no capitals.", "Use only lowercase letters.",
            "Do not use any capital letters."),
           ("Everything you write must be lowercase.", "Reply in all lowercase.", "No uppercase letters anywhere.")),
    Family("uppercase",
           ("Write the entire reply in capital letters.", "Use only uppercase letters.", "Reply in ALL CAPS."),
           ("Every letter of the answer must be a capital.", "Answer entirely in upper case.", "Capitalize every letter you write.")),
    Family("ends_with",
           ("Finish your reply with the exact words '{phrase}'", "The last words of the reply must be '{phrase}'",
            "Close with this exact phrase: '{phrase}'"),
           ("End the answer with '{phrase}' and nothing after it.", "Your final words should be exactly '{phrase}'",
            "Conclude with the phrase '{phrase}'"),
           train_values=("That is all.", "Hope this helps!", "Done."),
           eval_values=("Good luck!", "Any questions?", "Over and out.")),
    Family("starts_with",
           ("Begin the reply with the exact words '{phrase}'", "The first words of the reply must be '{phrase}'",
            "Open with this exact phrase: '{phrase}'"),
           ("Your answer has to start with '{phrase}'", "Let your first words be '{phrase}'",
            "Kick off the answer with '{phrase}'"),
           train_values=("Here it is:", "Sure thing:", "My answer:"),
           eval_values=("Well,", "Answer:", "Okay,")),
    Family("paragraphs",
           ("Write exactly {n} paragraphs separated by one blank line.",
            "Split the reply into {n} paragraphs with an empty line between them.",
            "Use {n} paragraphs, each separated by a blank line."),
           ("Organize the answer as {n} paragraphs, blank lines between.", "Give {n} blocks of text divided by blank lines.",
            "Structure it in {n} paragraphs."),
           numbers=(2, 3)),
    Family("title",
           ("Put a title in double angle brackets, such as <<Title>>, at the top.",
            "Start with a title wrapped like <<This>>.", "Give the reply a title inside << and >>."),
           ("Include a title formatted as <<Title Here>>.", "Add a heading enclosed in <<double angle brackets>>.",
            "Your reply needs a <<title>> in double angle brackets.")),
    Family("no_commas",
           ("Do not use any commas.", "Write the reply without a single comma.", "Commas are not allowed in your reply."),
           ("Avoid commas completely.", "Leave out every comma.", "Use zero commas.")),
    Family("quoted",
           ("Wrap the entire reply in double quotation marks.", "Put the whole reply between double quotes.",
            "Your reply must begin and end with a double quote character."),
           ("Enclose your full answer in double quotes.", "Surround the answer with quotation marks.",
            "Return the answer inside a pair of double quotes.")),
]}

#: Pairs of kinds that cannot (or should not) be asked for together.
CONFLICTS = {frozenset(p) for p in [
    ("lowercase", "uppercase"), ("max_words", "min_words"), ("bullets", "numbered"), ("bullets", "paragraphs"),
    ("numbered", "paragraphs"), ("max_sentences", "paragraphs"), ("max_sentences", "bullets"),
    ("max_sentences", "numbered"), ("quoted", "title"), ("quoted", "starts_with"), ("quoted", "ends_with"),
    ("title", "starts_with"), ("min_words", "max_sentences"),
]} | {frozenset(("json", k)) for k in FAMILIES if k not in ("json", "keywords", "forbidden", "max_words")}
#: Kinds that make a good second constraint: short, and compatible with most first ones.
SECOND = ("no_commas", "lowercase", "max_words", "keywords", "forbidden", "max_sentences")


def split_of(name: str, eval_share: float = 0.4) -> str:
    """TRAIN or EVAL for a base task's name: a stable split by hash, the same on every machine."""
    return EVAL if zlib.crc32(name.encode("utf-8")) % 1000 < eval_share * 1000 else TRAIN


def base_instructions(split: str) -> list[tuple[str, str]]:
    """(name, instruction) of the seed tasks without an input that fall in `split`."""
    from .resources import load_seed_tasks

    return [(t.meta.get("name", t.instruction), t.instruction) for t in load_seed_tasks()
            if not t.input.strip() and split_of(t.meta.get("name", t.instruction)) == split]


def draw_check(kind: str, rng: random.Random, split: str) -> tuple[dict, str]:
    """One constraint of a family: the check spec and its phrasing, both drawn from `split`'s sets."""
    family = FAMILIES[kind]
    spec: dict = {"kind": kind}
    fill: dict = {}
    if family.numbers:
        spec["n"] = fill["n"] = rng.choice(family.numbers)
    values = family.train_values if split == TRAIN else family.eval_values
    if values:
        value = rng.choice(values)
        key = "words" if kind in ("keywords", "forbidden") else "phrase"
        spec[key] = [value] if key == "words" else value
        fill[key] = value
    phrasing = rng.choice(family.train if split == TRAIN else family.eval)
    return spec, _singular(phrasing.format(**fill))


def _singular(text: str) -> str:
    """'1 sentences' -> 'one sentence' (the phrasings are written for plural numbers)."""
    return re.sub(r"\b1 (sentence|paragraph|word|item|point|bullet|entrie|entry)s\b", r"one \1", text).replace("one entrie", "one entry")


def constrain(instruction: str, kinds: Sequence[str], rng: random.Random, split: str) -> tuple[str, list[dict]]:
    """The instruction with the constraints' phrasings appended, and their check specs."""
    specs, phrases = [], []
    for kind in kinds:
        spec, phrase = draw_check(kind, rng, split)
        specs.append(spec)
        phrases.append(phrase)
    return " ".join([instruction.rstrip(), *phrases]), specs


def draw_kinds(rng: random.Random, kinds: Sequence[str], two_share: float = 0.3) -> list[str]:
    """One family, or (with probability `two_share`) two compatible ones."""
    first = rng.choice(list(kinds))
    seconds = [k for k in SECOND if k != first and frozenset((first, k)) not in CONFLICTS]
    return [first, rng.choice(seconds)] if seconds and rng.random() < two_share else [first]


def constrained_prompts(n: int, split: str, seed: int = 0, kinds: Sequence[str] | None = None,
                        instructions: Sequence[tuple[str, str]] | None = None, two_share: float = 0.3) -> list[EvalPrompt]:
    """n prompts: base instructions of `split` (cycled, shuffled) with one or two constraints in `split`'s phrasings.

    Families are dealt in turn, so every family is about equally represented.
    """
    rng = random.Random(f"{split}-{seed}")
    bases = list(instructions if instructions is not None else base_instructions(split))
    kinds = list(kinds or FAMILIES)
    if not bases:
        raise ValueError(f"no base instructions in the {split} split")
    out, order = [], []
    for i in range(n):
        if not order:
            order = rng.sample(bases, len(bases))
        name, instruction = order.pop()
        first = kinds[i % len(kinds)]
        chosen = draw_kinds(rng, [first], two_share)
        text, specs = constrain(instruction, chosen, rng, split)
        out.append(EvalPrompt(f"{split}-{seed}-{i:04d}-{name}", text, specs))
    return out


def held_out_prompts(n_generated: int = 160, seed: int = 0, handwritten: int | None = None) -> list[EvalPrompt]:
    """The evaluation set: held-out seed tasks x held-out phrasings, then the hand-written packaged prompts
    (all 64, or the first `handwritten`)."""
    from .evaluation import load_eval_prompts

    extra = load_eval_prompts() if handwritten is None else load_eval_prompts()[:handwritten] if handwritten else []
    return constrained_prompts(n_generated, EVAL, seed) + extra


def phrasing_fragments(phrasing: str) -> list[str]:
    """The fixed pieces of a phrasing (between its slots), lowercased: what must not leak into the other split."""
    return [p.strip(" .'!:").lower() for p in re.split(r"\{[a-z]+\}", phrasing) if len(p.strip(" .'!:").split()) >= 3]
