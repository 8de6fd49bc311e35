"""Maximum-likelihood fitting of one autoregressive density, with early stopping on a
held-out validation split, and batched evaluation."""
import copy
import time

import numpy as np
import torch

from infoplane.entropy import nats_to_bits

# The softmax of a confident unit gives its unlikely codes subnormal probabilities, which
# x86 CPUs compute many times slower, forward and backward. Flushing them to zero changes
# no bound (every estimate is scored by the model it names). Set at import: threads
# inherit the setting from the one that starts them, so torch's worker threads, started
# later, flush too.
torch.set_flush_denormal(True)


def unit_marginals(codes: torch.Tensor, bins: int) -> torch.Tensor:
    """Add-one smoothed frequencies of each unit's codes: (N, D) -> (D, K)."""
    counts = torch.zeros(codes.shape[1], bins, dtype=torch.float64, device=codes.device)
    counts.scatter_add_(1, codes.T, torch.ones(codes.T.shape, dtype=torch.float64,
                                               device=codes.device))
    return ((counts + 1.0) / (counts.sum(1, keepdim=True) + bins)).float()


def initialise_unit_logits(model, codes: torch.Tensor) -> None:
    """Set the per-unit logits to log of the smoothed marginal frequencies of each unit's
    codes, so that fitting starts near the independent-units model."""
    with torch.no_grad():
        model.unit_logits.copy_(torch.log(unit_marginals(codes, model.bins)))


@torch.no_grad()
def _in_batches(model, function, arrays, batch_size: int):
    """function(*slices) over consecutive batches of `arrays` (a None passes through), the
    model in eval mode; outputs concatenated as float64 numpy (a tuple of them for tuples)."""
    model.eval()
    parts = [function(*(None if a is None else a[i:i + batch_size] for a in arrays))
             for i in range(0, len(arrays[0]), batch_size)]
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(p).double().cpu().numpy() for p in zip(*parts))
    return torch.cat(parts).double().cpu().numpy()


def log_prob_nats(model, codes: torch.Tensor, labels=None,
                  batch_size: int = 256) -> np.ndarray:
    """log q(t [| y]) for every example, in nats: (N, D) -> (N,) float64."""
    return _in_batches(model, model.log_prob_nats, (codes, labels), batch_size)


def every_label_log_prob_nats(model, codes: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """log q(t | y) for every example and label, in nats: (N, D) -> (N, L) float64."""
    return _in_batches(model, model.log_prob_every_label_nats, (codes,), batch_size)


def label_posterior_nats(model, codes: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """log q(y | t) for every label (models/label.py), in nats: (N, D) -> (N, L) float64."""
    return _in_batches(model, model.log_posterior_nats, (codes,), batch_size)


def fit_model(model, train, validation, *, lr: float, batch_size: int, with_labels: bool = False,
              max_epochs: int, patience: int, seed: int, min_improvement: float = 0.0,
              lr_decay: float = 0.5, eval_batch_size: int = 256, averaging: float = 0.0,
              log=print) -> dict:
    """Minimise the mean negative log-likelihood of `model` on train = (codes (N, D), labels
    (N,)) with Adam. After each epoch the model is scored on `validation`; a score below
    the best by more than the fraction `min_improvement` of the best is an improvement
    and its state is kept; otherwise the model goes back to its best state and its
    learning rate is multiplied by `lr_decay`. Training stops after `patience` epochs in
    a row without improvement (early stopping: `stopped_early` true) or at `max_epochs`.
    The best state is loaded; returns its history in bits per example, where
    train_nll_bits is the NLL on as many training examples as the validation split holds
    (its gap to val_nll_bits measures overfitting). The objective is
    model.log_prob_nats(codes [, labels]) per example. With `averaging` = a > 0 the
    model scored, kept and returned is an exponential moving average of the parameters
    over Adam's steps (Polyak averaging), avg <- d avg + (1 - d) theta with d = min(a,
    (1 + s) / (10 + s)) at step s: it removes most of the noise that a constant learning
    rate leaves in the last iterate; training continues from the last iterate, or from
    the kept average after an epoch without improvement."""
    codes, labels = train

    def score(c, y):
        return model.log_prob_nats(c, y if with_labels else None)

    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    parameters = list(model.parameters())
    if averaging:
        average, steps = [p.detach().clone() for p in parameters], 0

    def copy_into(targets, sources):
        with torch.no_grad():
            for target, source in zip(targets, sources):
                target.copy_(source)

    def nll_bits(data):
        return float(nats_to_bits(-_in_batches(model, score, data, eval_batch_size).mean()))

    best = {"epoch": 0, "val_nll_bits": nll_bits(validation),
            "state": copy.deepcopy(model.state_dict())}
    log(f"epoch   0  val {best['val_nll_bits']:.3f} bits")
    start, epoch, waited = time.time(), 0, 0
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.randperm(len(codes), generator=generator).to(codes.device)
        total = 0.0
        for i in range(0, len(codes), batch_size):
            batch = order[i:i + batch_size]
            loss = -score(codes[batch], labels[batch]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if averaging:  # the decay grows to `averaging` over the first steps
                steps += 1
                weight = 1.0 - min(averaging, (1 + steps) / (10 + steps))
                with torch.no_grad():
                    for mean, parameter in zip(average, parameters):
                        mean.lerp_(parameter, weight)
            total += loss.item() * len(batch)
        if averaging:  # score the average; keep the last iterate to train on
            last = [p.detach().clone() for p in parameters]
            copy_into(parameters, average)
        val = nll_bits(validation)
        improved = val < best["val_nll_bits"] * (1.0 - min_improvement)
        if val < best["val_nll_bits"]:
            best = {"epoch": epoch, "val_nll_bits": val,
                    "state": copy.deepcopy(model.state_dict())}
        if averaging and improved:
            copy_into(parameters, last)
        if not improved:
            model.load_state_dict(best["state"])
            if averaging:
                copy_into(average, parameters)
            for group in optimizer.param_groups:
                group["lr"] *= lr_decay
        waited = 0 if improved else waited + 1
        log(f"epoch {epoch:3d}  train {float(nats_to_bits(total / len(codes))):.3f}  "
            f"val {val:.3f}{'*' if improved else ' '}  {time.time() - start:6.1f} s")
        if waited >= patience:
            break
    model.load_state_dict(best["state"])
    sample = (codes[:len(validation[0])], labels[:len(validation[0])])
    return {"epochs": epoch, "best_epoch": best["epoch"], "stopped_early": waited >= patience,
            "train_nll_bits": nll_bits(sample), "val_nll_bits": best["val_nll_bits"],
            "seconds": round(time.time() - start, 2)}
