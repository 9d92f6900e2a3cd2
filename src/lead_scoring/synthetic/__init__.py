"""Synthetic data in the source contract: the generator and its vocabulary."""
