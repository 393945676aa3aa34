# Two commands on a fresh machine with Python 3.11+ and make:
#   make run    the whole system (embedded NATS and Valkey unless NATS_URL/REDIS_URL are set)
#   make test   the test suite against throwaway real servers
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
API    := kit/alongside/api/.generated
PROTOS := $(shell find protos -name '*.proto')
PYTEST_ARGS ?=

.PHONY: all run demo test test-unit lint protos bench clean

all: test

$(STAMP): pyproject.toml setup.py requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

$(API): $(STAMP) $(PROTOS) scripts/gen_protos.py
	$(BIN)/python scripts/gen_protos.py
	touch $@

protos: $(API)

run: $(API)
	$(BIN)/python -m alongside.kit.devstack

test: $(API)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-unit: $(API)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

lint: $(API)
	$(BIN)/ruff check .
	$(BIN)/mypy kit services scripts bench tests
	cd protos && ../$(BIN)/buf lint

bench: $(API)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) kit/alongside/api var .mypy_cache .ruff_cache .pytest_cache
