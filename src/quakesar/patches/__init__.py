"""Patch stage: tiles of canonical interferograms with geometrically true metadata (docs/patches.md)."""
