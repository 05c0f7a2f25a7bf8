# einstein: `make run` for a demo on this machine, `make test` for the whole test run.
SHELL := /bin/sh
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := einstein

.PHONY: help install install-dev translations messages run worker beat test test-fast lint format system-deps clean

help:
	@echo "make run     start einstein on http://127.0.0.1:5000 with a Celery worker and beat (demo data)"
	@echo "make test    install what the tests need, start Redis/PostgreSQL/SMTP for the run, run pytest"
	@echo "make lint    ruff lint and format check"
	@echo "make messages  extract new texts into the translation catalogues"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --requirement requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --requirement requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

# Compile the .po catalogues into the .mo files Flask-Babel reads.
translations: $(VENV)/.installed
	@if ls einstein/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --statistics -d einstein/translations; fi

# After changing texts: extract every translatable string and add the new ones to each catalogue.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k "_n:1,2" --add-location=file --sort-by-file \
		--project=einstein --version=0.1 --copyright-holder="einstein contributors" \
		--msgid-bugs-address="translations@einstein.localhost" -o einstein/translations/messages.pot .
	$(BIN)/pybabel update -i einstein/translations/messages.pot -d einstein/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m tests.support.catalogues || true

instance/.demo-loaded: | install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@mkdir -p instance && touch $@

run: install instance/.demo-loaded
	$(BIN)/flask db upgrade
	@echo "einstein on http://127.0.0.1:5000 (Ctrl-C stops the web app, the worker and beat)"
	$(BIN)/honcho --procfile Procfile.dev start

system-deps:
	./scripts/system-deps.sh

test: system-deps install-dev
	$(BIN)/python -m pytest

# The tests without the browser and the slow integration runs, for a quick check while coding.
test-fast: install-dev
	$(BIN)/python -m pytest -m "not browser and not slow"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
