"""Quicklook PNGs: wrapped phase with a cyclic colour map, coherence and displacement in grey/diverging maps.

Large rasters are block-averaged (complex mean for phase) to at most ``max_pixels`` per side before
plotting, so a full-resolution subswath costs seconds, not minutes. Files are written atomically.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from quakesar.atomic import atomic_path  # noqa: E402


def _block_mean(arr: np.ndarray, max_pixels: int) -> np.ndarray:
    fr = max(1, int(np.ceil(arr.shape[0] / max_pixels)))
    fc = max(1, int(np.ceil(arr.shape[1] / max_pixels)))
    r, c = (arr.shape[0] // fr) * fr, (arr.shape[1] // fc) * fc
    return np.nanmean(arr[:r, :c].reshape(r // fr, fr, c // fc, fc), axis=(1, 3))


def save_quicklook(path: str | Path, panels: dict[str, np.ndarray], title: str = "", max_pixels: int = 800) -> None:
    """Write a PNG with one panel per entry.

    Panel kinds by name: a complex array is shown as wrapped phase (cyclic ``twilight`` map, -pi..pi);
    ``coherence`` in grey 0..1; anything else (e.g. LOS displacement in m) in a diverging map
    symmetric about zero.
    """
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.6), squeeze=False)
    for ax, (name, arr) in zip(axes[0], panels.items()):
        if np.iscomplexobj(arr):
            img = np.angle(_block_mean(arr, max_pixels))
            im = ax.imshow(img, cmap="twilight", vmin=-np.pi, vmax=np.pi, interpolation="nearest")
            label = "wrapped phase (rad)"
        elif name == "coherence":
            im = ax.imshow(_block_mean(arr, max_pixels), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            label = "coherence"
        else:
            img = _block_mean(arr.astype(np.float64), max_pixels)
            lim = float(np.nanmax(np.abs(img))) or 1.0
            im = ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            label = name
        ax.set_title(name)
        ax.set_xlabel("range (pixels, decimated)")
        ax.set_ylabel("azimuth (lines, decimated)")
        fig.colorbar(im, ax=ax, shrink=0.8, label=label)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
