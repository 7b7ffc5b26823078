# The two quick-start commands. Each sets itself up from nothing: a venv under
# the repo and an editable install, redone when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "chatconform needs Python 3.11+ (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,clients]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/chatconform run $(ARGS)

# Four workers on two cores: most of the tests' time is whole runs against a loopback
# provider whose streams are paced, spent waiting, not computing.
test: $(STAMP)
	$(BIN)/ruff check .
	@# The tests start hundreds of runs in fresh interpreters; compiled once here, they do
	@# not compile the harness again each time (even where PYTHONDONTWRITEBYTECODE is set).
	$(BIN)/python -m compileall -q src suites
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 4 $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run_wall_time.py
	$(BIN)/python bench/run_profile.py
	$(BIN)/python bench/validation.py

clean:
	rm -rf $(VENV) reports/*/
