"""Information-plane coordinates of one layer from its binned activations.

One conditional density q(t | y) over the layer's codes (models/dense.py: every unit sees
all earlier units through a running sum and a direct pairwise term, and the label) is
fitted by maximum likelihood on the training codes outside a random validation split,
with early stopping on its validation NLL; the parameters scored are a running average of
Adam's iterates. With p(y) the (add-one smoothed) training label frequencies, its label
mixture q(t) = sum_y p(y) q(t | y) is the density of the codes: a layer's codes are
class-structured, and each class's density no longer has to infer the class from the
codes. The label's factor q(y | t) of the joint q(t, y) = q(t) q(y | t) is whichever
predicts the validation labels better of two posteriors: the conditional model's own,
q_B(y | t) = p(y) q(t | y) / q(t), and a classifier fitted separately (models/label.py:
one hidden layer on where every unit's code lies on the activation scale). Every
fitted choice (early stopping, the posterior, the probe's penalty) uses the validation
split, never the test codes. The units are visited in the order in which they are stored;
every entropy below is invariant to the order. On the test codes:

    H_T_bits          = E[-log2 q(t)]                    >= H(T): a cross-entropy;
    I_XT_bits         = H_T_bits                         (T is a deterministic function of X);
    I_TY_bits         = E[log2 q(y | t) - log2 p(y)]     a Barber-Agakov lower bound on
                        I(T; Y) in expectation, at most E[-log2 p(y)] ~ H(Y); the same
                        number is stored as I_TY_bayes_bits, and which posterior gave it
                        as label_posterior;
    H_T_given_Y_bits  = H_T_bits - I_TY_bits = E[-log2 q(t, y)] - E[-log2 p(y)]: an upper
                        bound on H(T | Y) = H(T, Y) - H(Y), up to the label prior's own
                        cross-entropy error (KL(p || p_train), ~1e-4 bits for MNIST);
    I_TY_conditional_model_bits, I_TY_classifier_bits: the bound of each posterior;
    H_T_given_Y_conditional_model_bits = E[-log2 q(t | y)] >= H(T | Y), a second bound;
                        H_T_bits minus it is I_TY_conditional_model_bits exactly;
    I_TY_probe_bits   = E[log2 r(y | t) - log2 p(y)], the linear probe (infoplane/probe.py),
                        a baseline reported beside the estimate (the same kind of bound);
    H_T_plugin_bits   = entropy of the test codes' empirical distribution (<= log2 N_test);
    I_TY_plugin_bits  = the plug-in I(T; Y) of the test codes (the count estimate, which
                        tends to the sample's label entropy once every code is distinct).
With `paired` the original's two-model estimate is computed too: an unconditional model
q'(t) fitted the same way, H_T_unconditional_model_bits = E[-log2 q'(t)] and
I_TY_paired_bits = that minus H_T_given_Y_conditional_model_bits, a difference of two
bounds that bounds nothing. Each estimate comes with its standard error over test
examples (suffix _se; it covers test sampling only: the spread over fit seeds comes from
several fits, generator.py --seeds, infoplane/results.py), in bits per example;
*_per_unit keys divide by the number of units.
"""
import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from infoplane import entropy, fit, probe
from infoplane.ranges import check_ranges
from models import DenseAutoregressive, LabelPosterior


@dataclass(frozen=True)
class EstimatorConfig:
    hidden: int = 64                # width of the running sum h_i (models/dense.py)
    rank: int = 8                   # size of the shared code and output bases
    direct_rank: int = 4            # rank of the direct pairwise term W_ji (0: none)
    batch_size: int = 128           # examples per Adam step
    lr: float = 1e-2                # Adam learning rate
    lr_decay: float = 0.5           # after an epoch without improvement: back to the best
                                    # state, learning rate times this
    max_epochs: int = 50            # a cap that a converging fit should not reach
    patience: int = 2               # epochs in a row without improvement before stopping
    min_improvement: float = 0.0    # a validation gain below this fraction of the best
                                    # validation NLL is no improvement
    validation_fraction: float = 0.1  # of the training codes, held out for every choice
    train_subset: int = 0           # a seeded random draw of this many training codes (0: all)
    test_subset: int = 0            # a seeded random draw of this many test codes (0: all)
    probe: bool = True              # fit the linear probe baseline (I_TY_probe_bits)
    label_hidden: int = 64          # tanh units of the label's classifier q(y|t)
    label_lr: float = 0.5           # its Adam learning rate times its 2 D input features
                                    # (1e-3 at 256 units): the logits move by about the
                                    # rate times the fan-in per step, whatever the width
    label_max_epochs: int = 300     # its cap (an epoch costs O(D H) per example: cheap)
    paired: bool = False            # also fit q(t): the original's two-model estimate
    averaging: float = 0.998        # cap on the per-step decay of the parameter average
                                    # that is scored and kept (0: the last step's
                                    # parameters); the decay at step s is min(cap,
                                    # (1 + s) / (10 + s)), so fits shorter than about
                                    # 9 / (1 - cap) steps never reach the cap
    eval_batch_size: int = 512      # examples per evaluation forward pass


PRESETS = {
    # CPU demo: all codes; an epoch that gains less than 0.5 % of the NLL ends the gains.
    "quick": EstimatorConfig(min_improvement=0.005, max_epochs=30),
    # GPU: the same model, stopping only when validation stops improving. (A wider model,
    # H = 128, rank 16, direct rank 8, over-fits the realistic sources sooner: README.)
    "full": EstimatorConfig(max_epochs=200),
}


_RANGES = {  # field: (low, high, low excluded, high excluded); None: unbounded
    "hidden": (1, None, False, False), "rank": (1, None, False, False),
    "direct_rank": (0, None, False, False),
    "batch_size": (1, None, False, False), "lr": (0.0, None, True, False),
    "lr_decay": (0.0, 1.0, True, False), "max_epochs": (1, None, False, False),
    "patience": (1, None, False, False), "min_improvement": (0.0, 1.0, False, True),
    "validation_fraction": (0.0, 1.0, True, True), "train_subset": (0, None, False, False),
    "test_subset": (0, None, False, False), "label_hidden": (1, None, False, False),
    "label_lr": (0.0, None, True, False), "label_max_epochs": (1, None, False, False),
    "eval_batch_size": (1, None, False, False), "averaging": (0.0, 1.0, False, True),
}


def check_config(config: EstimatorConfig) -> None:
    """A ValueError naming the first field outside its range (or not finite)."""
    check_ranges(config, _RANGES)


def with_overrides(config: EstimatorConfig, overrides: str) -> EstimatorConfig:
    """Apply 'name=value,name=value' to a config, each value parsed as its field's type."""
    if not overrides:
        return config
    fields = {f.name: f for f in dataclasses.fields(EstimatorConfig)}
    changes = {}
    for item in overrides.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in fields or not value:
            raise ValueError(f"expected name=value with name in {sorted(fields)}, got {item!r}")
        kind = type(getattr(config, name))
        if kind is bool:
            if value.lower() not in ("0", "1", "true", "false"):
                raise ValueError(f"{name} takes 0/1/true/false, got {value!r}")
            changes[name] = value.lower() in ("1", "true")
        else:
            try:
                changes[name] = kind(value)
            except ValueError:
                raise ValueError(f"{name} takes a{'n integer' if kind is int else ' number'}, "
                                 f"got {value!r}") from None
    changed = dataclasses.replace(config, **changes)
    check_config(changed)
    return changed


def _check_codes(codes, labels, bins: int, num_labels: int, split: str) -> None:
    if codes.ndim != 2 or labels.ndim != 1 or len(codes) != len(labels) or not len(codes):
        raise ValueError(f"{split}: expected codes (N, D) and labels (N,), got "
                         f"{codes.shape} and {labels.shape}")
    if codes.min() < 0 or codes.max() >= bins:
        raise ValueError(f"{split} codes outside [0, {bins})")
    if labels.min() < 0 or labels.max() >= num_labels:
        raise ValueError(f"{split} labels outside [0, {num_labels})")


def _summary(prefix: str, per_example: np.ndarray, units: int) -> dict:
    mean, se = entropy.mean_and_standard_error(per_example)
    return {f"{prefix}_bits": mean, f"{prefix}_bits_se": se,
            f"{prefix}_bits_per_unit": mean / units, f"{prefix}_bits_per_unit_se": se / units}


def estimate_information(train_codes: np.ndarray, train_labels: np.ndarray,
                         test_codes: np.ndarray, test_labels: np.ndarray, *, bins: int,
                         num_labels: int, config: EstimatorConfig = EstimatorConfig(),
                         device: str = "cpu", seed: int = 0, log=print) -> dict:
    """Fit q(t, y) = q(t) q(y | t) on (train_codes (N, D) ints in [0, bins), train_labels
    (N,) in [0, num_labels)) and return the estimates of the module doc on the test codes."""
    start = time.time()
    check_config(config)
    train_codes, test_codes = np.asarray(train_codes), np.asarray(test_codes)
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    _check_codes(train_codes, train_labels, bins, num_labels, "train")
    _check_codes(test_codes, test_labels, bins, num_labels, "test")
    if train_codes.shape[1] != test_codes.shape[1]:
        raise ValueError(f"train codes have {train_codes.shape[1]} units, test codes "
                         f"{test_codes.shape[1]}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_codes))[:config.train_subset or None]
    n_val = max(1, int(round(config.validation_fraction * len(order))))
    if len(order) - n_val < 1:
        raise ValueError("need at least two training examples")
    scored = np.sort(rng.permutation(len(test_codes))[:config.test_subset or None])
    test_codes, test_labels = test_codes[scored], test_labels[scored]
    units = train_codes.shape[1]

    def tensor(array):
        return torch.as_tensor(np.asarray(array, dtype=np.int64), device=device)

    fitting = (tensor(train_codes[order[n_val:]]), tensor(train_labels[order[n_val:]]))
    validation = (tensor(train_codes[order[:n_val]]), tensor(train_labels[order[:n_val]]))
    codes = tensor(test_codes)  # (N_test, D)
    settings = dict(lr=config.lr, batch_size=config.batch_size, max_epochs=config.max_epochs,
                    patience=config.patience, min_improvement=config.min_improvement,
                    lr_decay=config.lr_decay, eval_batch_size=config.eval_batch_size, seed=seed,
                    averaging=config.averaging)

    def fitted(model, tag: str, with_labels: bool, **changes):
        history = fit.fit_model(model.to(device), fitting, validation, with_labels=with_labels,
                                log=lambda line: log(f"{tag} {line}"), **{**settings, **changes})
        return model, history

    torch.manual_seed(seed)
    density = DenseAutoregressive(units, bins, config.hidden, num_labels, config.rank,
                                  config.direct_rank)
    fit.initialise_unit_logits(density, fitting[0])
    density, density_fit = fitted(density, "q(t|y)", with_labels=True)
    torch.manual_seed(seed)
    classifier = LabelPosterior(units, bins, num_labels, config.label_hidden)
    classifier.set_feature_means(fitting[0])
    classifier, label_fit = fitted(classifier, "q(y|t)", with_labels=True,
                                   lr=config.label_lr / (2 * units),
                                   max_epochs=config.label_max_epochs)
    log_prior = entropy.label_log_prior_nats(train_labels, num_labels)

    def posterior_information_bits(data_codes, data_labels):
        """Per-example log2 q(y|t) - log2 p(y) of the density's posterior and of the
        classifier, and the density's log q(t|y) for every label (N, L), in nats."""
        every_label = fit.every_label_log_prob_nats(density, data_codes, config.eval_batch_size)
        classified = fit.label_posterior_nats(classifier, data_codes, config.eval_batch_size)
        return (entropy.bayes_information_bits(every_label, data_labels, log_prior),
                entropy.bayes_information_bits(classified - log_prior, data_labels, log_prior),
                every_label)

    # the label's factor: whichever posterior predicts the validation labels better
    conditional_val, classifier_val, _ = posterior_information_bits(
        validation[0], validation[1].cpu().numpy())
    use_classifier = classifier_val.mean() > conditional_val.mean()
    i_ty_conditional, i_ty_classifier, every_label = posterior_information_bits(codes,
                                                                                test_labels)
    i_ty = i_ty_classifier if use_classifier else i_ty_conditional
    h_t = entropy.nats_to_bits(-entropy.label_mixture_log_prob_nats(every_label, log_prior))
    h_t_given_y = entropy.nats_to_bits(-every_label[np.arange(len(codes)), test_labels])
    h_y, h_y_se = entropy.mean_and_standard_error(entropy.nats_to_bits(-log_prior[test_labels]))

    result = {"units": units, "bins": bins, "num_labels": num_labels,
              "n_train": len(order) - n_val, "n_validation": n_val, "n_test": len(test_codes)}
    result.update(_summary("H_T", h_t, units))
    result.update(_summary("I_XT", h_t, units))
    result.update(_summary("H_T_given_Y", h_t - i_ty, units))
    result.update(_summary("I_TY", i_ty, units))
    result.update(_summary("I_TY_bayes", i_ty, units))
    result.update(_summary("I_TY_conditional_model", i_ty_conditional, units))
    result.update(_summary("I_TY_classifier", i_ty_classifier, units))
    result.update(_summary("H_T_given_Y_conditional_model", h_t_given_y, units))
    result["label_posterior"] = "classifier" if use_classifier else "conditional_model"
    result["I_TY_bayes_negative"] = bool(result["I_TY_bayes_bits"] < 0)
    result["fit"], result["fit_label"] = density_fit, label_fit
    result.update({key: density_fit[key] for key in ("epochs", "best_epoch", "stopped_early")})
    if config.paired:
        torch.manual_seed(seed)
        marginal = DenseAutoregressive(units, bins, config.hidden, 0, config.rank,
                                       config.direct_rank)
        fit.initialise_unit_logits(marginal, fitting[0])
        marginal, result["fit_unconditional"] = fitted(marginal, "q(t)", with_labels=False)
        h_t_unconditional = entropy.nats_to_bits(-fit.log_prob_nats(
            marginal, codes, None, config.eval_batch_size))
        result.update(_summary("H_T_unconditional_model", h_t_unconditional, units))
        result.update(_summary("I_TY_paired", h_t_unconditional - h_t_given_y, units))
    if config.probe:
        probed = time.time()
        linear_probe = probe.fit_probe(*fitting, *validation, num_labels, bins)
        result.update(_summary("I_TY_probe", entropy.bayes_information_bits(
            linear_probe.log_posterior_nats(codes) - log_prior, test_labels, log_prior),
            units))
        result["probe_penalty"] = linear_probe.penalty
        log(f"probe {time.time() - probed:.1f} s")
    result.update({"H_Y_bits": h_y, "H_Y_bits_se": h_y_se,
                   "H_T_plugin_bits": entropy.plugin_entropy_bits(test_codes),
                   "I_TY_plugin_bits": entropy.plugin_information_bits(test_codes, test_labels),
                   "plugin_ceiling_bits": math.log2(len(test_codes)),
                   "seconds": round(time.time() - start, 2), "device": str(device),
                   "estimator": dataclasses.asdict(config), "seed": seed})
    return result
