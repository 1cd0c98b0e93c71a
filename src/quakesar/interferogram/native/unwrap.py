"""Phase unwrapping (optional) and conversion of the unwrapped phase to LOS displacement.

Methods (config ``interferogram.unwrap``):

* ``skimage``: :func:`skimage.restoration.unwrap_phase` (Herraez et al. 2002, Appl. Opt. 41:7437,
  reliability-sorted path following; BSD licence). No coherence weighting.
* ``snaphu``: the SNAPHU network-flow unwrapper (Chen & Zebker 2001, JOSA A 18:338) through the
  ``snaphu`` package from PyPI (snaphu-py), statistical cost ``smooth``, MCF initialisation,
  coherence-weighted. **The SNAPHU binary bundled by snaphu-py is free for non-commercial use
  only**; a warning saying so is logged on every use (docs/interferogram-native.md).

The unwrapped phase is defined up to a constant. It is referenced to the far field: the median of
the unwrapped phase over coherent pixels (coherence >= ``min_coherence``) in a frame along the image
border (``frame_fraction`` of each side) is subtracted, so the LOS displacement is relative to
the scene edges, where a co-seismic signal has decayed. Then
``los = quakesar.convention.phase_to_los(unwrapped)`` (positive towards the satellite).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

SNAPHU_LICENCE_WARNING = (
    "unwrapping with SNAPHU (snaphu-py): the SNAPHU binary is free for non-commercial use only; "
    "use interferogram.unwrap: skimage (BSD) for other uses"
)
METHODS = ("none", "skimage", "snaphu")


def unwrap_phase(phase: np.ndarray, coherence: np.ndarray, method: str, nlooks: float = 1.0) -> np.ndarray:
    """Unwrapped phase (float32, rad; same wrapped value modulo 2 pi) by ``method``.

    Pixels without signal (coherence 0, e.g. outside the coregistered overlap) are set to phase 0
    before unwrapping and NaN afterwards.
    """
    if method not in METHODS or method == "none":
        raise ValueError(f"interferogram.unwrap: {method!r} is not an unwrapping method (expected skimage or snaphu)")
    nodata = ~(coherence > 0) | ~np.isfinite(phase)
    ph = np.where(nodata, 0.0, phase).astype(np.float64)
    if method == "skimage":
        from skimage.restoration import unwrap_phase as sk_unwrap

        unw = sk_unwrap(ph).astype(np.float32)
    else:
        try:
            import snaphu
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("interferogram.unwrap: snaphu needs the 'snaphu' package (pip install snaphu); "
                               + SNAPHU_LICENCE_WARNING) from exc
        log.warning(SNAPHU_LICENCE_WARNING)
        igram = np.exp(1j * ph).astype(np.complex64)
        corr = np.clip(np.nan_to_num(coherence), 0.0, 1.0).astype(np.float32)
        unw, _ = snaphu.unwrap(igram, corr, nlooks=float(nlooks), cost="smooth", init="mcf")
        unw = np.asarray(unw, dtype=np.float32)
        # snaphu returns a solution congruent with the input up to a constant; restore congruence.
        if np.any(~nodata):
            cycles = np.round(np.median((ph - unw)[~nodata]) / (2 * np.pi))
            unw += np.float32(2 * np.pi * cycles)
    unw[nodata] = np.nan
    return unw


def reference_far_field(unwrapped: np.ndarray, coherence: np.ndarray, frame_fraction: float = 0.1,
                        min_coherence: float = 0.3) -> tuple[np.ndarray, float]:
    """Subtract the median unwrapped phase of the coherent border frame; returns (phase, subtracted value)."""
    rows, cols = unwrapped.shape
    fr, fc = max(1, int(rows * frame_fraction)), max(1, int(cols * frame_fraction))
    frame = np.zeros(unwrapped.shape, dtype=bool)
    frame[:fr, :] = frame[-fr:, :] = True
    frame[:, :fc] = frame[:, -fc:] = True
    sel = frame & np.isfinite(unwrapped) & (coherence >= min_coherence)
    if not np.any(sel):
        sel = np.isfinite(unwrapped)
    offset = float(np.median(unwrapped[sel])) if np.any(sel) else 0.0
    return (unwrapped - np.float32(offset)).astype(np.float32), offset
