# Two commands for a fresh clone:  `make demo`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.installed-runtime
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export DVC_NO_ANALYTICS := 1
export TOKENIZERS_PARALLELISM := false
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install runtime demo pipeline serve test lint typecheck imports check clean

## What `make demo` needs: the project and its runtime dependencies. Everything else (the dev
## tools, the browser test's Playwright, Ray for --ray) comes with `make install`, which the
## test, lint and check targets run, so the demo does not wait for them.
## Installs go through uv (from PyPI, into the venv): it resolves and unpacks in parallel, about
## 25 s here against about 135 s for pip. pip is the fallback when uv cannot be installed or fails.
## torch is pinned (the CPU wheel from the machine's wheel folder when there is one).
UV := $(BIN)/uv
WHEELS := $(wildcard /opt/wheels)
UV_INSTALL = $(UV) pip install --quiet --python $(BIN)/python $(if $(WHEELS),--find-links $(WHEELS))
PIP_INSTALL = $(BIN)/pip install --quiet

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PIP_INSTALL) "uv>=0.5,<1" || true
	$(UV_INSTALL) "torch==2.13.0" -e . || $(PIP_INSTALL) "torch==2.13.0" -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME) pyproject.toml
	$(UV_INSTALL) "torch==2.13.0" -e ".[dev,scale]" || $(PIP_INSTALL) -e ".[dev,scale]"
	touch $(STAMP)

install: $(STAMP)

runtime: $(RUNTIME)

## Build the demo organization and the artifacts serving needs (dvc repro promote), write the
## demo company as an organization export (models/org_export, docs/data-format.md), then
## serve the API in demo mode (asked for here; loopback only). `make pipeline` runs every stage,
## the skills benchmark evaluation included.
demo: runtime
	$(BIN)/dvc repro promote
	$(BIN)/waypoint export --protected --out models/org_export
	WAYPOINT_DEMO_MODE=true $(BIN)/waypoint serve

pipeline: install
	$(BIN)/dvc repro

serve: install
	$(BIN)/waypoint serve

## Install and run the test suite (the command CI runs).
test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## The dependency rule (pyproject.toml [tool.importlinter]): features <- inference <- api | training.
imports: install
	$(BIN)/lint-imports

check: lint typecheck imports test

clean:
	rm -rf models/*.db models/*.json models/*.json.gz models/skills models/skill_encoder* \
	       models/profiles models/ranking models/ranker models/bundle models/reports \
	       models/mlartifacts models/serving_cache models/org_export
