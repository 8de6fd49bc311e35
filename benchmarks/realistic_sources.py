"""Estimator accuracy on exact-likelihood sources fitted to this project's own MNIST layers.

    python train_model.py --devices cpu                       # activations/, once
    python benchmarks/realistic_sources.py --preset quick     # CPU
    python benchmarks/realistic_sources.py --preset quick --family tree
    python benchmarks/realistic_sources.py --preset full --device cuda:0

For each (layer, iteration) a tractable model is fitted to the layer's training codes and
labels and taken as the truth (infoplane/sources.py), `--family latent`: a latent class
model (units independent given one of C classes, the label drawn from the class, fitted by
EM), or `--family tree`: label-conditional Chow-Liu trees (a full K x K table per edge and
label, from counts shrunk towards the pooled counts of all labels, chosen on held-out
codes). Train and test codes are drawn from it at the MNIST shape; its entropies come
from exact log-likelihoods (Monte Carlo standard errors shown). Neither
family is the estimator's (models/dense.py).
As a reference for how hard each source is at this sample size, the source's own family is
fitted again, by the same procedure, to the drawn training codes and scored on the test
codes (`refit`: the H(T) error of that bound; it knows the family, which no estimator of a
real layer does, so it is a reference, not a bound on what is attainable; `--no-refit`
skips it).
Targets: H(T), H(T|Y) within 3 %, I(T;Y) within 0.15 bits. Prints a Markdown table.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infoplane import archive, plotting, sources  # noqa: E402
from infoplane.entropy import nats_to_bits  # noqa: E402
from infoplane.estimate import PRESETS, estimate_information, with_overrides  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--override", default="", help="estimator settings, name=value,...")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--activations-dir", default="activations")
    parser.add_argument("--jobs", default="hidden1:0,hidden1:1000,hidden2:20,hidden2:9000",
                        help="layer:iteration pairs")
    parser.add_argument("--family", default="latent", choices=("latent", "tree"))
    parser.add_argument("--classes", type=int, default=64, help="latent classes (latent)")
    parser.add_argument("--train", type=int, default=50000)
    parser.add_argument("--test", type=int, default=10000)
    parser.add_argument("--truth-samples", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refit", action=argparse.BooleanOptionalAction, default=True,
                        help="fit the source's family again to the drawn codes (CPU)")
    args = parser.parse_args()
    config = with_overrides(PRESETS[args.preset], args.override)
    meta = archive.read_meta(args.activations_dir)
    print(f"preset {args.preset}: {config}; device {args.device}; "
          f"torch threads {torch.get_num_threads()}; source family {args.family}"
          f"{f' ({args.classes} classes)' if args.family == 'latent' else ''}\n", flush=True)
    print("| source | H(T) exact | H(T) est | rel. err | H(T\\|Y) exact | H(T\\|Y) est "
          "| rel. err | I(T;Y) exact | est | abs. err | posterior: conditional / classifier "
          "| probe | best/epochs | refit | wall s |")
    print("|" + "---|" * 15, flush=True)

    def fit_family(codes, labels, rng):
        if args.family == "latent":
            return sources.fit_latent_classes(codes, labels, meta["bins"], meta["num_labels"],
                                              args.classes, rng)
        return sources.fit_labelled_tree(codes, labels, meta["bins"], meta["num_labels"], rng)

    for job in args.jobs.split(","):
        layer, iteration = job.split(":")
        arrays = archive.read_archive(archive.archive_path(args.activations_dir,
                                                           int(iteration)), meta)
        rng = np.random.default_rng(args.seed)
        source = fit_family(arrays[f"train_{layer}"], arrays["train_labels"], rng)
        truth = source.entropies_bits(rng, args.truth_samples)
        train_codes, train_labels = source.sample(args.train, rng)
        test_codes, test_labels = source.sample(args.test, rng)
        start = time.time()
        r = estimate_information(train_codes, train_labels, test_codes, test_labels,
                                 bins=meta["bins"], num_labels=meta["num_labels"],
                                 config=config, device=args.device, seed=args.seed,
                                 log=lambda line: None)
        wall = time.time() - start
        h, h_y, i = truth["H_T"], truth["H_T_given_Y"], truth["I_TY"]
        refit_cell = "–"
        if args.refit:
            refit = fit_family(train_codes, train_labels, np.random.default_rng([args.seed, 1]))
            refit_h_bits = float(nats_to_bits(-refit.log_prob_nats(test_codes).mean()))
            refit_cell = f"{100 * (refit_h_bits / h - 1):+.2f} %"
        f = r["fit"]
        print(f"| {layer} @ {iteration} | {h:.2f} ± {truth['H_T_se']:.2f} | {r['H_T_bits']:.2f} "
              f"| {100 * (r['H_T_bits'] / h - 1):+.2f} % "
              f"| {h_y:.2f} ± {truth['H_T_given_Y_se']:.2f} "
              f"| {r['H_T_given_Y_bits']:.2f} | {100 * (r['H_T_given_Y_bits'] / h_y - 1):+.2f} % "
              f"| {i:.3f} ± {truth['I_TY_se']:.3f} | {r['I_TY_bits']:.3f} "
              f"| {r['I_TY_bits'] - i:+.3f} | {plotting.posteriors_cell(r)} "
              f"| {r.get('I_TY_probe_bits', float('nan')):.3f} "
              f"| {f['best_epoch']}/{f['epochs']}{' early' if f['stopped_early'] else ' cap'} "
              f"| {refit_cell} | {wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
