"""The built-in (numpy/scipy) InSAR backend: coregistrable SLC pair -> canonical interferogram.

Steps, one module each: :mod:`.scene` (reading the synthetic scene layout of docs/architecture.md),
:mod:`.coregister` (amplitude cross-correlation offset, FFT resampling), :mod:`.reference_phase`
(flat-earth and topographic phase from the geometry), :mod:`.coherence` (cumulative-sum boxcar),
:mod:`.multilook`, :mod:`.goldstein` (Goldstein-Werner filter with SNAP semantics), :mod:`.unwrap`,
and :mod:`.pipeline` (block-wise composition, entry point ``process_scene``).
See docs/interferogram-native.md.
"""
