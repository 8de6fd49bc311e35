import gzip
import shutil

import pytest
import torch

from infoplane import mnist
from infoplane.errors import InputError
from infoplane.mnist import load_mnist

from conftest import ROOT, write_idx

PUBLISHED_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
PUBLISHED_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
RAW = ROOT / "data" / "MNIST" / "raw"


def test_real_mnist_from_the_committed_files():
    data = load_mnist(str(ROOT / "data"))
    assert data["train_x"].shape == (60000, 784) and data["test_x"].shape == (10000, 784)
    assert data["train_x"].dtype == torch.float32 and data["train_y"].dtype == torch.int64
    assert 0.0 == data["train_x"].min() and data["train_x"].max() == 1.0
    assert torch.bincount(data["train_y"]).tolist() == PUBLISHED_TRAIN_COUNTS
    assert torch.bincount(data["test_y"]).tolist() == PUBLISHED_TEST_COUNTS


def test_tiny_dataset_in_mnist_format(tiny_mnist):
    data = load_mnist(str(tiny_mnist))
    assert data["train_x"].shape == (600, 784) and data["test_y"].shape == (200,)


def test_download_keeps_only_files_with_the_original_md5(tmp_path, monkeypatch):
    # a mirror on disk (file://), so the download path runs offline: the first mirror serves
    # a corrupt copy of one file, the second the originals
    bad, good = tmp_path / "bad", tmp_path / "good"
    shutil.copytree(RAW, good, ignore=shutil.ignore_patterns("*-ubyte"))
    bad.mkdir()
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(gzip.decompress((good / "t10k-labels-idx1-ubyte.gz").read_bytes())[:-1]))
    monkeypatch.setattr(mnist, "MIRRORS", (f"file://{bad}/", f"file://{good}/"))
    data = load_mnist(str(tmp_path / "data"))
    assert torch.bincount(data["test_y"]).tolist() == PUBLISHED_TEST_COUNTS
    kept = tmp_path / "data" / "MNIST" / "raw"
    assert sorted(p.name for p in kept.iterdir()) == sorted(mnist.ORIGINAL_MD5)
    assert (kept / "t10k-labels-idx1-ubyte.gz").read_bytes() == \
        (good / "t10k-labels-idx1-ubyte.gz").read_bytes()


def test_missing_files_offline_is_one_clear_line(tmp_path, monkeypatch):
    # an address nothing listens on, so the test is offline on any machine
    monkeypatch.setattr(mnist, "MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(InputError) as error:
        load_mnist(str(tmp_path))
    message = str(error.value)
    assert "\n" not in message and f"{tmp_path}/MNIST/raw/" in message
    assert "train-images-idx3-ubyte.gz" in message
    assert not (tmp_path / "MNIST" / "raw").exists() or \
        not any((tmp_path / "MNIST" / "raw").iterdir())


@pytest.mark.parametrize("damage", ["truncated", "not_idx", "labels_out_of_range"])
def test_files_not_in_mnist_format_are_one_clear_line(tiny_mnist, damage):
    raw = tiny_mnist / "MNIST" / "raw"
    images, labels = raw / "t10k-images-idx3-ubyte", raw / "t10k-labels-idx1-ubyte"
    if damage == "truncated":
        images.write_bytes(images.read_bytes()[:-5])
    elif damage == "not_idx":
        labels.write_bytes(b"<html>not found</html>")
    else:
        write_idx(labels, torch.full((200,), 12).numpy())
    with pytest.raises(InputError) as error:
        load_mnist(str(tiny_mnist))
    assert "\n" not in str(error.value) and f"{raw}/" in str(error.value)
