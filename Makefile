# Integrations Portal: `make run` serves the portal on SQLite, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test test-sqlite test-postgres bench screenshots clean

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
	$(VENV)/bin/gunicorn portal.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--access-logfile - --access-logformat '$(ACCESS_LOG_FORMAT)' --logger-class $(ACCESS_LOGGER)

# The path without its query string and no referrer: a token sent in a URL never reaches the log.
# The logger class writes an invitation link's path as /invitations/…/ (portal.logging.redact_path).
ACCESS_LOG_FORMAT := %(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms
ACCESS_LOGGER := portal.gunicorn_logging.AccessLogger

# Runs the suite on SQLite, then again on PostgreSQL when TEST_POSTGRES_URL is set.
test: $(VENV)/.test-installed $(NEWMAN_DIR)/node_modules/.package-lock.json
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(MAKE) test-sqlite
	@if [ -n "$$TEST_POSTGRES_URL" ]; then $(MAKE) test-postgres; else echo "TEST_POSTGRES_URL is not set: PostgreSQL run skipped."; fi

test-sqlite:
	DATABASE_URL=sqlite:///db.sqlite3 $(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL="$$TEST_POSTGRES_URL" $(PY) -m pytest $(PYTEST_ARGS)

# Load benchmark of the token endpoint and the API on 127.0.0.1 (about 6 minutes); writes bench/RESULTS.md.
# DATABASE_URL=postgres://… runs it on a database of its own there; BENCH_ARGS=--help lists the flags.
bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

# Screenshots of the list and the reveal page for the README (a throwaway database, a fake secret).
screenshots: $(VENV)/.test-installed
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache $(NEWMAN_DIR)/node_modules
