#!/usr/bin/env bash
# Snakemake runs this once after creating the environment of the same name: install quakesar itself.
exec bash "$(dirname "$0")/install-quakesar.sh"
