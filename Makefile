# ARROW Auto-Inventory: `make run` serves the demo on SQLite; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/agent
# Tools that keep state in the home directory (matplotlib, chromium, pip) keep it under var/ instead.
export XDG_CONFIG_HOME := $(CURDIR)/var/home/config
export XDG_CACHE_HOME := $(CURDIR)/var/home/cache
export XDG_DATA_HOME := $(CURDIR)/var/home/data
export MPLCONFIGDIR := $(CURDIR)/var/home/config/matplotlib
# The Debian packages each target needs (requirements/system.txt); root installs, others are told.
SYSTEM_PACKAGES = bash scripts/system-packages.sh
# A throwaway PostgreSQL cluster for one command (the suite then refuses to run on anything else).
WITH_POSTGRES = bash scripts/testdb.sh run
ARROW_BIND ?= 127.0.0.1:8000
WORKERS ?= 2
# The workers' shared counters for /metrics (prometheus_client multiprocess mode), new each run.
METRICS_DIR ?= $(or $(ARROW_VAR_DIR),$(CURDIR)/var)/prometheus

.PHONY: run test test-fast lint setup-app setup-dev setup-system lock e2e clean screenshots \
	vendor-assets fresh-machine

include image/image.mk

$(VENV)/.app-installed: requirements/app.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/app.txt
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt $(VENV)/.app-installed
	$(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.txt
	touch $@

setup-app: $(VENV)/.app-installed
setup-dev: $(VENV)/.dev-installed

# The demo: SQLite under var/ unless DATABASE_URL says otherwise.
run: setup-app
	$(PY) manage.py arrow_setup
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py demo_data --quiet-login
	$(PY) manage.py collectstatic --no-input -v 0
	@$(PY) manage.py arrow_banner --bind "$(ARROW_BIND)"
	rm -rf "$(METRICS_DIR)" && mkdir -p "$(METRICS_DIR)"
	@# The webhook worker runs beside gunicorn; whatever stops gunicorn (Ctrl-C, a TERM to the
	@# process group) stops the worker too, and the worker alone dying stops nothing else.
	$(PY) manage.py webhook_worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	env PROMETHEUS_MULTIPROC_DIR="$(METRICS_DIR)" $(VENV)/bin/gunicorn arrow.wsgi:application --bind "$(ARROW_BIND)" --workers $(WORKERS) \
		--access-logfile - --forwarded-allow-ips "*" --no-control-socket

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

setup-system:
	$(SYSTEM_PACKAGES) test

# Every test: the Debian packages, ruff, the whole suite on PostgreSQL (a cluster of its own,
# stopped at the end), and the fast suite again on SQLite.
test: setup-system setup-dev lint
	$(PY) manage.py check --fail-level WARNING
	$(WITH_POSTGRES) $(PY) -m pytest -p no:cacheprovider -q
	DATABASE_URL="sqlite:///$(CURDIR)/var/test-sqlite.sqlite3" $(PY) -m pytest -p no:cacheprovider -q \
		tests/unit tests/integration -m "not postgres and not slow"

test-fast: setup-dev
	DATABASE_URL="sqlite:///$(CURDIR)/var/test-sqlite.sqlite3" $(PY) -m pytest -q -x \
		tests/unit tests/integration -m "not postgres and not slow"

# The mass-boot benchmark (bench/README.md): BENCH_DEVICES, BENCH_CONCURRENCY, BENCH_WORKERS override.
# Starts its own PostgreSQL cluster and servers on 127.0.0.1; needs wrk (Debian package).
bench: setup-dev
	$(SYSTEM_PACKAGES) bench
	$(PY) -m bench

# Refresh the portal's pictures in docs/screenshots (a browser test over a sample fleet).
screenshots: setup-system setup-dev
	ARROW_SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" $(WITH_POSTGRES) \
		$(PY) -m pytest -p no:cacheprovider -q tests/e2e/portal/test_screenshots.py

# Refresh the vendored Bootstrap from the npm registry (see the script for a version change).
vendor-assets:
	bash scripts/vendor-assets.sh

# The boot path alone: real iPXE in QEMU against the real backend (builds the image if needed),
# on QEMU's user network and in the network boot lab (root: namespaces, taps).
e2e: setup-system setup-dev image
	$(WITH_POSTGRES) $(PY) -m pytest -p no:cacheprovider -q -s \
		tests/e2e/test_boot_path_qemu.py tests/e2e/test_image_boot.py tests/e2e/test_boot_lab.py

lock:
	cd requirements && uv pip compile --python-version 3.11 --generate-hashes app.in -o app.txt \
		&& uv pip compile --python-version 3.11 --generate-hashes dev.in -o dev.txt

# A fresh Debian 12 (debootstrap chroot) that clones this checkout and runs `make test` inside.
fresh-machine:
	bash scripts/fresh-machine.sh

clean:
	rm -rf var build .pytest_cache
