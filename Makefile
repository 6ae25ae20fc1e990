# Two commands do everything: `make run` (set up and serve on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Production-like environment for `check --deploy` (nothing here is a real secret).
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-$(shell printf '%064d' 0 | tr 0 k)-7Qz9vX2mLp4Rt8Wn ALLOWED_HOSTS=clinic.example

.PHONY: run test install setup lint check pytest translations vendor clean lock

# The pinned, hashed dependencies first, then the project itself (its code, not pinned).
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Migrate, compile translations, load the demo clinic (idempotent).
setup: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py translations
	DEBUG=1 $(PY) manage.py load_demo

# Links in e-mails from the admin, the task workers and the message pass point at this
# server: SITE_URL is exported to every command of `run`, `setup` (load_demo) included.
run: export SITE_URL = http://$(HOST):$(PORT)
run: setup
	@echo "Serving on $(SITE_URL)/ (Ctrl+C stops the server, both task workers and the message pass)"
	@echo "Staff admin: $(SITE_URL)/admin/"
	DEBUG=1 $(PY) manage.py run_worker --queue-name messages,default & messages=$$!; \
	DEBUG=1 $(PY) manage.py run_worker --queue-name imaging & imaging=$$!; \
	DEBUG=1 $(PY) manage.py send_messages --every 120 >/dev/null & pass=$$!; \
	trap 'kill $$messages $$imaging $$pass 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install
	$(PY) deploy/check_lock.py
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=1 $(PY) manage.py translations --check

# Test processes (pytest-xdist); `make test PYTEST_WORKERS=0` runs in this process only.
PYTEST_WORKERS ?= 3
pytest: install
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test: lint check pytest

# Developers: after changing requirements in pyproject.toml, compile both lock files for every
# platform. Pins already locked are kept; `make lock LOCK_ARGS=--upgrade` (or
# `LOCK_ARGS="--upgrade-package NAME"`) moves them to the newest allowed releases. The runtime
# lock is constrained to the dev lock's pins, so servers run what the tests ran.
LOCK_ARGS ?=
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet
lock: install
	$(UV_COMPILE) $(LOCK_ARGS) --extra dev -o requirements-dev.lock
	$(UV_COMPILE) $(LOCK_ARGS) -c requirements-dev.lock -o requirements.lock
	$(PY) deploy/check_lock.py --stamp
	$(PY) deploy/check_lock.py

# Developers: collect new interface strings into the .po files (needs gettext).
translations: install
	DEBUG=1 $(PY) manage.py translations --update

clean:
	rm -rf $(VENV) var
