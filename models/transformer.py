"""A causal transformer over units: the density family of the original study's attention
model, here for comparison with models/dense.py (benchmarks/mnist_models.py).

    log q(t [| y]) = sum_i log softmax(c_i + W z_i)[t_i],
    z = CausalTransformer(x),  x_0 = s [+ u_y] + p_0,  x_i = e(t_{i-1}) [+ u_y] + p_i,

with a code embedding e shared by all units, a learned position p_i per unit, the label as
an added embedding u_y at every position, and free per-unit logits c_i. Position i
attends to positions <= i, which hold codes < i: the autoregressive property. Attention
costs O(D^2 C) per example and layer.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalTransformer(nn.Module):
    """q(t) (num_labels = 0) or q(t | y) (num_labels > 0) over `units` codes in `bins` bins."""

    def __init__(self, units: int, bins: int, width: int = 64, layers: int = 2,
                 heads: int = 4, num_labels: int = 0):
        super().__init__()
        self.units, self.bins, self.num_labels = units, bins, num_labels
        self.code_embedding = nn.Embedding(bins, width)
        self.start = nn.Parameter(torch.zeros(width))
        self.position = nn.Parameter(torch.randn(units, width) * 0.02)
        if num_labels:
            self.label_embedding = nn.Embedding(num_labels, width)
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(width, bins)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.unit_logits = nn.Parameter(torch.zeros(units, bins))
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(units),
                             persistent=False)

    def log_prob_nats(self, codes, labels=None):
        """log q(t [| y]) in nats for each example: (B, D) -> (B,)."""
        if (labels is None) != (self.num_labels == 0):
            raise ValueError("labels must be given exactly when the model is conditional")
        x = self.code_embedding(codes[:, :-1])
        x = torch.cat([self.start.expand(len(codes), 1, -1), x], dim=1) + self.position
        if labels is not None:
            x = x + self.label_embedding(labels)[:, None, :]
        z = self.encoder(x, mask=self.mask, is_causal=True)
        log_q = F.log_softmax(self.out(z) + self.unit_logits, dim=-1)  # (B, D, K)
        return log_q.gather(2, codes.unsqueeze(2)).squeeze(2).sum(dim=1)
