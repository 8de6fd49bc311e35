"""The causal transformer used for comparison: with random weights the probabilities of all
sequences sum to one, which fails if any position sees its own or a later code."""
import itertools

import torch

from models.transformer import CausalTransformer

from conftest import randomised


def test_a_leaking_mask_would_be_caught():
    model = randomised(CausalTransformer(4, 3, width=8, layers=2, heads=2), scale=0.3).eval()
    model.mask.zero_()  # every position attends everywhere: position i sees code i
    sequences = torch.tensor(list(itertools.product(range(3), repeat=4)))
    with torch.no_grad():
        total = model.log_prob_nats(sequences)
    assert abs(total.double().exp().sum().item() - 1.0) > 1e-3


def test_probabilities_of_all_sequences_sum_to_one():
    units, bins = 4, 3
    model = randomised(CausalTransformer(units, bins, width=8, layers=2, heads=2, num_labels=2),
                       scale=0.3).eval()
    sequences = torch.tensor(list(itertools.product(range(bins), repeat=units)))
    for label in range(2):
        with torch.no_grad():
            total = model.log_prob_nats(sequences, torch.full((len(sequences),), label))
        assert abs(total.double().exp().sum().item() - 1.0) < 1e-4
