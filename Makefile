# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint install postgres-server chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The pages' browser assets (Leaflet; axe-core for the tests) from the npm registry, as the lock file says.
WEB_STAMP := web/node_modules/.installed
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

## Run the service on its embedded default (SQLite, demo region) at http://127.0.0.1:8000
run: install
	$(BIN)/nightcare run

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
	rm -rf $(VENV) .nightcare *.egg-info
