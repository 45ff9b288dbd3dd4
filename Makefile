# Two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test system-packages lint typecheck check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/konenut serve --demo --data-dir konenut-data/demo --host 127.0.0.1 --port 8000

# The Debian packages the tests need (PostgreSQL, Redis, Mosquitto, Chromium, fonts), installed
# if missing; first, so that a fresh machine gets them before anything else runs.
system-packages:
	.ci/install-system-packages

test: system-packages $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/konenut
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src/konenut

bench: $(STAMP)
	$(BIN)/python bench/append.py
	$(BIN)/python bench/flood.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
