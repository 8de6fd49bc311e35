"""Training and evaluation throughput of the density model for each preset, at the shapes
of the MNIST layers, and what one epoch and one job cost. Prints a Markdown table.

    python benchmarks/speed.py                      # CPU
    python benchmarks/speed.py --device cuda:0

A job fits two models (q(t), q(t|y)) for up to max_epochs epochs over the training codes,
builds the count-based densities (infoplane/counts.py: per-unit smoothing on the
validation codes, label tilts, label effects by leave-one-out) and the linear probe
(infoplane/probe.py; not timed here: its L-BFGS runs as long as the labels teach it
something, which random codes do not; a job's log line gives its time), then evaluates
q(t) once and q(t|y) once per label on the test codes.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infoplane import counts  # noqa: E402
from infoplane.estimate import PRESETS  # noqa: E402
from models import AutoregressiveDensity  # noqa: E402


def throughput(model, batch: int, device: str, labels: bool, train: bool, seconds=3.0) -> float:
    """Examples per second of training steps (or of evaluation forward passes)."""
    codes = torch.randint(0, model.bins, (batch, model.units), device=device)
    y = torch.randint(0, 10, (batch,), device=device) if labels else None
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        if train:
            loss = -model.log_prob_nats(codes, y).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        else:
            with torch.no_grad():
                model.log_prob_nats(codes, y)

    step()
    count, start = 0, time.time()
    while time.time() - start < seconds:
        step()
        count += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return count * batch / (time.time() - start)


def count_densities_seconds(units: int, n_codes: int, n_validation: int, device: str) -> float:
    """Seconds to build the count-based densities from n_codes random codes."""
    codes = torch.randint(0, 32, (n_codes, units), device=device)
    labels = torch.randint(0, 10, (n_codes,), device=device)
    start = time.time()
    counts.fit_count_model(codes, labels, codes[:n_validation], 10, 32)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train", type=int, default=50000, help="training codes of a job")
    parser.add_argument("--test", type=int, default=10000)
    args = parser.parse_args()
    print(f"device {args.device}, torch threads {torch.get_num_threads()}\n")
    print("| preset | units | train ex/s | eval ex/s | s count-based densities "
          "| s per epoch (both models) | s per job at max_epochs |")
    print("|---|---|---|---|---|---|---|", flush=True)
    for name, config in PRESETS.items():
        for units in (256, 10):
            model = AutoregressiveDensity(units, 32, channels=config.channels,
                                          kernel_size=config.kernel_size, stacks=config.stacks,
                                          num_labels=10, label_rank=config.label_rank
                                          ).to(args.device)
            train = throughput(model, config.batch_size, args.device, True, True)
            evaluate = throughput(model, config.eval_batch_size, args.device, True, False)
            n_train = min(args.train, config.train_subset or args.train)
            n_test = min(args.test, config.test_subset or args.test)
            epochs = config.max_epochs
            if config.unit_epoch_budget:
                epochs = max(1, min(epochs, config.unit_epoch_budget // units))
            n_fit = int(n_train * (1 - config.validation_fraction))
            n_validation = n_train - n_fit
            count_seconds = count_densities_seconds(units, args.train - n_validation,
                                                    n_validation, args.device)
            epoch = 2 * n_fit / train + 2 * n_validation / evaluate
            job = count_seconds + epochs * epoch + 11 * n_test / evaluate
            print(f"| {name} | {units} | {train:.0f} | {evaluate:.0f} | {count_seconds:.1f} "
                  f"| {epoch:.1f} | {job:.0f} ({epochs} epochs) |", flush=True)


if __name__ == "__main__":
    main()
