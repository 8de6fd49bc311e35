"""A dense autoregressive density over a vector of discrete codes (NADE/MADE-style).

For codes t = (t_0, ..., t_{D-1}), each in {0, ..., K-1}, and an optional label y,

    log q(t [| y]) = sum_i log softmax(c_i [+ G_{y,i}] + B^T V_i^T phi(h_i)
                      + B'^T M_i^T sum_{j<i} W_{ji}^T b'(t_j))[t_i],
    M_i = I + sum_k phi(h_i)_k U_{ik},
    h_i = a [+ u_y] + sum_{j<i} A_j^T b(t_j),

with a code basis b: {0..K-1} -> R^R and an output basis B in R^{R x K}, both shared by all
units, per-unit input maps A_j in R^{R x H} and output maps V_i in R^{H x R}, free
per-unit logits c_i, phi = tanh, and the label as a shift u_y of the hidden state and a
per-unit term G_{y,i} on the logits. Every unit sees every earlier unit directly (the
running sum costs O(D R H) per example, the heads O(D H R + D R K)): a dense layer's units
have no neighbours, and each may depend on any other. The shared bases say that a code
means the same thing in every unit (bins of one activation scale) while c_i keeps each
unit's own marginal exactly; nothing is assumed smooth along the unit axis. With G alone
(A = 0) the model is a mixture over labels of independent units; with one label it is the
plain autoregressive density q(t).

The running sum gives unit i only an H-dimensional summary of all earlier codes, so it
cannot hold many separate pairwise dependences at once (a Gaussian with a full-rank
covariance needs D dimensions). The direct term (`direct_rank` = R' > 0; MADE's direct
connections) adds one free R' x R' coupling W_{ji} for every pair j < i, between a second
shared code basis b': {0..K-1} -> R^{R'} and output basis B' in R^{R' x K}: a log-bilinear
pairwise model of the units, with an interaction b'(t_j)^T W_{ji} B'[:, t_i] of its own for
every pair, of rank at most R' in the shared bases. It is one masked matrix product per
example, (D R') x (D R'): O(D^2 R'^2). The gate M_i (U_{ik} in R^{R' x R'}) lets
the context that h_i summarises, such as the class that the earlier codes point to, mix
and scale unit i's R' coupling directions: a pairwise dependence that changes with the
context (a three-way interaction context x t_j x t_i of low rank), as when every class has
tables of its own between units. U starts at zero, so fitting starts from the ungated
pairwise model; the gate costs O(D H R'^2) per example.

The estimator fits q(t | y) and scores the codes by its label mixture sum_y p(y) q(t | y)
(infoplane/estimate.py); the label-free model q(t) is the original's second model.

Tensors are kept unit-major, (D, B, .), so that the maps are batched matrix products, and
the running sum is a blocked product with triangular matrices (exclusive_prefix_sum):
everything is matrix products forward and backward, which CPUs and GPUs run near peak.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def _strictly_lower(size: int) -> torch.Tensor:
    return torch.tril(torch.ones(size, size), diagonal=-1)


class DenseAutoregressive(nn.Module):
    """q(t) (num_labels = 0) or q(t | y) (num_labels > 0) over `units` codes in `bins` bins."""

    def __init__(self, units: int, bins: int, hidden: int = 64, num_labels: int = 0,
                 rank: int = 8, direct_rank: int = 0):
        super().__init__()
        self.direct_rank = direct_rank
        self.units, self.bins, self.hidden, self.num_labels = units, bins, hidden, num_labels
        self.code_basis = nn.Parameter(torch.randn(bins, rank))                   # b
        self.unit_inputs = nn.Parameter(torch.randn(units, rank, hidden)
                                        / math.sqrt(units * rank))                 # A_j
        self.start = nn.Parameter(torch.zeros(hidden))                             # a
        self.unit_outputs = nn.Parameter(torch.randn(units, hidden, rank)
                                         / math.sqrt(hidden))                      # V_i
        self.output_basis = nn.Parameter(torch.randn(rank, bins) / math.sqrt(rank))  # B
        self.unit_logits = nn.Parameter(torch.zeros(units, bins))
        if num_labels:
            self.label_hidden = nn.Parameter(torch.zeros(num_labels, hidden))
            self.label_logits = nn.Parameter(torch.zeros(num_labels, units, bins))
        if direct_rank:
            self.direct_basis = nn.Parameter(torch.randn(bins, direct_rank))            # b'
            self.direct_weights = nn.Parameter(torch.zeros(units * direct_rank,
                                                           units * direct_rank))     # W_ji
            self.direct_output_basis = nn.Parameter(torch.randn(direct_rank, bins)
                                                    / math.sqrt(direct_rank))        # B'
            self.direct_gate = nn.Parameter(torch.zeros(units, hidden,
                                                        direct_rank ** 2))           # U_ik
            unit_of = torch.arange(units).repeat_interleave(direct_rank)
            self.register_buffer("direct_mask", (unit_of[:, None] < unit_of[None, :]).float(),
                                 persistent=False)
        self.block = math.ceil(math.sqrt(units))
        self.register_buffer("within", _strictly_lower(self.block), persistent=False)
        self.register_buffer("across", _strictly_lower(math.ceil(units / self.block)),
                             persistent=False)

    def exclusive_prefix_sum(self, x: torch.Tensor, offset=None) -> torch.Tensor:
        """(D, M) -> (D, M) with row i = offset + sum_{j<i} x_j, as two triangular matrix
        products over blocks of about sqrt(D) rows (exact up to floating-point order); the
        last block is padded with zero rows where needed."""
        blocks, size = self.across.shape[0], len(x)
        padding = blocks * self.block - size
        padded = (F.pad(x, (0, 0, 0, padding)) if padding else x).view(blocks, self.block, -1)
        before = torch.matmul(self.across, padded.sum(dim=1))   # all rows of earlier blocks
        if offset is not None:
            before = before + offset
        # earlier rows of the same block, added to the earlier blocks' sums in one product
        prefix = torch.baddbmm(before[:, None, :], self.within.expand(blocks, -1, -1), padded)
        prefix = prefix.view(blocks * self.block, -1)
        return prefix[:size] if padding else prefix

    def code_features(self, codes: torch.Tensor) -> torch.Tensor:
        """b(t_j) for every unit, unit-major: (B, D) int codes -> (D, B, R)."""
        return self.code_basis[codes.T]

    def hidden_states(self, features: torch.Tensor) -> torch.Tensor:
        """h_i without the label: (D, B, R) code features -> (D, B, H)."""
        batch = features.shape[1]
        contributions = torch.bmm(features, self.unit_inputs)               # A_j^T b(t_j)
        hidden = self.exclusive_prefix_sum(contributions.view(self.units, -1),
                                           self.start.repeat(batch))
        return hidden.view(self.units, batch, self.hidden)

    def _context(self, features, codes) -> tuple:
        """What the label does not change: h_i without the label, (D, B, H), and the coupling
        vectors s_i = sum_{j<i} W_ji^T b'(t_j), (D, B, R') (None without the direct term)."""
        hidden = self.hidden_states(features)
        if not self.direct_rank:
            return hidden, None
        batch = codes.shape[0]
        coupling = self.direct_weights * self.direct_mask  # W_ji for j < i only
        direct = self.direct_basis[codes].reshape(batch, -1) @ coupling
        return hidden, direct.view(batch, self.units, self.direct_rank).transpose(0, 1)

    def _log_q_given_context(self, hidden, direct, codes, labels) -> torch.Tensor:
        """(D, B, H) h_i and (D, B, R') s_i -> (D, B) log q(t_i | t_<i [, y]) in nats."""
        bias = self.unit_logits[:, None, :]
        if labels is not None:
            hidden = hidden + self.label_hidden[labels]
            bias = bias + self.label_logits[labels].transpose(0, 1)
        activation = torch.tanh(hidden)                              # phi(h_i)
        # V_i and U_ik in one batched product: small products run far below peak
        maps = (torch.cat([self.unit_outputs, self.direct_gate], 2) if self.direct_rank
                else self.unit_outputs)
        products = torch.bmm(activation, maps)                       # (D, B, R [+ R'^2])
        rank = self.unit_outputs.shape[2]
        logits = bias + products[..., :rank] @ self.output_basis
        if self.direct_rank:
            gate = products[..., rank:].reshape(self.units, codes.shape[0], self.direct_rank,
                                                self.direct_rank)
            direct = direct + (direct.unsqueeze(3) * gate).sum(2)          # M_i^T s_i
            logits = logits + direct @ self.direct_output_basis
        log_q = F.log_softmax(logits, dim=-1)
        return log_q.gather(2, codes.T.unsqueeze(2)).squeeze(2)

    def _log_q_units(self, features, codes, labels) -> torch.Tensor:
        """(D, B, R) code features -> (D, B) log q(t_i | t_<i [, y]) in nats."""
        hidden, direct = self._context(features, codes)
        return self._log_q_given_context(hidden, direct, codes, labels)

    def _check(self, labels):
        if (labels is None) != (self.num_labels == 0):
            raise ValueError("labels must be given exactly when the model is conditional")

    def log_prob_units_nats(self, codes, labels=None) -> torch.Tensor:
        """log q(t_i | t_<i [, y]) for every unit: (B, D) int codes -> (B, D) nats."""
        self._check(labels)
        return self._log_q_units(self.code_features(codes), codes, labels).T

    def log_prob_nats(self, codes, labels=None) -> torch.Tensor:
        """log q(t [| y]) in nats for each example: (B, D) -> (B,)."""
        self._check(labels)
        return self._log_q_units(self.code_features(codes), codes, labels).sum(dim=0)

    def log_prob_every_label_nats(self, codes) -> torch.Tensor:
        """log q(t | y) in nats for every label y: (B, D) -> (B, L). The running sum and the
        couplings do not depend on the label and are computed once."""
        if not self.num_labels:
            raise ValueError("log q(t | y) for every label needs a conditional model")
        hidden, direct = self._context(self.code_features(codes), codes)
        return torch.stack([self._log_q_given_context(
            hidden, direct, codes, torch.full(codes.shape[:1], y, device=codes.device)
        ).sum(dim=0) for y in range(self.num_labels)], dim=1)
