# Kiroshi: `make run` serves on embedded defaults; `make test` is the one check command CI runs.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint types bench bench-chat clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m local_runner

lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(BIN)/.installed
	$(BIN)/mypy

test: lint types
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/auth_throughput.py

bench-chat: $(BIN)/.installed
	$(BIN)/python bench/chat_stream.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
