"""Information-plane coordinates of one layer from its binned activations.

One conditional density q(t | y) (models/dense.py: every unit sees all earlier units) is
fitted by maximum likelihood on the training codes outside a random validation split,
with early stopping on that split. With p(y) the (add-one smoothed) training label
frequencies and q_mix(t) = sum_y p(y) q(t | y), on the test codes:

    H_T_bits          = E[-log2 q_mix(t)]      >= H(T): a cross-entropy, an upper bound;
    I_XT_bits         = H_T_bits               (T is a deterministic function of X);
    H_T_given_Y_bits  = E[-log2 q(t | y)]      >= H(T | Y), likewise;
    I_TY_bits         = H_T - H_T_given_Y = E[log2 q(y | t) - log2 p(y)] with the model's
                        own posterior q(y | t) = p(y) q(t | y) / q_mix(t): per example the
                        same number as I_TY_bayes_bits, a Barber-Agakov lower bound on
                        I(T; Y) in expectation, at most E[-log2 p(y)] ~ H(Y);
    I_TY_probe_bits   = E[log2 r(y | t) - log2 p(y)], the linear probe (infoplane/probe.py),
                        a baseline reported beside the estimate (the same kind of bound);
    H_T_plugin_bits   = entropy of the test codes' empirical distribution (<= log2 N_test).
With `paired` the original's estimate is computed too: a second, label-free model q(t)
fitted the same way, H_T_marginal_model_bits = E[-log2 q(t)] (an upper bound on H(T)) and
I_TY_paired_bits = that minus H_T_given_Y_bits, a difference of two bounds that bounds
nothing. Each estimate comes with its standard error over test examples (suffix _se), in
bits per example; *_per_unit keys divide by the number of units. Every fitted choice
(early stopping, the probe's penalty) uses the validation split, never the test codes.
"""
import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from infoplane import entropy, fit, probe
from models import DenseAutoregressive


@dataclass(frozen=True)
class EstimatorConfig:
    hidden: int = 64                # width of the running sum h_i (models/dense.py)
    rank: int = 8                   # size of the shared code and output bases
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
    paired: bool = False            # also fit a label-free q(t): the original's paired estimate
    eval_batch_size: int = 512      # examples per evaluation forward pass


PRESETS = {
    # CPU demo: all codes; an epoch that gains less than 0.5 % of the NLL ends the gains.
    "quick": EstimatorConfig(min_improvement=0.005, max_epochs=30),
    # GPU: all codes, a wider model, stopping only when validation stops improving.
    "full": EstimatorConfig(hidden=128, rank=16, batch_size=256, lr=5e-3, max_epochs=200,
                            patience=4),
}


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
            changes[name] = kind(value)
    return dataclasses.replace(config, **changes)


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
    """Fit q(t | y) on (train_codes (N, D) ints in [0, bins), train_labels (N,) in
    [0, num_labels)) and return the estimates of the module doc on the test codes."""
    start = time.time()
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
                    lr_decay=config.lr_decay, eval_batch_size=config.eval_batch_size, seed=seed)

    def fitted(labels: int, tag: str):
        torch.manual_seed(seed)
        model = DenseAutoregressive(units, bins, config.hidden, labels, config.rank).to(device)
        fit.initialise_unit_logits(model, fitting[0])
        history = fit.fit_model(model, fitting, validation, with_labels=labels > 0,
                                log=lambda line: log(f"{tag} {line}"), **settings)
        return model, history

    conditional, conditional_fit = fitted(num_labels, "q(t|y)")
    log_prior = entropy.label_log_prior_nats(train_labels, num_labels)
    rows = np.arange(len(test_labels))
    every = fit.log_prob_every_label_nats(conditional, codes, config.eval_batch_size)  # (N, L)
    h_t = entropy.nats_to_bits(-entropy.label_mixture_log_prob_nats(every, log_prior))
    h_t_given_y = entropy.nats_to_bits(-every[rows, test_labels])
    h_y, h_y_se = entropy.mean_and_standard_error(entropy.nats_to_bits(-log_prior[test_labels]))

    result = {"units": units, "bins": bins, "num_labels": num_labels,
              "n_train": len(order) - n_val, "n_validation": n_val, "n_test": len(test_codes)}
    result.update(_summary("H_T", h_t, units))
    result.update(_summary("I_XT", h_t, units))
    result.update(_summary("H_T_given_Y", h_t_given_y, units))
    result.update(_summary("I_TY", h_t - h_t_given_y, units))
    result.update(_summary("I_TY_bayes", entropy.bayes_information_bits(
        every, test_labels, log_prior), units))
    result["I_TY_bayes_negative"] = bool(result["I_TY_bayes_bits"] < 0)
    result["fit_conditional"] = conditional_fit
    result.update({key: conditional_fit[key] for key in ("epochs", "best_epoch", "stopped_early")})
    if config.paired:
        marginal, result["fit_marginal"] = fitted(0, "q(t)")
        h_t_marginal = entropy.nats_to_bits(-fit.log_prob_nats(
            marginal, codes, None, config.eval_batch_size))
        result.update(_summary("H_T_marginal_model", h_t_marginal, units))
        result.update(_summary("I_TY_paired", h_t_marginal - h_t_given_y, units))
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
                   "plugin_ceiling_bits": math.log2(len(test_codes)),
                   "seconds": round(time.time() - start, 2), "device": str(device),
                   "estimator": dataclasses.asdict(config), "seed": seed})
    return result
