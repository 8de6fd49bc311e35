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
LOG_SCORE_FLOOR_NATS = -1e5  # stands for log 0 in classifier scores (posterior_exponents)


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


def posterior_exponents(log_likelihoods_nats: list, labels: np.ndarray,
                        log_prior_nats: np.ndarray, largest: float = 2.0,
                        iterations: int = 100, tolerance: float = 1e-12) -> tuple:
    """Exponents (b_1, ..., b_C) in [0, largest] that maximise the held-out mean of
    log q(y|t), q(y|t) ~ p(y) prod_k f_k(y, t)^b_k, from (N, L) log-scores log f_k of C
    classifiers (generative q_k(t|y), or discriminative r(y|t)): a product of experts, each
    adding the evidence the others lack; a single b calibrates an over- or under-confident
    classifier (b = 0: the prior alone). The mean is concave in b (a multinomial logit in
    the features log f_k(y, t)): projected Newton from b = 0, with backtracking, so that an
    expert that carries nothing (equal scores for every label) keeps b = 0. The cap
    `largest` guards against a held-out set that is easier than the test set (with few
    errors on it, sharpening a posterior always looks better); a score of -inf (a label
    that a classifier rules out) is floored at LOG_SCORE_FLOOR_NATS, so that it costs
    much, but not NaN."""
    log_likelihoods_nats = [np.maximum(x, LOG_SCORE_FLOOR_NATS) for x in log_likelihoods_nats]
    rows = np.arange(len(labels))
    scores = np.stack(log_likelihoods_nats, axis=2)  # (N, L, C)
    scores = scores - scores.mean(axis=1, keepdims=True)  # label-free parts cancel anyway

    def mean_log_posterior(b):
        joint = scores @ b + log_prior_nats  # (N, L)
        return (joint[rows, labels] - log_sum_exp(joint, axis=1)).mean()

    b = np.zeros(scores.shape[2])
    value = mean_log_posterior(b)
    for _ in range(iterations):
        posterior = np.exp(log_posterior_nats(scores @ b, log_prior_nats))  # (N, L)
        expected = np.einsum("nl,nlc->nc", posterior, scores)
        gradient = (scores[rows, labels] - expected).mean(0)  # (C,)
        covariance = (np.einsum("nl,nlc,nld->cd", posterior, scores, scores) / len(rows)
                      - expected.T @ expected / len(rows))  # minus the Hessian
        free = ((b > 0) | (gradient > 0)) & ((b < largest) | (gradient < 0))
        step = np.zeros_like(b)
        if not free.any():
            break
        block = covariance[np.ix_(free, free)] + 1e-9 * np.eye(free.sum())
        step[free] = np.linalg.solve(block, gradient[free])
        size = 1.0
        while size > 1e-6:
            trial = np.clip(b + size * step, 0.0, largest)
            trial_value = mean_log_posterior(trial)
            if trial_value > value + tolerance:
                break
            size /= 2
        else:
            break  # no step gains more than the tolerance: converged
        b, value = trial, trial_value
    return tuple(round(float(x), 10) for x in b)


def log_sum_exp(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """log sum exp along an axis, without overflow."""
    top = values.max(axis=axis, keepdims=True)
    return np.squeeze(top + np.log(np.exp(values - top).sum(axis=axis, keepdims=True)), axis)


def label_mixture_log_prob_nats(log_likelihood_nats: np.ndarray,
                                log_prior_nats: np.ndarray) -> np.ndarray:
    """log q_mix(t) = log sum_y p(y) q(t | y): a density over t built from the conditional
    model, (N, L) log-likelihoods of every label, (L,) log prior -> (N,)."""
    return log_sum_exp(log_likelihood_nats + log_prior_nats[None, :], axis=1)


def mixture_log_prob_nats(log_prob_nats: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """log sum_k w_k q_k per example from the components' log q_k along the last axis:
    (..., C), (C,) -> (...)."""
    with np.errstate(divide="ignore"):  # w_k = 0: log 0 = -inf drops that component
        return log_sum_exp(log_prob_nats + np.log(np.asarray(weights)), axis=-1)


def mixture_weights(log_prob_nats: np.ndarray, iterations: int = 500,
                    tolerance: float = 1e-10) -> np.ndarray:
    """The weights w on the simplex that maximise the held-out mean of log sum_k w_k q_k(t),
    from (N, C) log-likelihoods of C densities: EM (w_k <- mean responsibility of k), which
    increases the objective at every step and converges to its maximum (it is concave in
    w). Any fixed w gives a density, hence a cross-entropy that upper-bounds the entropy;
    a one-hot w is that component alone. Returns (C,)."""
    log_prob_nats = np.asarray(log_prob_nats, dtype=np.float64)
    weights = np.full(log_prob_nats.shape[1], 1.0 / log_prob_nats.shape[1])
    previous = -np.inf
    for _ in range(iterations):
        joint = log_prob_nats + np.log(np.maximum(weights, 1e-300))[None, :]
        total = log_sum_exp(joint, axis=1)  # (N,)
        weights = np.exp(joint - total[:, None]).mean(axis=0)
        objective = total.mean()
        if objective - previous < tolerance:
            break
        previous = objective
    return weights / weights.sum()


def categorical_entropy_bits(probabilities: np.ndarray) -> np.ndarray:
    """-sum_k p_k log2 p_k along the last axis (0 log 0 = 0)."""
    p = np.asarray(probabilities, dtype=np.float64)
    terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)
