"""Shared helpers: small activation archives from exact sources, tiny MNIST-format data,
and running the project's scripts as a user would."""
import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infoplane import archive, binning, sources  # noqa: E402

PYTHON = sys.executable
MPIRUN = str(Path(PYTHON).parent / "mpirun")


def randomised(model, seed=0, scale=0.5):
    """Give every parameter (the zero-initialised ones included) random values, so that
    no dependence is hidden by a zero weight."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model


FAULTS = """import importlib, os, sys
sys.path.insert(0, {root!r})
for target, error, rank in {faults!r}:
    if rank is None or os.environ.get("PMI_RANK", "0") == str(rank):
        module, name = target.rsplit(".", 1)
        def fail(*args, error=error, **kwargs):
            raise eval(error)
        setattr(importlib.import_module(module), name, fail)
"""


def script_command(*args, mpi_ranks=0, faults=(), folder=None):
    """(command, environment) of `python script args...`, under mpirun -np N when
    mpi_ranks. faults = [(module.function, "Exception(...)", rank or None)]: in the
    script's processes (on that MPI rank only, if given) the function raises instead, set
    up by a sitecustomize.py written to `folder`: a fault injected as it would happen."""
    command = [PYTHON, *map(str, args)]
    if mpi_ranks:
        command = [MPIRUN, "-np", str(mpi_ranks), *command]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if faults:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "sitecustomize.py").write_text(
            FAULTS.format(root=str(ROOT), faults=list(faults)))
        env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])
    return command, env


def run_script(*args, cwd=ROOT, timeout=600, mpi_ranks=0, faults=(), folder=None):
    """Run a script (see script_command) and return the CompletedProcess, text output."""
    command, env = script_command(*args, mpi_ranks=mpi_ranks, faults=faults, folder=folder)
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def write_idx(path: Path, array: np.ndarray) -> None:
    """An array in MNIST's IDX format (uint8 data), gzip-compressed when path ends in .gz."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    (gzip.open if path.suffix == ".gz" else open)(path, "wb").write(data)


@pytest.fixture
def tiny_mnist(tmp_path):
    """A small data set in MNIST's own (extracted) file format: 600 train, 200 test."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 600), ("t10k", 200)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 40, (n, 28, 28))
        for digit in range(10):  # a bright stripe per class, so there is something to learn
            images[labels == digit, 2 * digit + 4, :] = 250
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path / "data"


def write_activations(directory: Path, layers: dict, iterations=(0, 10), n_train=600,
                      n_test=300, bins=4, num_labels=3, seed=0) -> dict:
    """Archives of the train_model.py format whose layers are exact synthetic sources:
    layers = {name: units}. Returns the meta it wrote."""
    rng = np.random.default_rng(seed)
    for iteration in iterations:
        arrays = {}
        source_of = {name: sources.smooth_chain(units, bins, num_labels, rng, separation=1.0)
                     for name, units in layers.items()}
        for split, n in (("train", n_train), ("test", n_test)):
            labels = rng.integers(0, num_labels, n)
            arrays[f"{split}_labels"] = labels.astype(np.int64)
            for name, source in source_of.items():  # every layer given the same labels
                arrays[f"{split}_{name}"] = source.sample_given_labels(labels, rng)
        archive.write_archive(archive.archive_path(directory, iteration), arrays)
    meta = {"bins": bins, "num_labels": num_labels, "iterations": list(iterations),
            "layers": {name: {"dim": units, "edges": binning.original_edges(bins).tolist(),
                              "binning": "synthetic"} for name, units in layers.items()},
            "accuracy": {str(i): {"train": 0.5, "test": 0.5} for i in iterations},
            "config": {"synthetic": True}}
    archive.write_meta(directory, meta)
    return meta
