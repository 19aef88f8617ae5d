# EnerTrack: `make run` starts the demo, `make test` runs every test. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PYTEST_ARGS ?=

.PHONY: run test install services lint i18n bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "EnerTrack needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create a virtualenv. On Debian/Ubuntu run: sudo apt install python3-venv"; exit 1; }
	@$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

# The [mysql] extra compiles mysqlclient; where it cannot (no root to install its build packages),
# the test tools are installed without it and the MariaDB tests skip (fail with CI=true) saying so.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@VENV=$(VENV) scripts/test-services.sh build-deps
	$(PIP) install --quiet -e ".[test,mysql]" || { \
	  echo "[install] mysqlclient (the [mysql] extra) did not build: installing the test tools without it."; \
	  echo "[install] The MariaDB tests will skip (and fail with CI=true). To run them, install"; \
	  echo "[install]   sudo apt-get install -y build-essential python3-dev default-libmysqlclient-dev pkg-config"; \
	  echo "[install] then: rm $(VENV)/.installed-test && make test"; \
	  $(PIP) install --quiet -e ".[test]"; }
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/enertrack demo

services:
	@VENV=$(VENV) scripts/test-services.sh start

test: $(VENV)/.installed-test
	@VENV=$(VENV) scripts/test-services.sh start
	@set -a; [ -f "$(VENV)/test.env" ] && . "$(VENV)/test.env"; set +a; \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(PIP) install --quiet ruff
	$(BIN)/ruff check enertrack pages tests bench ingest.py wsgi.py

i18n: $(VENV)/.installed
	$(BIN)/python scripts/catalogue.py

bench: $(VENV)/.installed-test
	@echo "See docs/performance.md for each benchmark's command."

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
