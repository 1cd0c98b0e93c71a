"""SNAP backend of the interferogram stage: GPT graph, ``gpt`` runner, BEAM-DIMAP reader, conversion.

Entry point: :func:`quakesar.interferogram.snap.pipeline.process_pair`. SNAP itself is not a
Python dependency; see docs/snap.md.
"""
