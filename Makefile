# credbank: `make run` serves a demo, `make test` runs every test, `make bench` measures.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench load lint clean interop-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/credbank db upgrade
	$(BIN)/credbank demo
	$(BIN)/credbank serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test interop-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2

# tests/interop runs Digital Bazaar's VC libraries and jose under Node.js. Without
# node those tests skip (under CI=true they fail); npm runs only when node_modules
# is missing or older than the lock file.
INTEROP := tests/interop
interop-deps:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "node or npm not found: the tests in $(INTEROP) will be skipped"; \
	elif [ ! -d $(INTEROP)/node_modules ] || \
		[ $(INTEROP)/package-lock.json -nt $(INTEROP)/node_modules/.package-lock.json ]; then \
		npm ci --prefix $(INTEROP) --silent --no-audit --no-fund || \
		echo "npm ci failed: the tests in $(INTEROP) will be skipped"; \
	fi

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench && $(BIN)/python -m bench.issuance && $(BIN)/python -m bench.verify && $(BIN)/python -m bench.credits && $(BIN)/python -m bench.load && $(BIN)/python -m bench.metrics && $(BIN)/python -m bench.limits

# Issuers and verifiers at once against gunicorn and PostgreSQL for 60 s, then audit.
load: $(VENV)/.installed-test
	$(BIN)/python -m bench.load

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(INTEROP)/node_modules
