import pytest
import torch
from torchvision import datasets

from infoplane.errors import InputError
from infoplane.mnist import load_mnist

from conftest import ROOT

PUBLISHED_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
PUBLISHED_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_from_the_committed_files():
    data = load_mnist(str(ROOT / "data"))
    assert data["train_x"].shape == (60000, 784) and data["test_x"].shape == (10000, 784)
    assert data["train_x"].dtype == torch.float32
    assert 0.0 == data["train_x"].min() and data["train_x"].max() == 1.0
    assert torch.bincount(data["train_y"]).tolist() == PUBLISHED_TRAIN_COUNTS
    assert torch.bincount(data["test_y"]).tolist() == PUBLISHED_TEST_COUNTS


def test_tiny_dataset_in_mnist_format(tiny_mnist):
    data = load_mnist(str(tiny_mnist))
    assert data["train_x"].shape == (600, 784) and data["test_y"].shape == (200,)


def test_missing_files_offline_is_one_clear_line(tmp_path, monkeypatch):
    # an address nothing listens on, so the test is offline on any machine
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(InputError) as error:
        load_mnist(str(tmp_path))
    message = str(error.value)
    assert "\n" not in message and f"{tmp_path}/MNIST/raw/" in message
    assert "train-images-idx3-ubyte.gz" in message
