"""Maximum-likelihood fitting of the paired autoregressive densities q(t) and q(t | y),
with early stopping on a held-out validation split, and batched evaluation."""
import copy
import time

import numpy as np
import torch

from infoplane import counts
from infoplane.entropy import nats_to_bits


def initialise_unit_logits(model, codes: torch.Tensor) -> None:
    """Set the per-unit logits to log of the add-one smoothed marginal frequencies of each
    unit's codes, so that fitting starts from the independent-units model."""
    with torch.no_grad():
        model.unit_logits.copy_(torch.log(counts.unit_marginals(codes, model.bins)))


@torch.no_grad()
def log_prob_nats(model, codes: torch.Tensor, labels=None,
                  batch_size: int = 256) -> np.ndarray:
    """log q(t [| y]) for every example, in nats: (N, D) -> (N,) float64."""
    model.eval()
    parts = [model.log_prob_nats(codes[i:i + batch_size],
                                 None if labels is None else labels[i:i + batch_size])
             for i in range(0, len(codes), batch_size)]
    return torch.cat(parts).double().cpu().numpy()


def log_prob_every_label_nats(model, codes: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """log q(t | y) for every example and every label y: (N, D) -> (N, L) float64."""
    return np.stack([log_prob_nats(model, codes, torch.full_like(codes[:, 0], y), batch_size)
                     for y in range(model.num_labels)], axis=1)


class _Tracker:
    """One model of the pair: whether it sees labels, its optimizer, its best validation
    state so far."""

    def __init__(self, model, with_labels: bool, val_bits: float, lr: float,
                 label_lr_scale: float = 1.0, neighbour_lr_scale: float = 1.0):
        self.model, self.with_labels = model, with_labels
        named = list(model.named_parameters())
        scales = {"label": label_lr_scale, "neighbour": neighbour_lr_scale}
        groups = [{"params": [p for name, p in named if not any(s in name for s in scales)],
                   "lr": lr}]
        groups += [{"params": [p for name, p in named if key in name], "lr": lr * scale}
                   for key, scale in scales.items()]
        self.optimizer = torch.optim.Adam([g for g in groups if g["params"]])
        self.best = {"epoch": 0, "val_nll_bits": val_bits,
                     "state": copy.deepcopy(model.state_dict())}

    def update(self, epoch: int, val_bits: float, lr_decay: float = 1.0) -> bool:
        """Keep the state if it is the best so far; otherwise, when lr_decay < 1, go back to
        the best state and go on from there with the learning rate times lr_decay."""
        if val_bits < self.best["val_nll_bits"]:
            self.best = {"epoch": epoch, "val_nll_bits": val_bits,
                         "state": copy.deepcopy(self.model.state_dict())}
            return True
        if lr_decay < 1.0:
            self.model.load_state_dict(self.best["state"])
            for group in self.optimizer.param_groups:
                group["lr"] *= lr_decay
        return False


def fit_pair(marginal, conditional, train, validation, *, lr: float, batch_size: int,
             max_epochs: int, patience: int, seed: int, eval_batch_size: int = 256,
             lr_decay: float = 1.0, label_lr_scale: float = 1.0,
             neighbour_lr_scale: float = 1.0, log=print) -> tuple:
    """Minimise the mean negative log-likelihoods of q(t) (`marginal`) and q(t | y)
    (`conditional`) on train = (codes (N, D), labels (N,)) with Adam, in lockstep: the
    same batches in the same order, so that both see equal training and the difference
    of their losses reflects the label rather than unequal optimisation. After each epoch
    each model is scored on `validation` and keeps its best state (the initial state is
    epoch 0); a model that did not improve goes back to its best state with its learning
    rate times `lr_decay`; training stops when neither improved for `patience` epochs.
    The label parameters of q(t | y) learn at `label_lr_scale` times the rate, the table of
    the previous unit's code (`neighbour`) at `neighbour_lr_scale` times (see README). The
    best states are loaded; returns each model's history in bits per example, where
    train_nll_bits is the best state's NLL on as many training examples as the validation
    split holds (its gap to val_nll_bits measures overfitting)."""
    codes, labels = train
    generator = torch.Generator().manual_seed(seed)

    def nll_bits(model, with_labels, data=validation):
        return float(nats_to_bits(-log_prob_nats(
            model, data[0], data[1] if with_labels else None, eval_batch_size).mean()))

    pair = [_Tracker(marginal, False, nll_bits(marginal, False), lr, 1.0, neighbour_lr_scale),
            _Tracker(conditional, True, nll_bits(conditional, True), lr, label_lr_scale,
                     neighbour_lr_scale)]
    log(f"epoch   0  q(t) val {pair[0].best['val_nll_bits']:.4f}  "
        f"q(t|y) val {pair[1].best['val_nll_bits']:.4f} bits")
    start, epoch = time.time(), 0
    for epoch in range(1, max_epochs + 1):
        order = torch.randperm(len(codes), generator=generator).to(codes.device)
        totals = [0.0, 0.0]
        for tracker in pair:
            tracker.model.train()
        for i in range(0, len(codes), batch_size):
            batch = order[i:i + batch_size]
            for k, tracker in enumerate(pair):
                loss = -tracker.model.log_prob_nats(
                    codes[batch], labels[batch] if tracker.with_labels else None).mean()
                tracker.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                tracker.optimizer.step()
                totals[k] += loss.item() * len(batch)
        line = f"epoch {epoch:3d}"
        for k, tracker in enumerate(pair):
            train_bits = float(nats_to_bits(totals[k] / len(codes)))
            val = nll_bits(tracker.model, tracker.with_labels)
            improved = tracker.update(epoch, val, lr_decay)
            line += (f"  {('q(t|y)' if tracker.with_labels else 'q(t)')} train {train_bits:.4f} "
                     f"val {val:.4f}{'*' if improved else ' '}")
        log(f"{line}  {time.time() - start:6.1f} s")
        if all(epoch - tracker.best["epoch"] >= patience for tracker in pair):
            break
    histories, sample = [], (codes[:len(validation[0])], labels[:len(validation[0])])
    for tracker in pair:
        tracker.model.load_state_dict(tracker.best["state"])
        histories.append({"epochs": epoch, "best_epoch": tracker.best["epoch"],
                          "train_nll_bits": nll_bits(tracker.model, tracker.with_labels,
                                                     sample),
                          "val_nll_bits": tracker.best["val_nll_bits"],
                          "seconds": round(time.time() - start, 2)})
    return tuple(histories)


def fit_label_scale(model, validation, eval_batch_size: int = 256, largest: float = 1.5,
                    step: float = 0.25) -> float:
    """The factor c >= 0 on every label effect of q(t | y) (`model.label_scale`) that
    minimises the validation NLL: on a grid of `step` over [0, largest], then at the best
    point's half-way neighbours. q_c(t | y) is a normalised density for every c (c = 0
    ignores the label), so its cross-entropy still bounds H(T | Y) from above; c < 1
    shrinks label effects fitted to noise, which otherwise cost about 0.27 bits on 64 units
    whose 10 labels carry nothing (measured; 0.03 after). Sets the best c and returns it."""
    codes, labels = validation

    def nll_nats(scale):
        model.label_scale = scale
        return float(-log_prob_nats(model, codes, labels, eval_batch_size).mean())

    scores = {c: nll_nats(c) for c in np.arange(0.0, largest + step / 2, step)}
    best = min(scores, key=scores.get)
    for c in (best - step / 2, best + step / 2):
        if c >= 0:
            scores[c] = nll_nats(c)
    model.label_scale = float(min(scores, key=scores.get))
    return model.label_scale
