"""The entropy arithmetic against hand-computable cases."""
import math

import numpy as np

from infoplane import entropy


def test_plugin_entropy_of_known_counts():
    codes = np.array([[0, 1]] * 2 + [[1, 1]] * 1 + [[1, 0]] * 1)  # frequencies 1/2, 1/4, 1/4
    assert math.isclose(entropy.plugin_entropy_bits(codes), 1.5)


def test_plugin_entropy_saturates_at_log2_n():
    codes = np.arange(1000)[:, None] * np.ones((1, 3), dtype=int)  # all rows distinct
    assert math.isclose(entropy.plugin_entropy_bits(codes), math.log2(1000))


def test_mean_and_standard_error():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, se = entropy.mean_and_standard_error(values)
    assert mean == 2.5 and math.isclose(se, np.std(values, ddof=1) / 2)
    assert entropy.mean_and_standard_error([7.0]) == (7.0, 0.0)


def test_categorical_entropy():
    assert np.allclose(entropy.categorical_entropy_bits(np.array([[0.5, 0.5, 0.0],
                                                                  [1.0, 0.0, 0.0]])), [1.0, 0.0])


def test_posterior_is_normalised():
    rng = np.random.default_rng(0)
    log_likelihood = rng.normal(size=(50, 4)) * 30  # large spreads: needs the log-sum-exp
    log_prior = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    posterior = np.exp(entropy.log_posterior_nats(log_likelihood, log_prior))
    assert np.allclose(posterior.sum(axis=1), 1.0)


def test_bayes_information_limits():
    labels = np.array([0, 1, 2, 3] * 25)
    log_prior = entropy.label_log_prior_nats(labels, 4)  # uniform: H(Y) = 2 bits
    uninformative = np.zeros((100, 4))
    assert np.allclose(entropy.bayes_information_bits(uninformative, labels, log_prior), 0.0)
    separating = np.where(np.eye(4)[labels] == 1, 0.0, -1000.0)
    assert np.allclose(entropy.bayes_information_bits(separating, labels, log_prior), 2.0)
    misleading = np.where(np.eye(4)[labels] == 1, -5.0, 0.0)  # prefers the wrong labels
    assert entropy.bayes_information_bits(misleading, labels, log_prior).mean() < 0


def test_label_prior_counts_with_add_one():
    log_prior = entropy.label_log_prior_nats(np.array([0, 0, 0, 1]), 3)
    assert np.allclose(np.exp(log_prior), [4 / 7, 2 / 7, 1 / 7])


def test_label_mixture_of_the_true_conditionals_is_the_true_marginal():
    """sum_y p(y) p(t | y) from exact conditionals reproduces log p(t) of a mixture source."""
    from infoplane import sources
    rng = np.random.default_rng(0)
    source = sources.label_mixture(5, 3, 4, rng)
    codes, _ = source.sample(200, rng)
    every_label = np.stack([source.log_prob_given_label_nats(codes, np.full(len(codes), y))
                            for y in range(source.num_labels)], axis=1)
    np.testing.assert_allclose(
        entropy.label_mixture_log_prob_nats(every_label, np.log(source.prior)),
        source.log_prob_nats(codes), atol=1e-10)
