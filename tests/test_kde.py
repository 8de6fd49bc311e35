"""The pairwise-distance KDE bounds against closed forms on Gaussian mixtures."""
import math

import numpy as np
import pytest

from infoplane.kde import kde_information_bits, kde_label_information_bits


def test_identical_points_carry_no_information():
    assert kde_information_bits(np.ones((50, 3))) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("clusters", [2, 5])
def test_far_apart_clusters_give_log_of_their_number(clusters):
    h = np.repeat(np.arange(clusters)[:, None] * 100.0, 40, axis=0) * np.ones((1, 4))
    assert kde_information_bits(h) == pytest.approx(math.log2(clusters), abs=1e-9)
    labels = np.repeat(np.arange(clusters), 40)  # every cluster its own label
    assert kde_label_information_bits(h, labels) == pytest.approx(math.log2(clusters),
                                                                  abs=1e-9)


def mixture_information_bits(centres, s):
    """Exact I(X; T) = H(T) - H(Z) of T = h + N(0, s), h uniform on the 1-D centres,
    by quadrature."""
    grid = np.linspace(min(centres) - 12 * math.sqrt(s), max(centres) + 12 * math.sqrt(s),
                       200001)
    density = np.mean([np.exp(-(grid - c) ** 2 / (2 * s)) for c in centres], axis=0) / \
        math.sqrt(2 * math.pi * s)
    positive = density > 0
    h_t = -np.sum(density[positive] * np.log(density[positive])) * (grid[1] - grid[0])
    return (h_t - 0.5 * math.log(2 * math.pi * math.e * s)) / math.log(2)


@pytest.mark.parametrize("centres", [[0.0, 0.3, 1.0], [0.0, 0.5, 0.6, 2.0, 2.1]])
def test_bound_is_above_the_exact_mixture_information(centres):
    exact = mixture_information_bits(centres, 0.1)
    bound = kde_information_bits(np.array(centres)[:, None], 0.1)
    assert exact <= bound <= exact + 0.4  # an upper bound, and not a vacuous one
    assert bound <= math.log2(len(centres))
