"""Deterministic random generators: every random draw derives from the config seed and the event id.

Python's ``hash`` is salted per process, so strings are turned into integers with SHA-256; the
same (seed, event, purpose) gives the same stream on every machine and in every worker.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def event_rng(seed: int, event_id: str, purpose: str = "") -> np.random.Generator:
    """A generator for one purpose (e.g. ``"mechanism"``, ``"IW2/speckle"``) of one event."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), _key(event_id), _key(purpose)]))


def derived_seed(seed: int, *parts: str) -> int:
    """A 32-bit integer seed derived from ``seed`` and string parts (for torch and other libraries)."""
    ss = np.random.SeedSequence([int(seed), *(_key(p) for p in parts)])
    return int(ss.generate_state(1)[0])
