"""Pairwise information and the parents that the density model reads in full."""
import numpy as np

from infoplane import sources, tree
from infoplane.entropy import categorical_entropy_bits


def test_pairwise_information_is_the_plug_in_of_each_pair():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, (500, 4))
    codes[:, 2] = (codes[:, 0] + (rng.random(500) < 0.2)) % 3  # unit 2 follows unit 0
    information = tree.pairwise_information_bits(codes, 3)
    for i in range(4):
        for j in range(4):
            joint = np.zeros((3, 3))
            np.add.at(joint, (codes[:, i], codes[:, j]), 1.0 / 500)
            expected = (categorical_entropy_bits(joint.sum(1)) + categorical_entropy_bits(
                joint.sum(0)) - categorical_entropy_bits(joint.ravel()))
            assert abs(information[i, j] - expected) < 1e-9
    assert np.argmax(information[2, :2]) == 0


def test_chow_liu_order_puts_every_unit_after_its_parent():
    rng = np.random.default_rng(2)
    codes, _ = sources.markov_chain(10, 5, rng, concentration=0.2).sample(20000, rng)
    order, parents = tree.chow_liu_tree(codes, 5)
    assert sorted(order) == list(range(10)) and parents[0] == -1
    assert all(0 <= parents[p] < p for p in range(1, 10))
    edges = {frozenset((order[p], order[parents[p]])) for p in range(1, 10)}
    assert edges == {frozenset((i, i + 1)) for i in range(9)}  # the chain itself
