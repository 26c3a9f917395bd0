# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test clean screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed  ## serve on http://127.0.0.1:$(PORT) with SQLite
	$(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.dev-installed  ## install test tools and run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

screenshot: $(VENV)/.dev-installed  ## seed demo counts and write docs/dashboard.png with Chromium
	PYTHONPATH=. $(BIN)/python scripts/screenshot.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .hypothesis instance
