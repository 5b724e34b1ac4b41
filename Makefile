# Röd tråd: the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The first interpreter that is Python 3.12 or newer.
PYTHON ?= $(shell for c in python3.13 python3.12 python3.14 python3 python; do \
	if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	then echo $$c; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev demo bench lint typecheck messages clean

$(VENV)/.stamp-base: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "Röd tråd needs Python 3.12 or newer and found none (tried python3.13, python3.12, python3.14, python3, python)." >&2; \
		echo "Install Python 3.12+ (e.g. 'apt-get install python3.12' or 'uv python install 3.13') and run make again." >&2; \
		exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-base
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.stamp-base

install-dev: $(VENV)/.stamp-dev

demo: export DEBUG ?= 1
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

run: demo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Models and migrations differ: run manage.py makemigrations." >&2; exit 1; }
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy rodtrad tests benchmarks

bench: install-dev
	$(PY) -m benchmarks.run

messages: install-dev
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemessages -l sv --no-obsolete --add-location file -i ".venv/*" -i "tests/*" -i "benchmarks/*"
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py compilemessages -l sv -i .venv

clean:
	rm -rf $(VENV) data/*.sqlite3*
