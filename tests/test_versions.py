"""The version table in alpaca_course/versions.py is the single source of truth."""

from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from alpaca_course import versions

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {Requirement(r).name.lower(): Requirement(r) for r in reqs}


def test_every_dependency_has_a_tested_version_inside_its_range():
    reqs = _pyproject_requirements()
    assert set(reqs) == {n.lower() for n in versions.TESTED}
    for name, version in versions.TESTED.items():
        assert reqs[name.lower()].specifier.contains(version, prereleases=True), (name, version)


def test_environment_yml_pins_the_tested_versions():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lines = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    pins = dict(line.split("==") for line in pip_lines if "==" in line)
    assert pins == versions.TESTED


def test_this_environment_runs_the_tested_versions():
    for name in ("torch", "transformers", "datasets", "peft", "trl", "gguf", "rapidfuzz", "rouge-score"):
        assert metadata.version(name).split("+")[0] == versions.TESTED[name], name


def test_colab_line_never_touches_torch_or_numpy():
    packages = " ".join(versions.colab_packages())
    assert "torch==" not in packages and "numpy==" not in packages
    assert f"{versions.COURSE_PACKAGE}=={versions.COURSE_VERSION}" in versions.colab_packages()
    assert versions.pin("transformers") in versions.colab_packages()
