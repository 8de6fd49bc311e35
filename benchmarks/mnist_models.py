"""Density models compared on the real MNIST codes: held-out NLL of q(t) against CPU
seconds. A lower test NLL is a tighter upper bound on H(T); no truth is needed.

    python train_model.py --devices cpu          # activations/, once
    python benchmarks/mnist_models.py            # one thread; prints a Markdown table

Every model is fitted by infoplane/fit.py exactly as the estimator fits its own (Adam,
early stopping on a random validation split of the training codes), on the same seeded
training subset, and scored on all test codes. Models:
  dense            models/dense.py in the unit order as stored, with the direct pairwise
                   term of rank 4 and its context gate: the estimator's model (0.11)
  dense-no-direct  the same without the direct term (the model of versions 0.5 to 0.7)
  dense-chow-liu   dense-no-direct, units reordered by a Chow-Liu tree (infoplane/tree.py)
  dense-free       the same without the shared bases: per-unit code embeddings (K x H)
                   and per-unit output heads (H x K)
  pixelcnn         models/pixelcnn.py, the gated dilated-convolution model used before
  transformer      models/transformer.py, causal attention over units
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infoplane import archive, entropy, fit, tree  # noqa: E402
from models import AutoregressiveDensity, DenseAutoregressive  # noqa: E402
from models.transformer import CausalTransformer  # noqa: E402


class FreeDense(DenseAutoregressive):
    """models/dense.py with a free code embedding and a free head per unit (rank = K)."""

    def __init__(self, units, bins, hidden, num_labels):
        super().__init__(units, bins, hidden, num_labels, rank=bins)
        with torch.no_grad():  # the identity bases make A_j and V_i free K x H maps
            self.code_basis.copy_(torch.eye(bins))
            self.output_basis.copy_(torch.eye(bins))
        self.code_basis.requires_grad_(False)
        self.output_basis.requires_grad_(False)


MODELS = {  # name: (units, bins, labels) -> model
    "dense": lambda d, k, l: DenseAutoregressive(d, k, 64, l, rank=8, direct_rank=4),
    "dense-no-direct": lambda d, k, l: DenseAutoregressive(d, k, 64, l, rank=8),
    "dense-chow-liu": lambda d, k, l: DenseAutoregressive(d, k, 64, l, rank=8),
    "dense-free": lambda d, k, l: FreeDense(d, k, 64, l),
    "pixelcnn": lambda d, k, l: AutoregressiveDensity(d, k, channels=64, num_labels=l),
    "transformer": lambda d, k, l: CausalTransformer(d, k, width=64, layers=2, num_labels=l),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations-dir", default="activations")
    parser.add_argument("--jobs", default="hidden1:0,hidden1:20,hidden1:9000,"
                                          "hidden2:0,hidden2:20,hidden2:9000")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--train-subset", type=int, default=0, help="0: all training codes")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--averaging", type=float, default=0.0,
                        help="decay of the parameter average (the estimator's: 0.998)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    meta = archive.read_meta(args.activations_dir)
    bins = meta["bins"]
    print(f"one thread; training subset {args.train_subset or 'all'}; lr {args.lr}; "
          f"max {args.max_epochs} epochs, patience 2; averaging {args.averaging}\n")
    print("| job | model | parameters | CPU s / epoch | best / epochs | stopped | "
          "val NLL [bits] | test NLL [bits] |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for job in args.jobs.split(","):
        layer, iteration = job.split(":")
        arrays = archive.read_archive(archive.archive_path(args.activations_dir,
                                                           int(iteration)), meta)
        codes = arrays[f"train_{layer}"].astype(np.int64)
        labels = arrays["train_labels"].astype(np.int64)
        rng = np.random.default_rng(args.seed)
        order = rng.permutation(len(codes))[:args.train_subset or None]
        n_val = len(order) // 10
        units = codes.shape[1]
        names = args.models.split(",")
        for name in names:
            unit_order = np.arange(units)
            if name == "dense-chow-liu":
                unit_order, _ = tree.chow_liu_tree(codes[order[n_val:]][:10000], bins)

            def tensors(c, y):
                return torch.as_tensor(c[:, unit_order]), torch.as_tensor(y)

            train = tensors(codes[order[n_val:]], labels[order[n_val:]])
            validation = tensors(codes[order[:n_val]], labels[order[:n_val]])
            test = tensors(arrays[f"test_{layer}"].astype(np.int64),
                           arrays["test_labels"].astype(np.int64))
            torch.manual_seed(args.seed)
            model = MODELS[name](units, bins, 0)
            fit.initialise_unit_logits(model, train[0])
            parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
            cpu = time.process_time()
            history = fit.fit_model(model, train, validation, lr=args.lr,
                                    batch_size=128, max_epochs=args.max_epochs, patience=2,
                                    seed=args.seed, averaging=args.averaging,
                                    log=lambda line: None)
            per_epoch = (time.process_time() - cpu) / history["epochs"]
            test_nll = float(entropy.nats_to_bits(-fit.log_prob_nats(model, test[0]).mean()))
            print(f"| {layer} @ {iteration} | {name} | {parameters:,} | {per_epoch:.1f} "
                  f"| {history['best_epoch']} / {history['epochs']} "
                  f"| {'early' if history['stopped_early'] else 'cap'} "
                  f"| {history['val_nll_bits']:.1f} | {test_nll:.1f} |", flush=True)


if __name__ == "__main__":
    main()
