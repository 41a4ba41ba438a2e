"""Lesson 07 states facts responsibly: each one sourced and dated, every source listed, disputes marked."""

import re
from pathlib import Path

import nbformat

LESSON = Path(__file__).resolve().parent.parent / "lessons" / "07_ethics.ipynb"
KEY = re.compile(r"\[([A-Z]{1,2}\d{1,2}|P-note)\]")
YEAR = re.compile(r"\b(19|20)\d\d\b")


def _cells(tag: str) -> list[str]:
    notebook = nbformat.read(LESSON, as_version=4)
    return [c.source for c in notebook.cells if tag in c.metadata.get("tags", [])]


def _claims(text: str) -> list[str]:
    """Bullet items (with their continuation lines) and table rows of a markdown cell."""
    items, current = [], None
    for line in text.splitlines():
        if line.startswith("- ") or line.startswith("  - ") or (line.startswith("| ") and "---" not in line):
            if current:
                items.append(current)
            current = line
        elif line.startswith("  ") and current is not None:
            current += " " + line.strip()
        else:
            if current:
                items.append(current)
            current = None
    return items + ([current] if current else [])


def test_every_factual_claim_has_a_source_and_a_date():
    facts = _cells("facts")
    assert len(facts) >= 5
    claims = [c for cell in facts for c in _claims(cell) if not c.startswith("| date") and not c.startswith("| provider")]
    assert len(claims) >= 30
    for claim in claims:
        if claim.startswith("  - ") or claim.rstrip().endswith(":"):  # sub-bullets inherit their parent's source
            continue
        assert KEY.search(claim), f"no source key: {claim[:90]}"
        assert YEAR.search(claim), f"no date: {claim[:90]}"


def test_every_cited_source_is_listed_with_a_date():
    notebook = nbformat.read(LESSON, as_version=4)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    (sources,) = _cells("sources")
    listed = {}
    for line in sources.splitlines():
        match = re.match(r"- \[([^\]]+)\] (.*)", line)
        if match:
            listed[match.group(1)] = match.group(2)
    cited = set(KEY.findall(text.replace(sources, "")))
    assert cited <= set(listed), f"cited but not listed: {sorted(cited - set(listed))}"
    for key, entry in listed.items():
        assert YEAR.search(entry), f"source {key} has no date"
        assert entry.rstrip().endswith(("[P]", "[S]", "[P/S]")), f"source {key} does not say how it was read"


def test_disputes_are_marked_and_nothing_is_presented_as_legal_advice():
    text = "\n".join(c.source for c in nbformat.read(LESSON, as_version=4).cells if c.cell_type == "markdown")
    assert text.count("(contested") >= 4 and text.count("secondary source") >= 5
    assert "nothing here is legal advice" in text.lower()
    for part in ("## 8. The argument map", "**A. Yes", "**B. No", "**C. It depends", "**Rubric",
                 "structured debate", "## Four words you will need"):
        assert part in text, part
