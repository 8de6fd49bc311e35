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


def test_posterior_exponent_undoes_an_over_or_under_confident_model():
    """Labels drawn from p(y|t) proportional to exp(ll): a model reporting c * ll is
    calibrated back by the exponent 1/c, and the calibrated estimate beats the raw one."""
    rng = np.random.default_rng(0)
    true_ll = rng.normal(0.0, 1.5, size=(40000, 4))
    log_prior = np.log(np.full(4, 0.25))
    posterior = np.exp(entropy.log_posterior_nats(true_ll, log_prior))
    labels = (rng.random((40000, 1)) > posterior.cumsum(axis=1)).sum(axis=1)
    assert abs(entropy.posterior_exponents([true_ll], labels, log_prior)[0] - 1.0) < 0.05
    for confidence in (2.0, 0.5):
        (b,) = entropy.posterior_exponents([confidence * true_ll], labels, log_prior)
        assert abs(b * confidence - 1.0) < 0.05
        calibrated = entropy.bayes_information_bits(confidence * true_ll, labels, log_prior, b)
        raw = entropy.bayes_information_bits(confidence * true_ll, labels, log_prior)
        assert calibrated.mean() > raw.mean() + 0.01


def test_posterior_exponents_combine_two_classifiers_that_each_see_half_the_evidence():
    """Labels drawn from p(y|t) proportional to exp(ll_a + ll_b): two classifiers reporting
    2 ll_a and 0.5 ll_b are combined with exponents (1/2, 2), and beat either alone."""
    rng = np.random.default_rng(1)
    ll_a, ll_b = rng.normal(0.0, 1.0, size=(2, 6000, 4))
    log_prior = np.log(np.full(4, 0.25))
    posterior = np.exp(entropy.log_posterior_nats(ll_a + ll_b, log_prior))
    labels = (rng.random((6000, 1)) > posterior.cumsum(axis=1)).sum(axis=1)
    b_a, b_b = entropy.posterior_exponents([2.0 * ll_a, 0.5 * ll_b], labels, log_prior,
                                           largest=3.0)
    assert abs(b_a - 0.5) < 0.05 and abs(b_b - 2.0) < 0.2
    both = entropy.bayes_information_bits(b_a * 2.0 * ll_a + b_b * 0.5 * ll_b, labels,
                                          log_prior).mean()
    for alone in (2.0 * ll_a, 0.5 * ll_b):
        (b,) = entropy.posterior_exponents([alone], labels, log_prior)
        assert both > entropy.bayes_information_bits(alone, labels, log_prior, b).mean() + 0.1


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


def test_mixture_and_its_weights():
    rng = np.random.default_rng(1)
    log_a, log_b, log_c = (rng.normal(-5, 1, 1000) for _ in range(3))
    both = np.stack([log_a, log_b], axis=1)
    np.testing.assert_allclose(entropy.mixture_log_prob_nats(both, [1.0, 0.0]), log_a)
    np.testing.assert_allclose(entropy.mixture_log_prob_nats(both, [0.25, 0.75]),
                               np.log(0.25 * np.exp(log_a) + 0.75 * np.exp(log_b)))
    # a component that is better on every example by a margin takes all the weight
    weights = entropy.mixture_weights(np.stack([log_b, log_a + 3.0, log_c], axis=1))
    assert weights[1] > 0.99 and abs(weights.sum() - 1) < 1e-12
    # two components that each win on half the examples, by the same margin, share it
    split = np.where(np.arange(1000) < 500, 5.0, -5.0)
    weights = entropy.mixture_weights(np.stack([log_a + split, log_a - split], axis=1))
    np.testing.assert_allclose(weights, [0.5, 0.5], atol=0.01)
    # EM reaches the grid's optimum for two components, and no grid point beats it
    weights = entropy.mixture_weights(both)
    grid = np.linspace(0, 1, 101)
    scores = [entropy.mixture_log_prob_nats(both, [w, 1 - w]).mean() for w in grid]
    assert entropy.mixture_log_prob_nats(both, weights).mean() >= max(scores) - 1e-9


def test_posterior_exponent_is_zero_when_the_labels_are_ignored():
    """Equal likelihoods for every label (a label_scale of 0): every b gives the prior, and
    the reported b is 0, not an arbitrary grid point picked by rounding noise."""
    rng = np.random.default_rng(2)
    likelihoods = np.repeat(rng.normal(-500, 50, (300, 1)), 4, axis=1)
    assert entropy.posterior_exponents([likelihoods], rng.integers(0, 4, 300),
                                       np.log([0.1, 0.2, 0.3, 0.4])) == (0.0,)


def test_posterior_exponents_keep_a_misleading_classifier_at_zero():
    """A classifier whose scores point away from the true labels would want b < 0; the
    exponents stay in [0, largest], so it gets 0 and the useful one keeps its b."""
    rng = np.random.default_rng(3)
    true_ll = rng.normal(0.0, 1.5, size=(5000, 4))
    log_prior = np.log(np.full(4, 0.25))
    posterior = np.exp(entropy.log_posterior_nats(true_ll, log_prior))
    labels = (rng.random((5000, 1)) > posterior.cumsum(axis=1)).sum(axis=1)
    b_true, b_wrong = entropy.posterior_exponents([true_ll, -true_ll], labels, log_prior)
    assert abs(b_true - 1.0) < 0.1 and b_wrong == 0.0
    assert entropy.posterior_exponents([100.0 * true_ll], labels, log_prior,
                                       largest=0.005) == (0.005,)
    ruled_out = np.where(np.arange(4) == (labels[:, None] + 1) % 4, -np.inf, true_ll)
    b_true, b_ruled = entropy.posterior_exponents([true_ll, ruled_out], labels, log_prior)
    assert np.isfinite([b_true, b_ruled]).all()  # -inf scores: floored, not NaN
