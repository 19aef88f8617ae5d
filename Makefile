# EnerTrack: `make run` starts the demo, `make test` runs every test. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PYTEST_ARGS ?=
# Test files run in this many processes (pytest-xdist, one file per process at a time): most tests
# wait on brokers, browsers and daemons rather than the CPU, so four beat two even on two cores.
# TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 4
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# The image `make test-image` builds and tests (podman's image store, not the checkout).
IMAGE ?= localhost/enertrack:test

.PHONY: run test test-image install services lint i18n bench clean firmware

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
	@$(MAKE) --no-print-directory firmware
	@set -a; [ -f "$(VENV)/test.env" ] && . "$(VENV)/test.env"; set +a; \
	  $(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc = 5 ]; then echo "make test: pytest collected no test (exit 5): failing" >&2; exit 1; fi; \
	  exit $$rc

# Builds the image with podman (a stand-in base image where python:3.11-slim-bookworm cannot be
# pulled: scripts/build-base-image.sh, cached) and runs tests/image against its filesystem. Needs
# root. Minutes, not seconds: that is why `make test` leaves it out and .ci/run runs both.
test-image: $(VENV)/.installed-test
	@VENV=$(VENV) scripts/test-services.sh start
	scripts/build-base-image.sh
	podman build --isolation chroot --network host --format docker --quiet -t $(IMAGE) .
	@set -a; [ -f "$(VENV)/test.env" ] && . "$(VENV)/test.env"; set +a; \
	  ENERTRACK_TEST_IMAGE=$(IMAGE) $(BIN)/python -m pytest tests/image $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc = 5 ]; then echo "make test-image: pytest collected no image test (exit 5): failing" >&2; exit 1; fi; \
	  exit $$rc

# The firmware's host build (firmware/Makefile): the core's unit tests, the host node
# firmware/host/enertrack-node and the Arduino layer checked against stub headers; then the
# ESPHome virtualenv (its own: ESPHome pins an older paho-mqtt than EnerTrack).
ESPHOME_VERSION := 2026.6.5
ESPHOME_VENV := firmware/.venv-esphome
firmware:
	@if VENV=$(VENV) scripts/test-services.sh firmware-deps; then \
	  $(MAKE) -C firmware --no-print-directory -j2; \
	else \
	  echo "[firmware] not built: the firmware's unit tests did not run and the host node tests will skip"; \
	  case "$${CI:-}" in 1|true|yes) exit 1;; esac; \
	fi
	@$(MAKE) --no-print-directory $(ESPHOME_VENV)/.installed-$(ESPHOME_VERSION)

$(ESPHOME_VENV)/.installed-$(ESPHOME_VERSION):
	@$(PYTHON) -m venv $(ESPHOME_VENV) && $(ESPHOME_VENV)/bin/python -m pip install --quiet "esphome==$(ESPHOME_VERSION)" \
	  >$(ESPHOME_VENV)/install.log 2>&1 && touch $@ \
	  || echo "[firmware] could not install esphome==$(ESPHOME_VERSION) into $(ESPHOME_VENV) (see $(ESPHOME_VENV)/install.log): the ESPHome test will skip (and fail with CI=true)"

lint: $(VENV)/.installed-test
	$(PIP) install --quiet ruff
	$(BIN)/ruff check enertrack pages tests bench ingest.py wsgi.py

i18n: $(VENV)/.installed
	$(BIN)/python scripts/catalogue.py

bench: $(VENV)/.installed-test
	@echo "See docs/performance.md for each benchmark's command."

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
	$(MAKE) -C firmware clean
