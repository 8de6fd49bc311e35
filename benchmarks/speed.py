"""Training and evaluation throughput of the density model q(t|y) and of the label's
classifier q(y|t) for each preset at the shapes of the MNIST layers, the FLOP/s the density
reaches against this machine's measured matmul peak, and what one epoch and one job's
evaluation cost. Prints a Markdown table.

    python benchmarks/speed.py                      # CPU, torch's default threads
    python benchmarks/speed.py --threads 1          # one core, as one MPI rank of the demo
    python benchmarks/speed.py --device cuda:0

FLOPs are counted from the model's matrix products (models/dense.py: code features times
A_j, the blocked running sum, V_i, the output basis, the direct term and its gate), 2 per
multiply-add, a training step as three forward passes; elementwise work (tanh, softmax) is
not counted, so the ratio to peak is a lower bound on how busy the machine is. The peak is
the best of square float32 matrix products. A job fits q(t|y) and then the classifier
q(y|t), each for its epochs over the training codes, scores the validation split after each
epoch, and at the end scores the validation and test codes under every label (the label
mixture); the epoch columns are for q(t|y), the label's column is its training ex/s.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infoplane.estimate import PRESETS  # noqa: E402
from models import DenseAutoregressive, LabelPosterior  # noqa: E402


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_peak_flops(device: str, seconds: float = 2.0) -> float:
    """Best float32 FLOP/s of square matrix products of a few sizes."""
    best = 0.0
    for size in (256, 512, 1024, 2048):
        a, b = (torch.randn(size, size, device=device) for _ in range(2))
        a @ b
        synchronise(device)
        count, start = 0, time.time()
        while time.time() - start < seconds / 4:
            a @ b
            count += 1
        synchronise(device)
        best = max(best, 2 * size ** 3 * count / (time.time() - start))
    return best


def forward_flops(model: DenseAutoregressive) -> float:
    """FLOPs of the matrix products of one example's forward pass of q(t|y)."""
    d, h, k = model.units, model.hidden, model.bins
    r = model.code_basis.shape[1]
    scan = d * model.block * h + math.ceil(d / model.block) * h * model.across.shape[0]
    # the masked product, its output basis and its gate M_i
    direct = ((d * model.direct_rank) ** 2 + d * model.direct_rank * k
              + d * (h + 1) * model.direct_rank ** 2)
    return 2.0 * (d * r * h + scan + d * h * r + d * r * k + direct)


def throughput(model, batch: int, device: str, mode: str, seconds: float = 3.0) -> float:
    """Examples per second of training steps ("train"), of evaluation forward passes
    ("eval"), or of scoring every label ("every_label": log q(t|y) for all y)."""
    codes = torch.randint(0, model.bins, (batch, model.units), device=device)
    labels = torch.randint(0, 10, (batch,), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def score():
        if mode == "every_label":
            return model.log_prob_every_label_nats(codes)
        return model.log_prob_nats(codes, labels)

    def step():
        if mode == "train":
            loss = -score().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        else:
            with torch.no_grad():
                score()

    step()
    synchronise(device)
    count, start = 0, time.time()
    while time.time() - start < seconds:
        step()
        count += 1
    synchronise(device)
    return count * batch / (time.time() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--train", type=int, default=60000,
                        help="training codes of a job (fitting and validation)")
    parser.add_argument("--test", type=int, default=10000)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = matmul_peak_flops(args.device)
    print(f"device {args.device}, torch threads {torch.get_num_threads()}, "
          f"matmul peak {peak / 1e9:.1f} GFLOP/s\n")
    print("| preset | units | parameters | train ex/s | train GFLOP/s | of peak | eval ex/s "
          "| s per epoch | s to score validation and test under every label "
          "| q(y\\|t) train ex/s |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for name, config in PRESETS.items():
        for units in (256, 10):
            model = DenseAutoregressive(units, 32, config.hidden, 10, config.rank,
                                        direct_rank=config.direct_rank).to(args.device)
            train = throughput(model, config.batch_size, args.device, "train")
            label = throughput(LabelPosterior(units, 32, 10, config.label_hidden).to(args.device),
                               config.batch_size, args.device, "train")
            evaluate = throughput(model, config.eval_batch_size, args.device, "eval")
            every_label = throughput(model, config.eval_batch_size, args.device, "every_label")
            achieved = 3 * forward_flops(model) * train
            n_train = min(args.train, config.train_subset or args.train)
            n_validation = round(config.validation_fraction * n_train)
            epoch = (n_train - n_validation) / train + n_validation / evaluate
            scoring = (n_validation + min(args.test, config.test_subset or args.test)) / every_label
            parameters = sum(p.numel() for p in model.parameters())
            print(f"| {name} | {units} | {parameters:,} | {train:.0f} "
                  f"| {achieved / 1e9:.2f} | {100 * achieved / peak:.0f} % | {evaluate:.0f} "
                  f"| {epoch:.1f} | {scoring:.1f} | {label:.0f} |", flush=True)


if __name__ == "__main__":
    main()
