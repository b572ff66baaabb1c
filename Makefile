# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
# Both create .venv and install the project into it on first use (and again whenever
# pyproject.toml changes); set PYTHON to pick another interpreter.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: install run test lint mlflow-ui serve

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install  ## the whole workflow on the configured data: kedro run
	$(BIN)/kedro run

test: install  ## the whole test suite (what CI runs)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks notebooks

mlflow-ui: install  ## browse runs at http://127.0.0.1:5000
	$(BIN)/kedro mlflow ui

serve: install  ## the registered champion over HTTP: POST raw rows to http://127.0.0.1:5001/invocations
	# PATH: the server starts the venv's uvicorn, as if the venv were activated
	PATH="$(CURDIR)/$(BIN):$$PATH" MLFLOW_TRACKING_URI=sqlite:///$(CURDIR)/mlruns/mlflow.db \
		$(BIN)/mlflow models serve \
		-m "models:/credit_scoring_pd@champion" --env-manager local --host 127.0.0.1 --port 5001
