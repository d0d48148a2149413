# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make run PORT=8101` serves on another port; `make run NIGHT=1` starts the demo's clock at tonight's 23:30.
PORT   ?= 8000
NIGHT  ?=

.PHONY: run test lint install lock postgres-server chromium clean

$(BIN)/python:
	@echo "==> Creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip

# Python packages exactly as requirements.lock pins them (versions and hashes; `make lock` writes it), then the
# project itself without resolving anything. pip's own output is cut to a line per ten packages (errors show).
$(STAMP): SHELL := /bin/bash
$(STAMP): .SHELLFLAGS := -o pipefail -c
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	@echo "==> Installing the Python packages pinned in requirements.lock (hash-checked; a few minutes the first time)"
	@$(BIN)/pip install --require-hashes --progress-bar off -r requirements.lock | awk \
		'/^(Collecting|Processing) /{n++; if (n % 10 == 0) {printf "    %d packages fetched\n", n; fflush()}} \
		 /^Installing collected packages/{printf "    installing %d packages\n", n; fflush()}'
	@echo "==> Installing nightcare itself (editable, no dependencies)"
	@PYTHONWARNINGS=ignore $(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The pages' browser assets (Leaflet, Chart.js; axe-core for the tests) from the npm registry, as the lock file says.
WEB_STAMP := web/node_modules/.installed
$(WEB_STAMP): web/package.json web/package-lock.json
	@echo "==> Installing the pages' browser libraries (npm ci, as web/package-lock.json pins them)"
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

# Re-resolve pyproject.toml (with the test extra) into requirements.lock, for every platform and Python 3.11+,
# with hashes. Pins already in the lock are kept unless `make lock UPGRADE=1`. uv runs from a venv of its own.
LOCK_TOOLS := .venv-lock
UV_VERSION := 0.13.9
lock:
	@test -x $(LOCK_TOOLS)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"; }
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) -o requirements.lock
	@echo "requirements.lock written: $$(grep -c '^[a-z0-9]' requirements.lock) pins"

## Run the service on its embedded default (SQLite, demo region) at http://127.0.0.1:8000 (PORT=, NIGHT=1)
run: install
	@echo "==> Starting nightcare (migrate, seed the demo region, serve)"
	$(BIN)/nightcare run --port $(PORT)$(if $(NIGHT), --night)

# Test files run on two workers (one per core here); a file's tests stay together (module-scoped servers).
TEST_WORKERS ?= 2

## Lint and type-check (rule set and mypy levels in pyproject.toml; docs/development.md); a finding fails the build
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## Install everything the tests need (Python packages, Debian's PostgreSQL and Chromium) and run the suite
test: install lint postgres-server chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The tests start a throwaway PostgreSQL cluster of their own; they need the server binaries.
postgres-server:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing Debian's PostgreSQL server for the test suite"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

# The nurse app's end-to-end test drives Debian's Chromium with Playwright (no browser download).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "Installing Debian's Chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) .nightcare *.egg-info
