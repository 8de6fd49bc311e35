"""A discriminative classifier of the label from a layer's codes: the linear probe.

With x_i = t_i / (K - 1) the code of unit i scaled to [0, 1] and features
phi(t) = (x_1, ..., x_D, x_1^2, ..., x_D^2), standardised on the training codes,

    r(y | t) = softmax_y(W^T phi(t) + c),

fitted by L2-penalised maximum likelihood (mean cross-entropy + penalty/2 ||W||^2, L-BFGS),
the penalty chosen on held-out codes along a path of decreasing penalties (each fit starts
from the previous one). It is the classifier that asks whether the label can be read off
the layer by one linear map of its units and their squares, as a level shift or a change
of spread of each unit: a generative model of the whole layer has to spend its capacity on
everything else in T, a probe only on what predicts Y. infoplane/estimate.py multiplies it,
with an exponent chosen on validation, into the posterior of the Bayes estimate; any
r(y | t) gives H(Y) - E[-log2 r(y|t)] <= I(T; Y) in expectation (Barber & Agakov).
"""
from dataclasses import dataclass

import numpy as np
import torch

PENALTIES = (1e-2, 1e-3, 1e-4)


def code_features(codes: torch.Tensor, bins: int) -> torch.Tensor:
    """phi(t) before standardisation: (N, D) ints in [0, bins) -> (N, 2D) floats."""
    scaled = codes.float() / max(bins - 1, 1)
    return torch.cat([scaled, scaled ** 2], dim=1)


@dataclass
class LinearProbe:
    weight: torch.Tensor  # (F, L)
    bias: torch.Tensor    # (L,)
    mean: torch.Tensor    # (F,) feature means on the training codes
    scale: torch.Tensor   # (F,) their standard deviations (1 for a constant feature)
    bins: int
    penalty: float        # the chosen L2 penalty

    def _logits(self, codes: torch.Tensor) -> torch.Tensor:
        return ((code_features(codes, self.bins) - self.mean) / self.scale) @ self.weight \
            + self.bias

    def log_posterior_nats(self, codes: torch.Tensor, batch_size: int = 4096) -> np.ndarray:
        """log r(y | t) for every label: (N, D) -> (N, L)."""
        with torch.no_grad():
            return torch.cat([torch.log_softmax(self._logits(codes[i:i + batch_size]), 1)
                              for i in range(0, len(codes), batch_size)]).double().cpu().numpy()


def fit_probe(codes: torch.Tensor, labels: torch.Tensor, validation_codes: torch.Tensor,
              validation_labels: torch.Tensor, num_labels: int, bins: int,
              penalties=PENALTIES, max_iterations: int = 100) -> LinearProbe:
    """Fit r(y | t) on (codes (N, D), labels (N,)) for each penalty in turn, warm-started,
    and return the fit with the lowest validation cross-entropy (ties: the larger penalty)."""
    features = code_features(codes, bins)
    mean, scale = features.mean(0), features.std(0)
    scale = torch.where(scale > 1e-6, scale, torch.ones_like(scale))
    features = (features - mean) / scale  # (N, F)
    validation = (code_features(validation_codes, bins) - mean) / scale
    weight = torch.zeros(features.shape[1], num_labels, device=codes.device, requires_grad=True)
    bias = torch.zeros(num_labels, device=codes.device, requires_grad=True)
    cross_entropy = torch.nn.functional.cross_entropy
    best, best_nats = None, float("inf")
    for penalty in penalties:
        optimiser = torch.optim.LBFGS([weight, bias], max_iter=max_iterations, history_size=20,
                                      line_search_fn="strong_wolfe")

        def objective():
            optimiser.zero_grad()
            loss = cross_entropy(features @ weight + bias, labels) \
                + 0.5 * penalty * (weight ** 2).sum()
            loss.backward()
            return loss

        optimiser.step(objective)
        with torch.no_grad():
            nats = cross_entropy(validation @ weight + bias, validation_labels).item()
        if best is None or nats < best_nats - 1e-9:
            best_nats = nats
            best = LinearProbe(weight.detach().clone(), bias.detach().clone(), mean, scale,
                               bins, penalty)
    return best
