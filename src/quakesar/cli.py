"""The ``quakesar`` command line: one subcommand per pipeline stage, each calling the same library
function as the corresponding Snakemake rule.

Common options: ``--config`` (a YAML config, default ``config/config.yaml``) and ``--set KEY=VALUE``
overrides with dotted keys (values parsed as YAML), e.g. ``--set catalog.limit=3``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Sequence

import yaml

from quakesar import __version__
from quakesar.config import DEFAULT_CONFIG_PATH, ConfigError, load_config

#: Modules providing ``register_cli(subparsers)``, in pipeline order.
STAGE_CLIS = (
    "quakesar.catalog.cli",
    "quakesar.synthetic.cli",
    "quakesar.asf.cli",
    "quakesar.interferogram.cli",
    "quakesar.external.cli",
    "quakesar.patches.cli",
    "quakesar.dataset.cli",
    "quakesar.learning.cli",
    "quakesar.timeseries.cli",
)


def _overrides(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE with a dotted KEY, e.g. catalog.limit=3")
        key, value = pair.split("=", 1)
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(value)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quakesar", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"quakesar {__version__}")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help="YAML config file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in STAGE_CLIS:
        importlib.import_module(name).register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, _overrides(args.set))
        return int(args.handler(args, config) or 0)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"quakesar {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
