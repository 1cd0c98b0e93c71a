"""Synthetic Sentinel-1 earthquake scenes: quakesar's embedded default data source.

Modules: :mod:`okada` (Okada 1985 dislocation), :mod:`scaling` (Hanks & Kanamori, Wells &
Coppersmith), :mod:`mechanism` (fault geometry per event), :mod:`s1geometry` (Sentinel-1 IW
radar grid), :mod:`dem` (fractal or GeoTIFF heights), :mod:`atmosphere` (turbulent, stratified,
orbital), :mod:`decorrelation` (coherence and the correlated speckle pair), :mod:`scene` (the
HDF5 scene writer, :func:`quakesar.synthetic.scene.simulate_event`), :mod:`cli`.
See docs/synthetic.md.
"""
