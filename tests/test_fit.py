"""The fitting loop's bookkeeping: best states, and the return to them with a lower rate."""
import torch

from infoplane import fit
from models import AutoregressiveDensity


def test_no_improvement_returns_to_best_state_with_lower_learning_rate():
    model = AutoregressiveDensity(5, 3, channels=4)
    tracker = fit._Tracker(model, False, val_bits=10.0, lr=0.1)
    assert tracker.update(1, 9.0, lr_decay=0.5)
    best = {name: value.clone() for name, value in model.state_dict().items()}
    with torch.no_grad():
        model.unit_logits.add_(1.0)
    assert not tracker.update(2, 9.5, lr_decay=0.5)
    assert tracker.best["epoch"] == 1
    for name, value in model.state_dict().items():
        assert torch.equal(value, best[name]), name
    assert tracker.optimizer.param_groups[0]["lr"] == 0.05


def test_without_decay_a_worse_epoch_leaves_the_model_as_it_is():
    model = AutoregressiveDensity(5, 3, channels=4)
    tracker = fit._Tracker(model, False, val_bits=10.0, lr=0.1)
    with torch.no_grad():
        model.unit_logits.add_(1.0)
    moved = model.unit_logits.detach().clone()
    assert not tracker.update(1, 11.0, lr_decay=1.0)
    assert torch.equal(model.unit_logits.detach(), moved)
    assert tracker.optimizer.param_groups[0]["lr"] == 0.1


def test_label_and_neighbour_parameters_learn_at_their_own_rates():
    conditional = AutoregressiveDensity(5, 3, channels=4, num_labels=2)
    tracker = fit._Tracker(conditional, True, val_bits=10.0, lr=0.1, label_lr_scale=0.3,
                           neighbour_lr_scale=0.5)
    names = {id(p): name for name, p in conditional.named_parameters()}
    rates = {}
    for group in tracker.optimizer.param_groups:
        for parameter in group["params"]:
            rates[names[id(parameter)]] = group["lr"]
    assert sorted(rates) == sorted(names.values())  # every parameter in exactly one group
    for name, rate in rates.items():
        expected = 0.03 if "label" in name else 0.05 if "neighbour" in name else 0.1
        assert abs(rate - expected) < 1e-12, name
    marginal_groups = fit._Tracker(AutoregressiveDensity(5, 3, channels=4), False, 10.0,
                                   0.1, 0.3).optimizer.param_groups
    assert all(group["params"] for group in marginal_groups)  # no empty label group

def _sample(model, labels, generator):
    """Codes drawn from an autoregressive model, one unit at a time."""
    codes = torch.zeros(len(labels), model.units, dtype=torch.long)
    with torch.no_grad():
        for i in range(model.units):
            probabilities = torch.softmax(model.logits(codes, labels)[:, i], dim=-1)
            codes[:, i] = torch.multinomial(probabilities, 1, generator=generator)[:, 0]
    return codes


def test_label_scale_is_zero_for_labels_that_carry_nothing_and_one_for_the_true_model():
    generator = torch.Generator().manual_seed(0)
    model = AutoregressiveDensity(6, 4, channels=8, num_labels=3)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "label" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
    labels = torch.randint(0, 3, (3000,), generator=generator)
    codes = _sample(model, labels, generator)  # the model is the truth
    assert fit.fit_label_scale(model, (codes, labels)) == 1.0
    assert model.label_scale == 1.0
    shuffled = labels[torch.randperm(len(labels), generator=generator)]  # now they carry nothing
    assert fit.fit_label_scale(model, (codes, shuffled)) <= 0.125
