"""The dense autoregressive model: autoregressive property, normalisation, label paths."""
import itertools

import pytest
import torch

from models import DenseAutoregressive

from conftest import randomised


@pytest.mark.parametrize("units", [1, 2, 7, 10, 50])
def test_exclusive_prefix_sum_matches_a_running_sum(units):
    model = DenseAutoregressive(units, 3)
    x = torch.randn(units, 6, dtype=torch.float64)
    expected = torch.cumsum(x, 0) - x
    prefix = model.exclusive_prefix_sum(x.float())
    assert torch.allclose(prefix.double(), expected, atol=1e-5)
    offset = torch.randn(6)
    shifted = model.exclusive_prefix_sum(x.float(), offset)
    assert torch.allclose(shifted.double(), expected + offset.double(), atol=1e-5)


@pytest.mark.parametrize("num_labels,direct_rank", [(0, 0), (3, 0), (0, 2), (3, 2)])
def test_unit_i_depends_on_every_earlier_code_and_no_later_one(num_labels, direct_rank):
    units, bins = 11, 4
    model = randomised(DenseAutoregressive(units, bins, hidden=8, num_labels=num_labels,
                                           direct_rank=direct_rank))
    generator = torch.Generator().manual_seed(1)
    codes = torch.randint(0, bins, (6, units), generator=generator)
    labels = torch.randint(0, 3, (6,), generator=generator) if num_labels else None
    with torch.no_grad():
        before = model.log_prob_units_nats(codes, labels)  # (B, D)
        for j in range(units):
            changed = codes.clone()
            changed[:, j] = (changed[:, j] + 1) % bins
            after = model.log_prob_units_nats(changed, labels)
            assert torch.equal(after[:, :j], before[:, :j]), f"a unit before {j} sees code {j}"
            assert torch.all((after[:, j + 1:] - before[:, j + 1:]).abs() > 1e-7), \
                f"a unit after {j} misses code {j}"


@pytest.mark.parametrize("num_labels,direct_rank", [(0, 0), (3, 0), (0, 2), (3, 2)])
def test_probabilities_of_all_sequences_sum_to_one(num_labels, direct_rank):
    units, bins = 4, 3
    model = randomised(DenseAutoregressive(units, bins, hidden=6, num_labels=num_labels,
                                           direct_rank=direct_rank), 1)
    sequences = torch.tensor(list(itertools.product(range(bins), repeat=units)))
    for label in range(max(num_labels, 1)):
        labels = torch.full((len(sequences),), label) if num_labels else None
        with torch.no_grad():
            total = model.log_prob_nats(sequences, labels).double().exp().sum()
        assert abs(total.item() - 1.0) < 1e-5


@pytest.mark.parametrize("direct_rank", [0, 2])
def test_every_label_scoring_is_each_label_scored_alone_and_its_mixture_sums_to_one(direct_rank):
    units, bins, num_labels = 4, 3, 3
    model = randomised(DenseAutoregressive(units, bins, hidden=6, num_labels=num_labels,
                                           direct_rank=direct_rank), 2)
    sequences = torch.tensor(list(itertools.product(range(bins), repeat=units)))
    with torch.no_grad():
        every_label = model.log_prob_every_label_nats(sequences)  # (N, L)
        for label in range(num_labels):
            alone = model.log_prob_nats(sequences, torch.full((len(sequences),), label))
            assert torch.allclose(every_label[:, label], alone, atol=1e-6)
    prior = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    mixture = torch.logsumexp(every_label.double() + prior.log(), dim=1)
    assert abs(mixture.exp().sum().item() - 1.0) < 1e-5
    with pytest.raises(ValueError, match="conditional"):
        DenseAutoregressive(units, bins).log_prob_every_label_nats(sequences)


def test_label_logits_alone_give_a_mixture_of_independent_units():
    """With no embedding and no head, q(t | y) = prod_i softmax(c_i + G_{y,i})[t_i]."""
    model = DenseAutoregressive(5, 3, hidden=4, num_labels=2)
    with torch.no_grad():
        model.unit_outputs.zero_()
        model.label_logits.copy_(torch.randn(2, 5, 3))
    codes = torch.randint(0, 3, (10, 5))
    expected = torch.log_softmax(model.unit_logits + model.label_logits, -1)  # (L, D, K)
    for y in range(2):
        by_unit = expected[y].gather(1, codes.T).sum(0)
        with torch.no_grad():
            assert torch.allclose(model.log_prob_nats(codes, torch.full((10,), y)), by_unit,
                                  atol=1e-5)


def test_the_direct_term_alone_is_a_log_bilinear_pairwise_model():
    """With no hidden path (V = 0, U = 0), log q(t_i | t_<i) = log softmax(c_i + B'^T
    sum_{j<i} W_{ji}^T b'(t_j))[t_i], summed here pair by pair."""
    units, bins, rank = 5, 4, 2
    model = randomised(DenseAutoregressive(units, bins, hidden=3, direct_rank=rank), 4)
    with torch.no_grad():
        model.unit_outputs.zero_()
        model.direct_gate.zero_()
    codes = torch.randint(0, bins, (6, units), generator=torch.Generator().manual_seed(5))
    weights = model.direct_weights.view(units, rank, units, rank)  # (j, ., i, .)
    with torch.no_grad():
        for n in range(len(codes)):
            for i in range(units):
                coupling = sum(model.direct_basis[codes[n, j]] @ weights[j, :, i, :]
                               for j in range(i))
                logits = model.unit_logits[i] + (coupling @ model.direct_output_basis
                                                 if i else 0.0)
                expected = torch.log_softmax(logits, -1)[codes[n, i]]
                got = model.log_prob_units_nats(codes[n:n + 1])[0, i]
                assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("num_labels", [0, 3])
def test_every_unit_follows_the_stated_formula(num_labels):
    """log q(t_i | t_<i [, y]) = log softmax(c_i [+ G_{y,i}] + B^T V_i^T tanh h_i + B'^T
    M_i^T sum_{j<i} W_{ji}^T b'(t_j))[t_i], M_i = I + sum_k tanh(h_i)_k U_{ik}, h_i = a
    [+ u_y] + sum_{j<i} A_j^T b(t_j): every term of the module doc, computed one unit and
    one pair at a time."""
    units, bins, hidden, rank = 6, 5, 4, 2
    model = randomised(DenseAutoregressive(units, bins, hidden=hidden, num_labels=num_labels,
                                           rank=3, direct_rank=rank), 6)
    generator = torch.Generator().manual_seed(7)
    codes = torch.randint(0, bins, (4, units), generator=generator)
    labels = torch.randint(0, 3, (4,), generator=generator) if num_labels else None
    weights = model.direct_weights.view(units, rank, units, rank)  # (j, ., i, .)
    with torch.no_grad():
        got = model.log_prob_units_nats(codes, labels)
        for n in range(len(codes)):
            for i in range(units):
                h = model.start + sum((model.code_basis[codes[n, j]] @ model.unit_inputs[j]
                                       for j in range(i)), torch.zeros(hidden))
                logits = model.unit_logits[i].clone()
                if num_labels:
                    h = h + model.label_hidden[labels[n]]
                    logits += model.label_logits[labels[n], i]
                phi = torch.tanh(h)
                logits += phi @ model.unit_outputs[i] @ model.output_basis
                coupling = sum((model.direct_basis[codes[n, j]] @ weights[j, :, i, :]
                                for j in range(i)), torch.zeros(rank))
                gate = torch.eye(rank) + sum(phi[k] * model.direct_gate[i, k].view(rank, rank)
                                             for k in range(hidden))
                logits += (gate.T @ coupling) @ model.direct_output_basis
                expected = torch.log_softmax(logits, -1)[codes[n, i]]
                assert torch.allclose(got[n, i], expected, atol=1e-5)


def test_labels_must_match_the_model():
    with pytest.raises(ValueError):
        DenseAutoregressive(3, 2).log_prob_nats(torch.zeros(1, 3, dtype=torch.long),
                                                torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError):
        DenseAutoregressive(3, 2, num_labels=2).log_prob_nats(
            torch.zeros(1, 3, dtype=torch.long))


def test_codes_in_any_memory_layout_give_the_same_density():
    """Codes that are a column-major array (a transposed copy, as numpy can hand over) are
    scored exactly as their contiguous copy."""
    model = randomised(DenseAutoregressive(6, 4, hidden=5, direct_rank=2))
    codes = torch.randint(0, 4, (6, 8), generator=torch.Generator().manual_seed(6)).T
    assert not codes.is_contiguous()
    with torch.no_grad():
        assert torch.equal(model.log_prob_nats(codes), model.log_prob_nats(codes.contiguous()))
