"""Maximum-likelihood fitting of an autoregressive density, with early stopping on a
held-out validation split, and batched evaluation of log-probabilities."""
import copy
import time

import numpy as np
import torch

from infoplane.entropy import nats_to_bits


def initialise_unit_logits(model, codes: torch.Tensor) -> None:
    """Set the per-unit logits to log of the add-one smoothed marginal frequencies of each
    unit's codes, so that fitting starts from the independent-units model."""
    counts = torch.zeros(model.units, model.bins, device=codes.device)
    counts.scatter_add_(1, codes.T.contiguous(), torch.ones_like(codes.T, dtype=counts.dtype))
    with torch.no_grad():
        model.unit_logits.copy_(torch.log((counts + 1.0) / (counts.sum(1, keepdim=True)
                                                              + model.bins)))


@torch.no_grad()
def log_prob_nats(model, codes: torch.Tensor, labels=None, batch_size: int = 1000) -> np.ndarray:
    """log q(t [| y]) for every example, in nats: (N, D) -> (N,) float64."""
    model.eval()
    parts = [model.log_prob_nats(codes[i:i + batch_size],
                                 None if labels is None else labels[i:i + batch_size])
             for i in range(0, len(codes), batch_size)]
    return torch.cat(parts).double().cpu().numpy()


def log_prob_every_label_nats(model, codes: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """log q(t | y) for every example and every label y: (N, D) -> (N, L) float64."""
    return np.stack([log_prob_nats(model, codes, torch.full_like(codes[:, 0], y), batch_size)
                     for y in range(model.num_labels)], axis=1)


def fit(model, train, validation, *, lr: float, batch_size: int, max_epochs: int,
        patience: int, seed: int, eval_batch_size: int = 1000, log=print) -> dict:
    """Minimise the mean negative log-likelihood of `train` = (codes, labels or None) with
    Adam; after each epoch evaluate on `validation` and keep the best state (the initial
    state counts as epoch 0). Stop after `patience` epochs without improvement; load the
    best state into `model`. Returns the history in bits per example."""
    codes, labels = train
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def validation_nll_bits():
        return float(nats_to_bits(-log_prob_nats(model, *validation, eval_batch_size).mean()))

    best = {"epoch": 0, "val_nll_bits": validation_nll_bits(), "train_nll_bits": None,
            "state": copy.deepcopy(model.state_dict())}
    start, epoch = time.time(), 0
    log(f"epoch {0:3d}  val {best['val_nll_bits']:.4f} bits")
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.randperm(len(codes), generator=generator).to(codes.device)
        total_nats = 0.0
        for i in range(0, len(codes), batch_size):
            batch = order[i:i + batch_size]
            loss = -model.log_prob_nats(codes[batch], None if labels is None
                                        else labels[batch]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_nats += loss.item() * len(batch)
        train_bits = float(nats_to_bits(total_nats / len(codes)))
        val_bits = validation_nll_bits()
        improved = val_bits < best["val_nll_bits"]
        if improved:
            best = {"epoch": epoch, "val_nll_bits": val_bits, "train_nll_bits": train_bits,
                    "state": copy.deepcopy(model.state_dict())}
        log(f"epoch {epoch:3d}  train {train_bits:.4f}  val {val_bits:.4f} bits"
            f"{'  *' if improved else ''}  {time.time() - start:6.1f} s")
        if epoch - best["epoch"] >= patience:
            break
    model.load_state_dict(best["state"])
    return {"epochs": epoch, "best_epoch": best["epoch"], "train_nll_bits": best["train_nll_bits"],
            "val_nll_bits": best["val_nll_bits"], "seconds": round(time.time() - start, 2)}
