# Two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# TypeScript's checker for the pages' scripts (they ship as written: JSDoc types, no build),
# pinned, from the npm registry into the venv's folder like the Python tools.
TSC_VERSION := 5.9.3
NODE_TOOLS := $(VENV)/node
TSC := $(NODE_TOOLS)/node_modules/.bin/tsc
TSC_STAMP := $(NODE_TOOLS)/.typescript-$(TSC_VERSION)
TSC_FLAGS := --noEmit --allowJs --checkJs --skipLibCheck --target es2022 --module es2022 \
	--moduleResolution bundler --lib es2022,dom,dom.iterable
WEB_SCRIPTS := src/konenut/web/static/*.js

.PHONY: run test system-packages lint typecheck jscheck check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(TSC_STAMP):
	npm install --prefix $(NODE_TOOLS) --no-save --no-audit --no-fund --loglevel=error \
		typescript@$(TSC_VERSION)
	touch $(TSC_STAMP)

run: $(STAMP)
	$(BIN)/konenut serve --demo --data-dir konenut-data/demo --host 127.0.0.1 --port 8000

# The Debian packages the tests need (PostgreSQL, Redis, Mosquitto, Chromium, fonts), installed
# if missing; first, so that a fresh machine gets them before anything else runs.
system-packages:
	.ci/install-system-packages

test: system-packages $(STAMP) $(TSC_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/konenut
	$(BIN)/lint-imports --no-cache
	$(TSC) $(TSC_FLAGS) $(WEB_SCRIPTS)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# lint-imports: the layers contract in pyproject.toml ([tool.importlinter]): no import runs back up.
lint: $(STAMP) jscheck
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache

jscheck: $(TSC_STAMP)
	$(TSC) $(TSC_FLAGS) $(WEB_SCRIPTS)

typecheck: $(STAMP)
	$(BIN)/mypy src/konenut

# Every bench, small (--quick): under 5 minutes in all; each one's full figures come from
# running it on its own (bench/README.md). A bench that misses its target fails the run, after
# the others have run.
BENCHES := append checkins fanout flood muster positions registry_import rebuild town

bench: $(STAMP)
	@missed=""; for b in $(BENCHES); do \
		echo "== bench/$$b.py --quick"; \
		$(BIN)/python bench/$$b.py --quick || missed="$$missed $$b"; \
	done; \
	if [ -n "$$missed" ]; then echo "missed a target:$$missed"; exit 1; fi

clean:
	rm -rf $(VENV) build dist src/*.egg-info
