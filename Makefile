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

# Each script prints its figures beside their targets; pipeline.py: CPU per bulk record,
# per added cell, the floor and memory, in process (bench-api: the same through HTTP).
bench: $(STAMP)
	$(BIN)/python bench/credentials.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/gbt32960_parse.py
	$(BIN)/python bench/telemetry.py

bench-api: $(STAMP)
	$(BIN)/python bench/api.py --records 10000

bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
