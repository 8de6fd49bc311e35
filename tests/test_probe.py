"""The linear probe r(y | t): it recovers a posterior that is linear in its features, and
finds nothing where the labels carry nothing."""
import numpy as np
import torch

from infoplane import entropy, probe
from models import code_positions


def _tensor(array):
    return torch.as_tensor(np.asarray(array, dtype=np.int64))


def _logit_source(n, units, bins, num_labels, rng, weight):
    """Codes uniform on [0, bins)^units, labels from p(y | t) = softmax(weight^T phi(t)), with
    phi(t) the probe's unstandardised features: returns codes, labels and the exact
    log p(y | t) of every label, (N, L)."""
    codes = rng.integers(0, bins, size=(n, units))
    logits = code_positions(_tensor(codes), bins).double().numpy() @ weight
    log_posterior = logits - entropy.log_sum_exp(logits, axis=1)[:, None]
    cdf = np.exp(log_posterior).cumsum(axis=1)
    labels = np.minimum((rng.random((n, 1)) > cdf).sum(axis=1), num_labels - 1)
    return codes, labels, log_posterior


def test_probe_recovers_a_posterior_that_is_linear_in_the_codes_and_their_squares():
    """Its test cross-entropy comes within 0.02 bits of the exact H(Y | T) (mean of the exact
    -log2 p(y | t)), far below H(Y), for a posterior with linear and quadratic parts."""
    rng = np.random.default_rng(0)
    units, bins, num_labels = 6, 8, 4
    weight = rng.normal(0.0, 2.0, size=(2 * units, num_labels))
    (train, train_labels, _), (val, val_labels, _), (test, test_labels, exact) = (
        _logit_source(n, units, bins, num_labels, rng, weight) for n in (20000, 2000, 20000))
    fitted = probe.fit_probe(_tensor(train), _tensor(train_labels), _tensor(val),
                             _tensor(val_labels), num_labels, bins)
    rows = np.arange(len(test_labels))
    exact_bits = -exact[rows, test_labels].mean() / entropy.LN2
    probe_bits = -fitted.log_posterior_nats(_tensor(test))[rows, test_labels].mean() / entropy.LN2
    assert exact_bits < 1.5 < np.log2(num_labels)  # the labels carry information
    assert exact_bits - 0.005 < probe_bits < exact_bits + 0.02


def test_probe_finds_nothing_in_labels_that_carry_nothing():
    """Labels independent of the codes: the probe's information on test codes is at most a
    few hundredths of a bit (the largest penalty wins), and a constant unit is harmless."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 16, size=(6000, 20))
    codes[:, 3] = 7  # a unit that never changes
    labels = rng.integers(0, 10, size=6000)
    fitted = probe.fit_probe(_tensor(codes[:4000]), _tensor(labels[:4000]),
                             _tensor(codes[4000:5000]), _tensor(labels[4000:5000]), 10, 16)
    log_posterior = fitted.log_posterior_nats(_tensor(codes[5000:]))
    assert np.isfinite(log_posterior).all()
    assert np.allclose(np.exp(log_posterior).sum(1), 1.0)
    log_prior = entropy.label_log_prior_nats(labels[:4000], 10)
    information = entropy.bayes_information_bits(log_posterior - log_prior, labels[5000:],
                                                 log_prior).mean()
    assert -0.05 < information < 0.02
