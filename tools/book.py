"""Build the web book: the executed lessons, the exercises, README (the home page), INSTRUCTORS and GLOSSARY.

    python tools/book.py                                  # from `make course` (build/NN_*.ipynb) to build/book/
    python tools/book.py --notebooks build/test-notebooks --out build/test-book   # the small book make test checks

Sphinx with MyST-NB (book/conf.py) renders each notebook with the outputs it already has. The sources keep the
repository's layout, so a link that works on GitHub (`../GLOSSARY.md#perplexity`) works in the book; a link to a
file that is not a page (code, RESULTS.md) goes to that file on GitHub instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
REPO_URL = runpy.run_path(str(ROOT / "alpaca_course" / "versions.py"))["REPO_URL"]
PAGES = ("README.md", "INSTRUCTORS.md", "GLOSSARY.md")
BADGE = re.compile(r"\[!\[[^\]]*\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")


class BookError(Exception):
    """The book cannot be built from what is there (a missing notebook, a failed Sphinx run)."""


def book_links(text: str, page: str, documents: set[str]) -> str:
    """One page's Markdown as the book shows it.

    A Colab badge becomes a text link (the book works offline: no image from elsewhere). A relative link to a file
    that is not a page of the book goes to the file on GitHub; a link to a page stays as it is.
    """
    text = BADGE.sub(r"[Open in Colab](\1)", text)

    def rewrite(match: re.Match) -> str:
        label, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return match.group(0)
        path, _, fragment = target.partition("#")
        resolved = os.path.normpath(str(PurePosixPath(page).parent / path)).replace(os.sep, "/")
        if resolved in documents or resolved.startswith(".."):
            return match.group(0) if resolved in documents else label
        return f"[{label}]({REPO_URL}/blob/main/{resolved}{'#' + fragment if fragment else ''})"

    return LINK.sub(rewrite, text)


def toc(lessons: list[str], exercises: list[str]) -> str:
    """The hidden tables of contents the README (the root page) ends with: they make the sidebar."""
    def block(caption: str, entries: list[str]) -> str:
        return "\n```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(entries) + "\n```\n"

    return (block("Lessons", [e.removesuffix(".ipynb") for e in lessons]) +
            block("Exercises", [e.removesuffix(".ipynb") for e in exercises]) +
            block("For learners and teachers", ["GLOSSARY", "INSTRUCTORS"]))


def assemble(notebooks: Path, source: Path) -> list[str]:
    """Write the book's sources under `source`: README, pages, executed lessons, exercises. Returns the documents."""
    lesson_names = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    missing = [n for n in lesson_names if not (notebooks / n).exists()]
    if missing:
        raise BookError(f"{notebooks}: no executed {', '.join(missing)} (run `make course` first)")
    lessons = [f"lessons/{n}" for n in lesson_names]
    exercises = [f"exercises/{p.name}" for p in sorted((ROOT / "exercises").glob("*.ipynb"))]
    documents = set(PAGES) | set(lessons) | set(exercises)
    if source.exists():
        shutil.rmtree(source)
    (source / "lessons").mkdir(parents=True)
    (source / "exercises").mkdir()
    for page in PAGES:
        text = book_links((ROOT / page).read_text(encoding="utf-8"), page, documents)
        (source / page).write_text(text + (toc(lessons, exercises) if page == "README.md" else ""), encoding="utf-8")
    for doc in lessons + exercises:
        origin = notebooks / Path(doc).name if doc.startswith("lessons/") else ROOT / doc
        notebook = json.loads(origin.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                text = book_links("".join(cell["source"]), doc, documents)
                cell["source"] = text.splitlines(keepends=True)
        (source / doc).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("conf.py", "favicon.svg"):
        shutil.copy(ROOT / "book" / name, source / name)
    import jupyter_server_mathjax

    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", source / "_static" / "mathjax")
    return sorted(documents)


def build_book(notebooks: Path, out: Path) -> Path:
    """Assemble the sources under out/source and build the HTML into out/html. Warnings fail the build."""
    source, html = out / "source", out / "html"
    documents = assemble(notebooks, source)
    if html.exists():
        shutil.rmtree(html)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-d", str(out / "doctrees"),
               str(source), str(html)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise BookError(f"sphinx-build failed:\n{done.stderr.strip()[-3000:]}")
    # The README is the root document (so every page's links to it work as on GitHub); a web server looks for
    # index.html, and relative links are the same from both names.
    shutil.copy(html / "README.html", html / "index.html")
    print(f"book: {len(documents)} pages from {notebooks} -> {html / 'index.html'}")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "build", help="executed lessons (make course writes build/)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    args = parser.parse_args(argv)
    try:
        build_book(args.notebooks, args.out)
    except BookError as err:
        print(f"make book: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
