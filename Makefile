# The README's two commands are `make run` and `make test`; each sets itself up and can be rerun.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FIXTURES := fixtures/regions.json fixtures/representatives.json fixtures/legal.json fixtures/subjects.json
# Development values for `make run` only; production sets its own environment. The embedded
# database and cache are named, not inherited: run from a shell that has a production
# DATABASE_URL, `make run` must not load the fixtures over production's content.
# `make run RUN_PORT=8001` when 8000 is taken.
RUN_PORT ?= 8000
DEV_ENV := DEBUG=1 SECURE_SSL_REDIRECT=0 DATABASE_URL=sqlite:///$(CURDIR)/var/db.sqlite3 \
	CACHE_URL=locmemcache://omsportal SITE_URL=http://127.0.0.1:$(RUN_PORT)
HAS_CONTENT := from regions.models import Region; raise SystemExit(not Region.objects.exists())

.DEFAULT_GOAL := help
.PHONY: help install run fixtures test test-fast lock lint bench lighthouse screenshots

help: ## List the targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# Exactly the versions and hashes of the lock (uv.lock, exported by `make lock`).
$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

install: $(STAMP) ## Create .venv and install the project with its test tools

run: $(STAMP) ## Serve the site on http://127.0.0.1:8000, or RUN_PORT (SQLite; the fixtures into an empty database)
	@mkdir -p var/static var/media
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	@# Local edits made in admin stay: the fixtures go only into a database without regions.
	@$(DEV_ENV) $(BIN)/python manage.py shell -c "$(HAS_CONTENT)" || $(MAKE) --no-print-directory fixtures
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(RUN_PORT)

fixtures: $(STAMP) ## Load the fixtures into make run's database again (local edits to them are lost)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py loaddata $(FIXTURES)

# One test file per process, on every core: a file's servers (gunicorn, nginx) start once.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

test: $(STAMP) ## Run the whole test suite (DATABASE_URL picks the database; SQLite by default)
	$(PYTEST) $(PYTEST_ARGS)

test-fast: $(STAMP) ## The suite without browser tests and without tests that start servers
	$(PYTEST) -m "not browser and not server" $(PYTEST_ARGS)

LOCK_EXPORT := $(BIN)/uv export --format requirements-txt --no-emit-project --no-header --locked -q

lock: $(STAMP) ## After changing dependencies in pyproject.toml: uv.lock and the hashed requirements
	$(BIN)/uv lock
	$(LOCK_EXPORT) --no-dev -o requirements.txt
	$(LOCK_EXPORT) --extra dev -o requirements-dev.txt

node_modules: package.json package-lock.json ## The Nu HTML checker (npm ci; Lighthouse is optional)
	npm ci --omit=optional --no-audit --no-fund
	@touch $@

lighthouse: $(STAMP) ## Lighthouse scores (mobile) of the key pages, site served as in production
	scripts/lighthouse

screenshots: $(STAMP) ## Refresh docs/screenshots/ (360 and 1280 px wide)
	$(BIN)/python scripts/screenshots

lint: $(STAMP) ## ruff, migrations in step with models, the lock in step with pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/uv lock --check
	$(LOCK_EXPORT) --no-dev | diff -u requirements.txt -
	$(LOCK_EXPORT) --extra dev | diff -u requirements-dev.txt -

# Production settings as a deployment sets them: DEBUG off, a random key, a real host name,
# PostgreSQL, Redis and SMTP URLs (nothing connects to them during the check), the mails' sender.
PROD_CHECK_ENV := DEBUG=0 SECURE_SSL_REDIRECT=1 ALLOWED_HOSTS=oms.example.ru \
	CSRF_TRUSTED_ORIGINS=https://oms.example.ru SITE_URL=https://oms.example.ru \
	DATABASE_URL=postgres://omsportal@db.invalid:5432/omsportal CACHE_URL=redis://cache.invalid:6379/0 \
	EMAIL_URL=smtp+tls://mail.invalid:587 DEFAULT_FROM_EMAIL=noreply@oms.example.ru

.PHONY: check-deploy hadolint
check-deploy: $(STAMP) ## manage.py check --deploy with production settings; warnings fail
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PROD_CHECK_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

hadolint: $(STAMP) ## Lint the Dockerfile (no Docker engine needed)
	$(BIN)/hadolint Dockerfile
bench: $(STAMP) ## wrk on nginx's cache against static files, and on Django against /healthz; sizes, memory (BENCH_QUICK=1: smoke)
	$(BIN)/python scripts/bench.py
