# Two commands on a fresh machine: `make demo` and `make test`. Every target installs what it
# needs and is safe to re-run: the venv is rebuilt only when pyproject.toml changes, Debian
# packages are installed only when missing, the relocated Jackson jar only when absent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SQLITE_JDBC := /usr/share/java/sqlite-jdbc.jar
HOME_DIR ?= ./lakehouse
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: demo test lint typecheck unit bench deps system-deps jars clean

deps: $(STAMP) system-deps jars

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev,infra]"
	touch $(STAMP)

# Java 17 runs Spark; Debian's xerial driver is the JDBC side of the SQLite Iceberg catalog.
system-deps:
	@if ! command -v java >/dev/null 2>&1 || [ ! -f $(SQLITE_JDBC) ]; then \
	  echo "installing Debian packages: openjdk-17-jre-headless libxerial-sqlite-jdbc-java"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    openjdk-17-jre-headless libxerial-sqlite-jdbc-java >/dev/null; \
	fi

# The Iceberg runtime from PyPI lacks its relocated Jackson classes; build them once.
jars: $(STAMP)
	$(BIN)/python -m catalog.jars

demo: deps
	$(BIN)/spotify-lakehouse --home $(HOME_DIR) demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: deps
	$(BIN)/pytest -q --ignore=tests/perf

test: deps lint typecheck unit

bench: deps
	$(BIN)/pytest -q tests/perf -s

clean:
	rm -rf $(VENV) lakehouse cdk.out .mypy_cache .ruff_cache
