# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
BENCH_SIZE ?= full

.PHONY: help run test bench cost screenshot clean clean-data package create-table deploy domain deploy-tools bill
.DEFAULT_GOAL := help

help:  ## list the targets and what each does
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Checked before anything is installed, and again for a venv made earlier with another Python.
NEEDS_PYTHON = import sys; sys.exit(sys.version_info < (3, 11) and "The counter needs Python 3.11 or newer, and %s \
	is Python %d.%d.%d: install 3.11 or newer, then rm -rf $(VENV) and run make $(MAKECMDGOALS) PYTHON=python3.11 (or \
	newer)." % ("$(1)", *sys.version_info[:3]))

$(BIN)/python:
	@$(PYTHON) -c '$(call NEEDS_PYTHON,$(PYTHON))'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	@$(BIN)/python -c '$(call NEEDS_PYTHON,$(BIN)/python)'
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements-runtime.txt | $(BIN)/python
	@$(BIN)/python -c '$(call NEEDS_PYTHON,$(BIN)/python)'
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed  ## serve the counter on http://127.0.0.1:5000 (PORT=...) with SQLite
	@echo "The counter: http://127.0.0.1:$(PORT)/?e=PAGEVIEW counts; the dashboard: http://127.0.0.1:$(PORT)/dashboard"
	$(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.dev-installed  ## install test tools and run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed  ## side-by-side benchmarks (BENCH_SIZE=tiny|full) into bench/results/latest.json
	$(BIN)/python -m bench.run --size $(BENCH_SIZE)

cost: $(VENV)/.dev-installed  ## measure $ per million events into bench/results/ (UPDATE=1: into docs/cost.md)
	$(BIN)/python -m bench.cost $(if $(UPDATE),--update)

screenshot: $(VENV)/.dev-installed  ## seed demo counts and write docs/screenshots/dashboard-*.png with Chromium
	PYTHONPATH=. $(BIN)/python scripts/screenshot.py

clean:  ## remove the venvs, .tools and dist; the counts in instance/ stay (make clean-data)
	rm -rf $(VENV) $(DEPLOY_VENV) $(LAMBDA_PYTHONPATH) dist .tools .pytest_cache .hypothesis

clean-data:  ## delete instance/, the local SQLite counts, on purpose (export them first)
	rm -rf instance

# Deploying: Zappa zips the venv it runs from, so that venv holds requirements.txt and zappa, nothing else,
# built with the Lambda runtime's Python ("runtime" in zappa_settings.json): pyenv's, or PYTHON= if it is that version.
STAGE ?= dev
DEPLOY_VENV ?= .venv-deploy
DEPLOY_BIN := $(DEPLOY_VENV)/bin
DEPLOY := VIRTUAL_ENV=$(abspath $(DEPLOY_VENV)) $(DEPLOY_BIN)/python -m deploy
RUNTIME := $(shell sed -n 's/.*"runtime": *"python\([0-9.]*\)".*/\1/p' zappa_settings.json | head -n 1)
RUNTIME_PYTHON = $(shell for python in $(PYTHON) "$$(pyenv prefix $(RUNTIME) 2>/dev/null)/bin/python$(RUNTIME)" \
	python$(RUNTIME); do "$$python" -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(RUNTIME)")' \
	2>/dev/null && { command -v "$$python"; break; }; done)
# The stages (zappa_settings.json's top-level keys): a wrong STAGE stops here, before any venv is built.
STAGES := $(shell sed -n 's/^    "\([A-Za-z0-9_-]*\)": {$$/\1/p' zappa_settings.json)
ifneq ($(filter package create-table deploy,$(MAKECMDGOALS)),)
ifeq ($(filter $(STAGE),$(STAGES)),)
$(error there is no stage '$(STAGE)': zappa_settings.json has $(subst $() , and ,$(STAGES)) (names are case-sensitive))
endif
endif
# Named after the runtime, so that a new runtime in zappa_settings.json builds the venv anew.
DEPLOY_READY := $(DEPLOY_VENV)/.installed-python$(RUNTIME)
# Lambda's Python runtime as the tests run it: boto3 and the SnapStart hooks' library, which the runtime provides.
LAMBDA_PYTHONPATH ?= .venv-lambda

$(DEPLOY_READY): requirements.txt requirements-deploy.txt
	@python="$(RUNTIME_PYTHON)"; test -n "$$python" || { echo "Deploying needs Python $(RUNTIME), the Lambda" \
		"runtime in zappa_settings.json, and none was found: install it (pyenv install $(RUNTIME)) or name it" \
		"(make $(MAKECMDGOALS) PYTHON=/path/to/python$(RUNTIME))." >&2; exit 1; }; \
	set -x; rm -rf $(DEPLOY_VENV) && "$$python" -m venv $(DEPLOY_VENV)
	$(DEPLOY_BIN)/pip install --quiet -r requirements-deploy.txt
	$(DEPLOY) wheels
	touch $@

$(LAMBDA_PYTHONPATH)/.installed: requirements.txt requirements-runtime.txt $(DEPLOY_READY)
	rm -rf $(LAMBDA_PYTHONPATH)
	$(DEPLOY_BIN)/pip install --quiet --target $(LAMBDA_PYTHONPATH) $$(grep "^boto3==" requirements.txt) \
		-r requirements-runtime.txt
	touch $@

package: $(DEPLOY_READY)  ## zip STAGE's app (an explicit file list) and libraries: dist/counter-STAGE.zip
	$(DEPLOY) package $(STAGE)

create-table: $(DEPLOY_READY)  ## create STAGE's table (TEST_counters for dev, LIVE_counters for prod)
	$(DEPLOY) create-table $(STAGE)

deploy: $(DEPLOY_READY)  ## check, create the table, zappa deploy or update, throttle, logs, front door (RESERVE=no)
	$(DEPLOY) deploy $(STAGE) $(if $(filter no,$(RESERVE)),--unreserved)

domain: $(DEPLOY_READY)  ## STAGE's custom domain: make domain STAGE=prod DOMAIN=counter.example.com CERT=arn:aws:acm:...
	@test -n "$(DOMAIN)" -a -n "$(CERT)" || { echo "make domain needs DOMAIN=counter.example.com and CERT=<ACM" \
		"certificate ARN> (us-east-1 behind the front door, else the stage's region)." >&2; exit 1; }
	$(DEPLOY) domain $(STAGE) $(DOMAIN) $(CERT)

deploy-tools: $(DEPLOY_READY) $(LAMBDA_PYTHONPATH)/.installed  ## build .venv-deploy (the runtime's Python, Zappa) and .venv-lambda

bill: $(VENV)/.run-installed  ## the worst-case monthly bill of each stage at its throttle (docs/deploying.md)
	$(BIN)/python -m deploy bill
