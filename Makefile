# Two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint vocab bench bench-api bench-hostile clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway init
	$(BIN)/gateway serve --host 127.0.0.1 --port 8080

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff (lint and format), mypy strict, and the import contracts of DESIGN §4.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

vocab: $(STAMP)
	$(BIN)/python -m gateway.vocab.build

# Each script prints its figures beside their targets, with the load average; see
# bench/README.md. pipeline.py: CPU per bulk record, per added cell, the floor, stored
# bytes and memory, in process; verify.py: CPU per verify request, in process and served
# (wall rate and p99 at 32 clients); api.py: bulk through HTTP, the server's CPU and
# memory. The memory targets hold over 100,000 records: this is a short run, and says
# so beside each memory figure (make bench-api RECORDS=100000 for the long one).
BENCH_RECORDS ?= 2000
RECORDS ?= 100000

bench: $(STAMP)
	$(BIN)/python bench/credentials.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/api.py --records $(BENCH_RECORDS) --seconds 0
	$(BIN)/python bench/gbt32960_parse.py
	$(BIN)/python bench/telemetry.py

bench-api: $(STAMP)
	$(BIN)/python bench/api.py --records $(RECORDS)

bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
