# Two commands do all the set-up on a fresh machine (Python 3.12+ and make; make test also npm and Java 17+):
#   make run    the site with a demo clinic on an embedded PostgreSQL, http://127.0.0.1:8000
#   make test   the whole suite (lint, migrations check, unit, browser) on the same server
# DATABASE_URL=postgres://... points both at a real server instead.

PYTHON ?= $(shell sh scripts/find-python.sh)
VENV := .venv
VENV_PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed

.PHONY: run test test-fast manage bench serve worker loadtest cluster restore-drill clean-data

$(INSTALLED): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "No Python 3.12+ found: set PYTHON=/path/to/python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The W3C Nu HTML checker the suite runs (vnu.jar, in tests/browser/test_html_validity.py), pinned
# in package-lock.json; make test needs it, make run does not. --ignore-scripts: vnu-jar's postinstall
# would download a Java runtime from GitHub when none is installed; the test asks for one instead.
$(NODE_INSTALLED): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (sudo apt-get install npm); make test installs the HTML checker with it"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

run: $(INSTALLED)
	$(VENV_PY) scripts/dev.py run

test: $(INSTALLED) $(NODE_INSTALLED)
	$(VENV_PY) scripts/dev.py test $(ARGS)

# make test-fast: the same lint and checks, and every test but the browser and scripts ones
# (no Chromium, Java or throwaway clusters): the loop for local work. CI runs `make test`.
test-fast: $(INSTALLED)
	$(VENV_PY) scripts/dev.py test --ignore=tests/browser --ignore=tests/scripts $(ARGS)

# make manage ARGS="createsuperuser": any manage.py command on the same database.
manage: $(INSTALLED)
	$(VENV_PY) scripts/dev.py manage $(ARGS)

# make bench [ARGS="--duration 5"]: the JSON API under gunicorn with 8 clients (docs/PERFORMANCE.md).
bench: $(INSTALLED)
	$(VENV_PY) scripts/bench.py $(ARGS)

# Production settings (DEBUG off), as separate processes like in production (docs/DEPLOY.md):
#   make serve    migrate, collectstatic, gunicorn on GUNICORN_BIND (default 127.0.0.1:8080)
#   make worker   the email worker; start it beside make serve
# WEB_CONCURRENCY gunicorn workers (default: cores) × GUNICORN_THREADS (default 4).
serve: $(INSTALLED)
	$(VENV_PY) scripts/dev.py serve

worker: $(INSTALLED)
	$(VENV_PY) scripts/dev.py worker

# make loadtest [ARGS="--duration 60 --clients 16"]: mixed load on make serve's gunicorn, then
# integrity checks in SQL (docs/PERFORMANCE.md).
loadtest: $(INSTALLED)
	$(VENV_PY) scripts/loadtest.py $(ARGS)

# make cluster [ARGS="--duration 60"]: two make serve app servers behind HAProxy (deploy/haproxy.cfg),
# one PostgreSQL, Redis (REDIS_URL, default this machine's), two workers; make loadtest's load through
# the balancer, one app server killed mid-run (docs/DEPLOY.md). Needs Debian's haproxy and a Redis.
cluster: $(INSTALLED)
	$(VENV_PY) scripts/cluster.py $(ARGS)

# pg_dump, pg_restore into a new database and checks, on the embedded server (docs/DEPLOY.md).
restore-drill: $(INSTALLED)
	$(VENV_PY) scripts/restore_drill.py $(ARGS)

# Removes the embedded database's data (the demo clinic comes back on the next make run).
clean-data:
	rm -rf .data/postgres
