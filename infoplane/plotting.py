"""Figures of the information plane from results/summary.csv rows (and meta.json):
pure functions, data in, matplotlib figure out. write_figures saves them all as PNGs.

    python -m infoplane.plotting [results_dir] [activations_dir]
"""
import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.colors import SymLogNorm

from infoplane import archive, results
from infoplane.errors import InputError

MARKERS = "osD^vP*X"
def error_note(rows: list, keys=("H_T_bits", "I_TY_bits")) -> str:
    """What the error bars are, with how often the seed-to-seed sd is the larger part."""
    kinds = [r[f"{key}_error_kind"] for r in rows for key in keys]
    fits = sorted({r["fits"] for r in rows})
    return (f"error bars: the larger of the seed-to-seed sd (fits per job: "
            f"{'/'.join(map(str, fits))}) and the test-sampling se; the seed sd at "
            f"{kinds.count('seed sd')} of {len(kinds)} H(T) and I(T;Y) points")
I_TY_ESTIMATES = {  # key of summary.csv: how the figures name it
    "I_TY_bits": "generative q(y|t): H(Y) - H(Y|T), lower bound",
    "I_TY_probe_bits": "linear probe r(y|t), lower bound (baseline)",
}


def by_layer(rows: list) -> dict:
    """{layer: rows sorted by iteration}, layers in their order of first appearance."""
    layers = {}
    for row in rows:
        layers.setdefault(row["layer"], []).append(row)
    return {name: sorted(layer, key=lambda r: r["iteration"]) for name, layer in layers.items()}


def missing_jobs(rows: list, meta: dict) -> list:
    """Names itr{N}_{layer} that meta.json promises and the results lack."""
    have = {(r["iteration"], r["layer"]) for r in rows}
    return [f"itr{i}_{layer}" for layer in meta["layers"] for i in meta["iterations"]
            if (i, layer) not in have]


def _iteration_axis(ax, iterations):
    ax.set_xscale("symlog", linthresh=1)  # shows iteration 0 on a log-like axis
    ax.set_xlim(-0.2, 1.5 * max(max(iterations), 1))
    ax.set_xlabel("iteration (optimizer steps)")


def _error(points, key):
    return [p[f"{key}_error"] for p in points]


def information_plane(rows: list, label_entropy_bits: float = math.log2(10),
                      plugin: bool = True):
    """I(X;T) on x, I(T;Y) on y, bits per example: one line per layer through its save
    iterations, points coloured by iteration, error bars (see error_note); one panel per
    I(T;Y) estimate, both with the ceiling H(Y). With `plugin`, the first panel also
    shows the plug-in (bin-count) coordinates of the same codes as hollow markers."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True, constrained_layout=True)
    iterations = [r["iteration"] for r in rows]
    norm = SymLogNorm(linthresh=1, vmin=0, vmax=max(max(iterations), 1))
    for ax, (key, name) in zip(axes, I_TY_ESTIMATES.items()):
        for marker, (layer, points) in zip(MARKERS, by_layer(rows).items()):
            x = [p["I_XT_bits"] for p in points]
            y = [p[key] for p in points]
            ax.errorbar(x, y, xerr=_error(points, "I_XT_bits"), yerr=_error(points, key),
                        color="0.6", lw=1, zorder=1)
            scatter = ax.scatter(x, y, c=[p["iteration"] for p in points], cmap="viridis",
                                 norm=norm, marker=marker, s=60, edgecolors="k", zorder=2,
                                 label=f"{layer} ({points[0]['units']} units)")
            if plugin and key == "I_TY_bits":
                ax.plot([p["H_T_plugin_bits"] for p in points],
                        [p["I_TY_plugin_bits"] for p in points], color="0.6", ls=":", lw=1,
                        marker=marker, mfc="none", mec="0.3", ms=7, zorder=1,
                        label=f"{layer}: plug-in counts (H(T) <= log2 N_test)")
        ax.axhline(label_entropy_bits, color="firebrick", ls="--", lw=1,
                   label=f"H(Y) = {label_entropy_bits:.2f} bits")
        ax.set_xlabel("I(X;T) = H(T), upper bound  [bits per example; log scale above 1]")
        ax.set_xscale("symlog", linthresh=1)  # H(T) = 0 (a constant layer) stays visible
        ax.set_xlim(0, 1.5 * max(max(r["I_XT_bits"] for r in rows), 1))
        ax.set_title(f"I(T;Y) {name}")
        ax.legend(loc="best", fontsize=7, framealpha=0.6)
    axes[0].set_ylabel("I(T;Y)  [bits per example]")
    fig.colorbar(scatter, ax=axes, label="iteration (log scale, 0 included)")
    fig.suptitle(f"Information plane\n{error_note(rows)}", fontsize=10)
    return fig


def entropy_curves(rows: list, label_entropy_bits: float = math.log2(10)):
    """Per layer: H(T), H(T|Y) (top) and both I(T;Y) estimates (bottom) against iteration,
    with error bars (see error_note)."""
    layers = by_layer(rows)
    fig, axes = plt.subplots(2, len(layers), figsize=(4.5 * len(layers), 7), squeeze=False,
                             constrained_layout=True)
    fig.suptitle(error_note(rows), fontsize=10)
    for column, (layer, points) in enumerate(layers.items()):
        iterations = [p["iteration"] for p in points]
        top, bottom = axes[0, column], axes[1, column]
        for key, name in (("H_T_bits", "H(T), upper bound"),
                          ("H_T_given_Y_bits", "H(T|Y), upper bound")):
            top.errorbar(iterations, [p[key] for p in points], yerr=_error(points, key),
                         marker="o", capsize=3, label=name)
        for key, name in I_TY_ESTIMATES.items():
            bottom.errorbar(iterations, [p[key] for p in points], yerr=_error(points, key),
                            marker="o", capsize=3, label=f"I(T;Y) {name}")
        bottom.axhline(label_entropy_bits, color="firebrick", ls="--", lw=1, label="H(Y)")
        top.set_title(f"{layer} ({points[0]['units']} units)")
        top.set_ylabel("bits per example")
        bottom.set_ylabel("bits per example")
        for ax in (top, bottom):
            _iteration_axis(ax, iterations)
            ax.legend(fontsize=8)
    return fig


def plugin_comparison(rows: list):
    """Per layer: the autoregressive H(T) beside the plug-in (count) estimate, which cannot
    exceed log2(number of test examples)."""
    layers = by_layer(rows)
    fig, axes = plt.subplots(1, len(layers), figsize=(4.5 * len(layers), 4), squeeze=False,
                             constrained_layout=True)
    for ax, (layer, points) in zip(axes[0], layers.items()):
        iterations = [p["iteration"] for p in points]
        ax.errorbar(iterations, [p["H_T_bits"] for p in points],
                    yerr=_error(points, "H_T_bits"), marker="o", capsize=3,
                    label="autoregressive H(T), upper bound")
        ax.plot(iterations, [p["H_T_plugin_bits"] for p in points], marker="s",
                label="plug-in H(T) (bin counts)")
        ceiling = points[0]["plugin_ceiling_bits"]
        ax.axhline(ceiling, color="k", ls=":", lw=1,
                   label=f"log2(N_test) = {ceiling:.1f} bits")
        ax.set_yscale("log")
        ax.set_title(f"{layer} ({points[0]['units']} units)")
        ax.set_ylabel("H(T)  [bits per example]")
        _iteration_axis(ax, iterations)
        ax.legend(fontsize=8)
    return fig


def accuracy_curve(meta: dict):
    """Train and test accuracy of the MLP at the save iterations."""
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    iterations = sorted(int(i) for i in meta["accuracy"])
    for split in archive.SPLITS:
        ax.plot(iterations, [meta["accuracy"][str(i)][split] for i in iterations],
                marker="o", label=split)
    _iteration_axis(ax, iterations)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend()
    return fig


def results_table(rows: list) -> str:
    """The original notebook's table, in totals, as Markdown: each number ± its error bar,
    marked * where the seed-to-seed sd is the larger part (else the test-sampling se)."""
    def cell(p, key, digits):
        star = "*" if p[f"{key}_error_kind"] == "seed sd" else ""
        return f"{p[key]:.{digits}f} ± {p[f'{key}_error']:.{digits}f}{star}"

    lines = ["| layer | iteration | fits | I(X;T) = H(T) [bits] | I(T;Y) generative [bits] "
             "| I(T;Y) probe [bits] |", "|---|---|---|---|---|---|"]
    for layer, points in by_layer(rows).items():
        for p in points:
            lines.append(f"| {layer} | {p['iteration']} | {p['fits']} "
                         f"| {cell(p, 'I_XT_bits', 2)} | {cell(p, 'I_TY_bits', 3)} "
                         f"| {cell(p, 'I_TY_probe_bits', 3)} |")
    lines.append("\n± the larger of the seed-to-seed sd (marked *) and the test-sampling se.")
    return "\n".join(lines)


def posteriors_cell(result: dict) -> str:
    """A table cell with the I(T;Y) bound of both posteriors of one result, the one that
    validation chose in bold."""
    chosen = result["label_posterior"]
    return " / ".join(f"**{result[f'I_TY_{name}_bits']:.3f}**" if name == chosen
                      else f"{result[f'I_TY_{name}_bits']:.3f}"
                      for name in ("conditional_model", "classifier"))


def write_figures(results_dir="results", activations_dir="activations") -> list:
    """Save every figure as PNG (and the table as Markdown) under results_dir; returns the
    paths. Draws whatever jobs exist; the accuracy figure needs meta.json."""
    rows, status = results.load_rows(results_dir)
    if not rows:
        raise InputError(status)
    figures = {"information_plane": information_plane(rows),
               "entropies": entropy_curves(rows), "plugin": plugin_comparison(rows)}
    if (Path(activations_dir) / archive.META).is_file():
        figures["accuracy"] = accuracy_curve(archive.read_meta(activations_dir))
    paths = []
    for name, fig in figures.items():
        paths.append(Path(results_dir) / f"{name}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    paths.append(Path(results_dir) / "table.md")
    paths[-1].write_text(results_table(rows) + "\n")
    return paths


if __name__ == "__main__":
    from infoplane import cli

    def main(args):
        for path in write_figures(*args):
            print(path)

    cli.run(main, sys.argv[1:3])
