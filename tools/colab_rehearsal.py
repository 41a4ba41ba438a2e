"""A Colab rehearsal: install the course from its built wheel the way the setup cell does on Colab, then run lesson 00.

1. Build the sdist and the wheel (`python -m build`) into build/dist.
2. A venv that mimics Colab: the tested torch (CPU build) and numpy preinstalled, plus ipykernel.
   It is cached under build/, keyed on the version table, so a warm run costs seconds.
3. Execute lesson 00's shared setup cell and its "meet the model" cell with nbclient, in that venv,
   with COLAB_RELEASE_TAG set and pip finding the wheel through PIP_FIND_LINKS (the registry for the rest).
4. Report where the course was imported from, the torch/numpy versions before and after, the model's answer.

Run: python tools/colab_rehearsal.py   (prints a JSON summary; tests/test_colab_rehearsal.py checks it)
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V = runpy.run_path(str(ROOT / "alpaca_course" / "versions.py"))
BUILD = ROOT / "build"
DIST = BUILD / "dist"
KERNEL = "alpaca-course-colab-rehearsal"
PROBE = """import json, sys, alpaca_course, numpy, torch
print("REHEARSAL " + json.dumps({"course_file": alpaca_course.__file__, "prefix": sys.prefix,
                                 "torch": torch.__version__, "numpy": numpy.__version__}))"""


def run(cmd: list[str], **kwargs) -> None:
    """Run a command; fail loudly with its output."""
    subprocess.run(cmd, check=True, **kwargs)


def version_key() -> str:
    """A short hash of the version table and the dependency list: the cached venv is rebuilt when they change."""
    digest = hashlib.sha256()
    for name in ("alpaca_course/versions.py", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:12]


def build_distributions() -> Path:
    """Build the sdist and the wheel into build/dist; return the wheel."""
    shutil.rmtree(DIST, ignore_errors=True)
    run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(DIST), str(ROOT)],
        stdout=subprocess.DEVNULL)
    wheels = sorted(DIST.glob("alpaca_course-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {DIST}, found {wheels}")
    return wheels[0]


def colab_like_venv() -> Path:
    """build/colab-venv-KEY: torch and numpy as Colab preinstalls them, and a Jupyter kernel."""
    venv = BUILD / f"colab-venv-{version_key()}"
    python = venv / "bin" / "python"
    if (venv / ".ready").exists():
        return venv
    for old in BUILD.glob("colab-venv-*"):
        shutil.rmtree(old, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(pip + ["--no-deps", V["pin"]("torch")])
    run(pip + [V["pin"]("numpy"), "ipykernel", "typing-extensions", "sympy", "networkx", "jinja2", "fsspec",
               "filelock"])  # torch's own needs
    run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", KERNEL], stdout=subprocess.DEVNULL)
    (venv / ".ready").write_text("")
    return venv


def preinstalled(venv: Path) -> dict:
    """torch and numpy versions in the venv before the setup cell runs."""
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import numpy, torch; print(torch.__version__, "
                          "numpy.__version__)"], check=True, capture_output=True, text=True).stdout.split()
    return {"torch": out[0], "numpy": out[1]}


def rehearsal_notebook():
    """Lesson 00's setup cell and its first model cell, then a probe of what got imported."""
    import nbformat

    lesson = nbformat.read(ROOT / "lessons" / "00_welcome.ipynb", as_version=4)
    setup = next(c for c in lesson.cells if "setup" in c.metadata.get("tags", []))
    model = next(c for c in lesson.cells if c.cell_type == "code" and "LocalTeacher.load" in c.source)
    notebook = nbformat.v4.new_notebook(cells=[setup, model, nbformat.v4.new_code_cell(PROBE)])
    notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    return notebook


def rehearse() -> dict:
    """Build, install as Colab would, execute; return what was seen."""
    from nbclient import NotebookClient

    started = time.perf_counter()
    wheel = build_distributions()
    venv = colab_like_venv()
    before = preinstalled(venv)
    # A warm venv already holds an older wheel of the same version: replace it, as a new release would.
    run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", V["COURSE_PACKAGE"]],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {"COLAB_RELEASE_TAG": "rehearsal", "PIP_FIND_LINKS": str(DIST), "ALPACA_COURSE_PROFILE": "quick",
           "JUPYTER_PATH": str(venv / "share" / "jupyter"), "PYTHONNOUSERSITE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    notebook = rehearsal_notebook()
    try:
        with tempfile.TemporaryDirectory() as cwd:  # outside the checkout, so `import alpaca_course` cannot find it
            NotebookClient(notebook, kernel_name=KERNEL, timeout=900, resources={"metadata": {"path": cwd}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    texts = ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream") for cell in notebook.cells]
    probe = json.loads(texts[2].split("REHEARSAL ", 1)[1])
    doctor = subprocess.run([str(venv / "bin" / "python"), "-m", "alpaca_course", "doctor", "--max-new-tokens", "20"],
                            capture_output=True, text=True, cwd=tempfile.gettempdir(), env={**os.environ, **env})
    return {"wheel": wheel.name, "sdist": [p.name for p in DIST.glob("*.tar.gz")], "venv": str(venv),
            "before": before, "after": {"torch": probe["torch"], "numpy": probe["numpy"]},
            "course_file": probe["course_file"], "prefix": probe["prefix"], "model_answer": texts[1].strip(),
            "doctor_status": doctor.returncode, "doctor_tail": doctor.stdout.strip().splitlines()[-3:],
            "seconds": round(time.perf_counter() - started, 1)}


if __name__ == "__main__":
    print(json.dumps(rehearse(), indent=1))
