"""The ML dataset: merged patch index, leak-free splits, normalisation statistics, PyTorch access (docs/patches.md)."""
