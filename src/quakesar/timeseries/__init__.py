"""InSAR time series: millimetre deformation from stacks of geocoded LOS maps (issue 15).

Modules, one concept each:

* :mod:`~quakesar.timeseries.settings` the ``timeseries`` config section as a typed object;
* :mod:`~quakesar.timeseries.simulate` synthetic series (Okada step, slow-slip transient or nothing, under
  per-date turbulent + stratified atmosphere, orbital ramps and decorrelation noise) with their truth;
* :mod:`~quakesar.timeseries.dataset` the HDF5 dataset of simulated samples (atomic writer, reader);
* :mod:`~quakesar.timeseries.readers` real stacks: MintPy ``timeseries.h5`` and GeoTIFF stacks;
* :mod:`~quakesar.timeseries.tensors` the one conversion of a stack to model input (shared by both);
* :mod:`~quakesar.timeseries.model` the spatio-temporal convolutional auto-encoder;
* :mod:`~quakesar.timeseries.train` deterministic training with checkpoints and resume;
* :mod:`~quakesar.timeseries.baselines` best single pair and plain stack;
* :mod:`~quakesar.timeseries.evaluate` detection limit, denoising RMSE, detectable magnitude;
* :mod:`~quakesar.timeseries.figures`, :mod:`~quakesar.timeseries.report` figures and a report fragment.

Design and measured numbers: docs/timeseries.md.
"""
