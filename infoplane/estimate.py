"""Information-plane coordinates of one layer from its binned activations.

Two autoregressive models are fitted on the training codes, q(t) and q(t | y), from the
same initial weights (the label inputs of q(t | y) start at zero, so both start as the same
independent-units model) and in lockstep on the same batches (infoplane/fit.py), so that
their difference reflects the label, not unequal training. Beside them, count-based
first-order densities c(t) and c(t | y) (infoplane/counts.py) are built from all training
codes outside the validation split. On the test codes:

    H_T_bits          = E[-log2 q*(t)]       >= H(T): an upper bound (cross-entropy), with
                        q* = w1 q(t) + w2 q_mix(t) + w3 c(t) + w4 c_mix(t), q_mix(t) =
                        sum_y p(y) q(t | y) and c_mix likewise: densities for t that win
                        where the label organises T (a mixture over labels is hard for q(t)
                        to find) or where first-order structure is all there is;
    I_XT_bits         = H_T_bits               (T is a deterministic function of X);
    H_T_given_Y_bits  = E[-log2 q'(t | y)]   >= H(T | Y), q' = v1 q_c(t | y) + v2 c(t | y)
                        + v3 q(t) + v4 c(t), q_c the conditional model with its label effects
                        times c (label_scale): a conditional model that fitted worse than
                        q(t) (labels that carry nothing; an unconverged fit) cannot put
                        H(T | Y) above H(T);
    I_TY_bits         = H_T - H_T_given_Y      paired difference: bounds nothing;
    I_TY_bayes_bits   = E[log2 q(y | t) - log2 p(y)],
                        q(y | t) ~ p(y) q_c(t | y)^b1 c(t | y)^b2 (r(y | t) / p(y))^b3,
                        r the linear probe (infoplane/probe.py), the exponents
                        (bayes_exponents) fitted on the validation split:
                        at most H(Y), a lower bound on I(T; Y) up to the test-set error
                        (Barber & Agakov), negative only when q(y | t) is worse than p(y);
    I_TY_probe_bits   = E[log2 r(y | t) - log2 p(y)], the probe alone (the same bound);
    H_T_plugin_bits   = entropy of the test codes' empirical distribution (<= log2 N_test).
c (label_scale), the count model's smoothing, the probe's penalty, the weights w and v (EM,
infoplane/entropy.py) and the exponents b are chosen on the validation split; every choice
gives a proper density or classifier, so the bounds stay bounds. Each estimate comes with its
standard error over test examples (suffix _se), in bits per example; *_per_unit keys divide
by the number of units.
"""
import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from infoplane import counts, entropy, fit, probe
from models import AutoregressiveDensity


@dataclass(frozen=True)
class EstimatorConfig:
    channels: int = 64              # width of the gated convolution stack
    kernel_size: int = 2            # taps per causal convolution
    stacks: int = 1                 # repeats of the dilation cycle 1, k, k^2, ... covering D
    label_rank: int = 0             # dimensions of the label's per-unit effect on the logits
                                    # (0: num_labels - 1, any per-unit effect)
    batch_size: int = 128           # examples per Adam step
    lr: float = 1e-3                # Adam learning rate
    label_lr_scale: float = 1.0     # the label parameters' learning rate, relative to lr
    lr_decay: float = 0.5           # after an epoch without improvement: back to the best
                                    # state, learning rate times this (1: no change)
    neighbour_lr_scale: float = 1.0  # the previous-unit table's learning rate, relative to lr
    count_model: bool = True        # mix the count-based densities (infoplane/counts.py)
                                    # into q* and q' as well
    count_all_train: bool = True    # count (and fit the probe) on all training codes outside
                                    # the validation split, not only on train_subset
    probe: bool = True              # multiply the linear probe r(y | t) (infoplane/probe.py)
                                    # into the Bayes posterior
    max_epochs: int = 40            # per model
    unit_epoch_budget: int = 0      # also stop at this many epochs x units (0: no budget), so
                                    # that a small layer gets more epochs for the same work
    patience: int = 4               # epochs without validation improvement before stopping
    validation_fraction: float = 0.1  # of the training codes, held out for early stopping
    train_subset: int = 0           # use this many training codes (0: all)
    test_subset: int = 0            # use this many test codes (0: all)
    eval_batch_size: int = 256      # examples per evaluation forward pass


PRESETS = {
    # CPU demo: the 18 jobs of the seed configuration in minutes on two cores.
    "quick": EstimatorConfig(channels=16, kernel_size=4, max_epochs=40, unit_epoch_budget=1024,
                             patience=3, batch_size=64, lr=1e-2, train_subset=8000,
                             test_subset=2000, label_lr_scale=0.3),
    # GPU: the whole training and test sets, a wider and deeper model.
    "full": EstimatorConfig(channels=64, stacks=2, max_epochs=60, patience=5, batch_size=128),
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


def _first(array, n):
    return array if n <= 0 else array[:n]


def _summary(prefix: str, per_example: np.ndarray, units: int) -> dict:
    mean, se = entropy.mean_and_standard_error(per_example)
    return {f"{prefix}_bits": mean, f"{prefix}_bits_se": se,
            f"{prefix}_bits_per_unit": mean / units, f"{prefix}_bits_per_unit_se": se / units}


def _log_likelihoods(marginal, conditional, counted, linear_probe, codes, labels, log_prior,
                     batch_size) -> dict:
    """Per-example log-likelihoods in nats of codes (N, D) on the device with numpy labels
    (N,), of the networks (q) and the count model (c, None: left out): q(t); q(t | y) and
    c(t | y) for every label ("every_label", (N, L)) and the true one; q_mix(t) =
    sum_y p(y) q(t | y), and likewise c(t) and c_mix(t); and the probe's likelihood ratio
    log r(y | t) - log p(y) = log r(t | y) - log r(t) for every label (None: left out)."""
    rows = np.arange(len(labels))
    every = fit.log_prob_every_label_nats(conditional, codes, batch_size)  # (N, L)
    out = {"q_t": fit.log_prob_nats(marginal, codes, None, batch_size),
           "q_every_label": every, "q_t_given_y": every[rows, labels],
           "q_mix": entropy.label_mixture_log_prob_nats(every, log_prior)}
    if counted is not None:
        every = counted.log_prob_every_label_nats(codes, batch_size)
        out.update({"c_t": counted.log_prob_nats(codes, batch_size),
                    "c_every_label": every, "c_t_given_y": every[rows, labels],
                    "c_mix": entropy.label_mixture_log_prob_nats(every, log_prior)})
    if linear_probe is not None:
        out["r_every_label"] = linear_probe.log_posterior_nats(codes) - log_prior
    return out


MARGINAL_COMPONENTS = ("q_t", "q_mix", "c_t", "c_mix")
CONDITIONAL_COMPONENTS = ("q_t_given_y", "c_t_given_y", "q_t", "c_t")
BAYES_EXPERTS = {"q_every_label": "q_t_given_y", "c_every_label": "c_t_given_y",
                 "r_every_label": "probe"}  # log-score key: its name in bayes_exponents
COMPONENT_KEYS = {"q_t": "H_T_marginal_model_bits", "q_mix": "H_T_label_mixture_bits",
                  "c_t": "H_T_count_model_bits", "c_mix": "H_T_count_label_mixture_bits",
                  "q_t_given_y": "H_T_given_Y_conditional_model_bits",
                  "c_t_given_y": "H_T_given_Y_count_model_bits"}


def _every_label(log_likelihoods: dict, parts) -> np.ndarray:
    """(N, L, C): each conditional component's log-likelihood of every label (a label-free
    one repeated over labels)."""
    labels = log_likelihoods["q_every_label"].shape[1]
    columns = {"q_t_given_y": log_likelihoods["q_every_label"],
               "c_t_given_y": log_likelihoods.get("c_every_label")}
    return np.stack([columns[k] if k in columns else
                     np.repeat(log_likelihoods[k][:, None], labels, axis=1) for k in parts],
                    axis=2)


def estimate_information(train_codes: np.ndarray, train_labels: np.ndarray,
                         test_codes: np.ndarray, test_labels: np.ndarray, *, bins: int,
                         num_labels: int, config: EstimatorConfig = EstimatorConfig(),
                         device: str = "cpu", seed: int = 0, log=print) -> dict:
    """Fit q(t) and q(t | y) on (train_codes (N, D) ints in [0, bins), train_labels (N,) in
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
    every = rng.permutation(len(train_codes))
    order = every[:config.train_subset or None]
    n_val = max(1, int(round(config.validation_fraction * len(order))))
    if len(order) - n_val < 1:
        raise ValueError("need at least two training examples")
    test_codes, test_labels = (_first(test_codes, config.test_subset),
                               _first(test_labels, config.test_subset))
    units = train_codes.shape[1]

    def tensor(array):
        return torch.as_tensor(np.asarray(array, dtype=np.int64), device=device)

    fit_codes, fit_labels = tensor(train_codes[order[n_val:]]), tensor(train_labels[order[n_val:]])
    val_codes, val_labels = tensor(train_codes[order[:n_val]]), tensor(train_labels[order[:n_val]])
    codes = tensor(test_codes)  # (N_test, D)
    torch.manual_seed(seed)
    architecture = dict(units=units, bins=bins, channels=config.channels,
                        kernel_size=config.kernel_size, stacks=config.stacks)
    conditioning = dict(num_labels=num_labels, label_rank=config.label_rank)

    max_epochs = config.max_epochs
    if config.unit_epoch_budget:
        max_epochs = max(1, min(max_epochs, config.unit_epoch_budget // units))
    marginal = AutoregressiveDensity(**architecture).to(device)
    fit.initialise_unit_logits(marginal, fit_codes)
    conditional = AutoregressiveDensity(**architecture, **conditioning).to(device)
    missing, unexpected = conditional.load_state_dict(marginal.state_dict(), strict=False)
    assert not unexpected and all("label" in key for key in missing)
    marginal_fit, conditional_fit = fit.fit_pair(
        marginal, conditional, (fit_codes, fit_labels), (val_codes, val_labels), seed=seed,
        log=log, lr=config.lr, batch_size=config.batch_size, max_epochs=max_epochs,
        patience=config.patience, eval_batch_size=config.eval_batch_size,
        lr_decay=config.lr_decay, label_lr_scale=config.label_lr_scale,
        neighbour_lr_scale=config.neighbour_lr_scale)
    label_scale = fit.fit_label_scale(conditional, (val_codes, val_labels),
                                      config.eval_batch_size)
    pooled_codes, pooled_labels = ((tensor(train_codes[every[n_val:]]),
                                    tensor(train_labels[every[n_val:]]))
                                   if config.count_all_train else (fit_codes, fit_labels))
    fitted_at = time.time()
    counted = (counts.fit_count_model(pooled_codes, pooled_labels, val_codes, num_labels, bins)
               if config.count_model else None)
    counted_at = time.time()
    linear_probe = (probe.fit_probe(pooled_codes, pooled_labels, val_codes, val_labels,
                                    num_labels, bins) if config.probe else None)
    log(f"count model {counted_at - fitted_at:.1f} s, probe {time.time() - counted_at:.1f} s")
    log_prior = entropy.label_log_prior_nats(train_labels, num_labels)
    val_label_array = train_labels[order[:n_val]]  # val_labels, as numpy
    val, test = (_log_likelihoods(marginal, conditional, counted, linear_probe, split_codes,
                                  split_labels, log_prior, config.eval_batch_size)
                 for split_codes, split_labels in ((val_codes, val_label_array),
                                                   (codes, test_labels)))
    # H(T) from q* = sum_k w_k (q(t), q_mix(t), c(t), c_mix(t)); H(T|Y) from
    # q'(t|y) = sum_k v_k (q(t|y), c(t|y), q(t), c(t)); w and v on validation
    marginal_parts = [k for k in MARGINAL_COMPONENTS if k in val]
    conditional_parts = [k for k in CONDITIONAL_COMPONENTS if k in val]
    marginal_weights = entropy.mixture_weights(np.stack([val[k] for k in marginal_parts], 1))
    conditional_weights = entropy.mixture_weights(
        np.stack([val[k] for k in conditional_parts], 1))
    h_t = entropy.nats_to_bits(-entropy.mixture_log_prob_nats(
        np.stack([test[k] for k in marginal_parts], 1), marginal_weights))
    test_every = entropy.mixture_log_prob_nats(_every_label(test, conditional_parts),
                                               conditional_weights)  # (N, L): log q'(t | y)
    h_t_given_y = entropy.nats_to_bits(-test_every[np.arange(len(test_labels)), test_labels])
    # q(y|t) ~ p(y) q_c(t|y)^b1 c(t|y)^b2 (r(y|t)/p(y))^b3: each classifier adds evidence
    # the others lack (q', whose label-free components flatten the posterior, would not)
    experts = [k for k in BAYES_EXPERTS if k in val]
    exponents = entropy.posterior_exponents([val[k] for k in experts], val_label_array,
                                            log_prior)
    bayes = entropy.bayes_information_bits(
        sum(b * np.maximum(test[k], entropy.LOG_SCORE_FLOOR_NATS)
            for b, k in zip(exponents, experts)), test_labels, log_prior)
    h_y, h_y_se = entropy.mean_and_standard_error(entropy.nats_to_bits(-log_prior[test_labels]))

    result = {"units": units, "bins": bins, "num_labels": num_labels,
              "n_train": len(order) - n_val, "n_validation": n_val, "n_test": len(test_codes)}
    result.update(_summary("H_T", h_t, units))
    result.update(_summary("I_XT", h_t, units))
    result.update(_summary("H_T_given_Y", h_t_given_y, units))
    result.update(_summary("I_TY", h_t - h_t_given_y, units))
    result.update(_summary("I_TY_bayes", bayes, units))
    result["I_TY_bayes_negative"] = bool(result["I_TY_bayes_bits"] < 0)
    result["bayes_exponents"] = {BAYES_EXPERTS[k]: b for k, b in zip(experts, exponents)}
    if linear_probe is not None:  # the probe alone
        result.update(_summary("I_TY_probe", entropy.bayes_information_bits(
            test["r_every_label"], test_labels, log_prior), units))
        result["probe_penalty"] = linear_probe.penalty
    result.update({"label_scale": label_scale,
                   "marginal_weights": dict(zip(marginal_parts, marginal_weights.tolist())),
                   "conditional_weights": dict(zip(conditional_parts,
                                                   conditional_weights.tolist()))})
    for key in marginal_parts + conditional_parts[:2]:  # each component alone
        result[COMPONENT_KEYS[key]] = float(entropy.nats_to_bits(-test[key].mean()))
    if counted is not None:
        result["count_neighbour_units"] = int(torch.isfinite(counted.strengths).sum())
        result["count_label_units"] = int((counted.label_weights > 0).sum())
        result["count_tilted_units"] = int(counted.tilted.sum())
        result["count_label_transition_units"] = int(
            torch.isfinite(counted.transition_strengths).sum())
    result.update({"H_Y_bits": h_y, "H_Y_bits_se": h_y_se,
                   "H_T_plugin_bits": entropy.plugin_entropy_bits(test_codes),
                   "plugin_ceiling_bits": math.log2(len(test_codes)),
                   "fit_marginal": marginal_fit, "fit_conditional": conditional_fit,
                   "seconds": round(time.time() - start, 2), "device": str(device),
                   "estimator": dataclasses.asdict(config), "seed": seed})
    return result
