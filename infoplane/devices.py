"""--devices: which torch device each process uses."""
import torch

from infoplane.errors import InputError


def parse_devices(spec: str) -> list:
    """'cpu' -> ['cpu']; '0,1,cuda:2' -> [0, 1, 2]: GPU indices, or the string 'cpu'."""
    devices = []
    for part in (p.strip() for p in str(spec).split(",")):
        if part == "cpu":
            devices.append("cpu")
            continue
        index = part[len("cuda:"):] if part.startswith("cuda:") else part
        if not index.isdigit():
            raise InputError(f"--devices: {part!r} is neither 'cpu' nor a GPU index "
                             f"(use e.g. --devices 0 or --devices 0,1 or --devices cpu)")
        devices.append(int(index))
    if not devices:
        raise InputError("--devices: no device given")
    return devices


def resolve_device(device, cuda_count: int) -> tuple:
    """(torch device string, notice or None) for one entry of parse_devices.

    Without CUDA any GPU index falls back to the CPU, with a notice; with CUDA an index
    that does not exist is an error."""
    if device == "cpu":
        return "cpu", None
    if cuda_count == 0:
        return "cpu", f"CUDA is not available: GPU {device} requested, using the CPU"
    if device >= cuda_count:
        raise InputError(f"--devices: GPU {device} does not exist "
                         f"(this machine has {cuda_count}: 0..{cuda_count - 1})")
    return f"cuda:{device}", None


def select_device(spec: str, rank: int = 0) -> tuple:
    """The device of process `rank`: devices[rank % len(devices)], resolved on this machine."""
    devices = parse_devices(spec)
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return resolve_device(devices[rank % len(devices)], count)
