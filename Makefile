# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
# Both create .venv and install into it on first use (and again whenever pyproject.toml or
# requirements.lock changes): the tested versions from requirements.lock, then the project.
# `make help` lists every target; set PYTHON to pick another interpreter.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: help install lock run test lint viz jupyter ui serve score benchmark

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed  ## .venv with the locked versions of everything (runtime, spark, viz, notebooks, test)

lock: install  ## re-resolve requirements.lock after editing pyproject.toml's dependencies
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

run: install  ## the whole workflow on the configured data: kedro run
	$(BIN)/kedro run

test: install  ## the whole test suite (what CI runs)
	$(BIN)/python -m pytest

lint: install  ## ruff on code, tests, benchmarks, notebooks and docs scripts; lint-imports: the layers
	$(BIN)/ruff check src tests benchmarks notebooks docs
	$(BIN)/lint-imports

viz: install  ## the pipelines as a picture at http://127.0.0.1:4141 (kedro viz)
	$(BIN)/kedro viz run --no-browser

jupyter: install  ## JupyterLab with the project's catalog and pipelines loaded
	$(BIN)/kedro jupyter lab

ui: install  ## MLflow: runs and the model registry at http://127.0.0.1:5000
	@echo "================================================================================"
	@echo "Open the candidates view (the root page opens MLflow's GenAI view, without runs):"
	@echo "  http://127.0.0.1:5000/#/experiments/1/runs?workflowType=machine_learning&viewStateShareKey=candidates"
	@echo "(experiment 1 of a fresh local store; each kedro run logs the link for its own)"
	@echo "================================================================================"
	# PATH: kedro-mlflow starts the venv's `mlflow ui`, as if the venv were activated
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/kedro mlflow ui

serve: install  ## the registered champion over HTTP: POST raw rows to http://127.0.0.1:5001/invocations
	# PATH: the server starts the venv's uvicorn, as if the venv were activated; a request is
	# answered within 30 s (docs/champion.md: bounded work per request)
	PATH="$(CURDIR)/$(BIN):$$PATH" MLFLOW_TRACKING_URI=sqlite:///$(CURDIR)/mlruns/mlflow.db \
		MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT=30 \
		$(BIN)/mlflow models serve \
		-m "models:/credit_scoring_pd@champion" --env-manager local --host 127.0.0.1 --port 5001

score: install  ## score the applicants in applicants_to_score with the champion (kedro run --pipelines scoring)
	$(BIN)/kedro run --pipelines scoring

benchmark: install  ## time the whole default workflow from fresh stores (benchmarks/ has the others)
	$(BIN)/python benchmarks/benchmark_workflow.py
