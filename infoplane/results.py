"""Result files under results/: one JSON per fit, written atomically, and the merged
summary.csv / summary.json that rank 0 writes when every job is done.

results/itr{N}_{layer}.json          one fit (replicate 0): the keys of
results/itr{N}_{layer}_seed{r}.json  infoplane/estimate.py, plus iteration, layer, units,
                                     replicate and the settings that made it (SETTINGS)
results/summary.csv                  one row per (iteration, layer), the columns of
                                     SUMMARY_COLUMNS, over its R fits (see summarise)
results/summary.json                 {"config": generator config, "jobs": [row and
                                     its "fit_results", ...]}
results/config.json                  the generator config of the latest merge
"""
import csv
import io
import json
import math
from pathlib import Path

from infoplane.atomic import write_json, write_text
from infoplane.errors import InputError

ESTIMATES = ("H_T", "I_XT", "H_T_given_Y", "I_TY", "I_TY_bayes", "I_TY_probe")
SETTINGS = ("estimator", "activations", "seed", "version")  # a result's own settings
SUMMARY_COLUMNS = (
    ["iteration", "layer", "units", "fits"]
    + [f"{e}_bits{s}" for e in ESTIMATES
       for s in ("", "_se", "_seed_sd", "_error", "_error_kind")]
    + [f"{e}_bits_per_unit{s}" for e in ESTIMATES for s in ("", "_error")]
    + ["I_TY_bayes_negative", "H_Y_bits", "H_T_plugin_bits", "I_TY_plugin_bits",
       "plugin_ceiling_bits",
       "n_train", "n_validation", "n_test", "epochs", "best_epoch", "stopped_early",
       "label_posterior", "seconds", "device"])


def result_path(results_dir, job) -> Path:
    return Path(results_dir) / f"{job.name}.json"


def write_result(results_dir, job, result: dict) -> None:
    write_json(result_path(results_dir, job), result)


def read_result(path) -> dict:
    """A fit's result, or an InputError naming the file."""
    try:
        result = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable result ({error}); delete it or use --overwrite")
    if not isinstance(result, dict) or "H_T_bits" not in result:
        raise InputError(f"{path}: not a result file; delete it or use --overwrite")
    return result


def check_settings(path, result: dict, expected: dict) -> None:
    """InputError unless the result was made with the expected settings (SETTINGS keys)."""
    differ = [key for key in SETTINGS if result.get(key) != expected.get(key)]
    if differ:
        raise InputError(f"{path} was computed with other settings ({', '.join(differ)}) "
                         f"than this run; "
                         f"use the same settings, --overwrite, or another --results-dir")


def mean_and_sd(values: list) -> tuple:
    """Mean and sample standard deviation (ddof 1; nan for one value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, float("nan")
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarise(fits: list) -> dict:
    """One summary row from the R fits of one (iteration, layer), which share the test
    codes: each estimate's mean over fits; _se, the fits' mean test-sampling standard
    error; _seed_sd, the seed-to-seed standard deviation (ddof 1; nan for one fit);
    _error, the larger of the two, which _error_kind names ("seed sd" or "test se");
    label_posterior, the posterior chosen on validation (all of them where fits differ)."""
    first = fits[0]
    row = {key: first.get(key) for key in SUMMARY_COLUMNS}
    row["fits"] = len(fits)
    for e in ESTIMATES:
        if f"{e}_bits" not in first:
            continue
        mean, seed_sd = mean_and_sd([f[f"{e}_bits"] for f in fits])
        se = sum(f[f"{e}_bits_se"] for f in fits) / len(fits)
        seed_larger = seed_sd > se  # False for nan
        error = seed_sd if seed_larger else se
        row.update({f"{e}_bits": mean, f"{e}_bits_se": se, f"{e}_bits_seed_sd": seed_sd,
                    f"{e}_bits_error": error,
                    f"{e}_bits_error_kind": "seed sd" if seed_larger else "test se",
                    f"{e}_bits_per_unit": mean / first["units"],
                    f"{e}_bits_per_unit_error": error / first["units"]})
    for key in ("H_T_plugin_bits", "I_TY_plugin_bits"):
        row[key] = mean_and_sd([f[key] for f in fits])[0]
    for key in ("epochs", "best_epoch"):
        row[key] = max(f[key] for f in fits)
    row["seconds"] = round(sum(f["seconds"] for f in fits), 2)
    row["stopped_early"] = all(f["stopped_early"] for f in fits)
    # the posterior that validation chose, or each of them where the fits differ
    row["label_posterior"] = " / ".join(sorted({f["label_posterior"] for f in fits}))
    row["I_TY_bayes_negative"] = bool(row["I_TY_bayes_bits"] < 0)
    return row


def merge(results_dir, jobs, config: dict, expected=None) -> list:
    """Write summary.csv, summary.json and config.json from the result files of `jobs`
    that exist, one row per (iteration, layer) that has all its fits; with
    expected(job) -> settings, every file is checked first. Returns the jobs that have
    no result."""
    groups, missing = {}, []
    for job in sorted(jobs, key=lambda j: (j.layer, j.iteration, j.replicate)):
        path = result_path(results_dir, job)
        if not path.is_file():
            missing.append(job)
            continue
        fit = read_result(path)
        if expected is not None:
            check_settings(path, fit, expected(job))
        groups.setdefault((job.layer, job.iteration), []).append(fit)
    incomplete = {(job.layer, job.iteration) for job in missing}
    rows = [summarise(fits) for key, fits in groups.items() if key not in incomplete]
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(Path(results_dir) / "summary.csv", table.getvalue())
    write_json(Path(results_dir) / "summary.json", {"config": config, "jobs": [
        {**row, "fit_results": groups[(row["layer"], row["iteration"])]} for row in rows]})
    write_json(Path(results_dir) / "config.json", config)
    return missing


def read_summary(results_dir) -> list:
    """The rows of summary.csv as dicts with numbers parsed."""
    path = Path(results_dir) / "summary.csv"
    if not path.is_file():
        raise InputError(f"{path}: not found; run generator.py first")
    with open(path, newline="") as f:
        return [{key: _number(value) for key, value in row.items()}
                for row in csv.DictReader(f)]


def load_rows(results_dir) -> tuple:
    """(summary rows, one line saying what the folder holds and what to run) for readers
    such as the notebook: summary.csv when it is up to date, else the result files
    summarised directly (a killed or running run leaves them unmerged)."""
    folder = Path(results_dir)
    files = sorted(folder.glob("itr*.json")) if folder.is_dir() else []
    summary = folder / "summary.csv"
    if summary.is_file():
        rows = read_summary(folder)
        newer = [p for p in files if p.stat().st_mtime > summary.stat().st_mtime]
        if not newer:
            return rows, f"{len(rows)} jobs in {summary}"
    if not files:
        return [], (f"no results in {folder} yet: run `make demo`, or generator.py on "
                    f"the activations")
    groups = {}
    for path in files:
        fit = read_result(path)
        groups.setdefault((fit["layer"], fit["iteration"]), []).append(fit)
    kinds = {json.dumps([fit.get("estimator"), fit.get("version")], sort_keys=True)
             for fits in groups.values() for fit in fits}
    if len(kinds) > 1:
        return [], (f"{folder} holds result files of {len(kinds)} different settings: run "
                    f"generator.py with the settings you want, or use another folder")
    return [summarise(fits) for fits in groups.values()], (
        f"{len(files)} result files in {folder} are not merged into summary.csv yet (a "
        f"killed or running run); drawn from the files: rerun generator.py with the same "
        f"settings to merge them (finished fits are skipped)")


def _number(text: str):
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
