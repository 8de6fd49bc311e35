"""A Chow-Liu tree over a layer's units, from their codes: the structure of the tree
sources (infoplane/sources.py) and a candidate unit order for the density model
(benchmarks/mnist_models.py).

The Chow-Liu tree (Chow & Liu 1968) is the maximum spanning tree of the pairwise mutual
information I(t_i; t_j); the tree distribution prod_i p(t_i | t_parent(i)) on it is the
closest tree-structured distribution to p in KL divergence. Visiting the units in Prim's
insertion order puts every unit after its parent. The plug-in information is biased upward
by about (K - 1)^2 / (2 N ln 2) bits per pair, the same for every pair, so the tree is
unaffected to first order.
"""
import numpy as np


def _entropy_bits(probabilities: np.ndarray) -> np.ndarray:
    """-sum p log2 p over the last axis (0 log 0 = 0)."""
    logs = np.log2(np.where(probabilities > 0, probabilities, 1.0))
    return -(probabilities * logs).sum(-1)


def pairwise_information_bits(codes: np.ndarray, bins: int) -> np.ndarray:
    """Plug-in I(t_i; t_j) = H(t_i) + H(t_j) - H(t_i, t_j) in bits for every pair of units,
    H(t_i) on the diagonal: (N, D) ints -> (D, D). The joint counts of unit i with every
    later unit are one bincount, O(N D) per unit."""
    codes = np.asarray(codes, dtype=np.int64)
    n, units = codes.shape
    marginals = np.stack([np.bincount(codes[:, i], minlength=bins) for i in range(units)]) / n
    entropies = _entropy_bits(marginals)                                    # (D,)
    information = np.diag(entropies)
    for i in range(units - 1):
        later = units - 1 - i
        cells = codes[:, i, None] * bins + codes[:, i + 1:] + bins * bins * np.arange(later)
        joint = np.bincount(cells.ravel(), minlength=later * bins * bins) / n
        pair = entropies[i] + entropies[i + 1:] - _entropy_bits(joint.reshape(later, -1))
        information[i, i + 1:] = information[i + 1:, i] = pair
    return information


def chow_liu_tree(codes: np.ndarray, bins: int) -> tuple:
    """(order (D,), parents (D,)): Prim's insertion order of the maximum spanning tree of
    pairwise information, from the unit of highest entropy, and for position p of that
    order the position of its tree parent (parents[0] = -1: the root has none)."""
    information = pairwise_information_bits(codes, bins)
    units = len(information)
    order, parents = [int(np.argmax(np.diag(information)))], [-1]
    best = information[order[0]].copy()        # best link of each unit into the tree so far
    link = np.zeros(units, dtype=np.int64)      # ... and its position in `order`
    best[order] = -np.inf
    for position in range(1, units):
        unit = int(np.argmax(best))
        order.append(unit)
        parents.append(int(link[unit]))
        closer = information[unit] > best
        best[closer], link[closer] = information[unit][closer], position
        best[order] = -np.inf
    return np.array(order), np.array(parents)

