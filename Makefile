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

# make cluster: replicas, each with its own data folder under DATA, and workers for each.
REPLICAS ?= 3
DATA ?= var/cluster
CLUSTER_WORKERS ?= 2

.PHONY: run cluster reload reload-cluster systemd-analyze test test-fast lint lock check bench load wrk nginx browser clean messages

# nginx takes the readers' connections (slow ones included) in front of gunicorn, both kept
# running by supervisord (deploy/run.py, deploy/supervisord.conf).
run: $(VENV)/.run-installed nginx
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	exec $(BIN)/python deploy/run.py start --host $(HOST) --port $(PORT) --workers $(WORKERS)

# The replicated topology on one machine: nginx on HOST:PORT in front of REPLICAS gunicorns.
cluster: $(VENV)/.run-installed nginx
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	exec $(BIN)/python deploy/run.py start --host $(HOST) --port $(PORT) --replicas $(REPLICAS) \
		--workers $(CLUSTER_WORKERS) --data $(DATA)

# Publish a change of content/ on a running `make run`, one replica at a time (reload-cluster:
# on `make cluster`'s DATA).
reload: $(VENV)/.run-installed
	$(BIN)/python deploy/run.py reload

reload-cluster: $(VENV)/.run-installed
	$(BIN)/python deploy/run.py reload --data $(DATA)

test: lint browser nginx wrk systemd-analyze $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The in-process lane (pyproject.toml's markers): under a minute, no server, nginx or browser.
test-fast: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m "not processes and not front and not browser" $(PYTEST_ARGS)

# ruff, as configured in pyproject.toml: the linter, and the formatter's check.
lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The locks, with hashes, from the ranges in pyproject.toml: run after changing them.
lock: $(VENV)/.run-installed
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes --quiet -o requirements-test.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --python-version 3.11 --generate-hashes --quiet -o requirements-bench.lock

# The traditional edition's catalogue, compiled after editing its .po (the .mo is committed).
messages:
	command -v msgfmt >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gettext >/dev/null)
	msgfmt -o locale/zh_Hant/LC_MESSAGES/django.mo locale/zh_Hant/LC_MESSAGES/django.po

check: $(VENV)/.run-installed
	$(BIN)/python manage.py loadbulletins --check

# The README's figures: at 10,000 synthetic bulletins (BULLETINS=1000 for a quick run), slow
# clients by front, and nginx with 1-3 replicas; each prints a table (search latency and the
# cluster also draw SVG plots in bench/figures/).
BULLETINS ?= 10000
bench: $(VENV)/.bench-installed wrk nginx
	$(BIN)/python -m bench.loading --bulletins $(BULLETINS)
	$(BIN)/python -m bench.serving --bulletins $(BULLETINS)
	$(BIN)/python -m bench.search_latency --bulletins 3 1000 $(BULLETINS)
	$(BIN)/python -m bench.slow_clients
	$(BIN)/python -m bench.cluster

load: $(VENV)/.bench-installed wrk
	$(BIN)/python -m bench.load_test

# Debian's nginx, and its brotli module, for make run, make cluster and their tests.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] || [ ! -e /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so ]; then \
		$(SUDO) apt-get update -qq && \
		RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx libnginx-mod-http-brotli-filter >/dev/null; \
	fi

wrk:
	command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null)

# Checks deploy/bulletins.service (tests/test_deploy.py); where systemd cannot be installed, that test says so and skips.
systemd-analyze:
	@command -v systemd-analyze >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq systemd >/dev/null) \
		|| echo "systemd-analyze could not be installed: the systemd unit's test will skip"

# The pinned packages, then the project itself (editable, without dependencies), so that
# deploy/, bench/ and the tests import it from anywhere without touching sys.path.
$(VENV)/.run-installed: requirements.lock pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# requirements-test.lock pins the site's own packages as requirements.lock does, and the test tools.
$(VENV)/.test-installed: requirements.lock requirements-test.lock $(VENV)/.run-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.lock
	touch $@

# The test tools and matplotlib, which draws the benchmarks' figures (bench/plots.py).
$(VENV)/.bench-installed: requirements-bench.lock $(VENV)/.test-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.lock
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
	rm -rf $(VENV) staticfiles var test-artifacts tests/browser/node_modules bulletins.egg-info
