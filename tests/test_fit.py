"""The fitting loop: early stopping, the return to the best state, its bookkeeping."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from infoplane import fit, sources
from models import DenseAutoregressive


def _data(n, seed):
    rng = np.random.default_rng(seed)
    source = sources.markov_chain(6, 4, np.random.default_rng(0))
    codes, labels = source.sample(n, rng)
    return torch.as_tensor(codes.astype(np.int64)), torch.as_tensor(labels)


@pytest.mark.parametrize("averaging", [0.0, 0.99])
def test_fit_stops_early_and_keeps_the_best_validation_state(averaging):
    train, validation = _data(1500, 1), _data(300, 2)
    torch.manual_seed(0)
    model = DenseAutoregressive(6, 4, hidden=16, direct_rank=2)
    fit.initialise_unit_logits(model, train[0])
    start = float(-fit.log_prob_nats(model, validation[0]).mean())
    history = fit.fit_model(model, train, validation, with_labels=False, lr=0.05,
                            batch_size=64, max_epochs=60, patience=2, seed=0,
                            averaging=averaging, log=lambda _: None)
    assert history["stopped_early"] and history["epochs"] < 60
    assert 1 <= history["best_epoch"] <= history["epochs"] - 2
    final_bits = float(-fit.log_prob_nats(model, validation[0]).mean()) / np.log(2)
    assert abs(final_bits - history["val_nll_bits"]) < 1e-9  # the best state is loaded
    assert history["val_nll_bits"] < start / np.log(2) - 0.5  # it learnt the dependence


def test_a_cap_that_is_reached_is_not_early_stopping():
    train, validation = _data(500, 1), _data(100, 2)
    model = DenseAutoregressive(6, 4, hidden=8)
    history = fit.fit_model(model, train, validation, with_labels=False, lr=0.01,
                            batch_size=64, max_epochs=2, patience=5, seed=0, log=lambda _: None)
    assert history["epochs"] == 2 and not history["stopped_early"]


def test_a_large_improvement_threshold_stops_at_once():
    train, validation = _data(500, 1), _data(100, 2)
    model = DenseAutoregressive(6, 4, hidden=8)
    history = fit.fit_model(model, train, validation, with_labels=False, lr=0.01,
                            batch_size=64, max_epochs=20, patience=1, seed=0,
                            min_improvement=0.99, log=lambda _: None)
    assert history["epochs"] == 1 and history["stopped_early"]


def test_the_averaged_parameters_are_the_ones_scored():
    """After one epoch of steps, the state scored and kept is the running average of the
    parameters (here with the decay at its cap from the first step), not the last step."""
    train, validation = _data(256, 1), _data(100, 2)
    torch.manual_seed(0)
    model = DenseAutoregressive(6, 4, hidden=8)
    replay = DenseAutoregressive(6, 4, hidden=8)
    replay.load_state_dict(model.state_dict())
    fit.fit_model(model, train, validation, with_labels=False, lr=0.05, batch_size=64,
                  max_epochs=1, patience=1, seed=0, averaging=0.5, log=lambda _: None)
    # the same four Adam steps by hand, averaging with weight 1 - min(0.5, (1+s)/(10+s))
    optimizer = torch.optim.Adam(replay.parameters(), lr=0.05)
    average = [p.detach().clone() for p in replay.parameters()]
    order = torch.randperm(256, generator=torch.Generator().manual_seed(0))
    for step, i in enumerate(range(0, 256, 64), start=1):
        loss = -replay.log_prob_nats(train[0][order[i:i + 64]]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        decay = min(0.5, (1 + step) / (10 + step))
        for a, p in zip(average, replay.parameters()):
            a.mul_(decay).add_(p.detach(), alpha=1 - decay)
    for kept, expected in zip(model.parameters(), average):
        assert torch.allclose(kept, expected, atol=1e-6)


def test_unit_marginals_are_smoothed_frequencies():
    codes = torch.tensor([[0, 1], [0, 2], [1, 2]])
    expected = torch.tensor([[3 / 6, 2 / 6, 1 / 6], [1 / 6, 2 / 6, 3 / 6]])
    assert torch.allclose(fit.unit_marginals(codes, 3), expected)


def test_importing_fit_makes_every_torch_thread_flush_subnormal_floats():
    """A subnormal product comes out zero on all threads (torch's workers included)."""
    script = ("import torch, infoplane.fit; torch.set_num_threads(4); "
              "x = torch.full((1 << 20,), 1e-30) * 1e-10; print(int(x.count_nonzero()))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True).stdout
    assert out.strip() == "0"
