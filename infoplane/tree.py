"""A Chow-Liu tree over a layer's units, from their codes: the order in which the density
model visits the units and the parent whose code each unit's conditional reads in full.

The Chow-Liu tree (Chow & Liu 1968) is the maximum spanning tree of the pairwise mutual
information I(t_i; t_j); the tree distribution prod_i p(t_i | t_parent(i)) on it is the
closest tree-structured distribution to p in KL divergence. Visiting the units in Prim's
insertion order puts every unit after its parent, so that an autoregressive model can
condition unit i on its parent's code. The plug-in information is biased upward by about
(K - 1)^2 / (2 N ln 2) bits per pair, the same for every pair, so the tree is unaffected
to first order.
"""
import numpy as np
import torch


def pairwise_information_bits(codes: np.ndarray, bins: int) -> np.ndarray:
    """Plug-in I(t_i; t_j) in bits for every pair of units: (N, D) ints -> (D, D)."""
    n, units = codes.shape
    one_hot = torch.zeros(n, units * bins)
    one_hot.scatter_(1, torch.as_tensor(codes.astype(np.int64)) + bins * torch.arange(units),
                     1.0)
    joint = (one_hot.T @ one_hot).double().view(units, bins, units, bins) / n  # p(t_i=a, t_j=b)
    marginal = joint.diagonal(dim1=0, dim2=2).sum(1).T  # (D, K): p(t_i = a)
    ratio = joint / (marginal[:, :, None, None] * marginal[None, None, :, :])
    terms = torch.where(joint > 0, joint * torch.log2(ratio.clamp_min(1e-300)), 0.0)
    return terms.sum((1, 3)).numpy()


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

