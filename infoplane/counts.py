"""Count-based first-order densities of a layer's codes: each unit's conditional on its
predecessor, p_i(t_i | t_{i-1}), and a per-unit effect of the label.

From training codes, with n_i(a, b) the number of examples with t_{i-1} = a and t_i = b,
and p_i(b) the unit's add-one smoothed marginal, the Dirichlet-smoothed transition is

    p_i(b | a; s) = (n_i(a, b) + s p_i(b)) / (n_i(a) + s),

which is the marginal p_i(b) as s -> inf and the raw frequencies as s -> 0. The strength
s is chosen for every unit separately by the log-likelihood of held-out codes, so a unit
that depends strongly on its predecessor gets a small s and a unit that does not gets
s = inf (no dependence; a finite s would fit the counts' noise). The label enters each
unit's conditional as a counted per-bin effect, a parametric tilt (a shift and a change of
spread, fitted by maximum likelihood), both, or the label's own smoothed transitions,
chosen per unit by leave-one-out (label_effects). Pure tensor math.
The densities built from them (CountModel, fit_count_model) are one of the components
that infoplane/estimate.py mixes, with weights chosen on validation, into each entropy's
density: where first-order structure or a label mixture is the truth, the counts find it
from all training codes at once, which a network fitted for a few epochs may not.
"""
import math
from dataclasses import dataclass

import torch

STRENGTHS = tuple(2.0 ** k for k in range(-2, 13)) + (math.inf,)


def unit_marginals(codes: torch.Tensor, bins: int) -> torch.Tensor:
    """Add-one smoothed frequency of every code of every unit: (N, D) -> (D, K)."""
    counts = torch.zeros(codes.shape[1], bins, device=codes.device)
    counts.scatter_add_(1, codes.T.contiguous(), torch.ones_like(codes.T, dtype=counts.dtype))
    return (counts + 1.0) / (counts.sum(1, keepdim=True) + bins)


def transition_counts(codes: torch.Tensor, bins: int) -> torch.Tensor:
    """n_i(a, b) = #{t_{i-1} = a, t_i = b}: (N, D) -> (D, K, K); unit 0's slice is zero."""
    units = codes.shape[1]
    counts = torch.zeros(units * bins * bins, device=codes.device)
    unit = torch.arange(1, units, device=codes.device)
    cells = (unit * bins + codes[:, :-1]) * bins + codes[:, 1:]  # (N, D-1)
    counts.scatter_add_(0, cells.reshape(-1), torch.ones(cells.numel(), device=codes.device))
    return counts.view(units, bins, bins)


def smoothed_transitions(counts: torch.Tensor, marginals: torch.Tensor,
                         strengths: torch.Tensor) -> torch.Tensor:
    """p_i(b | a; s_i) for (D, K, K) counts, (D, K) marginals and (D,) strengths (inf: the
    marginal): (D, K, K), every row a distribution."""
    prior = marginals[:, None, :].expand_as(counts)
    s = strengths[:, None, None]
    mixed = (counts + s * prior) / (counts.sum(2, keepdim=True) + s)
    return torch.where(torch.isinf(s), prior, mixed)


def best_strengths(train_codes: torch.Tensor, validation_codes: torch.Tensor, bins: int,
                   strengths=STRENGTHS) -> torch.Tensor:
    """For every unit, the strength s (of `strengths`) whose p_i(t_i | t_{i-1}; s), fitted on
    train_codes (N, D), gives validation_codes (M, D) the highest log-likelihood; ties go to
    the larger s (the simpler model). Unit 0 has no predecessor: inf. Returns (D,)."""
    units = train_codes.shape[1]
    counts, marginals = transition_counts(train_codes, bins), unit_marginals(train_codes, bins)
    unit = torch.arange(1, units, device=train_codes.device)
    previous, current = validation_codes[:, :-1], validation_codes[:, 1:]  # (M, D-1)
    pair = counts[unit, previous, current]  # n_i(a, b) at the validation pairs
    row = counts.sum(2)[unit, previous]  # n_i(a)
    prior = marginals[unit, current]  # p_i(b)
    scores = []
    for s in strengths:
        log_p = torch.log(prior) if math.isinf(s) else torch.log((pair + s * prior) / (row + s))
        scores.append(log_p.sum(0))  # (D-1,)
    scores = torch.stack(scores)  # (S, D-1)
    # the last maximum along the grid: the largest strength among equals
    best = len(strengths) - 1 - torch.flip(scores, [0]).argmax(0)
    chosen = torch.tensor(strengths, device=train_codes.device)[best]
    return torch.cat([torch.tensor([math.inf], device=train_codes.device), chosen])


LABEL_STRENGTHS = (16.0, 64.0, 256.0)  # smoothing of p_i(b | y) toward p_i(b)
LABEL_WIDTHS = (0.0, 1.0, 2.0)  # smoothing of the label effect over neighbouring bins
LABEL_WEIGHT_STEPS = 4  # lambda in {0, 1/4, ..., 1}


def bin_smoother(bins: int, width: float) -> torch.Tensor:
    """(K, K) matrix S with S[a, b] proportional to exp(-(a - b)^2 / (2 width^2)), each column
    summing to 1 (width 0: the identity): x @ S averages x over neighbouring bins."""
    if width == 0:
        return torch.eye(bins)
    k = torch.arange(bins, dtype=torch.float32)
    kernel = torch.exp(-(k[:, None] - k[None, :]) ** 2 / (2 * width ** 2))
    return kernel / kernel.sum(0, keepdim=True)


def _label_counts(codes: torch.Tensor, labels: torch.Tensor, num_labels: int,
                  bins: int) -> torch.Tensor:
    """n_i(y, b) = #{y, t_i = b}: (N, D) codes, (N,) labels -> (D, L, K)."""
    units = codes.shape[1]
    counts = torch.zeros(units * num_labels * bins, device=codes.device)
    unit = torch.arange(units, device=codes.device)
    cells = (unit * num_labels + labels[:, None]) * bins + codes  # (N, D)
    counts.scatter_add_(0, cells.reshape(-1), torch.ones(cells.numel(), device=codes.device))
    return counts.view(units, num_labels, bins)


def label_effect_candidates(codes: torch.Tensor, labels: torch.Tensor, num_labels: int,
                            bins: int, strengths=LABEL_STRENGTHS,
                            widths=LABEL_WIDTHS) -> list:
    """Label effects e_i(y, b) = (log p_i(. | y; s) - log p_i(.)) @ S_h for every strength s
    and bin-smoothing width h (bin_smoother): [(s, S_h, e (D, L, K)), ...]."""
    label_counts = _label_counts(codes, labels, num_labels, bins)  # (D, L, K)
    marginals = unit_marginals(codes, bins)[:, None, :]  # (D, 1, K)
    candidates = []
    for s in strengths:
        # p_i(b | y; s) = (n_i(y, b) + s p_i(b)) / (n_i(y) + s), divided by p_i(b)
        log_ratio = torch.log((label_counts + s * marginals)
                              / (label_counts.sum(2, keepdim=True) + s) / marginals)
        for h in widths:
            smoother = bin_smoother(bins, h).to(codes.device)
            candidates.append((s, smoother, log_ratio @ smoother))
    return candidates


def _predecessors(codes: torch.Tensor) -> torch.Tensor:
    """t_{i-1} for every unit of codes (N, D), 0 for unit 0 (which has none): (N, D)."""
    return torch.cat([torch.zeros_like(codes[:, :1]), codes[:, :-1]], dim=1)


def labelled_transition_counts(codes: torch.Tensor, labels: torch.Tensor, num_labels: int,
                               bins: int) -> torch.Tensor:
    """n_i(y, a, b) = #{y, t_{i-1} = a, t_i = b} (unit 0: a = 0): (N, D), (N,) -> (D, L, K, K)."""
    units = codes.shape[1]
    counts = torch.zeros(units * num_labels * bins * bins, device=codes.device)
    unit = torch.arange(units, device=codes.device)
    previous = _predecessors(codes)
    cells = (((unit * num_labels + labels[:, None]) * bins + previous) * bins) + codes
    counts.scatter_add_(0, cells.reshape(-1), torch.ones(cells.numel(), device=codes.device))
    return counts.view(units, num_labels, bins, bins)


def tilt_features(bins: int, device=None) -> torch.Tensor:
    """f(b) = (x_b, x_b^2), x_b = b / (K - 1) - 1/2: a shift and a change of spread, (K, 2)."""
    x = torch.arange(bins, dtype=torch.float32, device=device) / max(bins - 1, 1) - 0.5
    return torch.stack([x, x ** 2], dim=1)


def label_tilts(codes: torch.Tensor, labels: torch.Tensor, log_transitions: torch.Tensor,
                num_labels: int, ridge: float = 1.0, iterations: int = 30) -> tuple:
    """A parametric label effect on the chain: for every unit i and label y,

        q_i(b | a, y) proportional to p_i(b | a) exp(theta_{i,y} . f(b))   (tilt_features),

    theta by maximum likelihood of the codes (N, D) given their labels (N,) and
    predecessors, less ridge/2 |theta|^2 (which keeps theta finite where a label never
    leaves one end of a unit's range, as a saturated unit does), with p_i =
    exp(log_transitions) (D, K, K) fixed: concave in theta, solved by Newton with a
    step-halving line search, from the counts n_i(y, a, b) alone. A unit
    keeps its tilts only if they raise its log-likelihood by more than their number, 2L
    (Akaike), so that labels that carry nothing leave (almost) every unit untilted.
    Returns the tilts theta_{i,y} . f(b) (D, L, K) and which units keep them (D,) bool."""
    bins = log_transitions.shape[-1]
    features = tilt_features(bins, codes.device)  # (K, 2)
    n = labelled_transition_counts(codes, labels, num_labels, bins)  # (D, L, K, K)
    rows = n.sum(3)  # (D, L, K): n_i(y, a)
    statistic = n.sum(2) @ features  # (D, L, 2): sum over codes of f(t_i)
    base = log_transitions[:, None]  # (D, 1, K, K)

    def log_likelihood(theta):  # (D, L, 2) -> (D, L), up to a constant in theta
        normalisers = torch.logsumexp(base + (theta @ features.T)[:, :, None, :], dim=3)
        return ((statistic * theta).sum(2) - (rows * normalisers).sum(2)
                - 0.5 * ridge * (theta ** 2).sum(2))

    theta = torch.zeros(*n.shape[:2], 2, device=codes.device)
    value = log_likelihood(theta)
    start = value
    for _ in range(iterations):
        q = torch.softmax(base + (theta @ features.T)[:, :, None, :], dim=3)  # (D, L, K, K)
        mean = q @ features  # (D, L, K, 2): E[f] in each row a
        gradient = statistic - (rows[..., None] * mean).sum(2) - ridge * theta  # (D, L, 2)
        second = torch.einsum("dlab,bf,bg->dlafg", q, features, features)
        covariance = second - mean[..., :, None] * mean[..., None, :]  # (D, L, K, 2, 2)
        hessian = (rows[..., None, None] * covariance).sum(2) \
            + (ridge + 1e-6) * torch.eye(2, device=codes.device)  # minus the Hessian
        step = torch.linalg.solve(hessian, gradient[..., None]).squeeze(-1)
        improved = torch.zeros_like(value, dtype=torch.bool)
        for size in (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125):
            trial = theta + size * step
            trial_value = log_likelihood(trial)
            take = ~improved & (trial_value > value)
            theta = torch.where(take[..., None], trial, theta)
            value = torch.where(take, trial_value, value)
            improved |= take
        if not improved.any():
            break
    kept = (value - start).sum(1) > 2 * num_labels  # (D,)
    return (theta @ features.T) * kept[:, None, None], kept


def _without_own(t: torch.Tensor, transitions: torch.Tensor, marginals: torch.Tensor,
                 neighbour_s: torch.Tensor) -> tuple:
    """For a batch of codes t (B, D): their one-hot codes (B, D, K), predecessors (B, D) and
    the smoothed transitions p_i(b | t_{i-1}) (B, D, K) from the counts `transitions`
    (D, K, K) with each example's own pair removed (unit 0: its marginal)."""
    unit = torch.arange(t.shape[1], device=t.device)
    own = torch.nn.functional.one_hot(t, marginals.shape[1]).to(marginals.dtype)
    previous = _predecessors(t)
    prior = marginals[None].expand_as(own)  # p_i(b)
    pair = transitions[unit, previous] - own  # n_i(a, b) without this example
    pair[:, 0] = 0.0  # unit 0: no predecessor, its marginal (strength inf)
    base = (pair + neighbour_s * prior) / (pair.sum(2, keepdim=True) + neighbour_s)
    return own, previous, torch.where(torch.isinf(neighbour_s), prior, base)


def leave_one_out_scores(codes: torch.Tensor, labels: torch.Tensor,
                         neighbour_strengths: torch.Tensor, candidates: list, weights,
                         tilt_options=(None,), scored: int = 2000,
                         batch: int = 500) -> torch.Tensor:
    """sum over the first `scored` codes of log q_i(t_i | t_{i-1}, y), where

        q_i(b | a, y) proportional to p_i(b | a) exp(tau_i(y, b) + lambda e_i(y, b)),

    p_i(b | a) the smoothed transitions (`neighbour_strengths`), tau each of the fixed
    `tilt_options` (D, L, K) (label_tilts; None: 0), e a candidate label effect and lambda
    one of `weights` (an arithmetic grid from 0), every count with the scored example's own
    removed (leave-one-out; the marginals p_i, used only as smoothing priors, and the tilts
    keep it). Returns (tilt options, candidates, weights, D)."""
    units, bins = codes.shape[1], candidates[0][2].shape[-1]
    unit = torch.arange(units, device=codes.device)
    transitions = transition_counts(codes, bins)  # (D, K, K)
    marginals = unit_marginals(codes, bins)  # (D, K)
    label_counts = _label_counts(codes, labels, candidates[0][2].shape[1], bins)  # (D, L, K)
    neighbour_s = neighbour_strengths[None, :, None]  # (1, D, 1)
    by_label = [effect.permute(1, 0, 2) for _, _, effect in candidates]  # (L, D, K)
    scores = torch.zeros(len(tilt_options), len(candidates), len(weights), units,
                         device=codes.device)
    for start in range(0, min(scored, len(codes)), batch):
        t = codes[start:min(start + batch, scored)]  # (B, D)
        y = labels[start:min(start + batch, scored)]
        own, previous, base = _without_own(t, transitions, marginals, neighbour_s)
        bases = []  # p_i(b | a) e^tau / sum_b' p_i(b' | a) e^tau for each tau
        for tilts in tilt_options:
            tilted = base if tilts is None else base * torch.exp(tilts.permute(1, 0, 2)[y])
            tilted = tilted / tilted.sum(2, keepdim=True)
            bases.append((tilted, torch.log(tilted.gather(2, t[:, :, None]).squeeze(2))))
        own_count = label_counts.permute(1, 0, 2)[y].gather(2, t[:, :, None])  # n_i(y, t_i)
        for k, (s, smoother, _) in enumerate(candidates):
            # without this example e changes by a constant over b (which cancels in q_i)
            # and by `change` at b = t_i, spread by the (linear) smoothing
            smoothed_count = own_count + s * marginals[unit, t][:, :, None]
            change = torch.log((smoothed_count - 1) / smoothed_count)  # (B, D, 1)
            effect = by_label[k][y] + change * smoother[t]  # (B, D, K)
            effect_at_code = effect.gather(2, t[:, :, None]).squeeze(2)
            # log q_i(t_i) = log p(t_i | a) + lambda e(t_i) - log sum_b p(b | a) e^{lambda e(b)}
            step = torch.exp(weights[1] * effect)
            power = step
            for option, (tilted, at_code) in enumerate(bases):
                scores[option, k, 0] += at_code.sum(0)
            for m in range(1, len(weights)):  # power = exp(weights[m] e): no more exps
                for option, (tilted, at_code) in enumerate(bases):
                    normaliser = torch.log((tilted * power).sum(2))
                    scores[option, k, m] += (at_code + weights[m] * effect_at_code
                                             - normaliser).sum(0)
                power = power * step
    return scores


LABEL_TRANSITION_STRENGTHS = (1.0, 4.0, 16.0, 64.0, 256.0)


def label_transition_scores(codes: torch.Tensor, labels: torch.Tensor,
                            neighbour_strengths: torch.Tensor, num_labels: int, bins: int,
                            strengths=LABEL_TRANSITION_STRENGTHS, scored: int = 2000,
                            batch: int = 500) -> torch.Tensor:
    """sum over the first `scored` codes of log p_i(t_i | t_{i-1}, y; s), the label's own
    transitions smoothed toward the pooled ones,

        p_i(b | a, y; s) = (n_i(y, a, b) + s p_i(b | a)) / (n_i(y, a) + s),

    for every s of `strengths`, every count (and p_i(b | a)) with the scored example's own
    removed (leave-one-out). A label that changes how a unit follows its predecessor (an
    effect of y and t_{i-1} together) needs this; the per-bin effects and tilts cannot
    express it. Returns (strengths, D)."""
    units = codes.shape[1]
    unit = torch.arange(units, device=codes.device)
    transitions = transition_counts(codes, bins)  # (D, K, K)
    marginals = unit_marginals(codes, bins)  # (D, K)
    by_label = labelled_transition_counts(codes, labels, num_labels, bins)  # (D, L, K, K)
    neighbour_s = neighbour_strengths[None, :, None]  # (1, D, 1)
    scores = torch.zeros(len(strengths), units, device=codes.device)
    for start in range(0, min(scored, len(codes)), batch):
        t = codes[start:min(start + batch, scored)]  # (B, D)
        y = labels[start:min(start + batch, scored)]
        own, previous, base = _without_own(t, transitions, marginals, neighbour_s)
        own_pair = by_label[unit, y[:, None], previous] - own  # n_i(y, a, b) without it
        for k, strength in enumerate(strengths):
            p = (own_pair + strength * base) / (own_pair.sum(2, keepdim=True) + strength)
            scores[k] += torch.log(p.gather(2, t[:, :, None]).squeeze(2)).sum(0)
    return scores


def label_effects(codes: torch.Tensor, labels: torch.Tensor, neighbour_strengths: torch.Tensor,
                  num_labels: int, bins: int, tilts=None, scored: int = 2000,
                  weight_steps: int = LABEL_WEIGHT_STEPS) -> tuple:
    """A per-unit label term E_i[y, b] to add to the logits of the first-order chain
    p_i(b | t_{i-1}), all from the counts of codes (N, D) and labels (N,):

        q_i(b | a, y) proportional to p_i(b | a) exp(E_i[y, b]),
        E_i[y, b] = lambda_i e_i(y, b)  or  tau_i(y, b) + lambda_i e_i(y, b),

    e_i one of label_effect_candidates (a smoothing strength, a bin-smoothing width), tau the
    `tilts` (label_tilts; None: not offered). The label's marginal effect on t_i also
    reaches it through t_{i-1}, so adding it in full counts that part twice: lambda_i in
    {0, 1/steps, ..., 1}, the candidate and whether to add tau are chosen for every unit by
    the leave-one-out log-likelihood of `scored` codes (leave_one_out_scores), which spends
    no held-out data, so the validation split stays unbiased for what is chosen on it
    later. The tilts are fitted with the scored codes in, so their score is charged their
    in-sample gain (Akaike: 2L parameters over N codes, scored / N of it); ties go to no
    tilt and lambda = 0. A unit may instead take the label's own transitions
    (label_transition_scores), where they score best. Returns E (D, L, K), lambda (D,), the
    tilted units (D,) bool and the label transitions' strengths (D,) (inf: not used; E is
    then 0 for the unit)."""
    weights = [m / weight_steps for m in range(weight_steps + 1)]
    candidates = label_effect_candidates(codes, labels, num_labels, bins)
    units = codes.shape[1]
    tilt_options = (None,) if tilts is None else (None, tilts)
    scores = leave_one_out_scores(codes, labels, neighbour_strengths, candidates, weights,
                                  tilt_options, scored=scored)  # (T, C, W, D)
    scores[1:] -= 2 * num_labels * min(scored, len(codes)) / len(codes)  # the tilts' charge
    options = len(candidates) * len(weights)
    scores = torch.cat([scores.reshape(-1, units), label_transition_scores(
        codes, labels, neighbour_strengths, num_labels, bins, scored=scored)])  # (T C W + S, D)
    best = scores.argmax(0)  # weight fastest; the first maximum: no tilt, lambda = 0 on ties
    by_transitions = best >= len(tilt_options) * options
    transition_strengths = torch.tensor(
        (math.inf,) * (len(tilt_options) * options) + LABEL_TRANSITION_STRENGTHS,
        device=codes.device)[best]  # (D,): inf where the unit does not use them
    best = torch.where(by_transitions, 0, best)  # lambda = 0, no tilt
    tilted = best >= options
    best = best % options
    best_weight = torch.tensor(weights, device=codes.device)[best % len(weights)]
    effects = torch.stack([effect for _, _, effect in candidates])  # (C, D, L, K)
    effects = effects[best // len(weights), torch.arange(units, device=codes.device)]
    effects = best_weight[:, None, None] * effects  # (D, L, K)
    if tilts is not None:
        effects = effects + tilts * tilted[:, None, None]
    return effects, best_weight, tilted, transition_strengths


@dataclass
class CountModel:
    """The count-based densities over codes t (D units, K bins), label y (L labels):

        c(t)     = prod_i p_i(t_i | t_{i-1}),
        c(t | y) = prod_i p_i(t_i | t_{i-1}) exp(E_i[y, t_{i-1}, t_i]) / Z_i(t_{i-1}, y),

    each factor a normalised distribution over t_i, so both are proper densities. E is a
    per-bin effect or tilt (the same for every t_{i-1}) or the log-ratio of the label's own
    transitions to the pooled ones."""
    log_transitions: torch.Tensor  # (D, K, K): log p_i(b | a); unit 0: every row its marginal
    label_logits: torch.Tensor     # (D, L, K, K): E_i[y, a, b]
    strengths: torch.Tensor        # (D,): s_i of the transitions (inf: independent of t_{i-1})
    label_weights: torch.Tensor    # (D,): lambda_i of the counted effects (0: none)
    tilted: torch.Tensor           # (D,) bool: the units that keep their label tilts
    transition_strengths: torch.Tensor  # (D,): of the label's own transitions (inf: unused)

    @torch.no_grad()
    def log_prob_nats(self, codes: torch.Tensor, batch_size: int = 256):
        """log c(t) per example: (N, D) -> (N,) float64 numpy."""
        unit = torch.arange(codes.shape[1], device=codes.device)
        parts = [self.log_transitions[unit, _predecessors(part), part].sum(1)
                 for part in codes.split(batch_size)]
        return torch.cat(parts).double().cpu().numpy()

    @torch.no_grad()
    def log_prob_every_label_nats(self, codes: torch.Tensor, batch_size: int = 64):
        """log c(t | y) for every example and label: (N, D) -> (N, L) float64 numpy, as
        sum_i log softmax_b(log p_i(b | t_{i-1}) + E_i[y, t_{i-1}, b]) at b = t_i."""
        unit = torch.arange(codes.shape[1], device=codes.device)
        parts = []
        for part in codes.split(batch_size):
            previous = _predecessors(part)
            logits = (self.log_transitions[unit, previous][:, :, None, :]
                      + self.label_logits[unit, :, previous])  # (B, D, L, K)
            log_q = torch.log_softmax(logits, dim=3)
            at_code = log_q.gather(3, part[:, :, None, None].expand(-1, -1, log_q.shape[2], 1))
            parts.append(at_code.squeeze(3).sum(1))  # (B, L)
        return torch.cat(parts).double().cpu().numpy()


def fit_count_model(codes: torch.Tensor, labels: torch.Tensor, validation_codes: torch.Tensor,
                    num_labels: int, bins: int) -> CountModel:
    """The CountModel of codes (N, D) and labels (N,): each unit's transition smoothing s_i
    on validation_codes (best_strengths); its label term, lambda e, tau + lambda e with the
    parametric tilt tau fitted by maximum likelihood (label_tilts), or the label's own
    transitions, by leave-one-out on the training codes (label_effects)."""
    strengths = best_strengths(codes, validation_codes, bins)
    transitions = smoothed_transitions(transition_counts(codes, bins),
                                       unit_marginals(codes, bins), strengths)
    units = codes.shape[1]
    logits = torch.zeros(units, num_labels, bins, bins, device=codes.device)
    weights = torch.zeros(units, device=codes.device)
    tilted = torch.zeros(units, dtype=torch.bool, device=codes.device)
    own = torch.full((units,), math.inf, device=codes.device)
    if num_labels > 1:
        tilts, _ = label_tilts(codes, labels, torch.log(transitions), num_labels)
        effects, weights, tilted, own = label_effects(codes, labels, strengths, num_labels,
                                                      bins, tilts)
        logits = effects[:, :, None, :].expand(-1, -1, bins, -1).clone()  # same for every a
        mine = torch.isfinite(own)  # log p_i(b | a, y; s) - log p_i(b | a)
        by_label = labelled_transition_counts(codes, labels, num_labels, bins)[mine]
        s = own[mine][:, None, None, None]
        pooled = transitions[mine][:, None]  # (U, 1, K, K)
        logits[mine] = torch.log((by_label + s * pooled) / (by_label.sum(3, keepdim=True) + s)
                                 / pooled)
    return CountModel(torch.log(transitions), logits, strengths, weights, tilted, own)
