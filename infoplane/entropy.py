"""Entropy and mutual-information arithmetic on per-example log-probabilities (pure numpy).

Every estimate here is a mean over test examples of a per-example quantity, reported with
its standard error std / sqrt(n). Units are in the names: *_nats, *_bits.

What the model-based numbers bound. For a model q fitted on training data and test samples
t ~ p, the cross-entropy E_p[-log2 q(t)] = H(T) + KL(p || q) >= H(T): an upper bound on the
entropy, tight as q -> p. A difference of two such numbers (the paired I(T;Y) = H_q(T) -
H_q(T|Y)) carries the difference of two KL terms and bounds nothing. The Bayes estimate
H(Y) - E[-log2 q(y|t)] is at most H(Y) for every q, since -log2 q(y|t) >= 0.
"""
import math

import numpy as np

LN2 = math.log(2.0)


def nats_to_bits(nats):
    return np.asarray(nats) / LN2


def mean_and_standard_error(values) -> tuple:
    """(mean, std / sqrt(n)) of per-example values; the error is 0 for a single value."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no values")
    se = values.std(ddof=1) / math.sqrt(values.size) if values.size > 1 else 0.0
    return float(values.mean()), float(se)


def plugin_entropy_bits(codes: np.ndarray) -> float:
    """-sum_t f(t) log2 f(t) over the empirical frequencies f of the distinct rows of codes.

    Biased low, and at most log2(len(codes)): it saturates once every row is distinct."""
    _, counts = np.unique(np.ascontiguousarray(codes), axis=0, return_counts=True)
    frequencies = counts / counts.sum()
    return float(-(frequencies * np.log2(frequencies)).sum())


def plugin_information_bits(codes: np.ndarray, labels: np.ndarray) -> float:
    """Plug-in I(T; Y) = H_f(T) - sum_y f(y) H_f(T | Y = y) from the empirical frequencies.

    Biased high for many distinct codes: once every row is distinct it equals the label
    entropy of the sample, whatever T holds."""
    conditional = sum(np.mean(labels == y) * plugin_entropy_bits(codes[labels == y])
                      for y in np.unique(labels))
    return plugin_entropy_bits(codes) - float(conditional)


def label_log_prior_nats(train_labels: np.ndarray, num_labels: int) -> np.ndarray:
    """log p(y) from training label counts with add-one smoothing, so that a label unseen in
    training has a finite cost: (num_labels,)."""
    counts = np.bincount(train_labels, minlength=num_labels).astype(np.float64)
    return np.log((counts + 1.0) / (counts.sum() + num_labels))


def log_posterior_nats(log_likelihood_nats: np.ndarray, log_prior_nats: np.ndarray) -> np.ndarray:
    """log p(y | t) = log p(t | y) + log p(y) - log sum_y' p(t | y') p(y'):
    (N, L) log-likelihoods of every label, (L,) log prior -> (N, L)."""
    joint = log_likelihood_nats + log_prior_nats[None, :]
    return joint - log_sum_exp(joint, axis=1)[:, None]


def bayes_information_bits(log_likelihood_nats: np.ndarray, labels: np.ndarray,
                           log_prior_nats: np.ndarray, exponent: float = 1.0) -> np.ndarray:
    """Per-example log2 q(y|t) - log2 p(y) for the true labels, q(y|t) proportional to
    p(y) q(t|y)^exponent: its mean is H(Y) - E[-log2 q(y|t)] (with H(Y) as the
    cross-entropy of the test labels under the prior), at most E[-log2 p(y)] ~ H(Y), and
    negative only when the posterior predicts the labels worse than the prior does. For
    any q(y|t) its expectation is a lower bound on I(T;Y) (Barber & Agakov)."""
    rows = np.arange(len(labels))
    log_posterior = log_posterior_nats(exponent * log_likelihood_nats,
                                       log_prior_nats)[rows, labels]
    return nats_to_bits(log_posterior - log_prior_nats[labels])


def log_sum_exp(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """log sum exp along an axis, without overflow."""
    top = values.max(axis=axis, keepdims=True)
    return np.squeeze(top + np.log(np.exp(values - top).sum(axis=axis, keepdims=True)), axis)


def label_mixture_log_prob_nats(log_likelihood_nats: np.ndarray,
                                log_prior_nats: np.ndarray) -> np.ndarray:
    """log q_mix(t) = log sum_y p(y) q(t | y): a density over t built from the conditional
    model, (N, L) log-likelihoods of every label, (L,) log prior -> (N,)."""
    return log_sum_exp(log_likelihood_nats + log_prior_nats[None, :], axis=1)


def categorical_entropy_bits(probabilities: np.ndarray) -> np.ndarray:
    """-sum_k p_k log2 p_k along the last axis (0 log 0 = 0)."""
    p = np.asarray(probabilities, dtype=np.float64)
    terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)
