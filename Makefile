# The two commands: `make demo` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/python -m aftersale_kit.demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check aftersale_kit adapters tests bench

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest

test: lint typecheck unit

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
