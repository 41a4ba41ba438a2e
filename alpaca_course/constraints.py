"""Verifiable constraints: turn plain instructions into ones a program can grade.

Each family is one kind of check from `verifier.CHECKS` ("at most N words", "in lowercase",
...). The material comes in three disjoint splits, on every axis at once:

- **train**: what curation samples and students learn from;
- **dev**: where every choice is made (defaults, screens, lever sweeps);
- **test**: scored once, for a configuration already chosen.

Each split has its own seed tasks (by a stable hash of the task's name), its own phrasings of each
constraint and its own argument values (keywords, closing phrases). Some kinds are held out whole:
they have dev or test phrasings but no training ones, and no program repair exists for them
(`UNSEEN_KINDS`). A student that improves on them learned to follow instructions, not formats.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from .verifier import EvalPrompt

TRAIN, DEV, TEST = "train", "dev", "test"
SPLITS = (TRAIN, DEV, TEST)


@dataclass(frozen=True)
class Family:
    """One kind of constraint: phrasings for each split, and how to draw its arguments.

    A phrasing is a format string; `{task}` marks where the instruction goes (else it is appended),
    and `{n}`, `{words}`, `{phrase}` are filled from the drawn arguments. A kind held out whole has
    no training phrasings.
    """

    kind: str
    train: tuple[str, ...]
    dev: tuple[str, ...]
    test: tuple[str, ...]
    numbers: tuple[int, ...] = ()
    train_values: tuple[str, ...] = ()  # words or phrases to draw from, for training ...
    dev_values: tuple[str, ...] = ()  # ... different ones for dev ...
    test_values: tuple[str, ...] = ()  # ... and others again for test

    def phrasings(self, split: str) -> tuple[str, ...]:
        """This family's phrasings in `split`."""
        return {TRAIN: self.train, DEV: self.dev, TEST: self.test}[split]

    def values(self, split: str) -> tuple[str, ...]:
        """The words or phrases this family draws from in `split`."""
        return {TRAIN: self.train_values, DEV: self.dev_values, TEST: self.test_values}[split]


FAMILIES: dict[str, Family] = {f.kind: f for f in [
    Family("max_words",
           ("Keep the reply under {n} words.", "Use {n} words or fewer.", "Your reply must not be longer than {n} words."),
           ("Limit yourself to {n} words at most.", "Do not go over {n} words.", "Stay within a {n}-word limit."),
           ("Answer briefly, in no more than {n} words.", "I only have time to read {n} words, so keep within that.",
            "The response may contain {n} words at the maximum."),
           numbers=(25, 30, 40, 50)),
    Family("min_words",
           ("Write no fewer than {n} words.", "The reply should run to {n} words or more.", "Use a minimum of {n} words."),
           ("Make it {n} words long at the very least.", "Say it in more than {n} words.", "Reach at least {n} words."),
           ("Please be thorough: I need a response of {n} or more words.", "Anything shorter than {n} words is too short.",
            "Develop the answer over at least {n} words."),
           numbers=(30, 40, 50)),
    Family("max_sentences",
           ("Reply in {n} sentences or fewer.", "Use no more than {n} sentences.", "Keep it to at most {n} sentences."),
           ("Answer with {n} sentences at most.", "Do not write more than {n} sentences.", "Limit the reply to {n} sentences."),
           ("Your whole response should fit in {n} sentences.", "I want {n} sentences, tops.",
            "Express it in a maximum of {n} sentences."),
           numbers=(1, 2, 3)),
    Family("bullets",
           ("Format the reply as exactly {n} bullet points that begin with '-'.",
            "Answer with {n} bullet points, each starting with a dash, and nothing else.",
            "Give your reply as a dash list of exactly {n} items."),
           ("Present exactly {n} points, each on its own line starting with '* '.",
            "Reply with a list of {n} bulleted lines.",
            "Use {n} bullets and no other text."),
           ("Lay the answer out as {n} markdown bullet points with nothing around them.",
            "Respond using precisely {n} bullet items.",
            "Break it down into {n} bullet points, no intro and no conclusion."),
           numbers=(2, 3, 4)),
    Family("numbered",
           ("Format the reply as a list numbered 1 to {n}.", "Answer with exactly {n} numbered points.",
            "Write {n} items, numbered '1.', '2.' and so on."),
           ("Number your points from 1 to {n}.", "Give {n} points in a numbered list and nothing else.",
            "Reply as an ordered list with {n} entries."),
           ("Enumerate {n} items as 1., 2., 3. and so on.", "Provide a numbered list that has {n} lines.",
            "List {n} things, putting a number in front of each."),
           numbers=(3, 4, 5)),
    Family("json",
           ("Format your whole reply as valid JSON.", "Reply only with a JSON object.", "Give the answer as JSON and nothing else."),
           ("Your output must parse as JSON.", "Respond in JSON format only.", "Encode the reply as a JSON value with no other text."),
           ("Return machine-readable JSON and no prose outside it.", "The whole response is going to be fed to a JSON parser.",
            "Output well-formed JSON only.")),
    Family("keywords",
           ("Make sure the word '{words}' appears in your reply.", "Be sure to use the word '{words}'.",
            "Your reply has to contain the word '{words}'."),
           ("Somewhere in the answer, put the word '{words}'.", "Work the word '{words}' into your reply.",
            "Mention '{words}' at least once."),
           ("Include the term '{words}' in what you write.", "The word '{words}' should show up in the response.",
            "Do not forget to say '{words}'."),
           train_values=("simple", "people", "important", "example", "time", "good", "help", "easy"),
           dev_values=("useful", "world", "clear", "best", "idea", "day", "life", "small"),
           test_values=("change", "future", "reason", "place", "family", "water", "hope", "start")),
    Family("forbidden",
           ("Steer clear of the word '{words}'.", "Avoid the word '{words}' entirely.", "Never write the word '{words}'."),
           ("The word '{words}' must not appear.", "Leave out the word '{words}'.", "Write it without the word '{words}'."),
           ("Do not say '{words}' anywhere.", "The response must not contain '{words}'.", "Keep '{words}' out of your response."),
           train_values=("very", "also", "many", "can", "more", "most"),
           dev_values=("really", "just", "some", "will", "other", "great"),
           test_values=("should", "well", "much", "only", "even", "way")),
    Family("lowercase",
           ("Write the entire reply in lowercase letters, with no capitals.", "Use only lowercase letters.",
            "Do not use any capital letters."),
           ("Everything you write must be lowercase.", "Reply in all lowercase.", "No uppercase letters anywhere."),
           ("Type the response without pressing shift: small letters only.", "Capital letters are banned from your answer.",
            "Make every letter in the reply a small letter.")),
    Family("uppercase",
           ("Write the entire reply in capital letters.", "Use only uppercase letters.", "Reply in ALL CAPS."),
           ("Every letter of the answer must be a capital.", "Answer entirely in upper case.", "Capitalize every letter you write."),
           ("Shout the whole answer in block capitals.", "Lowercase letters are not allowed in the response.",
            "Put the full reply in uppercase.")),
    Family("ends_with",
           ("Finish your reply with the exact words '{phrase}'", "The last words of the reply must be '{phrase}'",
            "Close with this exact phrase: '{phrase}'"),
           ("End the answer with '{phrase}' and nothing after it.", "Your final words should be exactly '{phrase}'",
            "Conclude with the phrase '{phrase}'"),
           ("Sign off with '{phrase}' as the very last thing you write.", "Wrap up the reply with the words '{phrase}'",
            "The response has to end in '{phrase}'"),
           train_values=("That is all.", "Hope this helps!", "Done."),
           dev_values=("Good luck!", "Any questions?", "Over and out."),
           test_values=("Thanks for reading.", "See you soon!", "That wraps it up.")),
    Family("starts_with",
           ("Begin the reply with the exact words '{phrase}'", "The first words of the reply must be '{phrase}'",
            "Open with this exact phrase: '{phrase}'"),
           ("Your answer has to start with '{phrase}'", "Let your first words be '{phrase}'",
            "Kick off the answer with '{phrase}'"),
           ("Lead with the words '{phrase}'", "Put '{phrase}' at the very beginning of the response.",
            "The opening of the reply must read '{phrase}'"),
           train_values=("Here it is:", "Sure thing:", "My answer:"),
           dev_values=("Well,", "Answer:", "Okay,"),
           test_values=("To begin,", "First of all,", "Good question!")),
    Family("paragraphs",
           ("Write exactly {n} paragraphs separated by one blank line.",
            "Split the reply into {n} paragraphs with an empty line between them.",
            "Use {n} paragraphs, each separated by a blank line."),
           ("Organize the answer as {n} paragraphs, blank lines between.", "Give {n} blocks of text divided by blank lines.",
            "Structure it in {n} paragraphs."),
           ("The response should consist of {n} paragraphs, with a blank line after each but the last.",
            "Write {n} separate paragraphs.", "Arrange your thoughts into {n} paragraphs."),
           numbers=(2, 3)),
    Family("title",
           ("Put a title in double angle brackets, such as <<Title>>, at the top.",
            "Start with a title wrapped like <<This>>.", "Give the reply a title inside << and >>."),
           ("Include a title formatted as <<Title Here>>.", "Add a heading enclosed in <<double angle brackets>>.",
            "Your reply needs a <<title>> in double angle brackets."),
           ("Name your answer with a title between << and >>, for example <<My Title>>.",
            "Head the response with a title in the form <<...>>.", "Supply a title surrounded by double angle brackets.")),
    Family("no_commas",
           ("Do not use any commas.", "Write the reply without a single comma.", "Commas are not allowed in your reply."),
           ("Avoid commas completely.", "Leave out every comma.", "Use zero commas."),
           ("Your response must be free of commas.", "Not one comma may appear in the answer.",
            "Punctuate without commas.")),
    Family("quoted",
           ("Wrap the entire reply in double quotation marks.", "Put the whole reply between double quotes.",
            "Your reply must begin and end with a double quote character."),
           ("Enclose your full answer in double quotes.", "Surround the answer with quotation marks.",
            "Return the answer inside a pair of double quotes."),
           ("Place the complete response within double quotation marks.", "Quote your entire answer with \" marks.",
            "Start and finish the response with a \" character.")),
    # Held out whole: no training phrasings, no repair. Two for dev (to choose methods that generalise) ...
    Family("placeholders", (),
           ("Include at least {n} placeholders in square brackets, such as [name].",
            "Leave {n} or more blanks written like [address] for the reader to fill in.",
            "Use square-bracket placeholders like [date], at least {n} of them."),
           (), numbers=(1, 2, 3)),
    Family("highlights", (),
           ("Highlight at least {n} parts of the answer with markdown, as in *highlighted part*.",
            "Mark {n} or more phrases in italics with single asterisks, like *this*.",
            "Emphasise at least {n} key phrases by wrapping each in single asterisks."),
           (), numbers=(1, 2, 3)),
    # ... and four for test, scored only once.
    Family("postscript", (), (),
           ("At the end of your reply, add a postscript starting with P.S.",
            "Finish with a P.S. line after the main answer.", "Add a note at the very end that begins with 'P.S.'")),
    Family("separator", (), (),
           ("Give two different responses, separated by a line of six asterisks: ******",
            "Write two alternative answers and put ****** between them.",
            "Offer two versions of the answer, divided by six asterisks (******).")),
    Family("sections", (), (),
           ("Divide your answer into {n} sections, each starting with SECTION and its number (SECTION 1, SECTION 2, ...).",
            "Organise your answer in {n} parts labelled SECTION 1 to SECTION {n}.",
            "Mark the beginning of each of your {n} sections with a header like SECTION 1."),
           numbers=(2, 3)),
    Family("capital_words", (), (),
           ("Use at least {n} words written entirely in capital letters for emphasis.",
            "Stress the important points: at least {n} words should be in ALL CAPS.",
            "Include {n} or more fully capitalised words."),
           numbers=(2, 3, 4)),
]}
#: Kinds that training, curation and repair use: every family with training phrasings.
SEEN_KINDS = tuple(k for k, f in FAMILIES.items() if f.train)
#: Kinds held out whole, by the split that scores them.
UNSEEN_KINDS = {split: tuple(k for k, f in FAMILIES.items() if not f.train and f.phrasings(split)) for split in (DEV, TEST)}

#: Pairs of kinds that cannot (or should not) be asked for together.
CONFLICTS = {frozenset(p) for p in [
    ("lowercase", "uppercase"), ("max_words", "min_words"), ("bullets", "numbered"), ("bullets", "paragraphs"),
    ("numbered", "paragraphs"), ("max_sentences", "paragraphs"), ("max_sentences", "bullets"),
    ("max_sentences", "numbered"), ("quoted", "title"), ("quoted", "starts_with"), ("quoted", "ends_with"),
    ("title", "starts_with"), ("min_words", "max_sentences"), ("capital_words", "lowercase"), ("sections", "lowercase"),
    ("postscript", "lowercase"), ("sections", "max_sentences"), ("separator", "max_sentences"),
    ("sections", "max_words"), ("separator", "max_words"),
]} | {frozenset(("json", k)) for k in FAMILIES if k not in ("json", "keywords", "forbidden", "max_words")}
#: Kinds that make a good second constraint: short, and compatible with most first ones.
SECOND = ("no_commas", "lowercase", "max_words", "keywords", "forbidden", "max_sentences")


def split_of(name: str) -> str:
    """TRAIN, DEV or TEST for a seed task's name: a stable split by hash, the same on every machine.

    DEV is the 40% that the course held out before it had a test split (every setting so far was
    chosen on it); TEST takes 45% of the rest by a second hash, and TRAIN keeps the remainder.
    """
    if zlib.crc32(name.encode("utf-8")) % 1000 < 400:
        return DEV
    return TEST if zlib.crc32(f"test:{name}".encode()) % 1000 < 450 else TRAIN


def base_instructions(split: str) -> list[tuple[str, str]]:
    """(name, instruction) of the seed tasks without an input that fall in `split`."""
    from .resources import load_seed_tasks

    return [(t.meta.get("name", t.instruction), t.instruction) for t in load_seed_tasks()
            if not t.input.strip() and split_of(t.meta.get("name", t.instruction)) == split]


def draw_check(kind: str, rng: random.Random, split: str) -> tuple[dict, str]:
    """One constraint of a family: the check spec and its phrasing, both drawn from `split`'s sets."""
    family = FAMILIES[kind]
    if not family.phrasings(split):
        raise ValueError(f"constraint kind {kind!r} has no phrasings in the {split} split")
    spec: dict = {"kind": kind}
    fill: dict = {}
    if family.numbers:
        spec["n"] = fill["n"] = rng.choice(family.numbers)
    values = family.values(split)
    if values:
        value = rng.choice(values)
        key = "words" if kind in ("keywords", "forbidden") else "phrase"
        spec[key] = [value] if key == "words" else value
        fill[key] = value
    phrasing = rng.choice(family.phrasings(split))
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
                        two_share: float = 0.3, label: str | None = None) -> list[EvalPrompt]:
    """n prompts: base instructions of `split` (cycled, shuffled) with one or two constraints in `split`'s phrasings.

    Families are dealt in turn, so every family is about equally represented; by default the kinds
    training uses (`SEEN_KINDS`). `label` names the set in ids and seeds (default: the split).
    """
    label = label or split
    rng = random.Random(f"{label}-{seed}")
    bases = list(base_instructions(split))
    kinds = list(kinds or SEEN_KINDS)
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
        out.append(EvalPrompt(f"{label}-{seed}-{i:04d}-{name}", text, specs))
    return out


def held_out_prompts(n_generated: int = 96, seed: int = 0, handwritten: int | None = None, split: str = DEV,
                     n_unseen: int = 0) -> list[EvalPrompt]:
    """An evaluation set of `split` (DEV or TEST): its seed tasks in its phrasings over the seen kinds, then
    `n_unseen` prompts whose first constraint is a kind held out whole, then (dev only) the hand-written
    packaged prompts (all 64, or the first `handwritten`; they were written for choosing, so test never has them)."""
    from .verifier import load_eval_prompts

    if split not in (DEV, TEST):
        raise ValueError(f"evaluation prompts come from the dev or the test split, not {split!r}")
    prompts = constrained_prompts(n_generated, split, seed)
    if n_unseen:
        prompts += constrained_prompts(n_unseen, split, seed, kinds=UNSEEN_KINDS[split], label=f"{split}-unseen")
    if split == DEV:
        prompts += load_eval_prompts() if handwritten is None else load_eval_prompts()[:handwritten] if handwritten else []
    return prompts


def is_unseen(prompt: EvalPrompt) -> bool:
    """Does the prompt ask for a kind that training never used?"""
    return any(c["kind"] not in SEEN_KINDS for c in prompt.checks)


def phrasing_fragments(phrasing: str) -> list[str]:
    """The fixed pieces of a phrasing (between its slots), lowercased: what must not leak into the other split."""
    return [p.strip(" .'!:").lower() for p in re.split(r"\{[a-z]+\}", phrasing) if len(p.strip(" .'!:").split()) >= 3]
