"""A classifier q(y | t): one candidate for the last factor of q(t, y) = q(t) q(y | t).

With x_j = t_j / (K - 1) the code of unit j placed on [0, 1] (the bins are equal steps of
one activation scale), features f(t) = (x_1, ..., x_D, x_1^2, ..., x_D^2) centred by their
training means m, and z = f(t) - m,

    log q(y | t) = log softmax(W^T tanh(e + U^T z) + C^T z + w)[y],

one layer of H tanh units beside a linear map of the same features; every unit reaches
the label. The classifier reads where each unit's code lies on the activation scale, not a
free embedding of each bin: a layer's codes carry hundreds of bits, its label about 3.3,
and a label head with a free vector per bin fits the training codes' labels without
generalising, where one that knows that neighbouring bins are near does not. It shares no
parameter with the density of the codes and is fitted on its own; the estimator keeps it
where it predicts the validation labels better than that density's own posterior does.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def code_positions(codes: torch.Tensor, bins: int) -> torch.Tensor:
    """f(t) = (x, x^2) with x = t / (K - 1): (N, D) int codes in [0, K) -> (N, 2D) floats."""
    position = codes.float() / max(bins - 1, 1)
    return torch.cat([position, position * position], dim=1)


class LabelPosterior(nn.Module):
    """q(y | t) over `classes` labels from `units` codes in `bins` bins."""

    def __init__(self, units: int, bins: int, classes: int, hidden: int = 64):
        super().__init__()
        self.units, self.bins, self.classes = units, bins, classes
        features = 2 * units
        self.register_buffer("feature_means", torch.zeros(features))                 # m
        self.inputs = nn.Parameter(torch.randn(features, hidden) / math.sqrt(features))  # U
        self.start = nn.Parameter(torch.zeros(hidden))                                 # e
        self.hidden_outputs = nn.Parameter(torch.zeros(hidden, classes))               # W
        self.linear = nn.Parameter(torch.zeros(features, classes))                     # C
        self.bias = nn.Parameter(torch.zeros(classes))                                 # w

    def features(self, codes: torch.Tensor) -> torch.Tensor:
        """f(t): (B, D) int codes -> (B, 2D) floats, not centred."""
        return code_positions(codes, self.bins)

    def set_feature_means(self, codes: torch.Tensor) -> None:
        """m <- the mean of f(t) over `codes` (the training codes), before fitting."""
        with torch.no_grad():
            self.feature_means.copy_(self.features(codes).mean(0))

    def log_posterior_nats(self, codes: torch.Tensor) -> torch.Tensor:
        """log q(y | t) for every label: (B, D) -> (B, L)."""
        centred = self.features(codes) - self.feature_means          # z: (B, 2D)
        hidden = torch.tanh(torch.addmm(self.start, centred, self.inputs))  # (B, H)
        logits = hidden @ self.hidden_outputs + centred @ self.linear + self.bias
        return F.log_softmax(logits, dim=-1)

    def log_prob_nats(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """log q(y | t) of the given labels: (B, D), (B,) -> (B,)."""
        return self.log_posterior_nats(codes).gather(1, labels[:, None]).squeeze(1)
