"""Count-based first-order transitions, their per-unit smoothing, and the model they
initialise."""
import math

import numpy as np
import torch

from infoplane import counts, fit, sources
from models import AutoregressiveDensity


def _codes(array):
    return torch.as_tensor(np.asarray(array, dtype=np.int64))


def test_transition_counts_match_a_loop():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=(50, 4))
    expected = np.zeros((4, 3, 3))
    for row in codes:
        for i in range(1, 4):
            expected[i, row[i - 1], row[i]] += 1
    assert np.array_equal(counts.transition_counts(_codes(codes), 3).numpy(), expected)


def test_smoothed_transitions_are_distributions_between_frequencies_and_marginal():
    rng = np.random.default_rng(1)
    codes = _codes(rng.integers(0, 4, size=(200, 5)))
    n, marginals = counts.transition_counts(codes, 4), counts.unit_marginals(codes, 4)
    for s in (1e-6, 3.0, math.inf):
        p = counts.smoothed_transitions(n, marginals, torch.full((5,), s))
        assert torch.allclose(p.sum(2), torch.ones(5, 4))
    p_inf = counts.smoothed_transitions(n, marginals, torch.full((5,), math.inf))
    assert torch.allclose(p_inf, marginals[:, None, :].expand(5, 4, 4))
    p_raw = counts.smoothed_transitions(n, marginals, torch.full((5,), 1e-9))
    rows = n.sum(2, keepdim=True)
    seen = rows.expand_as(n) > 0
    assert torch.allclose(p_raw[seen], (n / rows.clamp(min=1))[seen], atol=1e-6)


def test_strengths_are_small_for_a_dependent_chain_and_infinite_for_independent_units():
    rng = np.random.default_rng(2)
    chain = sources.markov_chain(12, 6, rng, concentration=0.1)
    independent = sources.independent_units(12, 6, rng)
    for source, dependent in ((chain, True), (independent, False)):
        train, _ = source.sample(4000, rng)
        validation, _ = source.sample(1000, rng)
        s = counts.best_strengths(_codes(train), _codes(validation), 6)
        assert math.isinf(s[0])  # unit 0 has no predecessor
        if dependent:
            assert torch.isfinite(s[1:]).all() and (s[1:] <= 64).all(), s
        else:
            assert s[1:].median() >= 1024, s  # near the marginal; a few pick noise


def test_neighbour_initialisation_makes_the_model_the_smoothed_chain():
    """log q(t) of the initialised model == sum_i log p_i(t_i | t_{i-1}; s_i) by hand."""
    rng = np.random.default_rng(3)
    source = sources.markov_chain(7, 5, rng, concentration=0.3)
    train, _ = source.sample(600, rng)
    validation, _ = source.sample(200, rng)
    test, _ = source.sample(100, rng)
    model = AutoregressiveDensity(7, 5, channels=8)
    fit.initialise_unit_logits(model, _codes(train))
    strengths = fit.initialise_neighbour_table(model, _codes(train), _codes(validation))
    marginals = counts.unit_marginals(_codes(train), 5).double().numpy()
    transitions = counts.smoothed_transitions(counts.transition_counts(_codes(train), 5),
                                              counts.unit_marginals(_codes(train), 5),
                                              strengths).double().numpy()
    by_hand = np.log(marginals[0, test[:, 0]])
    for i in range(1, 7):
        by_hand = by_hand + np.log(transitions[i, test[:, i - 1], test[:, i]])
    with torch.no_grad():
        model_nats = model.log_prob_nats(_codes(test)).double().numpy()
    assert np.allclose(model_nats, by_hand, atol=1e-4)
    assert torch.isfinite(strengths[1:]).any()  # the chain's dependence was found


def test_label_initialisation_makes_the_model_the_chain_plus_label_effects():
    """log q(t | y) of the initialised conditional model == the count-based
    sum_i log softmax_b(log p_i(b | t_{i-1}) + E_i[y, b]) at t_i, by hand."""
    rng = np.random.default_rng(4)
    source = sources.label_mixture(6, 5, 3, rng)
    train, train_labels = source.sample(900, rng)
    validation, validation_labels = source.sample(300, rng)
    test, test_labels = (np.asarray(a, dtype=np.int64) for a in source.sample(100, rng))
    c, y = _codes(train), _codes(train_labels)
    model = AutoregressiveDensity(6, 5, channels=8, num_labels=3)
    fit.initialise_unit_logits(model, c)
    strengths = fit.initialise_neighbour_table(model, c, _codes(validation))
    weights = fit.initialise_label_term(model, c, y, strengths)
    assert (weights > 0).any()  # the mixture's label effects were found
    transitions = counts.smoothed_transitions(counts.transition_counts(c, 5),
                                              counts.unit_marginals(c, 5), strengths)
    effects, _ = counts.label_effects(c, y, strengths, 3, 5)
    by_hand = np.zeros(len(test))
    for i in range(6):
        rows = transitions[i, test[:, i - 1] if i else np.zeros_like(test[:, 0])]
        log_q = torch.log_softmax(torch.log(rows) + effects[i, test_labels], dim=1)
        by_hand += log_q[np.arange(len(test)), test[:, i]].double().numpy()
    with torch.no_grad():
        model_nats = model.log_prob_nats(_codes(test), _codes(test_labels)).double().numpy()
    assert np.allclose(model_nats, by_hand, atol=1e-4)


def test_leave_one_out_scores_match_refitting_without_each_example():
    rng = np.random.default_rng(5)
    source = sources.smooth_chain(4, 6, 3, rng, 1.0)
    codes, labels = (np.asarray(a, dtype=np.int64) for a in source.sample(40, rng))
    c, y = _codes(codes), _codes(labels)
    strengths = torch.tensor([math.inf, 2.0, 0.5, math.inf])
    candidates = counts.label_effect_candidates(c, y, 3, 6, strengths=(1.0, 8.0),
                                                widths=(0.0, 1.5))
    weights = [0.0, 0.5, 1.0]
    scores = counts.leave_one_out_scores(c, y, strengths, candidates, weights, scored=10,
                                         batch=3)
    marginals = counts.unit_marginals(c, 6)  # kept, as smoothing priors
    expected = torch.zeros_like(scores)
    for j in range(10):
        rest = np.delete(np.arange(40), j)
        pair = counts.transition_counts(c[rest], 6)
        base = counts.smoothed_transitions(pair, marginals, strengths)  # (D, K, K)
        by_label = counts._label_counts(c[rest], y[rest], 3, 6)  # (D, L, K)
        for k, (s, smoother, _) in enumerate(candidates):
            ratio = (by_label + s * marginals[:, None]) / (by_label.sum(2, keepdim=True) + s)
            effect = torch.log(ratio / marginals[:, None]) @ smoother
            for m, weight in enumerate(weights):
                for i in range(4):
                    row = base[i, codes[j, i - 1] if i else 0]
                    log_q = torch.log_softmax(torch.log(row) + weight * effect[i, labels[j]], 0)
                    expected[k, m, i] += log_q[codes[j, i]]
    assert torch.allclose(scores, expected, atol=1e-4)
