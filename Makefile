# Two commands on a fresh machine with Python 3.11+ and make:
#   make run    the whole system (embedded NATS and Valkey unless NATS_URL/REDIS_URL are set)
#   make run-cluster   the same on the production topology (NATS cluster, Valkey with Sentinels)
#   make test   the test suite against throwaway real servers
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps
API    := kit/alongside/api/.generated
READY  := $(VENV)/.installed
PROTOS := $(shell find protos -name '*.proto')
PYTEST_ARGS ?=

.PHONY: all run run-cluster chaos demo test test-unit test-slow fuzz lint protos bench clean browser screenshots

all: test

# Pinned dependencies first, then the generated API, then the project itself
# (editable): its package map must see alongside.api, so it comes last.
$(DEPS): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

$(API): $(DEPS) $(PROTOS) scripts/gen_protos.py
	$(BIN)/python scripts/gen_protos.py
	touch $@

$(READY): $(API) pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

protos: $(READY)

run: $(READY)
	$(BIN)/python -m alongside.kit.devstack

# The production topology on one machine: 3 NATS nodes (R3), Valkey primary +
# replica + 3 Sentinels, two replicas of each service (docs/topology.md).
run-cluster: $(READY)
	$(BIN)/python -m alongside.kit.hastack

# The journey under faults on that topology, reconciled from the stores (CHAOS_ARGS="--duration 600 --rate 3";
# CHAOS_ARGS="--outage" for the longer profile with a 130 s NATS outage).
CHAOS_ARGS ?=
chaos: $(READY)
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

# The console's browser tests drive Debian's chromium; install it when missing
# (never skip those tests: without it they fail).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "chromium is missing: installing Debian's chromium for the console's browser tests"; \
		apt-get update && apt-get install -y chromium; \
	fi

# Two passes. First every test but those marked serial, on TEST_WORKERS worker
# processes (pytest-xdist; each worker starts its own NATS and Valkey, and its
# own e2e stack when it runs e2e tests); then the serial ones, which time
# themselves tightly (a stop within a second, deadlines, Ctrl-C, chaos), alone.
# Both passes always run; exit code 5 (nothing selected) counts as passed.
TEST_WORKERS ?= 2
test: $(READY) browser
	@status=0; \
	echo '$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not serial and not long" $(PYTEST_ARGS)'; \
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not serial and not long" $(PYTEST_ARGS) \
		|| { code=$$?; [ $$code -eq 5 ] || status=$$code; }; \
	echo '$(BIN)/python -m pytest -q -m "serial and not long" $(PYTEST_ARGS)'; \
	$(BIN)/python -m pytest -q -m "serial and not long" $(PYTEST_ARGS) \
		|| { code=$$?; [ $$code -eq 5 ] || status=$$code; }; \
	exit $$status

# Refresh the console's screenshots in docs/console (the browser tests take them).
screenshots: $(READY) browser
	ALONGSIDE_SCREENSHOTS=$(CURDIR)/docs/console $(BIN)/python -m pytest -q tests/e2e/console $(PYTEST_ARGS)

test-unit: $(READY)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

# Tests whose fault must last minutes (marked long: a NATS outage past two minutes); not in make test.
test-slow: $(READY)
	$(BIN)/python -m pytest -q -m long $(PYTEST_ARGS)

# The fuzz suite's long profile: many more examples, a fresh random seed each run.
fuzz: $(READY)
	ALONGSIDE_FUZZ_PROFILE=long $(BIN)/python -m pytest -q tests/integration/fuzz $(PYTEST_ARGS)

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/mypy kit services cli scripts tests $(wildcard bench/*.py)
	cd protos && ../$(BIN)/buf lint

demo: $(READY)
	$(BIN)/alongside demo

bench: $(READY)
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) kit/alongside/api var .mypy_cache .ruff_cache .pytest_cache
