"""Discretisation of activations into bin indices, as np.digitize against a set of edges.

With E = bins - 1 increasing edges e_0 < ... < e_{E-1}, value x gets the index
#{j : e_j <= x} in [0, bins): index 0 below e_0, index bins-1 at or above e_{E-1}.
"""
import numpy as np


def original_edges(bins: int) -> np.ndarray:
    """The original study's edges for every layer: linspace(-1, 1, bins - 1).

    For tanh units the two end bins hold only |x| = 1 exactly; for an unbounded layer all
    values beyond +-1 pile into them."""
    return np.linspace(-1.0, 1.0, bins - 1)


def range_edges(low: float, high: float, bins: int) -> np.ndarray:
    """Interior edges of `bins` equal-width bins covering [low, high]."""
    if not high > low:
        high = low + 1.0  # a constant layer: every value lands in one bin
    return np.linspace(low, high, bins + 1)[1:-1]


def digitize(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of every value, as uint8 (bins <= 256)."""
    if len(edges) + 1 > 256:
        raise ValueError("at most 256 bins fit in uint8")
    return np.digitize(values, edges).astype(np.uint8)
