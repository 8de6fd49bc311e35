import numpy as np
import pytest

from infoplane import binning


def test_original_edges_match_the_original_study():
    edges = binning.original_edges(32)
    assert len(edges) == 31 and edges[0] == -1.0 and edges[-1] == 1.0
    codes = binning.digitize(np.array([-1.5, -1.0, -0.999, 0.0, 0.999, 1.0, 7.0]), edges)
    # below -1 -> 0; exactly -1 -> 1; the top bin holds only values >= 1
    assert codes.tolist() == [0, 1, 1, 16, 30, 31, 31]
    assert codes.dtype == np.uint8


def test_range_edges_use_every_bin_with_equal_width():
    values = np.linspace(-20.0, 21.0, 10001)
    edges = binning.range_edges(values.min(), values.max(), 32)
    codes = binning.digitize(values, edges)
    assert codes.min() == 0 and codes.max() == 31
    counts = np.bincount(codes, minlength=32)
    assert counts.min() > 0.9 * counts.mean() and counts.max() < 1.1 * counts.mean()
    assert np.allclose(np.diff(edges), 41.0 / 32)


def test_constant_layer_lands_in_one_bin():
    edges = binning.range_edges(0.5, 0.5, 8)
    assert len(np.unique(binning.digitize(np.full(5, 0.5), edges))) == 1


def test_too_many_bins_for_uint8():
    with pytest.raises(ValueError):
        binning.digitize(np.zeros(3), np.linspace(0, 1, 300))
