# rcinbox: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SDK_VENV := .venv-sdk
JS_SDK := tests/sdk/js
BENCH_JS := bench/js
AXE_JS := tests/browser/js
# The lock files: exact versions with their hashes, resolved from pyproject.toml's ranges by uv
# (`make lock`); runtime.lock for the service, dev.lock adds the extras dev, embeddings and postgres.
LOCKS := requirements
PIP_VERSION := 26.3
UV_VERSION := 0.13.8
COMPILE := $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock"

.PHONY: demo test eval bench bench-deps check lint typecheck pytest install install-dev lock lock-upgrade wheel sdk-deps chromium axe-deps systemd-analyze postgresql haproxy clean

## rcinbox from the lock, then itself (editable, no dependency of its own: the lock has them all;
## `pip check` fails when pyproject.toml asks for something the lock lacks: run `make lock`).
$(BIN)/rcinbox: pyproject.toml $(LOCKS)/runtime.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q 'pip==$(PIP_VERSION)'
	$(BIN)/pip install -q --require-hashes -r $(LOCKS)/runtime.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.dev: $(BIN)/rcinbox $(LOCKS)/dev.lock
	$(BIN)/pip install -q --require-hashes -r $(LOCKS)/dev.lock
	$(BIN)/pip check
	touch $@

install: $(BIN)/rcinbox
install-dev: $(VENV)/.dev

## Regenerates requirements/*.lock from pyproject.toml, keeping every version already locked that
## still fits (after adding or changing a dependency); `make lock-upgrade` takes the newest that fit.
lock: $(BIN)/uv
	$(COMPILE) -o $(LOCKS)/runtime.lock $(UPGRADE)
	$(COMPILE) --extra dev --extra embeddings --extra postgres -o $(LOCKS)/dev.lock $(UPGRADE)

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q 'uv==$(UV_VERSION)'

## The wheel (dist/rcinbox-VERSION-py3-none-any.whl) for `pipx install` (docs/operations.md).
wheel: $(BIN)/rcinbox
	rm -rf build
	$(BIN)/pip wheel -q --no-deps -w dist .

## The main job on embedded defaults: the bundled emulator, SQLite, demo rules.
demo: install
	$(BIN)/rcinbox demo

## Everything the tests need (official SDKs included), then lint, types and the whole suite.
test: install-dev sdk-deps bench-deps chromium axe-deps systemd-analyze postgresql haproxy check pytest

## The intent classifiers against the evaluation set: accuracy, precision/recall, confusion, latency, memory.
eval: install-dev
	$(BIN)/python -m rcinbox.intents.evaluate tests/eval/intents_eval.tsv

## The benchmarks side by side with their baselines (docs/benchmarks.md); QUICK=1 for short runs.
bench: install-dev sdk-deps bench-deps postgresql haproxy
	RCINBOX_SDK_PYTHON=$(abspath $(SDK_VENV))/bin/python $(BIN)/python -m bench $(if $(QUICK),--quick)

## The benchmarks' load generator: autocannon, pinned by bench/js/package-lock.json.
bench-deps: $(BENCH_JS)/node_modules/.ok

$(BENCH_JS)/node_modules/.ok: $(BENCH_JS)/package.json $(BENCH_JS)/package-lock.json
	cd $(BENCH_JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The dashboard's browser tests drive Debian's chromium (Playwright's own browsers are not needed);
## installed with apt-get when missing (as root, as CI runs).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; }

## deploy/rcinbox.service is checked by systemd's own systemd-analyze (Debian's systemd package;
## nothing is started): installed with apt-get when missing.
systemd-analyze:
	@command -v systemd-analyze >/dev/null || { apt-get update -q && apt-get install -y -q systemd; }

## The store's tests and the replicas benchmark run on PostgreSQL too, in a throwaway cluster they
## start (bench/pg.py) from Debian's server binaries; installed with apt-get when missing (as root, as CI runs).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q postgresql; }

## axe-core, the accessibility engine the browser tests run on every page, pinned by its package-lock.json.
axe-deps: $(AXE_JS)/node_modules/.ok

$(AXE_JS)/node_modules/.ok: $(AXE_JS)/package.json $(AXE_JS)/package-lock.json
	cd $(AXE_JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The replica fault test (tests/e2e/test_replicas.py) and the replicas benchmark put Debian's
## HAProxy in front of three replicas; installed with apt-get when missing (as root, as CI runs).
haproxy:
	@test -x /usr/sbin/haproxy || { apt-get update -q && apt-get install -y -q haproxy; }

sdk-deps: $(SDK_VENV)/.ok $(JS_SDK)/node_modules/.ok

$(SDK_VENV)/.ok: tests/sdk/python/requirements.txt
	$(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install -q -r tests/sdk/python/requirements.txt
	touch $@

$(JS_SDK)/node_modules/.ok: $(JS_SDK)/package.json $(JS_SDK)/package-lock.json
	cd $(JS_SDK) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

check: lint typecheck

lint: install-dev
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	RCINBOX_SDK_PYTHON=$(abspath $(SDK_VENV))/bin/python $(BIN)/pytest -q -n auto

clean:
	rm -rf $(VENV) $(SDK_VENV) dist build $(JS_SDK)/node_modules $(BENCH_JS)/node_modules $(AXE_JS)/node_modules .pytest_cache .mypy_cache .ruff_cache
