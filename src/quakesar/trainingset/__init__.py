"""The training-data tier: thousands of synthetic training events simulated straight to patches.

Validation and test events always come from the full pipeline (simulate -> native interferogram ->
patches, split by event and shared scene); this tier only adds training events, drawn from real
catalog events away from every validation and test event (:mod:`.events`), simulated by the
patch-level simulator :mod:`quakesar.synthetic.patchsim` into HDF5 + CSV shards in the patch
stage's format (:mod:`.shards`). Documented in docs/learning.md, "Training data".
"""
