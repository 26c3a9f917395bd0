# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
BENCH_SIZE ?= full

.PHONY: help run test bench screenshot clean package create-table deploy bill
.DEFAULT_GOAL := help

help:  ## list the targets and what each does
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed  ## serve the counter on http://127.0.0.1:5000 (PORT=...) with SQLite
	$(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.dev-installed  ## install test tools and run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed  ## side-by-side benchmarks (BENCH_SIZE=tiny|full) into bench/results/latest.json
	$(BIN)/python -m bench.run --size $(BENCH_SIZE)

screenshot: $(VENV)/.dev-installed  ## seed demo counts and write docs/screenshots/dashboard-*.png with Chromium
	PYTHONPATH=. $(BIN)/python scripts/screenshot.py

clean:  ## remove the venvs, .tools, dist and the local SQLite instance folder
	rm -rf $(VENV) $(DEPLOY_VENV) $(LAMBDA_PYTHONPATH) dist .tools .pytest_cache .hypothesis instance

# Deploying: Zappa zips the venv it runs from, so that venv holds requirements.txt and zappa, nothing else.
# The deploy module stages the app's own files from an explicit list, so nothing else in this folder ships.
STAGE ?= dev
DEPLOY_VENV ?= .venv-deploy
DEPLOY_BIN := $(DEPLOY_VENV)/bin
DEPLOY := VIRTUAL_ENV=$(abspath $(DEPLOY_VENV)) $(DEPLOY_BIN)/python -m deploy
# boto3 alone, as Lambda's Python runtime has it: tests run the packaged handler on it.
LAMBDA_PYTHONPATH ?= .venv-lambda

$(DEPLOY_VENV)/.installed: requirements.txt requirements-deploy.txt
	rm -rf $(DEPLOY_VENV)
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_BIN)/pip install --quiet -r requirements-deploy.txt
	touch $@

$(LAMBDA_PYTHONPATH)/.installed: requirements.txt | $(BIN)/python
	rm -rf $(LAMBDA_PYTHONPATH)
	$(BIN)/pip install --quiet --target $(LAMBDA_PYTHONPATH) $$(grep '^boto3==' requirements.txt)
	touch $@

package: $(DEPLOY_VENV)/.installed  ## zip STAGE's app (an explicit file list) and libraries: dist/counter-STAGE.zip
	$(DEPLOY) package $(STAGE)

create-table: $(DEPLOY_VENV)/.installed  ## create STAGE's table (TEST_counters for dev, LIVE_counters for prod)
	$(DEPLOY) create-table $(STAGE)

deploy: $(DEPLOY_VENV)/.installed  ## check, create the table, zappa deploy or update, throttle, log retention
	$(DEPLOY) check $(STAGE)
	$(DEPLOY) create-table $(STAGE)
	$(DEPLOY) deploy $(STAGE)

bill: $(DEPLOY_VENV)/.installed  ## the worst-case monthly bill of each stage at its throttle (docs/deploying.md)
	$(DEPLOY) bill
