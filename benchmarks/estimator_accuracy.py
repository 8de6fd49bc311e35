"""Estimator accuracy and speed on synthetic sources with exact entropies, at the shape of
the MNIST hidden layers (256 units, 32 bins, 10 labels). Prints a Markdown table.

    python benchmarks/estimator_accuracy.py --preset quick              # CPU, minutes
    python benchmarks/estimator_accuracy.py --preset full --device cuda:0

Errors are against the exact H(T), H(T|Y), I(T;Y) of the source (where H(T) has no closed
form, H(T|Y) plus a Monte Carlo mean of exact log p(y|t) - log p(y); its standard error is
shown).
Targets: |H(T) error| <= 2 %, |I(T;Y) error| <= 0.15 bits.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infoplane import plotting, sources  # noqa: E402
from infoplane.estimate import PRESETS, estimate_information, with_overrides  # noqa: E402

SOURCES = {  # name: (d units, k bins, n labels, rng) -> source
    "independent": lambda d, k, n, rng: sources.independent_units(d, k, rng),
    # an unrelated Dirichlet(0.3) K x K transition matrix for every unit
    "markov_chain": lambda d, k, n, rng: sources.markov_chain(d, k, rng),
    "smooth_chain": lambda d, k, n, rng: sources.smooth_chain(d, k, 1, rng),
    # ten labels that carry nothing: I(T;Y) = 0 exactly, but the label terms can fit noise
    "smooth_chain_null_label": lambda d, k, n, rng: sources.smooth_chain(d, k, n, rng, 0.0),
    "smooth_chain_label": lambda d, k, n, rng: sources.smooth_chain(d, k, n, rng, 0.5),
    "label_mixture": lambda d, k, n, rng: sources.label_mixture(d, k, n, rng),
    "label_first_unit": lambda d, k, n, rng: sources.label_in_first_unit(d, k, n, rng),
    # stress case: every unit's transition matrix also has a part of its own for every label
    "random_chain_label": lambda d, k, n, rng: sources.label_dependent_chain(d, k, n, rng),
}
DEFAULT_SOURCES = ("independent,markov_chain,smooth_chain,smooth_chain_null_label,"
                   "smooth_chain_label,label_mixture,label_first_unit,random_chain_label")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--override", default="", help="estimator settings, name=value,...")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--bins", type=int, default=32)
    parser.add_argument("--labels", type=int, default=10)
    parser.add_argument("--train", type=int, default=50000)
    parser.add_argument("--test", type=int, default=10000)
    parser.add_argument("--sources", default=DEFAULT_SOURCES, help=f"of {list(SOURCES)}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = with_overrides(PRESETS[args.preset], args.override)
    print(f"preset {args.preset}: {config}; device {args.device}; "
          f"torch threads {torch.get_num_threads()}\n", flush=True)
    print("| source | H(T) exact | H(T) est | rel. err | H(T\\|Y) exact | H(T\\|Y) est | rel. err "
          "| I(T;Y) exact | est | abs. err | posterior: conditional / classifier | probe "
          "| abs. err | best/epochs | plug-in H(T) "
          "| wall s |")
    print("|" + "---|" * 16, flush=True)
    for name in args.sources.split(","):
        rng = np.random.default_rng(args.seed)
        source = SOURCES[name](args.units, args.bins, args.labels, rng)
        train_codes, train_labels = source.sample(args.train, rng)
        test_codes, test_labels = source.sample(args.test, rng)
        h_t, h_t_se = source.entropy_bits(rng, samples=50000)
        h_t_y = source.conditional_entropy_bits()
        i_ty = h_t - h_t_y
        start = time.time()
        r = estimate_information(train_codes, train_labels, test_codes, test_labels,
                                 bins=args.bins, num_labels=source.num_labels, config=config,
                                 device=args.device, seed=args.seed, log=lambda line: None)
        seconds = time.time() - start
        exact = f"{h_t:.2f}" + (f" ± {h_t_se:.2f}" if h_t_se else "")
        print(f"| {name} | {exact} | {r['H_T_bits']:.2f} "
              f"| {100 * (r['H_T_bits'] / h_t - 1):+.2f} % "
              f"| {h_t_y:.2f} | {r['H_T_given_Y_bits']:.2f} "
              f"| {100 * (r['H_T_given_Y_bits'] / h_t_y - 1):+.2f} % "
              f"| {i_ty:.3f} | {r['I_TY_bits']:.3f} | {r['I_TY_bits'] - i_ty:+.3f} "
              f"| {plotting.posteriors_cell(r)} "
              f"| {r['I_TY_probe_bits']:.3f} | {r['I_TY_probe_bits'] - i_ty:+.3f} "
              f"| {r['best_epoch']}/{r['epochs']} {'early' if r['stopped_early'] else 'cap'} "
              f"| {r['H_T_plugin_bits']:.2f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
