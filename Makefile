# Kiroshi: `make run` serves on embedded defaults; `make test` is the one check command CI runs.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint types fuzz audit soak bench bench-chat bench-memory package-aws generated clean compat

# Serving needs requirements.txt only; the test and lint toolset (requirements-dev.txt) is for everything else.
$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.runtime
	$(BIN)/python -m local_runner

lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(BIN)/.installed
	$(BIN)/mypy

test: lint types
	$(BIN)/pytest

fuzz: $(BIN)/.installed
	$(BIN)/python -m tests.support.fuzz --max-examples 300

audit: $(BIN)/.installed
	$(BIN)/python security/audit.py

bench: $(BIN)/.installed
	$(BIN)/python bench/auth_throughput.py

# 30 minutes of mixed load; RSS every 10 s and a verdict on its plateau (`make soak SOAK_SECONDS=240`: a quick look).
SOAK_SECONDS ?= 1800
soak: $(BIN)/.installed
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS)

# What grows per user, contract, chat, message, usage row, outbox event and open session (README, Operations).
bench-memory: $(BIN)/.installed
	$(BIN)/python bench/memory.py

bench-chat: $(BIN)/.installed
	$(BIN)/python bench/chat_stream.py

# The session and /v1 against a real OpenAI-compatible server: LiteLLM's proxy with mock responses, in its
# own virtual environment (.compat-venv, ignored by git). Not part of `make test`: it needs PyPI once.
COMPAT_VENV ?= .compat-venv
compat: $(BIN)/.installed
	test -x $(COMPAT_VENV)/bin/litellm || { $(PYTHON) -m venv $(COMPAT_VENV) && $(COMPAT_VENV)/bin/pip install --quiet 'litellm[proxy]'; }
	$(BIN)/python -m tests.support.compat --litellm $(COMPAT_VENV)/bin/litellm

# Mutation testing of the core (tests/support/mutate.py): slow, not part of `make test`.
.PHONY: mutate
mutate: $(BIN)/.installed
	$(BIN)/python -m tests.support.mutate $(MODULES)

# Package the AWS deployment with the Serverless Framework v3 from the npm registry (no account needed).
package-aws:
	rm -rf .serverless-build && mkdir -p .serverless-build/app
	cd .serverless-build && npm install --no-audit --no-fund --silent serverless@3 serverless-python-requirements@6
	cp -r serverless.yml lambda_handlers.py functions lib requirements.txt .serverless-build/app/
	cd .serverless-build/app && ln -s ../node_modules node_modules && \
	  AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline SLS_TELEMETRY_DISABLED=1 \
	  ../node_modules/.bin/serverless package --stage offline
	@ls -l .serverless-build/app/.serverless/kiroshi.zip

# What derives from the route table is committed source; tests fail when a copy drifts from it.
generated: serverless.yml main.py lambda_handlers.py

serverless.yml: functions/routes.py lib/platform/serverless.py
	$(BIN)/python -m lib.platform.serverless > $@

main.py lambda_handlers.py: functions/routes.py lib/platform/entrypoints.py
	$(BIN)/python -m lib.platform.entrypoints $@ > $@.new && mv $@.new $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
