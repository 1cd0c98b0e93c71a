"""One entry point for the ``interferogram`` stage, whatever the backend (config ``interferogram.backend``).

* ``native``: :func:`quakesar.interferogram.native.pipeline.process_scene` on a coregistrable
  synthetic scene pair (``results/scenes/{event}/{iw}.h5``);
* ``snap``: :func:`quakesar.interferogram.snap.pipeline.process_pair` (SNAP's ``gpt`` on real
  Sentinel-1 SLC zips); imported only when chosen, so the native path needs nothing of SNAP.

Both write the canonical interferogram of :mod:`quakesar.interferogram.canonical`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

BACKENDS = ("native", "snap")


def process_interferogram(backend: str, out_h5: Path, cfg: dict[str, Any], quicklook_png: Path | None = None, *,
                          scene_h5: Path | None = None, pairs_json: Path | None = None,
                          event: dict[str, Any] | None = None, subswath: str | None = None,
                          slc_paths: list[Path] | None = None, workdir: Path | None = None,
                          log_path: Path | None = None, orbit_manifests: list[Path] | None = None) -> None:
    """Run ``backend`` for one event and subswath and write ``out_h5`` (and ``quicklook_png``).

    ``cfg`` is the ``interferogram`` config section. ``native`` needs ``scene_h5``; ``snap`` needs
    ``pairs_json``, ``event`` (the event record), ``subswath``, ``slc_paths``, ``workdir`` and
    ``log_path`` (and optionally ``orbit_manifests``, orbit files fetched ahead). A missing argument
    raises ValueError naming it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"interferogram.backend: {backend!r} is not one of {BACKENDS}")
    if backend == "native":
        if scene_h5 is None:
            raise ValueError("interferogram backend 'native' needs scene_h5 (results/scenes/{event}/{iw}.h5)")
        from quakesar.interferogram.native.pipeline import process_scene

        process_scene(Path(scene_h5), Path(out_h5), cfg, quicklook_png)
        return
    needed = {"pairs_json": pairs_json, "event": event, "subswath": subswath, "slc_paths": slc_paths,
              "workdir": workdir, "log_path": log_path}
    missing = [k for k, v in needed.items() if v is None]
    if missing:
        raise ValueError(f"interferogram backend 'snap' needs {', '.join(missing)}")
    snap = importlib.import_module("quakesar.interferogram.snap.pipeline")
    extra = {"orbit_manifests": [Path(p) for p in orbit_manifests]} if orbit_manifests else {}
    snap.process_pair(Path(pairs_json), event, subswath, [Path(p) for p in slc_paths], Path(out_h5), cfg,
                      Path(workdir), Path(log_path), quicklook_png, **extra)
