# One command to run the local stack, one to run every test. Each installs what it needs.
# Installation output goes to stderr: `make -s bootstrap` prints nothing on stdout but its JSON.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
LOCAL_DIR ?= .local
STAGE  ?= dev
PYTEST_ARGS ?= -n auto
# The browser tests drive Debian's Chromium; Playwright's own browser download is never used.
CHROMIUM := /usr/bin/chromium

export PORT LOCAL_DIR

.PHONY: install run test test-unit test-integration test-local test-browser lint bootstrap clean package

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) >&2

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt pyproject.toml
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt >&2
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e . >&2
	touch $@

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --loglevel=error >&2

$(CHROMIUM):
	@command -v apt-get >/dev/null 2>&1 || { echo "The browser tests need Chromium at $(CHROMIUM) (Debian package chromium), and apt-get was not found: install Chromium there by hand" >&2; exit 1; }
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
	@test -x $@ || { echo "apt-get installed chromium, but $@ is still missing" >&2; exit 1; }

install: $(VENV)/.installed node_modules/.package-lock.json

run: install
	$(BIN)/python -m local run

# Every tier. The tiers alone, while working: see CONTRIBUTING.md.
test: install $(CHROMIUM)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Pure code, no AWS at all: seconds, no Java, no browser.
test-unit: $(VENV)/.installed
	$(BIN)/python -m pytest -p no:xdist tests/unit

# In process on moto (and the app's own builds): no DynamoDB Local, no browser.
test-integration: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests/integration

# On DynamoDB Local (started by the tests): storage, concurrency, the local stack, the CLI and SDK.
test-local: install
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests/local

# The console in Chromium, with axe.
test-browser: install $(CHROMIUM)
	$(BIN)/python -m pytest -p no:xdist tests/browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check chalicelib app.py client
	$(BIN)/mypy chalicelib app.py deploy client
	$(BIN)/python deploy/build_route_table.py --check
	$(BIN)/python deploy/build_template.py --check

# Offline: needs only a region, no credentials. Writes out/sam.json and out/deployment.zip.
package: install
	$(BIN)/python deploy/package.py --stage $(STAGE) --out out

bootstrap: install
	@$(BIN)/python -m local bootstrap --org "$(ORG)" --admin-email "$(EMAIL)" $(if $(SEATS),--seats $(SEATS))

clean:
	rm -rf $(VENV) node_modules $(LOCAL_DIR) out
