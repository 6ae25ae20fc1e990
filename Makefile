# Two commands do everything: `make run` (set up and serve on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Production-like environment for `check --deploy` (nothing here is a real secret).
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-$(shell printf '%064d' 0 | tr 0 k)-7Qz9vX2mLp4Rt8Wn ALLOWED_HOSTS=clinic.example

.PHONY: run test install setup lint check pytest translations vendor clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Migrate, compile translations, load the demo clinic (idempotent).
setup: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py translations
	DEBUG=1 $(PY) manage.py load_demo

run: setup
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C stops the server, both task workers and the message pass)"
	DEBUG=1 $(PY) manage.py run_worker --queue-name messages,default & messages=$$!; \
	DEBUG=1 $(PY) manage.py run_worker --queue-name imaging & imaging=$$!; \
	DEBUG=1 $(PY) manage.py send_messages --every 120 >/dev/null & pass=$$!; \
	trap 'kill $$messages $$imaging $$pass 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=1 $(PY) manage.py translations --check

pytest: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint check pytest

# Developers: collect new interface strings into the .po files (needs gettext).
translations: install
	DEBUG=1 $(PY) manage.py translations --update

clean:
	rm -rf $(VENV) var
