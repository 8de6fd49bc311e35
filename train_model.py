"""Train the MNIST MLP (784-256-256-10, tanh, Adam, batch 50) and write the binned
activations of every layer at the save iterations to activations/ (format: infoplane/archive.py).

    python train_model.py --devices 0          # GPU 0 (the CPU, with a notice, if no CUDA)
    python train_model.py --devices cpu --train-subset 2000 --itr-count 200 --iterations 0,10,100
"""
import copy
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from infoplane import archive, binning, cli
from infoplane.cli import setting
from infoplane.devices import select_device
from infoplane.errors import InputError
from infoplane.mnist import load_mnist
from infoplane.ranges import check_ranges
from infoplane.seeding import set_seed
from models import MLP


@dataclass
class Config:
    devices: str = setting("0", "GPU index or 'cpu' (no CUDA: the CPU, with a notice)")
    data_dir: str = setting("data", "folder holding MNIST/raw/")
    activations_dir: str = setting("activations", "where itr{N}.npz and meta.json go")
    activation: str = setting("tanh", "hidden nonlinearity: tanh or relu")
    itr_count: int = setting(10000, "optimizer steps in all")
    iterations: tuple[int, ...] = setting((0, 5, 10, 20, 1000, 9000),
                                          "save after this many optimizer steps")
    batch_size: int = setting(50, "examples per optimizer step")
    lr: float = setting(1e-3, "Adam learning rate")
    bins: int = setting(32, "bins per unit (at most 256)")
    binning: str = setting("observed", "observed: tanh layers on the original edges, other "
                           "layers on their observed range; seed: the original's edges everywhere")
    train_subset: int = setting(0, "train on the first N shuffled examples only (0: all 60000)")
    continuous: int = setting(0, "also save the unbinned activations of a random draw of this "
                              "many test examples (float16, itr{N}_continuous.npz; 0: none)")
    seed: int = setting(0, "seed of the initial weights, batch order and subset")


RANGES = {"itr_count": (0, None, False, False), "batch_size": (1, None, False, False),
          "lr": (0.0, None, True, False), "bins": (2, 256, False, False),
          "train_subset": (0, 60000, False, False), "seed": (0, None, False, False),
          "continuous": (0, 10000, False, False)}


def check(config: Config) -> None:
    """InputError naming the first bad setting; called before anything is read or written."""
    if config.activation not in ("tanh", "relu"):
        raise InputError(f"--activation must be tanh or relu, got {config.activation!r}")
    if config.binning not in ("observed", "seed"):
        raise InputError(f"--binning must be observed or seed, got {config.binning!r}")
    try:
        check_ranges(config, RANGES, label=cli.flag)
    except ValueError as bad:
        raise InputError(str(bad)) from None
    out = Path(config.activations_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--activations-dir {out} exists and is not a folder")
    if not config.iterations or any(not 0 <= i <= config.itr_count for i in config.iterations):
        raise InputError(f"--iterations must lie in [0, --itr-count={config.itr_count}], "
                         f"got {list(config.iterations)}")


@torch.no_grad()
def layer_activations(model, x, device, batch: int = 10000) -> dict:
    """{layer: (examples, units) float32 numpy} for inputs x (examples, 784)."""
    parts = [model(x[i:i + batch].to(device)) for i in range(0, len(x), batch)]
    return {name: torch.cat([p[name] for p in parts]).cpu().numpy() for name in parts[0]}


def layer_edges(config: Config, model: MLP, ranges: dict) -> dict:
    """{layer: (edges, how they were chosen)}, one set of edges per layer for all iterations."""
    edges = {}
    for name in model.layer_names:
        bounded = config.activation == "tanh" and name != "output"
        if config.binning == "seed" or bounded:
            edges[name] = (binning.original_edges(config.bins), "linspace(-1, 1, bins - 1)")
        else:
            low, high = ranges[name]
            edges[name] = (binning.range_edges(low, high, config.bins),
                           f"equal width on the observed range [{low:.4g}, {high:.4g}]")
    return edges


def main(config: Config) -> None:
    check(config)
    device, notice = select_device(config.devices)
    if notice:
        print(notice, flush=True)
    set_seed(config.seed)
    data = load_mnist(config.data_dir)
    generator = torch.Generator().manual_seed(config.seed)
    if config.train_subset:
        keep = torch.randperm(len(data["train_x"]), generator=generator)[:config.train_subset]
        data["train_x"], data["train_y"] = data["train_x"][keep], data["train_y"][keep]
    out = Path(config.activations_dir)
    (out / archive.META).unlink(missing_ok=True)  # meta.json is written last: no stale mix

    model = MLP(activation=config.activation).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train_x, train_y = data["train_x"].to(device), data["train_y"].to(device)
    snapshots, order, start = {}, torch.empty(0, dtype=torch.long), time.time()
    steps = tqdm(range(config.itr_count + 1), disable=not sys.stderr.isatty(), unit="step")
    for step in steps:
        if step in config.iterations:
            snapshots[step] = copy.deepcopy(model.state_dict())
        if step == config.itr_count:
            break
        if len(order) < config.batch_size:  # a new pass over the data, reshuffled
            order = torch.randperm(len(train_x), generator=generator)
        batch, order = order[:config.batch_size].to(device), order[config.batch_size:]
        loss = F.cross_entropy(model(train_x[batch])["output"], train_y[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (step + 1) % 1000 == 0:
            steps.write(f"step {step + 1:6d}  loss {loss.item():.4f}  "
                        f"{time.time() - start:6.1f} s")
            sys.stdout.flush()
    train_seconds = time.time() - start

    def activations_at(step):
        model.load_state_dict(snapshots[step])
        return {split: layer_activations(model, data[f"{split}_x"], device)
                for split in archive.SPLITS}

    ranges = {name: (np.inf, -np.inf) for name in model.layer_names}
    for step in sorted(snapshots):  # pass 1: each layer's range over all saved iterations
        for acts in activations_at(step).values():
            for name, a in acts.items():
                ranges[name] = (min(ranges[name][0], float(a.min())),
                                max(ranges[name][1], float(a.max())))
    edges = layer_edges(config, model, ranges)

    accuracy = {}
    kept = np.sort(np.random.default_rng(config.seed).permutation(
        len(data["test_y"]))[:config.continuous])  # test rows of the continuous archives
    for step in sorted(snapshots):  # pass 2: bin and write
        acts = activations_at(step)
        arrays = {f"{split}_labels": data[f"{split}_y"].numpy().astype(np.int64)
                  for split in archive.SPLITS}
        accuracy[str(step)] = {}
        for split in archive.SPLITS:
            predicted = acts[split]["output"].argmax(axis=1)
            accuracy[str(step)][split] = float((predicted == arrays[f"{split}_labels"]).mean())
            for name, a in acts[split].items():
                arrays[f"{split}_{name}"] = binning.digitize(a, edges[name][0])
        archive.write_archive(archive.archive_path(out, step), arrays)
        if config.continuous:
            archive.write_archive(archive.continuous_path(out, step), {
                "labels": arrays["test_labels"][kept], "index": kept.astype(np.int64),
                **{name: a[kept].astype(np.float16) for name, a in acts["test"].items()}})
        print(f"iteration {step:6d}  train accuracy {accuracy[str(step)]['train']:.4f}  "
              f"test accuracy {accuracy[str(step)]['test']:.4f}  -> "
              f"{archive.archive_path(out, step)}", flush=True)

    archive.write_meta(out, {
        "bins": config.bins,
        "num_labels": 10,
        "iterations": sorted(snapshots),
        "layers": {name: {"dim": dim, "edges": edges[name][0].tolist(), "binning": edges[name][1]}
                   for name, dim in model.layer_dims().items()},
        "accuracy": accuracy,
        "device": device,
        "train_seconds": round(train_seconds, 2),
        "config": dataclasses.asdict(config),
    })
    print(f"trained {config.itr_count} steps in {train_seconds:.1f} s on {device}; "
          f"wrote {len(snapshots)} archives and {out / archive.META}", flush=True)


if __name__ == "__main__":
    cli.run(main, cli.parse_config(Config, __doc__.split("\n\n")[0]))
