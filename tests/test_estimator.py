"""The estimator against sources whose entropies are exactly computable.

Each source is built so that ignoring what the estimator must capture (dependence between
units, or the label) would miss the truth by far more than the tolerance: the tests check
that margin too, so a broken estimator cannot pass by luck."""
import numpy as np
import pytest

from infoplane import sources
from infoplane.entropy import categorical_entropy_bits
from infoplane.estimate import EstimatorConfig, estimate_information

CONFIG = EstimatorConfig(channels=32, max_epochs=30, patience=3)
H_RELATIVE_TOLERANCE = 0.02   # of H(T) and H(T|Y), plus 3 standard errors
I_TOLERANCE_BITS = 0.12       # of I(T;Y), plus 3 standard errors


def independent_entropy_bits(source) -> float:
    """sum_i H(t_i): what a model that ignores the dependence between units would find."""
    marginal, total = source.prior @ source.init, 0.0
    total = float(categorical_entropy_bits(marginal))
    joint = source.prior[:, None] * source.init  # (L, K): p(y, t_{i})
    for i in range(source.units - 1):
        joint = np.einsum("ya,yab->yb", joint, source.transitions[:, i])
        total += float(categorical_entropy_bits(joint.sum(0)))
    return total


CASES = {  # name: (source, train examples)
    "independent": (lambda rng: sources.independent_units(6, 4, rng), 6000),
    "markov": (lambda rng: sources.markov_chain(6, 4, rng, concentration=0.2), 10000),
    "label_first_unit": (lambda rng: sources.label_in_first_unit(6, 4, 4, rng, noise=0.3), 10000),
    "smooth_chain_label": (lambda rng: sources.smooth_chain(8, 5, 4, rng, separation=3.0), 15000),
    "label_mixture": (lambda rng: sources.label_mixture(6, 4, 3, rng, shared=0.0), 10000),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    build, n_train = CASES[request.param]
    rng = np.random.default_rng(7)
    source = build(rng)
    train_codes, train_labels = source.sample(n_train, rng)
    test_codes, test_labels = source.sample(5000, rng)
    result = estimate_information(train_codes, train_labels, test_codes, test_labels,
                                  bins=source.bins, num_labels=source.num_labels,
                                  config=CONFIG, seed=3, log=lambda line: None)
    return request.param, source, result


def test_entropy_matches_exact_value(case):
    name, source, r = case
    h_t = source.entropy_bits()[0]
    assert abs(r["H_T_bits"] - h_t) <= H_RELATIVE_TOLERANCE * h_t + 3 * r["H_T_bits_se"], name
    assert r["I_XT_bits"] == r["H_T_bits"]
    if name != "independent":  # the units' dependence matters here, and was captured
        assert independent_entropy_bits(source) - h_t > 3 * H_RELATIVE_TOLERANCE * h_t


def test_conditional_entropy_matches_exact_value(case):
    name, source, r = case
    h_t_y = source.conditional_entropy_bits()
    assert abs(r["H_T_given_Y_bits"] - h_t_y) <= \
        H_RELATIVE_TOLERANCE * h_t_y + 3 * r["H_T_given_Y_bits_se"], name


def test_both_information_estimates_match_exact_value(case):
    name, source, r = case
    i_ty = source.mutual_information_bits()[0]
    assert abs(r["I_TY_bits"] - i_ty) <= I_TOLERANCE_BITS + 3 * r["I_TY_bits_se"], name
    assert abs(r["I_TY_bayes_bits"] - i_ty) <= I_TOLERANCE_BITS + 3 * r["I_TY_bayes_bits_se"], name
    if name in ("label_first_unit", "smooth_chain_label", "label_mixture"):  # the label matters
        assert i_ty > 5 * I_TOLERANCE_BITS


def test_bayes_estimate_never_exceeds_label_entropy(case):
    _, source, r = case
    assert r["I_TY_bayes_bits"] <= r["H_Y_bits"] + 1e-9
    assert r["I_TY_bayes_negative"] == (r["I_TY_bayes_bits"] < 0)
    assert abs(r["H_Y_bits"] - source.label_entropy_bits()) < 0.05


def test_plugin_estimate_and_bookkeeping(case):
    _, source, r = case
    assert r["H_T_plugin_bits"] <= r["plugin_ceiling_bits"] == np.log2(5000)
    assert r["units"] == source.units and r["n_test"] == 5000
    assert r["n_train"] + r["n_validation"] == CASES[case[0]][1]
    assert np.isclose(r["H_T_bits_per_unit"] * source.units, r["H_T_bits"])
    for fitted in (r["fit_marginal"], r["fit_conditional"]):
        assert 0 <= fitted["best_epoch"] <= fitted["epochs"] <= CONFIG.max_epochs
        assert fitted["train_nll_bits"] > 0 and fitted["val_nll_bits"] > 0
    assert set(r["bayes_exponents"]) == {"q_t_given_y", "c_t_given_y", "probe"}
    assert all(0.0 <= b <= 2.0 for b in r["bayes_exponents"].values())
    assert r["I_TY_probe_bits"] <= r["H_Y_bits"] + 1e-9


def test_the_networks_alone_still_give_every_estimate():
    """count_model=0, probe=0: q* and q' mix the networks only, the posterior is q_c's."""
    rng = np.random.default_rng(1)
    source = sources.smooth_chain(4, 3, 2, rng, separation=1.0)
    train, test = source.sample(500, rng), source.sample(200, rng)
    config = EstimatorConfig(channels=8, max_epochs=2, count_model=False, probe=False)
    r = estimate_information(*train, *test, bins=3, num_labels=2, config=config, seed=5,
                             log=lambda line: None)
    assert list(r["bayes_exponents"]) == ["q_t_given_y"] and "I_TY_probe_bits" not in r
    assert set(r["marginal_weights"]) == {"q_t", "q_mix"}
    assert np.isfinite([r["H_T_bits"], r["H_T_given_Y_bits"], r["I_TY_bayes_bits"]]).all()


def test_same_seed_same_estimate():
    rng = np.random.default_rng(0)
    source = sources.smooth_chain(4, 3, 2, rng, separation=1.0)
    train, test = source.sample(500, rng), source.sample(200, rng)
    config = EstimatorConfig(channels=8, max_epochs=2)
    first, second = (estimate_information(*train, *test, bins=3, num_labels=2, config=config,
                                          seed=5, log=lambda line: None) for _ in range(2))
    assert first["H_T_bits"] == second["H_T_bits"]
    assert first["I_TY_bayes_bits"] == second["I_TY_bayes_bits"]


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "train_codes": a["train_codes"][:, :3]}, "units"),
    (lambda a: {**a, "test_labels": a["test_labels"][:-1]}, "expected codes"),
    (lambda a: {**a, "train_codes": a["train_codes"] + 3}, "codes outside"),
    (lambda a: {**a, "test_labels": a["test_labels"] + 2}, "labels outside"),
])
def test_inconsistent_inputs_are_refused(change, message):
    rng = np.random.default_rng(0)
    source = sources.smooth_chain(4, 3, 2, rng)
    (train_codes, train_labels), (test_codes, test_labels) = (source.sample(50, rng),
                                                              source.sample(20, rng))
    arrays = change(dict(train_codes=train_codes, train_labels=train_labels,
                         test_codes=test_codes, test_labels=test_labels))
    with pytest.raises(ValueError, match=message):
        estimate_information(**arrays, bins=3, num_labels=2, log=lambda line: None)


def test_overrides_parse_each_field_by_its_type():
    from infoplane.estimate import with_overrides
    config = with_overrides(CONFIG, "channels=8,lr=0.5,count_model=0,count_all_train=true")
    assert (config.channels, config.lr, config.count_model, config.count_all_train) == \
        (8, 0.5, False, True)
    with pytest.raises(ValueError, match="count_model takes"):
        with_overrides(CONFIG, "count_model=maybe")
