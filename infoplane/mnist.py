"""MNIST as float tensors, read from the original IDX files under data/MNIST/raw/.

A file missing there is downloaded from a mirror and kept only if its md5 is the original's."""
import gzip
import hashlib
import os
import urllib.request
from pathlib import Path

import numpy as np
import torch

from infoplane.errors import InputError

MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
ORIGINAL_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def parse_idx(data: bytes) -> np.ndarray:
    """An IDX array of unsigned bytes: 0x00 0x00 0x08 ndim, ndim big-endian uint32 sizes, the
    bytes in C order. ValueError when the header or the length does not fit."""
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValueError("not an IDX file of unsigned bytes")
    ndim = data[3]
    offset = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if len(data) != offset + int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"{len(data) - offset} bytes of data for the shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def download(name: str, raw: Path) -> None:
    """Fetch raw/name from the first mirror that serves it with the original md5, written
    under a temporary name and renamed, so a cut or corrupt download leaves nothing."""
    raw.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in MIRRORS:
        try:
            with urllib.request.urlopen(mirror + name, timeout=60) as response:
                data = response.read()
        except OSError as error:  # urllib's URLError is an OSError
            failures.append(f"{mirror}: {str(error).splitlines()[0]}")
            continue
        if hashlib.md5(data).hexdigest() != ORIGINAL_MD5[name]:
            failures.append(f"{mirror}: md5 differs from the original's")
            continue
        partial = raw / f"{name}.tmp"
        partial.write_bytes(data)
        os.replace(partial, raw / name)
        return
    raise OSError("; ".join(failures) or "no mirror")


def read_raw(name: str, raw: Path) -> np.ndarray:
    """The array of IDX file `name`, extracted or gzipped under raw/, downloaded if absent."""
    if (raw / name).exists():
        data = (raw / name).read_bytes()
    else:
        gz = raw / f"{name}.gz"
        if not gz.exists():
            download(gz.name, raw)
        data = gzip.decompress(gz.read_bytes())
    return parse_idx(data)


def load_mnist(root: str = "data") -> dict:
    """{'train_x': (60000, 784) float32 in [0, 1], 'train_y': (60000,) int64, 'test_x',
    'test_y'} from root/MNIST/raw/; InputError (one line) when the files cannot be had or
    are not MNIST's format."""
    raw = Path(root) / "MNIST" / "raw"
    splits = {}
    for split, (images_name, labels_name) in SPLIT_FILES.items():
        try:
            images, labels = read_raw(images_name, raw), read_raw(labels_name, raw)
        except OSError as error:
            raise InputError(
                f"MNIST could not be loaded from {raw}/ nor downloaded "
                f"({str(error).splitlines()[0]}); put the four original files "
                f"(train-images-idx3-ubyte.gz, ...) there") from None
        except (ValueError, EOFError, gzip.BadGzipFile) as error:
            raise InputError(f"{raw}/: {images_name} or {labels_name} is not MNIST's IDX "
                             f"format ({error})") from None
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 \
                or len(images) != len(labels) or labels.max(initial=0) > 9:
            raise InputError(f"{raw}/: {images_name} {images.shape} and {labels_name} "
                             f"{labels.shape} are not n 28x28 images with n labels 0-9")
        pixels = torch.from_numpy(images.reshape(len(images), -1).copy())
        splits[f"{split}_x"] = pixels.float() / 255
        splits[f"{split}_y"] = torch.from_numpy(labels.astype(np.int64))
    return splits
