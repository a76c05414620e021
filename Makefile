# The README's two commands are `make run` and `make test`; each sets itself up and can be rerun.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FIXTURES := fixtures/regions.json
# Development values for `make run` only; production sets its own environment.
DEV_ENV := DEBUG=1 SECURE_SSL_REDIRECT=0

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	@touch $@

install: $(STAMP) ## Create .venv and install the project with its test tools

run: $(STAMP) ## Serve the site on http://127.0.0.1:8000 (SQLite, fixtures loaded)
	@mkdir -p var
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py loaddata $(FIXTURES)
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP) ## Run the whole test suite (DATABASE_URL picks the database; SQLite by default)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff, migrations in step with models
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

bench: $(STAMP) ## Load the site and a bare WSGI app with wrk; ratios, sizes, memory (BENCH_QUICK=1: smoke run)
	$(BIN)/python scripts/bench.py
