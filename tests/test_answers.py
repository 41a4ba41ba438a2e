"""Every check-your-understanding question in the lessons has an answer in solutions/ANSWERS.md."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def questions(path: Path) -> int:
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    part = text.split("Check your understanding", 1)[1].split("\n## ", 1)[0]
    return len(re.findall(r"^\d+\. ", part, re.MULTILINE))


def test_every_question_has_an_answer():
    answers = (ROOT / "solutions" / "ANSWERS.md").read_text()
    sections = {m.group(1): m.group(2) for m in re.finditer(r"^## (\d\d) [^\n]*\n(.*?)(?=^## |\Z)", answers,
                                                             re.MULTILINE | re.DOTALL)}
    for path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        asked = questions(path)
        given = re.findall(r"^(\d+)\. \*\*", sections.get(path.name[:2], ""), re.MULTILINE)
        assert asked >= 4 and [int(g) for g in given] == list(range(1, asked + 1)), \
            f"{path.name}: {asked} questions, answers numbered {given}"
