# Integrations Portal: `make run` serves the portal on SQLite, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
THREADS ?= 2

.PHONY: run test lint format test-sqlite test-postgres audit bench screenshots clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# newman for the API's Postman collection test, pinned by its lock file.
NEWMAN_DIR := api/tests/newman
$(NEWMAN_DIR)/node_modules/.package-lock.json: $(NEWMAN_DIR)/package.json $(NEWMAN_DIR)/package-lock.json
	cd $(NEWMAN_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py ensuredemo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving the portal on http://$(HOST):$(PORT)/"
	$(PY) -m ops.serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

# Runs the suite on SQLite, then again on PostgreSQL when TEST_POSTGRES_URL is set.
test: $(VENV)/.test-installed $(NEWMAN_DIR)/node_modules/.package-lock.json
	$(MAKE) lint
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(MAKE) test-sqlite
	@if [ -n "$$TEST_POSTGRES_URL" ]; then $(MAKE) test-postgres; else echo "TEST_POSTGRES_URL is not set: PostgreSQL run skipped."; fi

# ruff (pinned in requirements-test.txt, configured in pyproject.toml): the linter, and the formatter's check.
lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Rewrites what `make lint` would refuse and ruff can mend by itself.
format: $(VENV)/.test-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-sqlite:
	DATABASE_URL=sqlite:///db.sqlite3 $(PY) -m pytest $(PYTEST_ARGS)

# The fault tests make a PostgreSQL cluster of their own: once, in the SQLite pass, is enough.
test-postgres:
	DATABASE_URL="$$TEST_POSTGRES_URL" $(PY) -m pytest -m "not faults" $(PYTEST_ARGS)

# Known vulnerabilities in the pinned runtime requirements, from PyPI's advisory data. pip-audit
# lives in a virtualenv of its own so the tool's dependencies never mix with the portal's.
# --strict: a package the service cannot look up fails the audit instead of passing unaudited.
# Not part of `make test`: it needs pypi.org's JSON API, which not every CI network reaches.
AUDIT_VENV := .venv-audit
PIP_AUDIT_VERSION := 2.10.1
audit:
	test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/pip install --quiet pip-audit==$(PIP_AUDIT_VERSION); }
	$(AUDIT_VENV)/bin/pip-audit --strict --progress-spinner off -r requirements.txt

# Load benchmark of the token endpoint and the API on 127.0.0.1 (about 6 minutes); writes bench/RESULTS.md.
# DATABASE_URL=postgres://… runs it on a database of its own there; BENCH_ARGS=--help lists the flags.
bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

# Screenshots of the list and the reveal page for the README (a throwaway database, a fake secret).
screenshots: $(VENV)/.test-installed
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) $(AUDIT_VENV) staticfiles .pytest_cache $(NEWMAN_DIR)/node_modules
