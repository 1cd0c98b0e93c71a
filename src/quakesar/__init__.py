"""quakesar: from an earthquake catalog to InSAR-based magnitude and epicentre models."""

__version__ = "0.1.0"
