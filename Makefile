# ProdReady — the few commands people run. `make run` and `make test` work on a fresh machine
# with Python >= 3.11 and make: they create .venv and install the locked dependencies first.

# The first interpreter that runs and is >= 3.11 (pyenv shims may exist for versions that do not run).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
DEV_ENV := DEBUG=1

.PHONY: install run test lint format bench lock clean

$(VENV)/.installed: requirements-dev.lock
	@test -n "$(PYTHON)" || { echo "ProdReady needs Python >= 3.11; none found. Set PYTHON=/path/to/python3.11."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	@touch $@

install: $(VENV)/.installed

# The app with demo data on SQLite; Celery worker and beat run beside the web server on kombu's
# filesystem broker (no Redis needed). Ctrl-C stops all three. (A thread pool: a process pool's children
# killed with the group can leave billiard's shutdown waiting forever on a queue lock.)
run: install
	@$(DEV_ENV) $(PY) manage.py migrate --noinput -v0
	@$(DEV_ENV) $(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "ProdReady runs at http://$(HOST):$(PORT)/  (sign in as pm, owner, reviewer, leader or admin; password prodready-demo)"
	@echo ""
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(DEV_ENV) $(VENV)/bin/celery -A config worker --beat --pool=threads --concurrency=2 --loglevel=INFO & \
	$(DEV_ENV) SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py runserver $(HOST):$(PORT); \
	wait

# The whole suite. CI (.ci/run) runs this same target against PostgreSQL, Redis and Chromium.
test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The speed and memory figures of issue 3, each beside a reference measured in the same run. Its PostgreSQL
# parts need DATABASE_URL to name a server where the bench may create (and drop) its own database, e.g.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench    (BENCH_ARGS=--quick: a short run)
bench: install
	DJANGO_SETTINGS_MODULE=config.settings $(PY) bench/run.py $(BENCH_ARGS)

# Regenerate the lock files after changing pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
