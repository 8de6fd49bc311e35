"""The estimator against sources whose entropies are exactly computable.

Each source is built so that ignoring what the estimator must capture (dependence between
units, or the label) would miss the truth by far more than the tolerance: the tests check
that margin too, so a broken estimator cannot pass by luck."""
import numpy as np
import pytest

from infoplane import sources
from infoplane.entropy import categorical_entropy_bits
from infoplane.estimate import EstimatorConfig, check_config, estimate_information, with_overrides

CONFIG = EstimatorConfig(hidden=32, max_epochs=60, patience=3)
H_RELATIVE_TOLERANCE = 0.02   # of H(T) and H(T|Y), plus 3 standard errors
I_TOLERANCE_BITS = 0.12       # of I(T;Y), plus 3 standard errors


def independent_entropy_bits(source) -> float:
    """sum_i H(t_i): what a model that ignores the dependence between units would find."""
    if isinstance(source, sources.LatentClassSource):
        marginals = np.einsum("c,cdk->dk", source.prior, source.theta)
        return sum(float(categorical_entropy_bits(m)) for m in marginals)
    if isinstance(source, sources.LabelledTreeSource):
        marginals = sum(p_y * source.unit_marginals_given_label(y)
                        for y, p_y in enumerate(source.prior))
        return sum(float(categorical_entropy_bits(m)) for m in marginals)
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
    # dense dependence through a latent class, with no unit order: no first-order chain
    # or label mixture represents it, nor does the estimator's own family exactly
    "latent_classes": (lambda rng: _latent_classes(8, 4, 4, 8, rng), 15000),
    # sparse dependence along a random tree whose order the stored unit order hides
    "shuffled_tree": (lambda rng: _random_tree(10, 4, 3, rng), 15000),
}


def _random_tree(units, bins, num_labels, rng):
    """The label picks the root's code distribution; every edge has one random table."""
    order = rng.permutation(units)
    parents = np.full(units, -1)
    for position in range(1, units):
        parents[order[position]] = order[rng.integers(0, position)]
    tables = rng.dirichlet(np.full(bins, 0.3), (1, units, bins))
    return sources.LabelledTreeSource(np.full(num_labels, 1 / num_labels), order, parents,
                                      rng.dirichlet(np.full(bins, 0.1), num_labels),
                                      np.repeat(tables, num_labels, axis=0))


def _latent_classes(units, bins, num_labels, classes, rng):
    return sources.LatentClassSource(rng.dirichlet(np.ones(classes)),
                                     rng.dirichlet(np.full(num_labels, 0.1), classes),
                                     rng.dirichlet(np.full(bins, 0.3), (classes, units)))


def exact(source, key):
    """H_T, H_T_given_Y or I_TY of a source, and its Monte Carlo standard error (0: exact)."""
    if isinstance(source, (sources.LatentClassSource, sources.LabelledTreeSource)):
        if not hasattr(source, "_truth"):
            source._truth = source.entropies_bits(np.random.default_rng(11), 200_000)
        return source._truth[key], source._truth[f"{key}_se"]
    if key == "H_T":
        return source.entropy_bits()
    if key == "H_T_given_Y":
        return source.conditional_entropy_bits(), 0.0
    return source.mutual_information_bits()


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
    h_t, se = exact(source, "H_T")
    assert abs(r["H_T_bits"] - h_t) <= H_RELATIVE_TOLERANCE * h_t + 3 * (r["H_T_bits_se"] + se)
    assert r["I_XT_bits"] == r["H_T_bits"]
    if name != "independent":  # the units' dependence matters here, and was captured
        assert independent_entropy_bits(source) - h_t > 3 * H_RELATIVE_TOLERANCE * h_t


def test_conditional_entropy_matches_exact_value(case):
    name, source, r = case
    h_t_y, se = exact(source, "H_T_given_Y")
    assert abs(r["H_T_given_Y_bits"] - h_t_y) <= \
        H_RELATIVE_TOLERANCE * h_t_y + 3 * (r["H_T_given_Y_bits_se"] + se), name


def test_information_estimate_matches_exact_value(case):
    name, source, r = case
    i_ty, se = exact(source, "I_TY")
    assert abs(r["I_TY_bits"] - i_ty) <= I_TOLERANCE_BITS + 3 * (r["I_TY_bits_se"] + se), name
    assert r["I_TY_bits"] == pytest.approx(r["I_TY_bayes_bits"], abs=1e-9)  # one number
    if name in ("label_first_unit", "smooth_chain_label", "label_mixture",
                "latent_classes", "shuffled_tree"):  # the label matters
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
    fitted = r["fit"]
    assert 1 <= fitted["best_epoch"] < fitted["epochs"] < CONFIG.max_epochs
    assert fitted["stopped_early"]  # converged, not cut off by the cap
    assert fitted["train_nll_bits"] > 0 and fitted["val_nll_bits"] > 0
    assert r["I_TY_probe_bits"] <= r["H_Y_bits"] + 1e-9


def test_paired_flag_adds_the_original_two_model_estimate():
    rng = np.random.default_rng(1)
    source = sources.smooth_chain(4, 3, 2, rng, separation=1.0)
    train, test = source.sample(500, rng), source.sample(200, rng)
    config = EstimatorConfig(hidden=8, max_epochs=2, paired=True, probe=False)
    r = estimate_information(*train, *test, bins=3, num_labels=2, config=config, seed=5,
                             log=lambda line: None)
    assert "I_TY_probe_bits" not in r and r["fit_unconditional"]["epochs"] <= 2
    assert r["I_TY_paired_bits"] == pytest.approx(
        r["H_T_unconditional_model_bits"] - r["H_T_given_Y_conditional_model_bits"], abs=1e-6)


def test_the_label_mixture_and_the_two_posteriors_fit_together():
    """H(T) is the cross-entropy of q_mix(t) = sum_y p(y) q(t|y), so H(T) minus E[-log2
    q(t|y)] is the Bayes posterior's information exactly; the reported I(T;Y) is one of the
    two posteriors, named in the result, and H(T|Y) = H(T) - I(T;Y)."""
    rng = np.random.default_rng(3)
    source = sources.label_mixture(5, 4, 3, rng, shared=0.0)
    train, test = source.sample(1500, rng), source.sample(400, rng)
    r = estimate_information(*train, *test, bins=4, num_labels=3,
                             config=EstimatorConfig(hidden=8, max_epochs=3, probe=False),
                             seed=0, log=lambda line: None)
    assert r["I_TY_conditional_model_bits"] == pytest.approx(
        r["H_T_bits"] - r["H_T_given_Y_conditional_model_bits"], abs=1e-6)
    chosen = {"classifier": "I_TY_classifier_bits",
              "conditional_model": "I_TY_conditional_model_bits"}[r["label_posterior"]]
    assert r["I_TY_bits"] == r["I_TY_bayes_bits"] == r[chosen]
    assert r["H_T_given_Y_bits"] == pytest.approx(r["H_T_bits"] - r["I_TY_bits"], abs=1e-9)


def test_scored_test_codes_do_not_change_any_fitted_choice():
    """Early stopping and the probe use the validation split only: other test codes leave
    the fitted model (its history) unchanged."""
    rng = np.random.default_rng(2)
    source = sources.smooth_chain(5, 4, 3, rng, separation=1.0)
    train = source.sample(800, rng)
    config = EstimatorConfig(hidden=8, max_epochs=4)
    runs = [estimate_information(*train, *source.sample(300, rng), bins=4, num_labels=3,
                                 config=config, seed=1, log=lambda line: None)
            for _ in range(2)]
    assert runs[0]["fit"]["val_nll_bits"] == runs[1]["fit"]["val_nll_bits"]
    assert runs[0]["fit"]["best_epoch"] == runs[1]["fit"]["best_epoch"]
    assert runs[0]["probe_penalty"] == runs[1]["probe_penalty"]
    assert runs[0]["H_T_bits"] != runs[1]["H_T_bits"]


def test_subsets_are_random_draws_with_representative_labels():
    """test_subset draws at random: a sorted test set (labels in blocks) keeps its label
    frequencies in the subset, within sampling error."""
    rng = np.random.default_rng(3)
    source = sources.label_in_first_unit(4, 4, 4, rng)
    train = source.sample(400, rng)
    codes, labels = source.sample(4000, rng)
    order = np.argsort(labels, kind="stable")  # the first 1000 rows would all be label 0
    config = EstimatorConfig(hidden=4, max_epochs=1, test_subset=1000, probe=False)
    r = estimate_information(*train, codes[order], labels[order], bins=4, num_labels=4,
                             config=config, seed=0, log=lambda line: None)
    # H(Y) of the scored labels under the prior: about log2 4 when all labels appear
    assert r["n_test"] == 1000 and abs(r["H_Y_bits"] - 2.0) < 0.1


def test_same_seed_same_estimate():
    rng = np.random.default_rng(0)
    source = sources.smooth_chain(4, 3, 2, rng, separation=1.0)
    train, test = source.sample(500, rng), source.sample(200, rng)
    config = EstimatorConfig(hidden=8, max_epochs=2)
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
    config = with_overrides(CONFIG, "hidden=8,lr=0.5,paired=1,probe=false")
    assert (config.hidden, config.lr, config.paired, config.probe) == (8, 0.5, True, False)
    with pytest.raises(ValueError, match="paired takes"):
        with_overrides(CONFIG, "paired=maybe")


@pytest.mark.parametrize("override, field", [
    ("max_epochs=-3", "max_epochs"), ("max_epochs=0", "max_epochs"),
    ("max_epochs=abc", "max_epochs"),
    ("lr=nan", "lr"), ("lr=-1", "lr"), ("lr=0", "lr"), ("lr=inf", "lr"),
    ("train_subset=-5", "train_subset"), ("test_subset=-1", "test_subset"),
    ("batch_size=0", "batch_size"), ("eval_batch_size=0", "eval_batch_size"),
    ("hidden=0", "hidden"), ("rank=0", "rank"), ("patience=0", "patience"),
    ("lr_decay=0", "lr_decay"), ("lr_decay=1.5", "lr_decay"),
    ("min_improvement=-0.1", "min_improvement"), ("min_improvement=1", "min_improvement"),
    ("validation_fraction=0", "validation_fraction"),
    ("validation_fraction=1", "validation_fraction"), ("label_lr=0", "label_lr"),
])
def test_bad_settings_are_refused_naming_the_field(override, field):
    with pytest.raises(ValueError, match=f"^{field} "):
        with_overrides(CONFIG, override)


def test_every_preset_passes_its_own_checks():
    from infoplane.estimate import PRESETS
    for config in PRESETS.values():
        check_config(config)
