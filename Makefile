# The README's two commands: `make demo` and `make test`. Each sets everything up on a fresh
# machine (a virtual environment in .venv with xpdb and its development extras) and runs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean bench-gpu

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m xpdb.cli demo

test: $(STAMP)
	$(PY) -m ruff check xpdb tests benchmarks
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(PY) -m ruff check xpdb tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
