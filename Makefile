# The two commands: `make run` (demo on 127.0.0.1:8000) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test test-tools lint install install-dev migrate demo worker beat clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e .

install-dev: $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e '.[dev]'

migrate: install
	$(PY) manage.py migrate --noinput

## Set up on embedded defaults (SQLite, eager Celery), seed the demo, scan once, serve.
## The demo's emails go to files in .demo-emails/ rather than flooding the terminal.
run: export EMAIL_URL ?= filemail:///$(CURDIR)/.demo-emails
run: migrate
	$(PY) manage.py seed_demo --if-empty --scan-history
	$(PY) manage.py run_governance_scan
	$(PY) manage.py demo_logins
	@echo "Emails the scan sent (flag notices) are in .demo-emails/"
	$(PY) manage.py runserver 127.0.0.1:8000

## Install the dev tools and run the whole suite (PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set).
## The sign-in tests drive a real OpenID provider (npm's oidc-provider): installed here when node is present
## (without node those tests skip saying why, or fail under CXGOV_REQUIRE_SERVICES=1).
test: install-dev test-tools
	$(PY) -m pytest $(PYTEST_ARGS)

test-tools:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error; \
		npm ci --prefix tests/axe --no-audit --no-fund --loglevel=error; \
		npm ci --prefix tests/cards --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the OpenID sign-in tests (tests/oidc), axe-core checks (tests/axe) and Teams card checks (tests/cards) will be skipped"; \
	fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

worker: install
	$(VENV)/bin/celery -A cxgov worker -l info

beat: install
	$(VENV)/bin/celery -A cxgov beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
