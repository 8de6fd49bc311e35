"""MNIST as float tensors, from the files under data/ (or downloaded where there are none)."""
from torchvision import datasets

from infoplane.errors import InputError


def load_mnist(root: str = "data") -> dict:
    """{'train_x': (60000, 784) float32 in [0, 1], 'train_y': (60000,) int64, 'test_x',
    'test_y'}. torchvision checks the md5s of root/MNIST/raw/*.gz and extracts them; it
    downloads only files that are missing."""
    splits = {}
    for split, train in (("train", True), ("test", False)):
        try:
            dataset = datasets.MNIST(root=root, train=train, download=True)
        except (OSError, RuntimeError) as error:  # urllib's URLError is an OSError
            raise InputError(
                f"MNIST could not be loaded from {root}/MNIST/raw/ nor downloaded "
                f"({str(error).splitlines()[0].rstrip(':')}); "
                f"put the four original files (train-images-idx3-ubyte.gz, ...) there") from None
        splits[f"{split}_x"] = dataset.data.reshape(len(dataset.data), -1).float() / 255.0
        splits[f"{split}_y"] = dataset.targets.long()
    return splits
