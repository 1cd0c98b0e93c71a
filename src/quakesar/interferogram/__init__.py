"""Interferogram formation: the canonical HDF5 format and the backends (native, SNAP) that write it."""
