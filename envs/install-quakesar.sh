#!/usr/bin/env bash
# Install this checkout of quakesar into the active conda environment, editable and without
# dependencies (the environment file already pins them; pulling the package's full dependency list
# would drag PyTorch into every environment). Called by each envs/<name>.post-deploy.sh, which
# Snakemake runs once inside a freshly created environment (--sdm conda). Works from any working
# directory: the repository root is found relative to this file.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$root/pyproject.toml" ]; then
    echo "install-quakesar: no pyproject.toml in $root (expected the quakesar checkout)" >&2
    exit 1
fi
python -m pip install --quiet --no-deps --no-build-isolation --editable "$root"
python -c "import quakesar, sys; sys.stdout.write('quakesar %s installed from %s\n' % (quakesar.__version__, quakesar.__file__))"
