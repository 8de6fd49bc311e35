"""The network whose layers are studied: 784-256-256-10 with tanh (or ReLU) hidden units."""
import torch
import torch.nn as nn

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


class MLP(nn.Module):
    """x -> hidden1 = f(W1 x + b1) -> hidden2 = f(W2 hidden1 + b2) -> output = W3 hidden2 + b3."""

    def __init__(self, inputs: int = 784, hidden: tuple = (256, 256), outputs: int = 10,
                 activation: str = "tanh"):
        super().__init__()
        if activation not in NONLINEARITIES:
            raise ValueError(f"activation must be one of {sorted(NONLINEARITIES)}")
        self.nonlinearity = NONLINEARITIES[activation]
        widths = (inputs, *hidden, outputs)
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

        self.layer_names = [f"hidden{i + 1}" for i in range(len(hidden))] + ["output"]

    def layer_dims(self) -> dict:
        return {name: lin.out_features for name, lin in zip(self.layer_names, self.linears)}

    def forward(self, x):
        """(B, inputs) -> {hidden1: (B, 256), hidden2: (B, 256), output: (B, 10) logits}."""
        activations = {}
        for name, linear in zip(self.layer_names, self.linears):
            x = linear(x)
            if name != "output":
                x = self.nonlinearity(x)
            activations[name] = x
        return activations
