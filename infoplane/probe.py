"""A discriminative classifier of the label from a layer's codes: the linear probe.

With x_i = t_i / (K - 1) the code of unit i scaled to [0, 1], features
phi(t) = (x_1, ..., x_D, x_1^2, ..., x_D^2) (models.code_positions, which the label's
classifier also reads), and z = P^T (phi(t) - mean) the features whitened on the training
codes (P = U diag(lambda)^(-1/2) from the eigenvectors U and eigenvalues lambda of their
covariance; directions with lambda below 1e-5 of the largest, such as constant units, are
dropped),

    r(y | t) = softmax_y(W^T z + c),

fitted by L2-penalised maximum likelihood (mean cross-entropy + penalty/2 ||W||^2, L-BFGS),
the penalty chosen on held-out codes along a path of decreasing penalties (each fit starts
from the previous one). In whitened coordinates the problem is well conditioned (L-BFGS
converges in tens of iterations, not hundreds), and ||W||^2 is the variance of the logits
over the training codes, a penalty that does not depend on how the units are scaled. The
probe asks whether the label can be read off the layer by one linear map of its units and
their squares (a level shift or a change of spread of each unit): a generative model of
the whole layer has to spend its capacity on everything else in T, a probe only on what
predicts Y. infoplane/estimate.py reports it as a baseline beside the density model's own
posterior; any r(y | t) gives H(Y) - E[-log2 r(y|t)] <= I(T; Y) in expectation (Barber &
Agakov).
"""
from dataclasses import dataclass

import numpy as np
import torch

from models import code_positions

PENALTIES = (1e-1, 1e-2, 1e-3, 1e-4)
SMALLEST_VARIANCE = 1e-5  # relative to the largest: whitened directions kept


def whitening(features: torch.Tensor) -> tuple:
    """(mean (F,), P (F, R)) with P^T Cov P = I over the kept directions (module doc)."""
    mean = features.mean(0)
    centred = features - mean
    variances, directions = torch.linalg.eigh((centred.T @ centred).double() / len(features))
    kept = variances > SMALLEST_VARIANCE * variances.max()
    return mean, (directions[:, kept] / variances[kept].sqrt()).float()


@dataclass
class LinearProbe:
    weight: torch.Tensor      # (R, L)
    bias: torch.Tensor        # (L,)
    mean: torch.Tensor        # (F,) feature means on the training codes
    projection: torch.Tensor  # (F, R) whitening P
    bins: int
    penalty: float            # the chosen L2 penalty

    def log_posterior_nats(self, codes: torch.Tensor, batch_size: int = 4096) -> np.ndarray:
        """log r(y | t) for every label: (N, D) -> (N, L)."""
        with torch.no_grad():
            parts = [torch.log_softmax((code_positions(part, self.bins) - self.mean)
                                       @ self.projection @ self.weight + self.bias, dim=1)
                     for part in codes.split(batch_size)]
            return torch.cat(parts).double().cpu().numpy()


def fit_probe(codes: torch.Tensor, labels: torch.Tensor, validation_codes: torch.Tensor,
              validation_labels: torch.Tensor, num_labels: int, bins: int,
              penalties=PENALTIES, max_iterations: int = 12) -> LinearProbe:
    """Fit r(y | t) on (codes (N, D), labels (N,)) for each penalty in turn, warm-started,
    and return the fit with the lowest validation cross-entropy (ties: the larger penalty)."""
    features = code_positions(codes, bins)
    mean, projection = whitening(features)
    features = (features - mean) @ projection  # (N, R)
    validation = (code_positions(validation_codes, bins) - mean) @ projection
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
            best = LinearProbe(weight.detach().clone(), bias.detach().clone(), mean,
                               projection, bins, penalty)
    return best
