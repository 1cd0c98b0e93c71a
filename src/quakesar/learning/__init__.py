"""Learning stage of quakesar: models, losses, training, event-level evaluation, ablation and report.

See docs/learning.md for the design (tasks, event-level combination, ranking ablation) and
docs/architecture.md "Models" for the run directory contract.
"""
