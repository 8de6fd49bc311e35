"""The activation archive contract: round trip, and each way validation rejects."""
import json

import numpy as np
import pytest

from infoplane import archive
from infoplane.errors import InputError

from conftest import write_activations


@pytest.fixture
def activations(tmp_path):
    meta = write_activations(tmp_path, {"hidden1": 5, "output": 3}, iterations=(0,))
    return tmp_path, meta, archive.read_archive(archive.archive_path(tmp_path, 0), meta)


def test_round_trip(activations, tmp_path):
    directory, meta, arrays = activations
    assert archive.read_meta(directory) == meta
    assert sorted(arrays) == sorted(archive.expected_keys(meta))
    archive.write_archive(tmp_path / "copy.npz", arrays)
    again = archive.read_archive(tmp_path / "copy.npz", meta)
    for key in arrays:
        assert again[key].dtype == arrays[key].dtype
        assert np.array_equal(again[key], arrays[key])


def rejected(tmp_path, meta, arrays, match):
    archive.write_archive(tmp_path / "bad.npz", arrays)
    with pytest.raises(InputError, match=match) as error:
        archive.read_archive(tmp_path / "bad.npz", meta)
    assert "bad.npz" in str(error.value) and "\n" not in str(error.value)


def test_rejects_missing_key(activations, tmp_path):
    _, meta, arrays = activations
    del arrays["test_output"]
    rejected(tmp_path, meta, arrays, "missing key 'test_output'")


def test_rejects_wrong_dtype(activations, tmp_path):
    _, meta, arrays = activations
    arrays["train_hidden1"] = arrays["train_hidden1"].astype(np.int32)
    rejected(tmp_path, meta, arrays, "must be uint8")
    arrays["train_hidden1"] = arrays["train_hidden1"].astype(np.uint8)
    arrays["train_labels"] = arrays["train_labels"].astype(np.int32)
    rejected(tmp_path, meta, arrays, "int64")


def test_rejects_out_of_range_bin(activations, tmp_path):
    _, meta, arrays = activations
    arrays["test_hidden1"][3, 2] = meta["bins"]
    rejected(tmp_path, meta, arrays, "outside")


def test_rejects_out_of_range_label(activations, tmp_path):
    _, meta, arrays = activations
    arrays["train_labels"][0] = meta["num_labels"]
    rejected(tmp_path, meta, arrays, "train_labels outside")


def test_rejects_mismatched_counts(activations, tmp_path):
    _, meta, arrays = activations
    arrays["train_labels"] = arrays["train_labels"][:-1]
    rejected(tmp_path, meta, arrays, "shape")


def test_rejects_wrong_number_of_units(activations, tmp_path):
    _, meta, arrays = activations
    arrays["test_output"] = arrays["test_output"][:, :2]
    rejected(tmp_path, meta, arrays, r"expected \(300, 3\)")


def test_rejects_truncated_file(activations, tmp_path):
    directory, meta, _ = activations
    data = archive.archive_path(directory, 0).read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.npz: unreadable or truncated"):
        archive.read_archive(tmp_path / "cut.npz", meta)


def test_rejects_corrupted_bytes(activations, tmp_path):
    directory, meta, _ = activations
    data = bytearray(archive.archive_path(directory, 0).read_bytes())
    data[200:260] = bytes(60)  # inside the first member's compressed data
    (tmp_path / "flipped.npz").write_bytes(bytes(data))
    with pytest.raises(InputError, match="flipped.npz"):
        archive.read_archive(tmp_path / "flipped.npz", meta)


def patched_headers(data: bytes, offset_local: int, offset_central: int, value: bytes):
    """The zip bytes with `value` written at the given offsets of every local and central
    directory header."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset:start + offset + len(value)] = value
            start = data.find(signature, start + 4)
    return bytes(data)


@pytest.mark.parametrize("what, offsets, value", [
    ("unsupported compression method", (8, 10), (99).to_bytes(2, "little")),
    ("encrypted entries", (6, 8), (0x1).to_bytes(2, "little")),
])
def test_rejects_unsupported_zip_entries(activations, tmp_path, what, offsets, value):
    directory, meta, _ = activations
    data = patched_headers(archive.archive_path(directory, 0).read_bytes(), *offsets, value)
    (tmp_path / "odd.npz").write_bytes(data)
    with pytest.raises(InputError, match="odd.npz: unreadable or truncated archive"):
        archive.read_archive(tmp_path / "odd.npz", meta)


def test_rejects_missing_archive_and_meta(tmp_path):
    with pytest.raises(InputError, match="not found; run train_model.py"):
        archive.read_meta(tmp_path)
    with pytest.raises(InputError, match="itr5.npz: not found"):
        archive.read_archive(archive.archive_path(tmp_path, 5), {})


def test_rejects_bad_meta(activations):
    directory, meta, _ = activations
    (directory / "meta.json").write_text(json.dumps({**meta, "bins": 1000}))
    with pytest.raises(InputError, match="bins must be"):
        archive.read_meta(directory)
    del meta["layers"]
    (directory / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="missing key 'layers'"):
        archive.read_meta(directory)
    (directory / "meta.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        archive.read_meta(directory)
