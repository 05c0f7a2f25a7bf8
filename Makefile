# einstein: `make run` for a demo on this machine, `make test` for the whole test run.
SHELL := /bin/sh
# the Python the venv is made with: 3.13 or 3.12 if the machine has one (coverage costs the tests
# far less there), else python3; see scripts/python.sh
PYTHON ?= $(shell ./scripts/python.sh)
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := einstein

.PHONY: help install install-dev translations messages run run-prod test test-fast test-clock lint format lock audit system-deps bench-deps clean

help:
	@echo "make run     start einstein on http://127.0.0.1:5000 with a Celery worker and beat (demo data)"
	@echo "make test    install what the tests need, start Redis/PostgreSQL/SMTP for the run, run pytest with coverage"
	@echo "make test-clock  the tests again with the clock at 23:30 and 00:30 on the nights the clocks change"
	@echo "make lint    ruff lint and format check, mypy (strict) on einstein/"
	@echo "make lock    compile requirements*.in into requirements*.txt with hashes; make audit: known vulnerabilities"
	@echo "make messages  extract new texts into the translation catalogues"
	@echo "make run-prod  gunicorn, worker and beat with production settings from the environment"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every package is pinned with its hashes (make lock): pip refuses anything else, so a changed or
# substituted file on the way from the index is an error, not an install.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --requirement requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes --requirement requirements-dev.txt
	touch $@

# After changing requirements*.in: compile them into requirements*.txt, exact versions with the
# hashes of every file the index has for them (pip-tools). `make lock UPGRADE=1` takes the newest
# versions of everything not pinned in the .in files; then run `make test`.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

# Known vulnerabilities in the pinned packages (pip-audit, from PyPI's advisory data: it needs to
# reach pypi.org's page for each release). Fails when one is found, and also when a package could
# not be checked (--strict): an audit that checked nothing must not pass.
audit: $(VENV)/.installed-dev
	$(BIN)/pip-audit --progress-spinner off --requirement requirements-dev.txt --require-hashes --disable-pip --no-deps --strict

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
	@# lists what is left to translate; new strings are expected here, so it does not fail the target
	$(BIN)/python -m tests.support.catalogues || true

instance/.demo-loaded: | install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@mkdir -p instance && touch $@

# Ctrl-C stops all three: honcho handles it and says 130 (stopped by Ctrl-C), which is how a run
# should end; the shell between make and honcho ignores Ctrl-C, or it may die of it and make would
# report an "Interrupt".
run: install instance/.demo-loaded
	@$(BIN)/flask db upgrade 2>&1 | grep -v "^INFO  \[alembic.runtime.migration\] \(Context impl\|Will assume\)" || true
	@$(BIN)/flask demo-accounts
	@echo "einstein on http://127.0.0.1:5000 (Ctrl-C stops the web app, the worker and beat)"
	@trap '' INT; $(BIN)/honcho --procfile Procfile.dev start || test $$? -eq 130

# Production: gunicorn, a Celery worker and beat (honcho runs the Procfile), settings from the
# environment: EINSTEIN_ENV=production, SECRET_KEY, DATABASE_URL, REDIS_URL, SMTP_HOST, BASE_URL.
run-prod: install
	@test -n "$$SECRET_KEY" || { echo "set SECRET_KEY (see README: Deployment)"; exit 1; }
	@test -n "$$DATABASE_URL" || { echo "set DATABASE_URL to your PostgreSQL database"; exit 1; }
	@test -n "$$REDIS_URL" || { echo "set REDIS_URL to your Redis server"; exit 1; }
	@test -n "$$SMTP_HOST" || { echo "set SMTP_HOST (and SMTP_PORT, SMTP_USERNAME, ...) so that e-mails are sent"; exit 1; }
	@test -n "$$BASE_URL" || { echo "set BASE_URL to the public https address, for the links in e-mails"; exit 1; }
	EINSTEIN_ENV=production $(BIN)/flask db upgrade
	EINSTEIN_ENV=production $(BIN)/honcho --procfile Procfile start

system-deps:
	./scripts/system-deps.sh

# The whole set in two steps. First the browser tests and the slow integration runs, at the real
# clock (Chromium's clock and the servers' cannot be moved); then every other test once at each
# of CLOCK_INSTANTS (make test-clock, below), the first of them under coverage: no test runs
# twice at the real clock and at a moved one. Coverage of einstein/ counts the processes the
# tests start (pyproject's [tool.coverage.*]); the report at the end covers both steps: the
# files not fully covered and the total, failing below its floor.
# Each step spreads the test files over several processes (pytest-xdist), each with its own
# servers on its own ports: most of a slow test's time is spent waiting for gunicorn, Celery,
# Kannel or a browser, so four share two cores well. The slowest tests are listed after each run.
TEST_WORKERS ?= 4
test: system-deps install-dev
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadgroup -m "browser or slow" --durations 10 \
		--cov=einstein --cov-report= --cov-fail-under=0
	@TEST_COVERAGE=1 $(MAKE) --no-print-directory test-clock

# The tests without the browser and the slow runs, with the clock moved (pytest --clock,
# Europe/Amsterdam time, ticking) to 23:30 on the evening before the clocks go forward and to
# 00:30 on the night they go back: a test or a rule that counts days in UTC or adds hours across
# midnight or a clock change fails here. See README: The tests at any hour. With TEST_COVERAGE=1
# (make test) the first instant's run adds to the coverage of the first step and reports it.
CLOCK_INSTANTS ?= 2027-03-27T23:30 2027-10-31T00:30
# processes per instant (pytest-xdist), the instants' runs side by side
CLOCK_WORKERS ?= 2

test-clock: install-dev
	@PYTHON=$(BIN)/python WORKERS=$(CLOCK_WORKERS) ./scripts/test-clock.sh $(CLOCK_INSTANTS)

# The tests without the browser and the slow integration runs, for a quick check while coding.
test-fast: install-dev
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadgroup -m "not browser and not slow"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy einstein

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# What the benchmarks need besides `make test`'s servers: wrk, the HTTP load generator.
bench-deps: install-dev system-deps
	@command -v wrk >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q wrk; }

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
