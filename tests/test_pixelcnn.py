"""The density model: autoregressive property, normalisation, receptive field, warm start."""
import itertools

import numpy as np
import pytest
import torch

from infoplane import sources
from models import AutoregressiveDensity
from models.pixelcnn import dilations_covering

from conftest import randomised


@pytest.mark.parametrize("num_labels", [0, 3])
@pytest.mark.parametrize("units, kernel_size", [(1, 2), (7, 2), (12, 3)])
def test_logits_of_unit_i_ignore_codes_i_and_later(num_labels, units, kernel_size):
    model = randomised(AutoregressiveDensity(units, 5, channels=8, kernel_size=kernel_size,
                                             stacks=2, num_labels=num_labels))
    codes = torch.randint(0, 5, (4, units))
    labels = torch.randint(0, 3, (4,)) if num_labels else None
    embedded = {}

    def keep(module, inputs, output):
        output.retain_grad()
        embedded["codes"] = output  # (B, D-1, C): the embedding of codes 0..D-2

    model.code_embedding.register_forward_hook(keep)
    for i in range(units):
        logits = model.logits(codes, labels)  # (B, D, K)
        logits[:, i].sum().backward()
        gradient = embedded["codes"].grad.abs().sum(dim=(0, 2))  # (D-1,) over code positions
        assert torch.all(gradient[i:] == 0), f"unit {i} sees codes >= {i}"
        if i > 0:
            assert torch.all(gradient[:i] > 0), f"unit {i} misses some of codes < {i}"


@pytest.mark.parametrize("num_labels", [0, 2])
def test_changing_later_codes_leaves_earlier_conditionals_unchanged(num_labels):
    model = randomised(AutoregressiveDensity(9, 4, channels=8, num_labels=num_labels))
    labels = torch.tensor([1, 0]) if num_labels else None
    codes = torch.randint(0, 4, (2, 9))
    base = model.logits(codes, labels)
    for i in range(9):
        changed = codes.clone()
        changed[:, i:] = (changed[:, i:] + 1) % 4
        assert torch.equal(model.logits(changed, labels)[:, : i + 1], base[:, : i + 1])


@pytest.mark.parametrize("num_labels, label_scale", [(0, 1.0), (3, 1.0), (3, 0.4)])
def test_probabilities_of_all_sequences_sum_to_one(num_labels, label_scale):
    units, bins = 4, 3
    model = randomised(AutoregressiveDensity(units, bins, channels=8, num_labels=num_labels),
                       seed=1)
    model.label_scale = label_scale
    sequences = torch.tensor(list(itertools.product(range(bins), repeat=units)))  # (K^D, D)
    for label in range(max(num_labels, 1)):
        labels = torch.full((len(sequences),), label) if num_labels else None
        with torch.no_grad():
            total = model.log_prob_nats(sequences, labels).double().exp().sum()
        assert abs(total.item() - 1.0) < 1e-5


@pytest.mark.parametrize("units", [1, 2, 3, 10, 33, 256])
@pytest.mark.parametrize("kernel_size", [2, 3, 4])
def test_receptive_field_covers_all_units(units, kernel_size):
    dilations = dilations_covering(units, kernel_size)
    field = 1 + (kernel_size - 1) * sum(dilations)
    assert field >= units
    assert len(dilations) == 1 or 1 + (kernel_size - 1) * sum(dilations[:-1]) < units
    assert AutoregressiveDensity(units, 4, channels=4,
                                 kernel_size=kernel_size).receptive_field == field


def test_conditional_warm_started_from_marginal_starts_equal():
    marginal = randomised(AutoregressiveDensity(6, 4, channels=8))
    conditional = AutoregressiveDensity(6, 4, channels=8, num_labels=3)
    missing, unexpected = conditional.load_state_dict(marginal.state_dict(), strict=False)
    assert not unexpected and missing and all("label" in key for key in missing)
    codes = torch.randint(0, 4, (5, 6))
    with torch.no_grad():
        for label in range(3):
            assert torch.allclose(conditional.log_prob_nats(codes, torch.full((5,), label)),
                                  marginal.log_prob_nats(codes))


def test_labels_must_match_the_model():
    with pytest.raises(ValueError):
        AutoregressiveDensity(3, 2, channels=4).logits(torch.zeros(1, 3, dtype=torch.long),
                                                       torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError):
        AutoregressiveDensity(3, 2, channels=4, num_labels=2).logits(
            torch.zeros(1, 3, dtype=torch.long))


def test_neighbour_table_represents_any_first_order_chain_exactly():
    """With the network's output at zero, unit 0's bias = log p(t_0) and the table rows =
    log p(t_i | t_{i-1}) give the chain's exact log-likelihood, however unrelated the
    transition matrices of neighbouring units are."""
    source = sources.markov_chain(7, 5, np.random.default_rng(3), concentration=0.3)
    model = AutoregressiveDensity(7, 5, channels=4)
    with torch.no_grad():
        model.unit_logits.zero_()
        model.unit_logits[0] = torch.as_tensor(np.log(source.init[0]))
        for i in range(1, 7):
            model.neighbour[5 * i:5 * (i + 1)] = torch.as_tensor(
                np.log(source.transitions[0, i - 1]))
    codes, _ = source.sample(50, np.random.default_rng(4))
    with torch.no_grad():
        log_p = model.log_prob_nats(torch.as_tensor(codes, dtype=torch.long)).double().numpy()
    assert np.allclose(log_p, source.log_prob_nats(codes), atol=1e-4)


def test_label_scale_zero_ignores_the_label():
    model = randomised(AutoregressiveDensity(6, 4, channels=8, num_labels=3))
    codes = torch.randint(0, 4, (5, 6))
    with torch.no_grad():
        scaled = [model.log_prob_nats(codes, torch.full((5,), y)) for y in range(3)]
        model.label_scale = 0.0
        ignored = [model.log_prob_nats(codes, torch.full((5,), y)) for y in range(3)]
    assert not torch.allclose(scaled[0], scaled[1])
    assert torch.allclose(ignored[0], ignored[1]) and torch.allclose(ignored[0], ignored[2])


@pytest.mark.parametrize("num_labels, expected", [(0, 0), (1, 0), (2, 1), (10, 9)])
def test_default_label_rank_is_every_centred_effect(num_labels, expected):
    assert AutoregressiveDensity(4, 3, channels=4, num_labels=num_labels).label_rank == expected
    assert AutoregressiveDensity(4, 3, channels=4, num_labels=num_labels,
                                 label_rank=4).label_rank == min(4, expected)
