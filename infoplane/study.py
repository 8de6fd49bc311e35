"""The study's tables and figure from its rows (one per network, layer and iteration):
means and spreads over network seeds, whether each layer compresses, and the figure with
every estimator on the same axes. Pure functions; study.py does the running."""
import math

import matplotlib.pyplot as plt

from infoplane.results import mean_and_sd

ESTIMATORS = {  # row key: (legend, line style)
    "H_T_bits": ("H(T) = I(X;T), autoregressive, upper bound", "-"),
    "I_XT_kde_bits": ("I(X;T) KDE (noise var 0.1), upper bound <= log2 N", "--"),
    "H_T_plugin_bits": ("H(T) plug-in counts, <= log2 N_test", ":"),
}
LABEL_ESTIMATORS = {
    "I_TY_bits": ("I(T;Y) autoregressive q(y|t), lower bound", "-"),
    "I_TY_probe_bits": ("I(T;Y) linear probe, lower bound", "-."),
    "I_TY_kde_bits": ("I(T;Y) KDE, difference of bounds", "--"),
    "I_TY_plugin_bits": ("I(T;Y) plug-in counts", ":"),
}
COLUMNS = ["activation", "seed", "layer", "units", "iteration", *ESTIMATORS,
           *LABEL_ESTIMATORS, "H_T_bits_error", "stopped_early"]


def aggregate(rows: list) -> list:
    """One row per (activation, layer, iteration): {key}_mean and {key}_sd over the
    network seeds (ddof 1) for every estimator, and the number of networks."""
    groups = {}
    for row in rows:
        groups.setdefault((row["activation"], row["layer"], row["iteration"]), []).append(row)
    table = []
    for (activation, layer, iteration), group in sorted(groups.items()):
        entry = {"activation": activation, "layer": layer, "iteration": iteration,
                 "units": group[0]["units"], "networks": len(group)}
        for key in (*ESTIMATORS, *LABEL_ESTIMATORS):
            entry[f"{key}_mean"], entry[f"{key}_sd"] = mean_and_sd([r[key] for r in group])
        table.append(entry)
    return table


def compression(table: list, bias_fraction: float) -> list:
    """Per (activation, layer): the peak of the mean H(T) over iterations and its fall to
    the last iteration, against the seed-to-seed spread of that fall (the sds at the two
    iterations added in quadrature) and the estimator's own slack (bias_fraction of the
    peak, which could differ between iterations by as much). compresses: the fall
    exceeds twice the spread and the slack; verdict: "yes", "undecided" (beyond twice the
    spread, inside the slack) or "no"."""
    verdicts = []
    for activation, layer in sorted({(e["activation"], e["layer"]) for e in table}):
        curve = sorted((e for e in table if (e["activation"], e["layer"]) == (activation, layer)),
                       key=lambda e: e["iteration"])
        peak = max(curve, key=lambda e: e["H_T_bits_mean"])
        last = curve[-1]
        fall = peak["H_T_bits_mean"] - last["H_T_bits_mean"]
        spread = math.sqrt(peak["H_T_bits_sd"] ** 2 + last["H_T_bits_sd"] ** 2)
        slack = bias_fraction * peak["H_T_bits_mean"]
        verdict = "no" if fall <= 2 * spread else "yes" if fall > slack else "undecided"
        verdicts.append({"activation": activation, "layer": layer,
                         "peak_iteration": peak["iteration"],
                         "peak_bits": peak["H_T_bits_mean"], "last_bits": last["H_T_bits_mean"],
                         "fall_bits": fall, "spread_bits": spread, "slack_bits": slack,
                         "compresses": verdict == "yes", "verdict": verdict})
    return verdicts


def markdown_tables(table: list, verdicts: list) -> str:
    lines = ["| activation | layer | iteration | networks | H(T) [bits] | I(X;T) KDE [bits] "
             "| H(T) plug-in [bits] | I(T;Y) q(y|t) [bits] | I(T;Y) probe [bits] |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in table:
        def cell(key, digits):
            return f"{e[f'{key}_mean']:.{digits}f} ± {e[f'{key}_sd']:.{digits}f}"
        lines.append(f"| {e['activation']} | {e['layer']} | {e['iteration']} | {e['networks']} "
                     f"| {cell('H_T_bits', 1)} | {cell('I_XT_kde_bits', 2)} "
                     f"| {cell('H_T_plugin_bits', 2)} | {cell('I_TY_bits', 3)} "
                     f"| {cell('I_TY_probe_bits', 3)} |")
    lines += ["", "mean ± sd over network seeds.", "",
              "| activation | layer | peak iteration | H(T) peak [bits] | H(T) last [bits] "
              "| fall [bits] | seed spread [bits] | estimator slack [bits] | compresses |",
              "|---|---|---|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v['activation']} | {v['layer']} | {v['peak_iteration']} "
                     f"| {v['peak_bits']:.1f} | {v['last_bits']:.1f} | {v['fall_bits']:.1f} "
                     f"| {v['spread_bits']:.1f} | {v['slack_bits']:.1f} "
                     f"| {v['verdict']} |")
    return "\n".join(lines) + "\n"


def study_figure(rows: list, table: list):
    """Rows: layers; columns: I(X;T) estimates for each activation, then I(T;Y) estimates
    for each activation, same y scale per row and kind. Thick: mean over networks with
    its sd as a band; thin: each network."""
    activations = sorted({r["activation"] for r in rows}, key=["tanh", "relu"].index)
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    columns = [(kind, a) for kind in (ESTIMATORS, LABEL_ESTIMATORS) for a in activations]
    fig, axes = plt.subplots(len(layers), len(columns), squeeze=False, constrained_layout=True,
                             figsize=(4.2 * len(columns), 3.3 * len(layers)))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, layer in enumerate(layers):
        for j, (kind, activation) in enumerate(columns):
            ax = axes[i, j]
            curve = [e for e in table if (e["activation"], e["layer"]) == (activation, layer)]
            x = [max(e["iteration"], 0.5) for e in curve]  # iteration 0 drawn at 0.5
            for colour, (key, (name, style)) in zip(colours, kind.items()):
                for seed in sorted({r["seed"] for r in rows}):
                    mine = sorted((r for r in rows if (r["activation"], r["layer"], r["seed"])
                                   == (activation, layer, seed)), key=lambda r: r["iteration"])
                    ax.plot([max(r["iteration"], 0.5) for r in mine], [r[key] for r in mine],
                            color=colour, lw=0.6, alpha=0.5, ls=style)
                mean = [e[f"{key}_mean"] for e in curve]
                sd = [0.0 if math.isnan(e[f"{key}_sd"]) else e[f"{key}_sd"] for e in curve]
                ax.plot(x, mean, color=colour, lw=2, ls=style, label=name)
                ax.fill_between(x, [m - s for m, s in zip(mean, sd)],
                                [m + s for m, s in zip(mean, sd)], color=colour, alpha=0.2)
            ax.set_xscale("log")
            ax.set_title(f"{layer}, {activation}")
            ax.set_xlabel("iteration (0 drawn at 0.5)")
            ax.set_ylabel("bits per example")
            if i == 0 and activation == activations[0]:
                ax.legend(fontsize=7)
        for kind in (ESTIMATORS, LABEL_ESTIMATORS):  # tanh and ReLU on the same scale
            same = [axes[i, j] for j, (k, _) in enumerate(columns) if k is kind]
            low = min(ax.get_ylim()[0] for ax in same)
            high = max(ax.get_ylim()[1] for ax in same)
            for ax in same:
                ax.set_ylim(low, high)
    fig.suptitle("Information over training: thick, mean over networks (band: sd); thin, "
                 "each network")
    return fig
