# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# gunicorn's advice: (2 x cores) + 1 workers.
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 + 1 )))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: run test check bench load wrk browser clean

run: $(VENV)/.run-installed
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	exec $(BIN)/gunicorn bulletins.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--access-logfile - --error-logfile - --graceful-timeout 20 --no-control-socket

test: $(VENV)/.test-installed browser $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(VENV)/.run-installed
	$(BIN)/python manage.py loadbulletins --check

# Issue 6's figures at 10,000 synthetic bulletins (BULLETINS=1000 for a quick run); each prints a table.
BULLETINS ?= 10000
bench: $(VENV)/.test-installed wrk
	$(BIN)/python bench/loading.py --bulletins $(BULLETINS)
	$(BIN)/python bench/serving.py --bulletins $(BULLETINS)
	$(BIN)/python bench/search_latency.py --bulletins $(BULLETINS)

load: $(VENV)/.test-installed wrk
	$(BIN)/python bench/load_test.py

wrk:
	command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null)

$(VENV)/.run-installed: requirements.lock
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

$(VENV)/.test-installed: requirements.lock requirements-test.lock $(VENV)/.run-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.lock
	touch $@

# Debian's Chromium and a CJK font for the browser tests (Playwright's own download does not work here).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# axe-core for the accessibility audit, pinned by tests/browser/package-lock.json.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	command -v npm >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null)
	cd tests/browser && npm ci --silent --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) staticfiles var test-artifacts tests/browser/node_modules
