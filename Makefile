# The two commands: `make demo` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv sysdeps demo test lint typecheck contracts unit unit-fast bench clean preview-png backtest-png

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip  # 25.1 or later installs dependency groups
	$(BIN)/python -m pip install -q -e '.[all,sandbox,bench]' --group dev
	touch $(STAMP)

venv: $(STAMP)

sysdeps:
	bash .ci/system-deps

demo: venv
	$(BIN)/python -m aftersale_kit.demo

# docs/preview.png: the German thank-you page of the shipped first order (needs chromium)
EXAMPLE := examples/kaffeeroesterei-shopify
preview-png: venv
	$(BIN)/aftersale-kit preview $(EXAMPLE)/shop.yaml $(EXAMPLE)/orders/01-erstbestellung.json \
	    --enrich $(EXAMPLE)/enrichment/01-erstbestellung.json --out demo-out/preview \
	    --screenshot docs/preview.png

# docs/backtest.png: the coffee roaster's backtest over the demo's generated year (needs chromium)
BACKTEST_OUT := demo-out/backtest-png
backtest-png: venv
	$(BIN)/python -m aftersale_kit.backtest.generate --count 2200 --customers 600 --seed 1 \
	    --format shopify-csv --out $(BACKTEST_OUT)/orders
	$(BIN)/aftersale-kit backtest $(EXAMPLE)/shop.yaml $(BACKTEST_OUT)/orders/orders_export.csv \
	    --out $(BACKTEST_OUT)
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1000 \
	    --screenshot=docs/backtest.png file://$(CURDIR)/$(BACKTEST_OUT)/backtest.html

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check aftersale_kit adapters tests bench

typecheck: venv
	$(BIN)/mypy

# the layers and what the core may import: [tool.importlinter] in pyproject.toml
contracts: venv
	$(BIN)/lint-imports --no-cache

# the whole suite on both cores (every test is independent: own temp dirs, ports, schemas)
unit: venv sysdeps
	$(BIN)/pytest -n 2

# the edit-test loop (under a minute): what is not marked slow, on SQLite; `make test` runs it all
unit-fast: venv
	$(BIN)/pytest -q -n 2 -m "not slow and not postgres"

test: lint typecheck contracts unit

bench: venv
	bash .ci/system-deps --bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
