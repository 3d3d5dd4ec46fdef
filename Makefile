# ARROW Auto-Inventory: `make run` serves the demo on SQLite; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/agent
ARROW_BIND ?= 127.0.0.1:8000
WORKERS ?= 2

.PHONY: run test test-fast lint setup-app setup-dev lock e2e clean screenshots vendor-assets

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
	exec $(VENV)/bin/gunicorn arrow.wsgi:application --bind "$(ARROW_BIND)" --workers $(WORKERS) \
		--access-logfile - --forwarded-allow-ips "*"

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Every test: ruff, the whole suite on PostgreSQL, and the fast suite again on SQLite.
test: setup-dev lint
	$(PY) manage.py check --fail-level WARNING
	DATABASE_URL="$$(bash scripts/testdb.sh)" $(PY) -m pytest -p no:cacheprovider -q
	DATABASE_URL="sqlite:///$(CURDIR)/var/test-sqlite.sqlite3" $(PY) -m pytest -p no:cacheprovider -q \
		tests/unit tests/integration -m "not postgres and not slow"

test-fast: setup-dev
	DATABASE_URL="sqlite:///$(CURDIR)/var/test-sqlite.sqlite3" $(PY) -m pytest -q -x \
		tests/unit tests/integration -m "not postgres and not slow"

# The mass-boot benchmark (bench/README.md): BENCH_DEVICES, BENCH_CONCURRENCY, BENCH_WORKERS override.
# Starts its own PostgreSQL cluster and servers on 127.0.0.1; needs wrk (Debian package).
bench: setup-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
	$(PY) -m bench

# Refresh the portal's pictures in docs/screenshots (a browser test over a sample fleet).
screenshots: setup-dev
	DATABASE_URL="$$(bash scripts/testdb.sh)" ARROW_SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" \
		$(PY) -m pytest -p no:cacheprovider -q tests/e2e/portal/test_screenshots.py

# Refresh the vendored Bootstrap from the npm registry (see the script for a version change).
vendor-assets:
	bash scripts/vendor-assets.sh

# The boot path alone: real iPXE in QEMU against the real backend (builds the image if needed).
e2e: setup-dev image
	DATABASE_URL="$$(bash scripts/testdb.sh)" $(PY) -m pytest -p no:cacheprovider -q -s \
		tests/e2e/test_boot_path_qemu.py tests/e2e/test_image_boot.py

lock:
	cd requirements && uv pip compile --python-version 3.11 --generate-hashes app.in -o app.txt \
		&& uv pip compile --python-version 3.11 --generate-hashes dev.in -o dev.txt

clean:
	rm -rf var build .pytest_cache
