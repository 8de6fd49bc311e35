"""Synthetic discrete sources with exact likelihoods and exactly computable entropies, to
validate the estimators.

LabelledMarkovChain is the one family: a label y ~ prior, then codes over units
t_0 ~ init[y], t_i ~ transitions[y, i-1][t_{i-1}]. Its special cases:
  - independent units:  every transition row equals the unit's marginal, one label;
  - a Markov chain:     one label;
  - label-dependent:    init and/or transitions differ between labels.
H(T|Y) follows from the chain rule for every member. H(T) (and so I(T;Y)) is exact when the
transitions do not depend on the label (then Y reaches T through t_0 only), or by
enumerating all K^D sequences when that is small; otherwise H(T) = H(T|Y) + I(T;Y) with
I(T;Y) = E[log p(y|t) - log p(y)] a Monte Carlo mean of exact log-likelihood ratios, with
its standard error (bounded terms: far smaller than that of a mean of -log p(t)).
"""
from dataclasses import dataclass

import numpy as np

from infoplane.entropy import (LN2, categorical_entropy_bits, label_mixture_log_prob_nats,
                               log_sum_exp, mean_and_standard_error)

ENUMERATION_LIMIT = 2**20  # sequences


class _LabelMixture:
    """What follows from p(t, y) = p(y) p(t | y) for a source with `prior` p(y) and
    log_prob_given_label_nats: the label count, H(Y) and log p(t) = log sum_y p(y) p(t|y)."""

    @property
    def num_labels(self) -> int:
        return len(self.prior)

    def label_entropy_bits(self) -> float:
        return float(categorical_entropy_bits(self.prior))

    def log_prob_nats(self, codes: np.ndarray) -> np.ndarray:
        """log p(t) = log sum_y p(y) p(t | y) for each example: (n, D) -> (n,)."""
        every_label = np.stack([self.log_prob_given_label_nats(codes, np.full(len(codes), y))
                                for y in range(self.num_labels)], axis=1)
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.prior)
        return label_mixture_log_prob_nats(every_label, log_prior)


@dataclass
class LabelledMarkovChain(_LabelMixture):
    prior: np.ndarray        # (L,)           p(y)
    init: np.ndarray         # (L, K)         p(t_0 | y)
    transitions: np.ndarray  # (L, D-1, K, K) p(t_i = b | t_{i-1} = a, y) at [y, i-1, a, b]

    @property
    def bins(self) -> int:
        return self.init.shape[1]

    @property
    def units(self) -> int:
        return self.transitions.shape[1] + 1

    def sample(self, n: int, rng: np.random.Generator) -> tuple:
        """(codes (n, D) uint8, labels (n,) int64)."""
        labels = rng.choice(self.num_labels, size=n, p=self.prior).astype(np.int64)
        return self.sample_given_labels(labels, rng), labels

    def sample_given_labels(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Codes t ~ p(t | y) for each label: (n,) -> (n, D) uint8."""
        codes = np.empty((len(labels), self.units), dtype=np.int64)
        codes[:, 0] = _sample_rows(self.init[labels], rng)
        for i in range(1, self.units):
            codes[:, i] = _sample_rows(self.transitions[labels, i - 1, codes[:, i - 1]], rng)
        return codes.astype(np.uint8)

    def log_prob_given_label_nats(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """log p(t | y) for each example: (n, D), (n,) -> (n,)."""
        codes = codes.astype(np.int64)
        log_p = np.log(self.init[labels, codes[:, 0]])
        for i in range(1, self.units):
            log_p += np.log(self.transitions[labels, i - 1, codes[:, i - 1], codes[:, i]])
        return log_p

    def conditional_entropy_bits(self) -> float:
        """H(T | Y) = sum_y p(y) H(T | Y = y), each by the chain rule (exact)."""
        return float(sum(p * _chain_entropy_bits(self.init[y], self.transitions[y])
                         for y, p in enumerate(self.prior)))

    def entropy_bits(self, rng=None, samples: int = 200_000) -> tuple:
        """(H(T), its standard error): exact (error 0) where possible, see the module doc."""
        if np.allclose(self.transitions, self.transitions[:1]):
            marginal_init = self.prior @ self.init  # (K,)
            return _chain_entropy_bits(marginal_init, self.transitions[0]), 0.0
        if self.bins ** self.units <= ENUMERATION_LIMIT:
            codes = np.array(np.unravel_index(np.arange(self.bins ** self.units),
                                              (self.bins,) * self.units)).T
            log_p = self.log_prob_nats(codes)
            p = np.exp(log_p)
            return float(-(p[p > 0] * log_p[p > 0]).sum() / LN2), 0.0
        rng = rng if rng is not None else np.random.default_rng(0)
        codes, labels = self.sample(samples, rng)
        log_posterior_ratio = (self.log_prob_given_label_nats(codes, labels)
                               - self.log_prob_nats(codes))  # log p(y|t) - log p(y)
        information, se = mean_and_standard_error(log_posterior_ratio / LN2)
        return self.conditional_entropy_bits() + information, se

    def mutual_information_bits(self, rng=None, samples: int = 200_000) -> tuple:
        """(I(T; Y) = H(T) - H(T | Y), its standard error)."""
        entropy, se = self.entropy_bits(rng, samples)
        return entropy - self.conditional_entropy_bits(), se


def _sample_rows(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from each row of (n, K) probabilities, by inverting the CDF."""
    cdf = np.cumsum(probabilities, axis=1)
    u = rng.random((len(probabilities), 1)) * cdf[:, -1:]
    return np.minimum((u >= cdf).sum(axis=1), probabilities.shape[1] - 1)


def _chain_entropy_bits(init: np.ndarray, transitions: np.ndarray) -> float:
    """H(t_0) + sum_i sum_a p(t_{i-1} = a) H(t_i | t_{i-1} = a) for one Markov chain."""
    marginal, total = init, float(categorical_entropy_bits(init))
    for step in transitions:  # (K, K)
        total += float(marginal @ categorical_entropy_bits(step))
        marginal = marginal @ step
    return total


def _dirichlet(rng, concentration: float, shape: tuple) -> np.ndarray:
    return rng.dirichlet(np.full(shape[-1], concentration), size=shape[:-1])


def independent_units(units: int, bins: int, rng, concentration: float = 0.5):
    """Independent units with Dirichlet marginals: H(T) = sum_i H(t_i), I(T; Y) = 0."""
    marginals = _dirichlet(rng, concentration, (units, bins))
    transitions = np.repeat(marginals[1:, None, :], bins, axis=1)  # rows ignore t_{i-1}
    return LabelledMarkovChain(np.ones(1), marginals[:1], transitions[None])


def markov_chain(units: int, bins: int, rng, concentration: float = 0.3):
    """One label; each unit depends on the previous one: I(T; Y) = 0."""
    return LabelledMarkovChain(np.ones(1), _dirichlet(rng, concentration, (1, bins)),
                               _dirichlet(rng, concentration, (1, units - 1, bins, bins)))


def label_in_first_unit(units: int, bins: int, num_labels: int, rng,
                        concentration: float = 0.3, noise: float = 0.2):
    """t_0 is the label (mod bins) with probability 1 - noise, else uniform; the rest is a
    label-free Markov chain. I(T; Y) = I(t_0; Y), exact."""
    init = np.full((num_labels, bins), noise / bins)
    init[np.arange(num_labels), np.arange(num_labels) % bins] += 1.0 - noise
    transitions = _dirichlet(rng, concentration, (units - 1, bins, bins))
    return LabelledMarkovChain(np.full(num_labels, 1.0 / num_labels), init,
                               np.repeat(transitions[None], num_labels, axis=0))


def label_dependent_chain(units: int, bins: int, num_labels: int, rng,
                          concentration: float = 0.3, shared: float = 0.8):
    """Every transition mixes a shared part (weight `shared`) with a label-specific one, so
    that the label is spread over all units (as in a trained network's layer)."""
    common = _dirichlet(rng, concentration, (1, units - 1, bins, bins))
    specific = _dirichlet(rng, concentration, (num_labels, units - 1, bins, bins))
    return LabelledMarkovChain(np.full(num_labels, 1.0 / num_labels),
                               _dirichlet(rng, concentration, (num_labels, bins)),
                               shared * common + (1 - shared) * specific)


def _discretised_gaussian(centres: np.ndarray, widths: np.ndarray, bins: int) -> np.ndarray:
    """p(k) proportional to exp(-(k - centre)^2 / (2 width^2)), k = 0..bins-1: (...) -> (..., K)."""
    k = np.arange(bins)
    logits = -((k - centres[..., None]) ** 2) / (2.0 * widths[..., None] ** 2)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def smooth_chain(units: int, bins: int, num_labels: int, rng, separation: float = 0.0):
    """Units that follow their predecessor smoothly, as neighbouring activations of a layer
    do: t_i ~ discretised Gaussian around rho_i t_{i-1} + (1 - rho_i) mu_{y,i}, with
    per-unit rho_i, width_i and level mu_i; the label shifts each unit's level by
    `separation` * N(0, 1) bins (0: the label carries no information)."""
    rho = rng.uniform(0.3, 0.9, size=units)
    width = rng.uniform(0.7, 2.5, size=units)
    level = rng.uniform(0.2, 0.8, size=units) * (bins - 1)
    levels = level + separation * rng.standard_normal((num_labels, units))  # (L, D)
    previous = np.arange(bins)[:, None]  # (K, 1): a = t_{i-1}
    centres = rho[1:] * previous + (1 - rho[1:]) * levels[:, None, 1:]  # (L, K, D-1)
    transitions = _discretised_gaussian(centres.transpose(0, 2, 1),
                                        np.broadcast_to(width[1:, None], (units - 1, bins)),
                                        bins)  # (L, D-1, K, K)
    init = _discretised_gaussian(levels[:, 0], np.full(num_labels, width[0]), bins)
    return LabelledMarkovChain(np.full(num_labels, 1.0 / num_labels), init, transitions)


def label_mixture(units: int, bins: int, num_labels: int, rng, concentration: float = 0.5,
                  shared: float = 0.7):
    """Units independent given the label (a mixture of product distributions over labels):
    p(t_i | y) = shared * c_i + (1 - shared) * s_{y,i}, with Dirichlet c and s."""
    common = _dirichlet(rng, concentration, (1, units, bins))
    marginals = shared * common + (1 - shared) * _dirichlet(rng, concentration,
                                                            (num_labels, units, bins))
    transitions = np.repeat(marginals[:, 1:, None, :], bins, axis=2)  # rows ignore t_{i-1}
    return LabelledMarkovChain(np.full(num_labels, 1.0 / num_labels), marginals[:, 0],
                               transitions)


@dataclass
class LatentClassSource:
    """A latent class c ~ pi, a label y ~ p(y | c), and units independent given the class,
    t_i ~ theta[c, i]: p(t, y) = sum_c pi_c p(y | c) prod_i theta[c, i, t_i]. With many
    classes every unit depends on every other (through c), with no unit order, as in a
    dense layer; fitted by EM to a real layer's codes (fit_latent_classes), it is a truth
    whose statistics come from real activations. No entropy has a closed form: each is a
    Monte Carlo mean of exact log-likelihoods of the source's own samples (entropies)."""
    prior: np.ndarray         # (C,)       pi_c
    label_given_class: np.ndarray  # (C, L) p(y | c)
    theta: np.ndarray         # (C, D, K)  p(t_i = k | c)

    @property
    def num_labels(self) -> int:
        return self.label_given_class.shape[1]

    @property
    def units(self) -> int:
        return self.theta.shape[1]

    @property
    def bins(self) -> int:
        return self.theta.shape[2]

    def sample(self, n: int, rng: np.random.Generator) -> tuple:
        """(codes (n, D) uint8, labels (n,) int64)."""
        classes = rng.choice(len(self.prior), size=n, p=self.prior)
        labels = _sample_rows(self.label_given_class[classes], rng).astype(np.int64)
        codes = np.empty((n, self.units), dtype=np.uint8)
        for c in np.unique(classes):
            rows = np.flatnonzero(classes == c)
            cdf = np.cumsum(self.theta[c], axis=1)  # (D, K)
            u = rng.random((len(rows), self.units, 1)) * cdf[None, :, -1:]
            codes[rows] = np.minimum((u >= cdf[None]).sum(2), self.bins - 1)
        return codes, labels

    def class_log_likelihoods_nats(self, codes: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """log prod_i theta[c, i, t_i] for every class: (n, D) -> (n, C)."""
        log_theta = np.log(self.theta).transpose(1, 2, 0)  # (D, K, C)
        codes = codes.astype(np.int64)
        units = np.arange(self.units)
        return np.concatenate([log_theta[units, codes[i:i + chunk]].sum(1)
                               for i in range(0, len(codes), chunk)])

    def _log_prob_given_label(self, class_log_likelihoods, labels) -> np.ndarray:
        joint = self.prior[:, None] * self.label_given_class  # (C, L): p(c, y)
        log_class_given_label = np.log(joint / joint.sum(0, keepdims=True)).T  # (L, C)
        return log_sum_exp(class_log_likelihoods + log_class_given_label[labels], axis=1)

    def _log_prob(self, class_log_likelihoods) -> np.ndarray:
        return log_sum_exp(class_log_likelihoods + np.log(self.prior), axis=1)

    def log_prob_given_label_nats(self, codes, labels) -> np.ndarray:
        """log p(t | y) = log sum_c p(c | y) prod_i theta[c, i, t_i]: (n,)."""
        return self._log_prob_given_label(self.class_log_likelihoods_nats(codes), labels)

    def log_prob_nats(self, codes) -> np.ndarray:
        """log p(t) = log sum_c pi_c prod_i theta[c, i, t_i]: (n,)."""
        return self._log_prob(self.class_log_likelihoods_nats(codes))

    def label_entropy_bits(self) -> float:
        return float(categorical_entropy_bits(self.prior @ self.label_given_class))

    def entropies_bits(self, rng, samples: int = 100_000) -> dict:
        """Monte Carlo H(T), H(T | Y) and I(T; Y) = E[log p(t | y) - log p(t)], each with its
        standard error (the last from per-sample differences, far smaller than the others)."""
        codes, labels = self.sample(samples, rng)
        by_class = self.class_log_likelihoods_nats(codes)  # the costly part, computed once
        log_t, log_t_y = self._log_prob(by_class), self._log_prob_given_label(by_class, labels)
        out = {}
        for key, values in (("H_T", -log_t), ("H_T_given_Y", -log_t_y),
                            ("I_TY", log_t_y - log_t)):
            out[key], out[f"{key}_se"] = mean_and_standard_error(values / LN2)
        return out


def fit_latent_classes(codes: np.ndarray, labels: np.ndarray, bins: int, num_labels: int,
                       classes: int, rng, iterations: int = 30,
                       smoothing: float = 0.1) -> LatentClassSource:
    """EM for the latent class model of (codes (N, D), labels (N,)), from responsibilities
    of a random hard assignment; `smoothing` is a Dirichlet pseudo-count on every theta and
    p(y | c) cell, so that every code has positive probability under the truth."""
    import torch  # the E and M steps are matrix products over one-hot codes

    codes_t = torch.as_tensor(codes.astype(np.int64))
    n, units = codes_t.shape
    one_hot = torch.zeros(n, units * bins)
    one_hot.scatter_(1, codes_t + bins * torch.arange(units), 1.0)  # (N, D K)
    label_hot = torch.nn.functional.one_hot(torch.as_tensor(labels), num_labels).float()
    responsibility = torch.nn.functional.one_hot(
        torch.as_tensor(rng.integers(0, classes, n)), classes).float()  # (N, C)
    for _ in range(iterations):
        weight = responsibility.sum(0)  # (C,)
        prior = (weight + smoothing) / (weight.sum() + classes * smoothing)
        theta = (responsibility.T @ one_hot).view(classes, units, bins) + smoothing
        theta = theta / theta.sum(2, keepdim=True)  # (C, D, K)
        label_given_class = responsibility.T @ label_hot + smoothing
        label_given_class = label_given_class / label_given_class.sum(1, keepdim=True)
        log_joint = (one_hot @ torch.log(theta).view(classes, -1).T
                     + label_hot @ torch.log(label_given_class).T + torch.log(prior))
        responsibility = torch.softmax(log_joint, dim=1)
    def normalised(x):
        x = x.double().numpy()
        return x / x.sum(-1, keepdims=True)

    return LatentClassSource(normalised(prior), normalised(label_given_class),
                             normalised(theta))


@dataclass
class LabelledTreeSource(_LabelMixture):
    """A label y ~ p(y), then the codes along a tree over the units shared by all labels:
    p(t | y) = p(t_r | y) prod_{i != r} p(t_i | t_parent(i), y), with a full K x K table for
    every edge and label. Fitted to a real layer's codes (fit_labelled_tree: the Chow-Liu
    tree, tables from counts), its units depend on their tree neighbours through arbitrary
    tables and on everything else through them, in no unit order the estimator is told.
    H(T | Y) is exact (the chain rule along the tree); I(T; Y) = E[log p(t | y) - log p(t)]
    is a Monte Carlo mean of exact log-likelihood ratios (entropies_bits)."""
    prior: np.ndarray    # (L,)          p(y)
    order: np.ndarray    # (D,)          units in an order that puts every parent first
    parents: np.ndarray  # (D,)          parent unit of each unit, -1 for the root
    root: np.ndarray     # (L, K)        p(t_r | y), r = order[0]
    tables: np.ndarray   # (L, D, K, K)  p(t_i = b | t_parent(i) = a, y) at [y, i, a, b]

    @property
    def units(self) -> int:
        return len(self.order)

    @property
    def bins(self) -> int:
        return self.root.shape[1]

    def sample(self, n: int, rng: np.random.Generator) -> tuple:
        """(codes (n, D) uint8, labels (n,) int64)."""
        labels = rng.choice(self.num_labels, size=n, p=self.prior).astype(np.int64)
        codes = np.empty((n, self.units), dtype=np.int64)
        codes[:, self.order[0]] = _sample_rows(self.root[labels], rng)
        for unit in self.order[1:]:
            codes[:, unit] = _sample_rows(
                self.tables[labels, unit, codes[:, self.parents[unit]]], rng)
        return codes.astype(np.uint8), labels

    def log_prob_given_label_nats(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """log p(t | y) for each example: (n, D), (n,) -> (n,)."""
        codes = codes.astype(np.int64)
        log_p = np.log(self.root[labels, codes[:, self.order[0]]])
        for unit in self.order[1:]:
            log_p += np.log(self.tables[labels, unit, codes[:, self.parents[unit]],
                                        codes[:, unit]])
        return log_p

    def unit_marginals_given_label(self, y: int) -> np.ndarray:
        """p(t_i | y) for every unit, (D, K): each unit's is its parent's times the edge
        table, down the tree from the root."""
        marginals = np.empty((self.units, self.bins))
        marginals[self.order[0]] = self.root[y]
        for unit in self.order[1:]:
            marginals[unit] = marginals[self.parents[unit]] @ self.tables[y, unit]
        return marginals

    def conditional_entropy_bits(self) -> float:
        """H(T | Y) = sum_y p(y) [H(t_r | y) + sum_{i != r} sum_a p(t_parent(i) = a | y)
        H(t_i | t_parent(i) = a, y)], exact (the chain rule along the tree)."""
        total = 0.0
        for y, p_y in enumerate(self.prior):
            marginals = self.unit_marginals_given_label(y)
            entropy = float(categorical_entropy_bits(self.root[y]))
            for unit in self.order[1:]:
                entropy += float(marginals[self.parents[unit]]
                                 @ categorical_entropy_bits(self.tables[y, unit]))
            total += p_y * entropy
        return total

    def entropies_bits(self, rng, samples: int = 100_000) -> dict:
        """H(T | Y) exact (standard error 0); I(T; Y) a Monte Carlo mean with its standard
        error; H(T) = H(T | Y) + I(T; Y), with that error."""
        codes, labels = self.sample(samples, rng)
        information, se = mean_and_standard_error(
            (self.log_prob_given_label_nats(codes, labels) - self.log_prob_nats(codes)) / LN2)
        conditional = self.conditional_entropy_bits()
        return {"H_T": conditional + information, "H_T_se": se,
                "H_T_given_Y": conditional, "H_T_given_Y_se": 0.0,
                "I_TY": information, "I_TY_se": se}


def _tree_counts(codes, labels, order, parents, bins: int, num_labels: int) -> tuple:
    """Counts of (y, t_root) (L, K) and of (y, i, t_parent(i), t_i) (L, D, K, K)."""
    units = codes.shape[1]
    root = np.bincount(labels * bins + codes[:, order[0]], minlength=num_labels * bins)
    cell = ((labels[:, None] * units + np.arange(units)) * bins
            + codes[:, np.maximum(parents, 0)]) * bins + codes  # the root's row is unused
    tables = np.bincount(cell.ravel(), minlength=num_labels * units * bins ** 2)
    return (root.reshape(num_labels, bins).astype(float),
            tables.reshape(num_labels, units, bins, bins).astype(float))


def _shrunk_tree(counts: tuple, prior, order, parents, smoothing: float,
                 strength: float) -> LabelledTreeSource:
    """Each label's rows: its counts plus `strength` pseudo-counts spread as the pooled row of
    all labels, which is itself the pooled counts plus `smoothing` per cell."""
    def shrunk(label_counts):
        pooled = label_counts.sum(0) + smoothing
        pooled = pooled / pooled.sum(-1, keepdims=True)
        return ((label_counts + strength * pooled)
                / (label_counts.sum(-1, keepdims=True) + strength))

    root, tables = counts
    return LabelledTreeSource(prior, order, parents, shrunk(root), shrunk(tables))


def fit_labelled_tree(codes: np.ndarray, labels: np.ndarray, bins: int, num_labels: int,
                      rng, smoothings=(0.01, 0.1, 1.0),
                      strengths=(0.5, 2.0, 8.0, 32.0, 128.0, 512.0),
                      held_out: float = 0.1) -> LabelledTreeSource:
    """Label-conditional tables on the Chow-Liu tree of (codes (N, D), labels (N,)), all
    labels together: every label's rows are shrunk towards the pooled rows of all labels
    (_shrunk_tree). The structure, the pooled smoothing and the shrinkage strength are the
    ones of best mean log p(t | y) on a random `held_out` fraction of the codes when fitted
    on the rest; the tables are then counted on all codes. Without shrinkage each label's
    tables would fit its few thousand codes so closely that the label could be read off any
    code exactly, which no real layer allows."""
    from infoplane.tree import chow_liu_tree

    codes, labels = codes.astype(np.int64), np.asarray(labels, dtype=np.int64)
    shuffled = rng.permutation(len(codes))
    test, fitting = shuffled[:int(held_out * len(codes))], shuffled[int(held_out * len(codes)):]
    order, parent_positions = chow_liu_tree(codes[fitting], bins)
    parents = np.full(len(order), -1)
    parents[order[1:]] = order[parent_positions[1:]]
    prior = np.bincount(labels, minlength=num_labels) + 1.0
    prior = prior / prior.sum()
    counts = _tree_counts(codes[fitting], labels[fitting], order, parents, bins, num_labels)
    score, smoothing, strength = max(
        (_shrunk_tree(counts, prior, order, parents, a, m).log_prob_given_label_nats(
            codes[test], labels[test]).mean(), a, m)
        for a in smoothings for m in strengths)
    return _shrunk_tree(_tree_counts(codes, labels, order, parents, bins, num_labels), prior,
                        order, parents, smoothing, strength)
