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


def test_label_parameters_learn_at_their_own_rate():
    conditional = AutoregressiveDensity(5, 3, channels=4, num_labels=2)
    tracker = fit._Tracker(conditional, True, val_bits=10.0, lr=0.1, label_lr_scale=0.3)
    shared, labelled = tracker.optimizer.param_groups
    assert shared["lr"] == 0.1 and abs(labelled["lr"] - 0.03) < 1e-12
    names = {id(p): name for name, p in conditional.named_parameters()}
    assert all("label" in names[id(p)] for p in labelled["params"])
    assert not any("label" in names[id(p)] for p in shared["params"])
    assert len(shared["params"]) + len(labelled["params"]) == len(names)
    marginal_groups = fit._Tracker(AutoregressiveDensity(5, 3, channels=4), False, 10.0,
                                   0.1, 0.3).optimizer.param_groups
    assert len(marginal_groups) == 1  # no label parameters: one group at the full rate
