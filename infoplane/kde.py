"""The pairwise-distance (KDE) bounds of Kolchinsky & Tracey (2017), as Saxe et al. (2018)
used them on the continuous activations h of a layer.

T = h(X) + Z with Gaussian noise Z ~ N(0, s I): T is a mixture of N Gaussians of variance
s around the activations h_i of the N examples, and H(T | X) = H(Z). The Kullback-Leibler
pairwise bound on a mixture's entropy gives

    I(X; T) = H(T) - H(Z) <= -(1/N) sum_i log (1/N) sum_j exp(-|h_i - h_j|^2 / (2 s)),

an upper bound of at most log N, reached once the points are farther apart than sqrt(s)
(then, like the plug-in count, it says nothing about the layer). I_TY_kde_bits is Saxe et
al.'s I(T; Y) = the bound on H(T) minus the label-weighted bounds on H(T | Y = y): a
difference of two upper bounds, which bounds nothing; it is at most H(Y) of the sample.
"""
import numpy as np

NATS_PER_BIT = np.log(2.0)


def _log_mean_kernel_nats(h: np.ndarray, noise_variance: float) -> np.ndarray:
    """(N,) log (1/N) sum_j exp(-|h_i - h_j|^2 / (2 s)) for each row h_i of h (N, D)."""
    h = np.asarray(h, dtype=np.float64)
    squared = (h * h).sum(1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2.0 * h @ h.T, 0.0)  # (N, N)
    exponents = -distances / (2.0 * noise_variance)
    top = exponents.max(1, keepdims=True)
    return (top[:, 0] + np.log(np.exp(exponents - top).sum(1))) - np.log(len(h))


def kde_information_bits(activations: np.ndarray, noise_variance: float = 0.1) -> float:
    """Upper bound on I(X; T) for T = h + N(0, s I), bits (at most log2 N)."""
    return float(-_log_mean_kernel_nats(activations, noise_variance).mean() / NATS_PER_BIT)


def kde_label_information_bits(activations: np.ndarray, labels: np.ndarray,
                               noise_variance: float = 0.1) -> float:
    """Saxe et al.'s I(T; Y): the I(X; T) bound minus its label-weighted value within each
    class, bits (a difference of bounds)."""
    labels = np.asarray(labels)
    within = sum(np.mean(labels == y) * kde_information_bits(activations[labels == y],
                                                             noise_variance)
                 for y in np.unique(labels))
    return kde_information_bits(activations, noise_variance) - float(within)
