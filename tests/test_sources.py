"""The synthetic sources: their closed-form entropies against brute-force enumeration of
all K^D sequences, and their samples against their likelihoods."""
import itertools
import math

import numpy as np
import pytest

from infoplane import sources
from infoplane.entropy import LN2


def enumerated(source):
    """H(T), H(T|Y) by summing over every sequence and label."""
    codes = np.array(list(itertools.product(range(source.bins), repeat=source.units)))
    log_p = source.log_prob_nats(codes)
    h_t = -(np.exp(log_p) * log_p).sum() / LN2
    h_t_y = 0.0
    for y, p_y in enumerate(source.prior):
        log_p_y = source.log_prob_given_label_nats(codes, np.full(len(codes), y))
        h_t_y += p_y * -(np.exp(log_p_y) * log_p_y).sum() / LN2
    return h_t, h_t_y, np.exp(log_p).sum()


def family(rng):
    return {
        "independent": sources.independent_units(5, 3, rng),
        "markov": sources.markov_chain(5, 3, rng),
        "label_first_unit": sources.label_in_first_unit(4, 4, 3, rng),
        "label_dependent": sources.label_dependent_chain(4, 3, 3, rng),
        "smooth": sources.smooth_chain(4, 4, 3, rng, separation=1.0),
        "label_mixture": sources.label_mixture(4, 3, 3, rng),
    }


@pytest.mark.parametrize("name", list(family(np.random.default_rng(0))))
def test_closed_forms_match_enumeration(name):
    source = family(np.random.default_rng(0))[name]
    h_t, h_t_y, total = enumerated(source)
    assert math.isclose(total, 1.0, rel_tol=1e-9)
    assert math.isclose(source.conditional_entropy_bits(), h_t_y, rel_tol=1e-9)
    assert math.isclose(source.entropy_bits()[0], h_t, rel_tol=1e-9)
    if name == "label_first_unit":  # the label-free transition path, not enumeration
        transitions = source.transitions
        assert np.allclose(transitions, transitions[:1])


def test_samples_follow_the_likelihood():
    rng = np.random.default_rng(1)
    source = sources.smooth_chain(6, 5, 4, rng, separation=1.0)
    codes, labels = source.sample(100_000, rng)
    assert codes.dtype == np.uint8 and labels.dtype == np.int64
    assert np.allclose(np.bincount(labels) / len(labels), source.prior, atol=0.01)
    mc_h_t_y = -source.log_prob_given_label_nats(codes, labels).mean() / LN2
    assert abs(mc_h_t_y - source.conditional_entropy_bits()) < 0.03
    mc_h_t = -source.log_prob_nats(codes).mean() / LN2
    assert abs(mc_h_t - source.entropy_bits()[0]) < 0.03


def test_monte_carlo_entropy_when_enumeration_is_too_large():
    rng = np.random.default_rng(2)
    source = sources.label_dependent_chain(30, 4, 3, rng)  # 4^30 sequences
    h_t, se = source.entropy_bits(rng, samples=20000)
    assert se > 0
    assert source.conditional_entropy_bits() <= h_t + 3 * se
    assert h_t - source.conditional_entropy_bits() <= math.log2(3) + 3 * se


def test_monte_carlo_entropy_agrees_with_enumeration(monkeypatch):
    source = sources.label_dependent_chain(6, 3, 4, np.random.default_rng(5))  # 3^6 sequences
    exact, exact_se = source.entropy_bits()
    monkeypatch.setattr(sources, "ENUMERATION_LIMIT", 0)
    estimate, se = source.entropy_bits(np.random.default_rng(6), samples=20000)
    assert exact_se == 0 and 0 < se < 0.02
    assert abs(estimate - exact) < 4 * se


def _tiny_latent_classes(rng):
    return sources.LatentClassSource(rng.dirichlet(np.ones(3)),
                                     rng.dirichlet(np.full(2, 0.5), 3),
                                     rng.dirichlet(np.full(3, 0.5), (3, 4)))


def test_latent_class_likelihoods_and_entropies_match_enumeration():
    source = _tiny_latent_classes(np.random.default_rng(0))
    every = np.array(list(itertools.product(range(3), repeat=4)))
    p_t = np.exp(source.log_prob_nats(every))
    assert abs(p_t.sum() - 1) < 1e-12
    p_y = source.prior @ source.label_given_class
    p_t_y = np.stack([np.exp(source.log_prob_given_label_nats(every, np.full(len(every), y)))
                      for y in range(2)], 1)  # (T, L)
    assert np.allclose(p_t_y.sum(0), 1) and np.allclose(p_t_y @ p_y, p_t)
    h_t = -(p_t * np.log2(p_t)).sum()
    h_t_y = -(p_y * (p_t_y * np.log2(p_t_y)).sum(0)).sum()
    estimate = source.entropies_bits(np.random.default_rng(1), 200_000)
    for key, exact in (("H_T", h_t), ("H_T_given_Y", h_t_y), ("I_TY", h_t - h_t_y)):
        assert abs(estimate[key] - exact) < 4 * estimate[f"{key}_se"] + 1e-3, key


def test_em_fit_of_latent_classes_recovers_the_likelihood_of_its_source():
    rng = np.random.default_rng(2)
    truth = sources.LatentClassSource(np.full(3, 1 / 3), np.eye(3) * 0.9 + 0.1 / 3,
                                      rng.dirichlet(np.full(4, 0.2), (3, 12)))
    codes, labels = truth.sample(4000, rng)
    fitted = sources.fit_latent_classes(codes, labels, 4, 3, 3, rng, iterations=40,
                                        smoothing=0.01)
    test_codes, _ = truth.sample(2000, rng)
    exact = truth.log_prob_nats(test_codes).mean()
    one_class = sources.fit_latent_classes(codes, labels, 4, 3, 1, rng, smoothing=0.01)
    assert exact - fitted.log_prob_nats(test_codes).mean() < 0.3  # nats per example
    assert exact - one_class.log_prob_nats(test_codes).mean() > 3.0  # the classes matter
    assert fitted.units == 12 and fitted.bins == 4 and fitted.num_labels == 3


def _tiny_labelled_tree(rng):
    """A tree source fitted to 5 dependent units in 3 bins with 2 labels."""
    n = 3000
    labels = rng.integers(0, 2, n)
    codes = np.empty((n, 5), dtype=np.int64)
    codes[:, 2] = (labels + rng.integers(0, 2, n)) % 3        # the label reaches unit 2
    codes[:, 0] = (codes[:, 2] + (rng.random(n) < 0.2)) % 3   # 0 follows 2
    codes[:, 4] = (codes[:, 0] * 2 + (rng.random(n) < 0.3)) % 3
    codes[:, 1] = rng.integers(0, 3, n)
    codes[:, 3] = (codes[:, 1] + labels * (rng.random(n) < 0.5)) % 3
    return sources.fit_labelled_tree(codes, labels, 3, 2, rng)


def test_labelled_tree_likelihoods_and_entropies_match_enumeration():
    source = _tiny_labelled_tree(np.random.default_rng(0))
    assert sorted(source.order) == list(range(5)) and (source.parents == -1).sum() == 1
    every = np.array(list(itertools.product(range(3), repeat=5)))
    p_t = np.exp(source.log_prob_nats(every))
    p_t_y = np.stack([np.exp(source.log_prob_given_label_nats(every, np.full(len(every), y)))
                      for y in range(2)], 1)  # (T, L)
    assert abs(p_t.sum() - 1) < 1e-12 and np.allclose(p_t_y.sum(0), 1)
    assert np.allclose(p_t_y @ source.prior, p_t)
    h_t = -(p_t * np.log2(p_t)).sum()
    h_t_y = -(source.prior * (p_t_y * np.log2(p_t_y)).sum(0)).sum()
    assert abs(source.conditional_entropy_bits() - h_t_y) < 1e-9  # the chain rule, exact
    estimate = source.entropies_bits(np.random.default_rng(1), 200_000)
    assert h_t - h_t_y > 0.1  # the label matters
    for key, exact in (("H_T", h_t), ("H_T_given_Y", h_t_y), ("I_TY", h_t - h_t_y)):
        assert abs(estimate[key] - exact) < 4 * estimate[f"{key}_se"] + 1e-9, key


def test_labelled_tree_samples_follow_its_likelihood():
    rng = np.random.default_rng(3)
    source = _tiny_labelled_tree(rng)
    codes, labels = source.sample(200_000, rng)
    assert codes.dtype == np.uint8 and codes.shape == (200_000, 5)
    every = np.array(list(itertools.product(range(3), repeat=5)))
    index = np.ravel_multi_index(codes.T.astype(np.int64), (3,) * 5)
    frequencies = np.bincount(index[labels == 1], minlength=len(every)) / (labels == 1).sum()
    expected = np.exp(source.log_prob_given_label_nats(every, np.ones(len(every), int)))
    assert np.abs(frequencies - expected).max() < 0.01
    assert abs((labels == 1).mean() - source.prior[1]) < 0.01


@pytest.mark.parametrize("label_matters", [False, True])
def test_labelled_tree_shrinkage_follows_the_held_out_codes(label_matters):
    """Codes that ignore the label give a source whose label carries almost nothing (the
    shrinkage pools the labels' tables); codes that follow the label keep it."""
    rng = np.random.default_rng(4)
    n, units = 2000, 8
    labels = rng.integers(0, 4, n)
    codes = np.empty((n, units), dtype=np.int64)
    codes[:, 0] = labels if label_matters else rng.integers(0, 4, n)
    for i in range(1, units):
        codes[:, i] = (codes[:, i - 1] + (rng.random(n) < 0.3)) % 4
    source = sources.fit_labelled_tree(codes, labels, 4, 4, rng)
    information = source.entropies_bits(rng, 50_000)["I_TY"]
    if label_matters:
        assert information > 1.5
    else:
        assert information < 0.01  # without shrinkage (strength 0.001): 0.03
