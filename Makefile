# The two set-up commands of README.md. Each creates the virtual environment on first use.
#   make run    - the main job on the embedded default (synthetic Sentinel-1, native backend; no credentials/network/SNAP)
#   make test   - snakemake --lint, then the test suite (what .ci/run executes)
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.quakesar-installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test install slurm-test benchmarks

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/snakemake --lint --cores 1
	$(BIN)/snakemake --lint --cores 1 --configfile .test/config.yaml
	$(BIN)/pytest -ra -p no:cacheprovider

slurm-test: $(STAMP)
	bash .ci/slurm-up.sh
	$(BIN)/pytest -ra -m slurm tests/test_slurm.py
