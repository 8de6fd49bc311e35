"""The activation archives under activations/: the contract between train_model.py and
generator.py. Every reader goes through read_meta and read_archive, which validate.

activations/meta.json
    bins        int, number of bins K (codes are in [0, K))
    num_labels  int, number of classes (10)
    iterations  list of int, the save iterations (optimizer steps taken before the save)
    layers      {name: {"dim": units, "edges": K-1 bin edges, "binning": how chosen}}
    accuracy    {str(iteration): {"train": fraction, "test": fraction}}
    config      the full train_model.py config
activations/itr{N}.npz, one per save iteration N
    {split}_{layer}  uint8 (examples, dim) bin indices, split in (train, test)
    {split}_labels   int64 (examples,) class labels in [0, num_labels)
activations/itr{N}_continuous.npz, only with train_model.py --continuous M
    {layer}          float16 (M, dim) the layer's activations before binning, for a
                     seeded random draw of M test examples (the KDE bounds of the study)
    labels           int64 (M,) their labels; index: int64 (M,) their test-set rows
"""
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from infoplane.atomic import atomic_write, write_json
from infoplane.errors import InputError

SPLITS = ("train", "test")
META = "meta.json"


def archive_path(activations_dir, iteration: int) -> Path:
    return Path(activations_dir) / f"itr{iteration}.npz"


def _load_npz(path) -> dict:
    """{key: array} of an .npz, or an InputError for any unreadable one (truncated,
    corrupted, or with zip entries that are encrypted or use an unsupported method)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, RuntimeError,
            NotImplementedError, KeyError) as error:
        raise InputError(f"{path}: unreadable or truncated archive ({error})") from None


def continuous_path(activations_dir, iteration: int) -> Path:
    return Path(activations_dir) / f"itr{iteration}_continuous.npz"


def read_continuous(activations_dir, iteration: int, meta: dict) -> dict:
    """{key: array} of one itr{N}_continuous.npz, checked against meta."""
    path = continuous_path(activations_dir, iteration)
    if not path.is_file():
        raise InputError(f"{path}: not found; run train_model.py with --continuous")
    arrays = _load_npz(path)
    labels = arrays.get("labels")
    if labels is None or labels.ndim != 1:
        raise InputError(f"{path}: needs labels of shape (examples,)")
    for name, layer in meta["layers"].items():
        if name not in arrays or arrays[name].shape != (len(labels), layer["dim"]):
            raise InputError(f"{path}: {name} must have shape ({len(labels)}, {layer['dim']})")
    return arrays


def write_meta(activations_dir, meta: dict) -> None:
    write_json(Path(activations_dir) / META, meta)


def write_archive(path, arrays: dict) -> None:
    """Write {key: array} as a compressed .npz, atomically."""
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def read_meta(activations_dir) -> dict:
    """meta.json, checked for the keys and types that readers rely on."""
    path = Path(activations_dir) / META
    if not path.is_file():
        raise InputError(f"{path}: not found; run train_model.py first "
                         f"(or pass --activations-dir)")
    try:
        meta = json.loads(path.read_text())
        bins, num_labels = meta["bins"], meta["num_labels"]
        iterations, layers = meta["iterations"], meta["layers"]
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error})") from None
    except (KeyError, TypeError) as error:
        raise InputError(f"{path}: missing key {error}") from None
    if not (isinstance(bins, int) and 2 <= bins <= 256):
        raise InputError(f"{path}: bins must be an integer in [2, 256], got {bins!r}")
    if not (isinstance(num_labels, int) and num_labels >= 1):
        raise InputError(f"{path}: num_labels must be a positive integer, got {num_labels!r}")
    if not (isinstance(iterations, list) and all(isinstance(i, int) for i in iterations)):
        raise InputError(f"{path}: iterations must be a list of integers")
    if not (isinstance(layers, dict) and layers):
        raise InputError(f"{path}: layers must be a non-empty object")
    for name, layer in layers.items():
        if not (isinstance(layer, dict) and isinstance(layer.get("dim"), int)
                and layer["dim"] >= 1):
            raise InputError(f"{path}: layer {name!r} needs a positive integer 'dim'")
    return meta


def expected_keys(meta: dict) -> list:
    return [f"{split}_{name}" for split in SPLITS for name in [*meta["layers"], "labels"]]


def validate_arrays(arrays: dict, meta: dict, source: str) -> None:
    """Raise InputError naming `source` unless the arrays follow the contract above."""
    def fail(problem):
        raise InputError(f"{source}: {problem}")

    for key in expected_keys(meta):
        if key not in arrays:
            fail(f"missing key {key!r}")
    for split in SPLITS:
        labels = arrays[f"{split}_labels"]
        if labels.dtype != np.int64 or labels.ndim != 1:
            fail(f"{split}_labels must be int64 of shape (examples,), "
                 f"got {labels.dtype} {labels.shape}")
        if len(labels) == 0:
            fail(f"{split}_labels is empty")
        if labels.min() < 0 or labels.max() >= meta["num_labels"]:
            fail(f"{split}_labels outside [0, {meta['num_labels']})")
        for name, layer in meta["layers"].items():
            key, codes = f"{split}_{name}", arrays[f"{split}_{name}"]
            if codes.dtype != np.uint8:
                fail(f"{key} must be uint8, got {codes.dtype}")
            if codes.shape != (len(labels), layer["dim"]):
                fail(f"{key} has shape {codes.shape}, expected "
                     f"({len(labels)}, {layer['dim']}) = ({split} examples, units)")
            if codes.size and codes.max() >= meta["bins"]:
                fail(f"{key} holds bin {codes.max()}, outside [0, {meta['bins']})")


def read_archive(path, meta: dict) -> dict:
    """{key: array} of one itr{N}.npz, validated against meta."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: not found")
    arrays = _load_npz(path)
    validate_arrays(arrays, meta, str(path))
    return arrays
