"""Link the first use of each glossary term in the lessons to GLOSSARY.md.

    python tools/glossary.py            # list the first uses that are not linked yet (exit 1 if any)
    python tools/glossary.py --write    # link them

A term is a `## ` heading of GLOSSARY.md (ALIASES adds other spellings). Its first use is the first match, in
lesson order, in a Markdown cell's prose: not in a heading, code, a link's text or address, a formula, or a
reading-list entry (a paper's title is not where a learner meets a term).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "GLOSSARY.md"
ALIASES = {
    "Seed task": ["seed tasks"], "Teacher": ["teachers"], "Student": ["students"], "Chat template": ["chat templates"],
    "Token": ["tokens"], "distinct-n": ["distinct-1", "distinct-2"], "Vendi score": ["Vendi"],
    "SFT": ["supervised fine-tuning"], "DPO": ["Direct Preference Optimization"], "Reward margin": ["reward margins"],
    "Verifier": ["verifiers"], "Best-of-k": ["best-of-4"], "Program repair": ["repair", "repairs", "repaired"],
    "bf16": ["bfloat16"], "Dev and test splits": ["dev split", "test split"],
    "Seen and unseen kinds": ["seen kinds", "unseen kinds"], "Wilson interval": ["Wilson intervals"],
    "Bootstrap interval": ["bootstrap intervals", "paired bootstrap", "bootstrap"], "Dataset card": ["dataset cards"],
}
PROTECTED = re.compile(r"^- [^\n]*(?:et al\.|arXiv)[^\n]*$|```[\s\S]*?```|`[^`\n]*`|!?\[[^\]]*\]\([^)]*\)|^#[^\n]*$|https?://\S+|<[^>\n]+>|\$[^$\n]+\$",
                       re.MULTILINE)
GLOSSARY_LINK = re.compile(r"\[[^\]]*\]\((?:\.\./)?GLOSSARY\.md#([\w-]+)\)")


def slug(heading: str) -> str:
    """The anchor GitHub and MyST give a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def terms() -> dict[str, re.Pattern]:
    """Anchor -> a pattern for the term and its aliases (whole words, any case)."""
    found = {}
    for heading in re.findall(r"^## (.+)$", GLOSSARY.read_text(encoding="utf-8"), re.MULTILINE):
        words = sorted([heading, *ALIASES.get(heading, [])], key=len, reverse=True)
        found[slug(heading)] = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])",
                                          re.IGNORECASE)
    return found


def lessons() -> list[Path]:
    return sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def first_use(text: str, pattern: re.Pattern, anchor: str) -> tuple[str, int] | None:
    """('linked', position) when a glossary link for the term comes first, ('plain', position) for prose, or None."""
    protected = [m.span() for m in PROTECTED.finditer(text)]
    linked = [m.start() for m in GLOSSARY_LINK.finditer(text) if m.group(1) == anchor]
    plain = [m.start() for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in protected)]
    candidates = [("linked", p) for p in linked[:1]] + [("plain", p) for p in plain[:1]]
    return min(candidates, key=lambda c: c[1]) if candidates else None


def link_first_uses(write: bool = False) -> list[str]:
    """The terms whose first use is not linked yet, as 'lesson: term' (linked in place when write=True)."""
    pending, todo = [], terms()
    for path in lessons():
        notebook, changed = json.loads(path.read_text(encoding="utf-8")), False
        for cell in notebook["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            for anchor, pattern in list(todo.items()):
                use = first_use(text, pattern, anchor)
                if use is None:
                    continue
                del todo[anchor]
                if use[0] == "linked":
                    continue
                match = pattern.match(text, use[1])
                pending.append(f"{path.name}: {match.group(0)}")
                text = f"{text[:match.start()]}[{match.group(0)}](../GLOSSARY.md#{anchor}){text[match.end():]}"
                cell["source"], changed = text.splitlines(keepends=True), True
        if changed and write:
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return pending


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    pending = link_first_uses(write=args.write)
    for line in pending:
        print(f"{'linked' if args.write else 'not linked'}: {line}")
    return 0 if args.write or not pending else 1


if __name__ == "__main__":
    sys.exit(main())
