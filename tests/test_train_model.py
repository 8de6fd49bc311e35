"""train_model.py end to end on a tiny MNIST-format data set, and its flag errors."""

import numpy as np
import pytest

from infoplane import archive, binning
from infoplane.devices import parse_devices, resolve_device
from infoplane.errors import InputError

from conftest import run_script

TINY = ["--devices", "cpu", "--itr-count", "30", "--iterations", "0,5,30", "--bins", "8"]


def train(tiny_mnist, out, *extra):
    result = run_script("train_model.py", "--data-dir", tiny_mnist, "--activations-dir", out,
                        *TINY, *extra)
    assert result.returncode == 0, result.stderr
    return archive.read_meta(out)


def test_writes_valid_archives(tiny_mnist, tmp_path):
    meta = train(tiny_mnist, tmp_path / "acts")
    assert meta["iterations"] == [0, 5, 30] and meta["bins"] == 8 and meta["num_labels"] == 10
    assert {name: layer["dim"] for name, layer in meta["layers"].items()} == \
        {"hidden1": 256, "hidden2": 256, "output": 10}
    assert meta["config"]["itr_count"] == 30
    outputs = []
    for iteration in meta["iterations"]:
        arrays = archive.read_archive(archive.archive_path(tmp_path / "acts", iteration), meta)
        assert arrays["train_hidden1"].shape == (600, 256)
        assert arrays["test_output"].shape == (200, 10)
        outputs.append(arrays["train_output"])
        assert 0.0 <= meta["accuracy"][str(iteration)]["test"] <= 1.0
    # tanh layers on the original edges; the output layer on its range over all iterations
    assert np.allclose(meta["layers"]["hidden1"]["edges"], binning.original_edges(8))
    output_edges = np.array(meta["layers"]["output"]["edges"])
    assert not np.allclose(output_edges, binning.original_edges(8))
    outputs = np.concatenate(outputs)
    assert outputs.min() == 0 and outputs.max() == 7  # both end bins reached, not piled up
    # training on the striped classes beats chance by the last save
    assert meta["accuracy"]["30"]["train"] > 0.5


def test_same_seed_same_archives(tiny_mnist, tmp_path):
    train(tiny_mnist, tmp_path / "a")
    train(tiny_mnist, tmp_path / "b")
    a = np.load(tmp_path / "a" / "itr30.npz")
    b = np.load(tmp_path / "b" / "itr30.npz")
    assert all(np.array_equal(a[key], b[key]) for key in a.files)


def test_seed_binning_and_relu(tiny_mnist, tmp_path):
    meta = train(tiny_mnist, tmp_path / "seed", "--binning", "seed")
    assert np.allclose(meta["layers"]["output"]["edges"], binning.original_edges(8))
    meta = train(tiny_mnist, tmp_path / "relu", "--activation", "relu")
    edges = np.array(meta["layers"]["hidden1"]["edges"])
    assert edges[0] > 0  # ReLU layers bin over their observed range [0, max]


@pytest.mark.parametrize("flags, message", [
    (["--devices", "gpu7"], "--devices: 'gpu7' is neither 'cpu' nor a GPU index"),
    (["--iterations", "0,99"], "--iterations must lie in [0, --itr-count=30]"),
    (["--activation", "sigmoid"], "--activation must be tanh or relu"),
    (["--binning", "quantile"], "--binning must be observed or seed"),
    (["--bins", "300"], "--bins must be >= 2 and <= 256, got 300"),
    (["--lr", "-1"], "--lr must be > 0.0, got -1.0"),
    (["--lr", "nan"], "--lr must be > 0.0, got nan"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--train-subset", "-5"], "--train-subset must be >= 0 and <= 60000, got -5"),
    (["--itr-count", "-1"], "--itr-count must be >= 0, got -1"),
    (["--seed", "-2"], "--seed must be >= 0, got -2"),
])
def test_bad_flags_are_one_line_errors(tiny_mnist, tmp_path, flags, message):
    result = run_script("train_model.py", "--data-dir", tiny_mnist, "--activations-dir",
                        tmp_path, *TINY, *flags)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {message}" or message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "meta.json").exists()


def test_bad_flags_leave_earlier_activations_untouched(tiny_mnist, tmp_path):
    out = tmp_path / "acts"
    train(tiny_mnist, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for flags in (["--lr", "-1"], ["--data-dir", tmp_path / "no-mnist-here"]):
        result = run_script("train_model.py", "--activations-dir", out, "--data-dir",
                            tiny_mnist, *TINY, *flags)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert before == {p.name: p.read_bytes() for p in out.iterdir()}


def test_activations_dir_that_is_a_file(tiny_mnist, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    result = run_script("train_model.py", "--data-dir", tiny_mnist, "--activations-dir",
                        tmp_path / "file", *TINY)
    assert result.returncode == 2 and "exists and is not a folder" in result.stderr


def test_unparsable_flag_value():
    result = run_script("train_model.py", "--itr-count", "many")
    assert result.returncode == 2 and "invalid int value" in result.stderr


def test_device_resolution():
    assert parse_devices("cpu") == ["cpu"]
    assert parse_devices("0,1,cuda:3") == [0, 1, 3]
    assert resolve_device("cpu", 0) == ("cpu", None)
    device, notice = resolve_device(0, 0)
    assert device == "cpu" and "CUDA is not available" in notice
    assert resolve_device(1, 2) == ("cuda:1", None)
    with pytest.raises(InputError, match="GPU 2 does not exist"):
        resolve_device(2, 2)
    for bad in ("", "-1", "gpu"):
        with pytest.raises(InputError):
            parse_devices(bad)
