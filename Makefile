# Oncollab: `make run` sets up and serves the hub; `make test` sets up and runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Without a message queue live rooms live in one process: one gevent worker serves every socket.
WORKERS ?= $(if $(ONCOLLAB_SOCKETIO_MESSAGE_QUEUE),2,1)
PYTEST_ARGS ?=

.PHONY: wrk run serve test test-sqlite test-postgres test-e2e bench install install-dev assets assets-dev chromium setup-db clean

run: install assets setup-db serve

# Stamp files make repeated runs fast and idempotent; they change when the pins change.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Front-end packages come from npm (never a CDN) and are served by the app.
node_modules/.installed-prod: package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund
	touch $@

node_modules/.installed-dev: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules/.installed-prod $@

assets: node_modules/.installed-prod
assets-dev: node_modules/.installed-dev

# Browser tests use Debian's chromium, never a downloaded browser build.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian chromium (needs root)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

setup-db: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) search rebuild --if-empty
	@echo ""
	@echo "Oncollab is at http://$(HOST):$(PORT)/"

serve: install
	$(VENV)/bin/gunicorn --worker-class gevent --worker-connections 2000 --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: install-dev assets-dev chromium
	$(MAKE) --no-print-directory test-sqlite test-postgres test-e2e

test-sqlite:
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

test-postgres:
	ONCOLLAB_TEST_DB=postgresql $(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

test-e2e:
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

bench: install-dev wrk
	$(PY) -m bench.pages --seconds 5
	$(PY) -m bench.fanout
	$(PY) -m bench.search_bench --docs 100000
	$(PY) -m bench.search_rebuild --trials 100000
	$(PY) -m bench.search_pages --trials 10000 --seconds 5
	$(PY) -m bench.media_bench --seconds 5

clean:
	rm -rf $(VENV) node_modules .pytest_cache

wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
