"""Root conftest: nbval settings for the notebooks (the package tests' fixtures are in tests/conftest.py)."""


def pytest_collectstart(collector):
    # Library warnings and progress bars go to stderr and change between versions: never compare them.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "text/html", "application/javascript")
