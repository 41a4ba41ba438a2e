"""The web book: its links are rewritten for the web, it builds, and a real headless Chromium finds nothing wrong.

The build-and-browse test runs in `make test` after tests/test_lessons.py, from the quick profile's executed lessons
(build/test-notebooks/), so CI needs no full course run.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = runpy.run_path(str(ROOT / "tools" / "book.py"))
BROWSER = runpy.run_path(str(ROOT / "tools" / "browser_check.py"))
EXECUTED = ROOT / "build" / "test-notebooks"
DOCS = {"README.md", "GLOSSARY.md", "lessons/05_evaluation.ipynb", "exercises/05_evaluation_exercises.ipynb"}


def test_a_link_to_a_page_stays_and_a_link_to_code_goes_to_github():
    text = ("See [the glossary](../GLOSSARY.md#wilson-interval), [lesson 05](05_evaluation.ipynb), "
            "[the results](../benchmarks/RESULTS.md#curation) and [a paper](https://arxiv.org/abs/2212.10560).")
    out = BOOK["book_links"](text, "lessons/04_fine_tuning.ipynb", DOCS)
    assert "[the glossary](../GLOSSARY.md#wilson-interval)" in out and "[lesson 05](05_evaluation.ipynb)" in out
    assert f"[the results]({BOOK['REPO_URL']}/blob/main/benchmarks/RESULTS.md#curation)" in out
    assert "[a paper](https://arxiv.org/abs/2212.10560)" in out


def test_a_colab_badge_becomes_a_text_link():
    badge = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             "(https://colab.research.google.com/github/x/y/blob/main/lessons/00_welcome.ipynb)")
    assert BOOK["book_links"](badge, "README.md", DOCS) == (
        "[Open in Colab](https://colab.research.google.com/github/x/y/blob/main/lessons/00_welcome.ipynb)")


def test_a_link_out_of_the_repository_keeps_only_its_words():
    assert BOOK["book_links"]("[spec](../../shared/COURSE_SPEC.md)", "lessons/00_welcome.ipynb", DOCS) == "spec"


def test_the_book_refuses_to_build_without_executed_lessons(tmp_path):
    with pytest.raises(BOOK["BookError"], match="run `make course` first"):
        BOOK["build_book"](tmp_path / "nothing-here", tmp_path / "book")


@pytest.mark.slow
def test_the_browser_check_reports_what_a_reader_would_meet(tmp_path):
    """It can fail: a broken link, a missing heading, an image without alt, a broken image and a console error."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<html><head><link rel='icon' href='data:,'></head><body><h1 id='top'>Home</h1>"
        "<a href='other.html#top'>ok</a><a href='missing.html'>broken</a><a href='other.html#nowhere'>no heading</a>"
        "<img src='pic.svg'><img src='gone.png' alt='gone'><script>console.error('boom')</script></body></html>")
    (site / "other.html").write_text("<html><head><link rel='icon' href='data:,'></head>"
                                     "<body><h1 id='top'>Other</h1></body></html>")
    (site / "pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>")
    found = BROWSER["check_book"](site)
    said = "\n".join(found.problems)
    assert found.pages == 2 and found.images == 2
    assert "broken link to missing.html" in said and "missing heading other.html#nowhere" in said
    assert "image without alt text: pic.svg" in said and "image did not load: gone.png" in said
    assert "boom" in said and len(found.problems) == 6  # gone.png also logs a 404 in the console


@pytest.mark.slow
def test_the_small_book_builds_and_passes_in_a_real_browser():
    """From the quick run's executed lessons: every page, figure and internal link, and two screenshots."""
    out = ROOT / "build" / "test-book"
    html = BOOK["build_book"](EXECUTED, out)
    found = BROWSER["check_book"](html, out / "screenshots")
    assert not found.problems, "\n".join(found.problems)
    figures = sum("image/png" in o.get("data", {}) for p in EXECUTED.glob("[0-9][0-9]_*.ipynb")
                  for c in json.loads(p.read_text())["cells"] for o in c.get("outputs", []))
    assert figures > 10 and found.images >= figures  # every lesson figure reached a page, with its alt text
    assert found.pages >= 20 and found.links > 100
    for shot in found.screenshots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert [s.name for s in found.screenshots] == ["home.png", "lesson_05.png"]
    print(f"book: {found.pages} pages, {found.images} images, {found.links} internal links; screenshots in {out}")


def test_the_pages_workflow_builds_the_book_from_a_course_run_and_publishes_it():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    script = " ".join(step.get("run", "") for step in build["steps"])
    assert script.index("make course") < script.index("make book")
    uploads = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "build/book/html"
    assert deploy["needs"] == "build" and any("deploy-pages" in s.get("uses", "") for s in deploy["steps"])
