"""Count-based first-order transitions and label effects, their per-unit smoothing chosen
on validation and by leave-one-out, and the densities they make."""
import math

import numpy as np
import torch

from infoplane import counts, sources


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


def test_count_model_is_the_smoothed_chain_with_label_effects():
    """log c(t) == sum_i log p_i(t_i | t_{i-1}; s_i) and log c(t | y) == sum_i log
    softmax_b(log p_i(b | t_{i-1}) + E_i[y, t_{i-1}, b]) at t_i, by hand."""
    rng = np.random.default_rng(4)
    source = sources.smooth_chain(6, 5, 3, rng, 1.5)
    train, train_labels = source.sample(900, rng)
    validation, _ = source.sample(300, rng)
    test, test_labels = (np.asarray(a, dtype=np.int64) for a in source.sample(100, rng))
    c, y = _codes(train), _codes(train_labels)
    model = counts.fit_count_model(c, y, _codes(validation), 3, 5)
    assert torch.isfinite(model.strengths[1:]).any()  # the chain's dependence was found
    assert (model.label_weights > 0).any() or model.tilted.any()  # and the label's
    transitions = counts.smoothed_transitions(counts.transition_counts(c, 5),
                                              counts.unit_marginals(c, 5), model.strengths)
    model.label_logits += torch.randn_like(model.label_logits)  # any label term, per a
    chain, every_label = np.zeros(len(test)), np.zeros((len(test), 3))
    for i in range(6):
        previous = test[:, i - 1] if i else np.zeros_like(test[:, 0])
        rows = torch.log(transitions[i, previous])
        chain += rows[np.arange(len(test)), test[:, i]].double().numpy()
        for label in range(3):
            log_q = torch.log_softmax(rows + model.label_logits[i, label, previous], dim=1)
            every_label[:, label] += log_q[np.arange(len(test)), test[:, i]].double().numpy()
    assert np.allclose(model.log_prob_nats(_codes(test)), chain, atol=1e-4)
    assert np.allclose(model.log_prob_every_label_nats(_codes(test), batch_size=7),
                       every_label, atol=1e-4)


def test_count_model_probabilities_sum_to_one():
    rng = np.random.default_rng(6)
    source = sources.label_mixture(3, 3, 2, rng)
    train, train_labels = source.sample(400, rng)
    validation, _ = source.sample(100, rng)
    model = counts.fit_count_model(_codes(train), _codes(train_labels), _codes(validation),
                                   2, 3)
    model.label_logits += torch.randn_like(model.label_logits)  # normalised for any
    every = _codes(np.array(np.meshgrid(*[range(3)] * 3, indexing="ij")).reshape(3, -1).T)
    assert abs(np.exp(model.log_prob_nats(every)).sum() - 1) < 1e-5
    np.testing.assert_allclose(np.exp(model.log_prob_every_label_nats(every)).sum(0), [1, 1],
                               atol=1e-5)


def test_leave_one_out_scores_match_refitting_without_each_example():
    rng = np.random.default_rng(5)
    source = sources.smooth_chain(4, 6, 3, rng, 1.0)
    codes, labels = (np.asarray(a, dtype=np.int64) for a in source.sample(40, rng))
    c, y = _codes(codes), _codes(labels)
    strengths = torch.tensor([math.inf, 2.0, 0.5, math.inf])
    candidates = counts.label_effect_candidates(c, y, 3, 6, strengths=(1.0, 8.0),
                                                widths=(0.0, 1.5))
    weights = [0.0, 0.5, 1.0]
    tilts = torch.randn(4, 3, 6, generator=torch.Generator().manual_seed(0))  # kept fixed
    scores = counts.leave_one_out_scores(c, y, strengths, candidates, weights,
                                         (None, tilts), scored=10, batch=3)
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
                    for option, tau in enumerate((torch.zeros_like(tilts), tilts)):
                        log_q = torch.log_softmax(torch.log(row) + tau[i, labels[j]]
                                                  + weight * effect[i, labels[j]], 0)
                        expected[option, k, m, i] += log_q[codes[j, i]]
    assert torch.allclose(scores, expected, atol=1e-4)


def _tilted_log_likelihood(codes, labels, log_transitions, tilts):
    """sum over examples and units of log softmax_b(log p_i(b | t_{i-1}) + tau_i(y, b)) at
    t_i, by a loop over units: (D,)."""
    total = torch.zeros(codes.shape[1])
    for i in range(codes.shape[1]):
        previous = codes[:, i - 1] if i else torch.zeros_like(codes[:, 0])
        log_q = torch.log_softmax(log_transitions[i, previous] + tilts[i, labels], dim=1)
        total[i] = log_q[torch.arange(len(codes)), codes[:, i]].sum()
    return total


def test_label_tilts_maximise_the_likelihood_and_are_kept_only_where_labels_matter():
    """On a chain whose label shifts every unit's level, the fitted tilts beat no tilts and
    every small change of theta along the features (without the ridge: a local maximum of
    a concave function, the maximum likelihood), and most units keep them; with labels
    that carry nothing, (almost) none does."""
    rng = np.random.default_rng(7)
    features = counts.tilt_features(8)  # (K, 2)
    for separation, kept_at_least, kept_at_most in ((1.5, 4, 5), (0.0, 0, 1)):
        source = sources.smooth_chain(5, 8, 3, rng, separation)
        codes, labels = (_codes(a) for a in source.sample(3000, rng))
        strengths = counts.best_strengths(codes, _codes(source.sample(500, rng)[0]), 8)
        log_transitions = torch.log(counts.smoothed_transitions(
            counts.transition_counts(codes, 8), counts.unit_marginals(codes, 8), strengths))
        tilts, kept = counts.label_tilts(codes, labels, log_transitions, 3, ridge=0.0)
        assert kept_at_least <= int(kept.sum()) <= kept_at_most
        if separation == 0.0:
            continue
        best = _tilted_log_likelihood(codes, labels, log_transitions, tilts)
        assert (best[kept] > _tilted_log_likelihood(codes, labels, log_transitions,
                                                    torch.zeros_like(tilts))[kept] + 6).all()
        for direction in torch.eye(2):
            for sign in (-1.0, 1.0):
                nudged = tilts + sign * 0.05 * (features @ direction)  # every label's theta
                assert (_tilted_log_likelihood(codes, labels, log_transitions, nudged)
                        < best + 1e-3)[kept].all()


def test_each_unit_takes_the_tilt_only_where_the_label_shifts_its_level():
    """A label that shifts levels (smooth chain): most units take the tilt; a label that
    reweights bins arbitrarily (label mixture, where the counted effects are exact): none."""
    rng = np.random.default_rng(8)
    for source, tilted_at_least, tilted_at_most in (
            (sources.smooth_chain(8, 6, 3, rng, 1.5), 4, 8),
            (sources.label_mixture(8, 6, 3, rng), 0, 0)):
        codes, labels = (_codes(a) for a in source.sample(3000, rng))
        model = counts.fit_count_model(codes, labels, _codes(source.sample(500, rng)[0]), 3, 6)
        assert tilted_at_least <= int(model.tilted.sum()) <= tilted_at_most


def test_tilts_stay_finite_where_a_label_never_leaves_one_bin():
    """A unit that sits in its top bin for every example of one label (a saturated unit):
    its maximum-likelihood tilt is infinite; the ridge keeps it finite, and the count model
    still gives every code a finite log-likelihood under every label."""
    rng = np.random.default_rng(9)
    codes = rng.integers(0, 6, size=(2000, 4))
    labels = rng.integers(0, 3, size=2000)
    codes[labels == 2, 1] = 5
    c, y = _codes(codes), _codes(labels)
    model = counts.fit_count_model(c, y, _codes(rng.integers(0, 6, size=(300, 4))), 3, 6)
    tilts, kept = counts.label_tilts(c, y, model.log_transitions, 3)
    assert kept[1] and torch.isfinite(tilts).all() and tilts.abs().max() < 10  # 21 without
    model.label_logits = tilts[:, :, None, :].expand(-1, -1, 6, -1)  # the tilts alone
    every = model.log_prob_every_label_nats(_codes(rng.integers(0, 6, size=(500, 4))))
    assert np.isfinite(every).all()


def test_label_transition_scores_match_refitting_without_each_example():
    rng = np.random.default_rng(10)
    source = sources.label_dependent_chain(4, 5, 2, rng)
    codes, labels = (np.asarray(a, dtype=np.int64) for a in source.sample(40, rng))
    c, y = _codes(codes), _codes(labels)
    strengths = torch.tensor([math.inf, 2.0, 0.5, math.inf])
    scores = counts.label_transition_scores(c, y, strengths, 2, 5, strengths=(1.0, 8.0),
                                            scored=10, batch=3)
    marginals = counts.unit_marginals(c, 5)  # kept, as a smoothing prior
    expected = torch.zeros_like(scores)
    for j in range(10):
        rest = np.delete(np.arange(40), j)
        base = counts.smoothed_transitions(counts.transition_counts(c[rest], 5), marginals,
                                           strengths)
        by_label = counts.labelled_transition_counts(c[rest], y[rest], 2, 5)
        for k, s in enumerate((1.0, 8.0)):
            for i in range(4):
                a = codes[j, i - 1] if i else 0
                n = by_label[i, labels[j], a]
                expected[k, i] += torch.log((n[codes[j, i]] + s * base[i, a, codes[j, i]])
                                            / (n.sum() + s))
    assert torch.allclose(scores, expected, atol=1e-4)


def test_units_take_the_labels_own_transitions_where_the_label_changes_them():
    """A chain with a transition matrix of its own for every label: most units take the
    label's own transitions, and c(t | y) comes within 3 % of the exact H(T | Y)."""
    rng = np.random.default_rng(11)
    source = sources.label_dependent_chain(6, 4, 3, rng, shared=0.0)
    codes, labels = (_codes(a) for a in source.sample(6000, rng))
    model = counts.fit_count_model(codes, labels, _codes(source.sample(500, rng)[0]), 3, 4)
    assert int(torch.isfinite(model.transition_strengths).sum()) >= 4
    test, test_labels = source.sample(4000, rng)
    every = model.log_prob_every_label_nats(_codes(test))
    bits = -every[np.arange(len(test)), test_labels].mean() / math.log(2)
    exact = source.conditional_entropy_bits()
    assert exact < bits < 1.03 * exact
