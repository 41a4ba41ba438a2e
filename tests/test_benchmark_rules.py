"""The rules the benchmarks choose by, fixed before they run."""

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def curation_bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("curation")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_highest_dev_mean_wins_when_clear(curation_bench):
    assert curation_bench.choose_on_dev({"repair": 0.40, "best+repair": 0.36}, {"repair": 0.30, "best+repair": 0.35}, 240) == "repair"


def test_a_tie_within_one_prompt_goes_to_the_better_worst_seed(curation_bench):
    mean = {"best": 0.27, "repair": 0.364, "best+repair": 0.364 - 0.5 / 240}
    worst = {"best": 0.24, "repair": 0.321, "best+repair": 0.354}
    assert curation_bench.choose_on_dev(mean, worst, 240) == "best+repair"
    # one prompt apart is no longer a tie
    mean["best+repair"] = 0.364 - 1.5 / 240
    assert curation_bench.choose_on_dev(mean, worst, 240) == "repair"
