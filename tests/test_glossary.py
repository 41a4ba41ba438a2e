"""The glossary defines each term once, and each lesson term's first use links to it."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = runpy.run_path(str(ROOT / "tools" / "glossary.py"))


def test_the_first_use_of_every_term_in_the_lessons_is_linked():
    assert GLOSSARY["link_first_uses"]() == [], "run: python tools/glossary.py --write"


def test_every_term_has_a_definition_and_a_unique_anchor():
    text = (ROOT / "GLOSSARY.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    anchors = [GLOSSARY["slug"](h) for h in headings]
    assert len(headings) >= 30 and len(set(anchors)) == len(anchors)
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        assert len(block.split("\n", 1)[1].split()) >= 12, f"a thin definition: {block.splitlines()[0]}"


def test_a_link_in_a_lesson_points_at_a_term_that_exists():
    anchors = set(GLOSSARY["terms"]())
    for path in GLOSSARY["lessons"]():
        for anchor in re.findall(r"GLOSSARY\.md#([\w-]+)", path.read_text()):
            assert anchor in anchors, f"{path.name}: no glossary term #{anchor}"


def test_first_use_skips_headings_code_links_and_reading_lists():
    pattern = GLOSSARY["terms"]()["lora"]
    text = "# LoRA in a heading\n`LoRA` in code, [LoRA](x.md), and\n- Hu et al., *LoRA*, arXiv:2106.09685\nthen LoRA."
    kind, position = GLOSSARY["first_use"](text, pattern, "lora")
    assert kind == "plain" and text[position:] == "LoRA."
    linked = "See [low-rank adapters](../GLOSSARY.md#lora), then LoRA."
    assert GLOSSARY["first_use"](linked, pattern, "lora")[0] == "linked"
