"""The study: do the information-bottleneck phases (fitting, then compression) appear in
the 784-256-256-10 MLP, tanh against ReLU, over network seeds, beside the classic
estimators (plug-in counts, the KDE bound of Saxe et al.)?

    python study.py                  # make study: the quick size, this CPU
    python study.py --size full      # make study STUDY=full: GPUs or several nodes

Every network gets a folder {activation}_seed{s}/ under --out-dir with its activations/
(train_model.py) and results/ (generator.py over MPI ranks), the same code paths as the
demo; a rerun skips every finished network, fit and KDE bound. Then study.csv (one row
per network, layer and iteration), table.md and study.png.
"""
import csv
import dataclasses
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from infoplane import archive, cli, results, study  # noqa: E402
from infoplane.atomic import write_json, write_text  # noqa: E402
from infoplane.cli import setting  # noqa: E402
from infoplane.errors import InputError  # noqa: E402
from infoplane.kde import kde_information_bits, kde_label_information_bits  # noqa: E402

SIZES = {
    # this 2-core CPU: three networks per activation, 6 save iterations, fits on a seeded
    # draw of 5000 training and 2000 test codes, KDE on 2000 test examples; no direct
    # term, whose couplings overfit a few thousand codes (README, Limitations)
    "quick": {"seeds": (0, 1, 2), "iterations": (0, 20, 200, 1000, 3000, 9000),
              "preset": "quick", "override": "train_subset=5000,test_subset=2000,direct_rank=0",
              "continuous": 2000,
              # the largest H(T) slack of these settings on the realistic sources (README,
              # the study): a fall below this fraction of the peak is not called compression
              "bias_fraction": 0.205},
    # GPUs: five networks per activation, 12 save iterations, all codes, the full preset
    "full": {"seeds": (0, 1, 2, 3, 4),
             "iterations": (0, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 9000),
             "preset": "full", "override": "", "continuous": 5000,
             "bias_fraction": 0.032},  # the quick preset's on all codes; full: not measured
}


@dataclass
class Config:
    size: str = setting("quick", f"{' or '.join(SIZES)} (quick: this CPU; full: GPUs)")
    out_dir: str = setting("study", "one folder per network, then study.csv, table.md, "
                           "study.png")
    activations: tuple[str, ...] = setting(("tanh", "relu"), "hidden nonlinearities")
    seeds: tuple[int, ...] = setting((), "network seeds (default: the size's)")
    iterations: tuple[int, ...] = setting((), "save iterations (default: the size's)")
    itr_count: int = setting(10000, "optimizer steps per network")
    data_dir: str = setting("data", "folder holding MNIST/raw/")
    devices: str = setting("cpu", "generator.py --devices; training uses the first")
    ranks: int = setting(2, "MPI ranks of generator.py")
    override: str = setting("", "estimator settings over the size's, e.g. max_epochs=10")
    noise_variance: float = setting(0.1, "variance of the KDE's Gaussian noise (Saxe et al.)")


def run_step(command: list, what: str) -> None:
    print(f"study: {what}: {' '.join(map(str, command))}", flush=True)
    status = subprocess.run(list(map(str, command))).returncode
    if status:
        raise InputError(f"{what} stopped with status {status} (its message is above); "
                         f"run the study again to resume")


def train(config: Config, size: dict, activation: str, seed: int, folder: Path) -> None:
    """train_model.py for one network, unless its activations exist with these settings."""
    wanted = {"activation": activation, "seed": seed, "itr_count": config.itr_count,
              "iterations": list(size["iterations"]), "continuous": size["continuous"]}
    if (folder / archive.META).is_file():
        made = archive.read_meta(folder)["config"]
        if all(made.get(key) == value for key, value in wanted.items()):
            return
        raise InputError(f"{folder} holds activations of other settings; use another "
                         f"--out-dir or delete it")
    run_step([sys.executable, "train_model.py", "--devices", config.devices.split(",")[0],
              "--data-dir", config.data_dir, "--activations-dir", folder,
              "--activation", activation, "--seed", seed, "--itr-count", config.itr_count,
              "--iterations", ",".join(map(str, size["iterations"])),
              "--continuous", size["continuous"]], f"train {folder.parent.name}")


def estimate(config: Config, size: dict, activations: Path, results_dir: Path) -> None:
    """generator.py over the network's activations (it skips finished fits)."""
    mpirun = [str(Path(sys.executable).parent / "mpirun"), "-np", str(config.ranks)] \
        if config.ranks > 1 else []
    override = ",".join(part for part in (size["override"], config.override) if part)
    run_step([*mpirun, sys.executable, "generator.py", "--devices", config.devices,
              "--activations-dir", activations, "--results-dir", results_dir,
              "--preset", size["preset"], "--override", override],
             f"estimate {results_dir.parent.name}")


def kde_bounds(config: Config, activations: Path, path: Path) -> dict:
    """{itr{N}_{layer}: KDE bounds} of one network, cached in kde.json per noise variance."""
    meta = archive.read_meta(activations)
    cached = json.loads(path.read_text()) if path.is_file() else {}
    if cached.get("noise_variance") != config.noise_variance:
        cached = {"noise_variance": config.noise_variance, "bounds": {}}
    for iteration in meta["iterations"]:
        if all(f"itr{iteration}_{layer}" in cached["bounds"] for layer in meta["layers"]):
            continue
        arrays = archive.read_continuous(activations, iteration, meta)
        for layer in meta["layers"]:
            h = arrays[layer].astype("float64")
            cached["bounds"][f"itr{iteration}_{layer}"] = {
                "I_XT_kde_bits": kde_information_bits(h, config.noise_variance),
                "I_TY_kde_bits": kde_label_information_bits(h, arrays["labels"],
                                                            config.noise_variance),
                "n": len(h)}
        write_json(path, cached)
    return cached["bounds"]


def main(config: Config) -> None:
    if config.size not in SIZES:
        raise InputError(f"--size must be one of {list(SIZES)}, got {config.size!r}")
    if any(a not in ("tanh", "relu") for a in config.activations) or not config.activations:
        raise InputError(f"--activations must be tanh and/or relu, got {config.activations}")
    if config.ranks < 1 or not config.noise_variance > 0:
        raise InputError("--ranks must be >= 1 and --noise-variance > 0")
    size = dict(SIZES[config.size])
    size["seeds"] = config.seeds or size["seeds"]
    size["iterations"] = config.iterations or size["iterations"]
    out = Path(config.out_dir)
    rows = []
    for activation in config.activations:
        for seed in size["seeds"]:
            network = out / f"{activation}_seed{seed}"
            train(config, size, activation, seed, network / "activations")
            estimate(config, size, network / "activations", network / "results")
            bounds = kde_bounds(config, network / "activations", network / "kde.json")
            for row in results.read_summary(network / "results"):
                rows.append({"activation": activation, "seed": seed, **row,
                             **bounds[f"itr{row['iteration']}_{row['layer']}"]})
    table = study.aggregate(rows)
    verdicts = study.compression(table, size["bias_fraction"])
    table_csv = io.StringIO()
    writer = csv.DictWriter(table_csv, fieldnames=study.COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(out / "study.csv", table_csv.getvalue())
    write_text(out / "table.md", study.markdown_tables(table, verdicts))
    write_json(out / "config.json", {**dataclasses.asdict(config), "resolved": size})
    figure = study.study_figure(rows, table)
    figure.savefig(out / "study.png", dpi=100)
    for v in verdicts:
        print(f"study: {v['activation']} {v['layer']}: H(T) peak {v['peak_bits']:.1f} bits at "
              f"iteration {v['peak_iteration']}, last {v['last_bits']:.1f}, fall "
              f"{v['fall_bits']:.1f} (seed spread {v['spread_bits']:.1f}, slack "
              f"{v['slack_bits']:.1f}): compression: {v['verdict']}",
              flush=True)
    print(f"study: wrote {out / 'study.csv'}, {out / 'table.md'}, {out / 'study.png'}")


if __name__ == "__main__":
    cli.run(main, cli.parse_config(Config, __doc__.split("\n\n")[0]))
