# Retaguarda — the two commands a newcomer needs:
#   make run    the back office, embedded (SQLite, tasks in-process, e-mail to var/mail/)
#   make test   lint, types, migrations check, layer contract and the test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint typecheck migrations-check contracts pytest demo clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python manage.py compile_translations
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_roles
	$(BIN)/python manage.py demo_data --if-empty
	$(BIN)/python manage.py bootstrap_admin --url http://$(HOST):$(PORT)/admin/
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy .

migrations-check: install-dev
	DJANGO_SETTINGS_MODULE=backoffice.test_settings $(BIN)/python manage.py makemigrations --check --dry-run

contracts: install-dev
	$(BIN)/lint-imports

pytest: install-dev
	DJANGO_SETTINGS_MODULE=backoffice.test_settings $(BIN)/python manage.py compile_translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck migrations-check contracts pytest

# Refresh every app's .po catalogues (pt_BR, es) from its code and templates/<app>/;
# needs GNU gettext. APPS="inventory logistics" limits it to some apps.
messages: install-dev
	$(BIN)/python manage.py update_translations $(APPS)

clean:
	rm -rf $(VENV) var/*.sqlite3 var/mail
