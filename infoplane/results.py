"""Result files under results/: one JSON per job, written atomically, and the merged
summary.csv / summary.json that rank 0 writes when every job is done.

results/itr{N}_{layer}.json   the keys of infoplane/estimate.py, plus iteration, layer,
                              units, activations (sha256 of meta.json) and job seed
results/summary.csv           one row per job, the columns of SUMMARY_COLUMNS
results/summary.json          {"config": generator config, "jobs": [result, ...]}
results/config.json           the generator config of the latest run
"""
import csv
import io
import json
from pathlib import Path

from infoplane.atomic import write_json, write_text
from infoplane.errors import InputError

ESTIMATES = ("H_T", "I_XT", "H_T_given_Y", "I_TY", "I_TY_bayes", "I_TY_probe")
SUMMARY_COLUMNS = (
    ["iteration", "layer", "units"]
    + [f"{e}_bits{s}" for e in ESTIMATES for s in ("", "_se")]
    + [f"{e}_bits_per_unit{s}" for e in ESTIMATES for s in ("", "_se")]
    + ["I_TY_bayes_negative", "H_Y_bits", "H_T_plugin_bits", "plugin_ceiling_bits",
       "n_train", "n_validation", "n_test", "epochs", "best_epoch", "stopped_early",
       "seconds", "device"])


def result_path(results_dir, job) -> Path:
    return Path(results_dir) / f"{job.name}.json"


def write_result(results_dir, job, result: dict) -> None:
    write_json(result_path(results_dir, job), result)


def read_result(path) -> dict:
    """A job's result, or an InputError naming the file."""
    try:
        result = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable result ({error}); delete it or use --overwrite")
    if not isinstance(result, dict) or "H_T_bits" not in result:
        raise InputError(f"{path}: not a result file; delete it or use --overwrite")
    return result


def merge(results_dir, jobs, config: dict) -> list:
    """Write summary.csv and summary.json from the result files of `jobs` that exist;
    return the jobs that have none."""
    found, missing = [], []
    for job in sorted(jobs, key=lambda j: (j.layer, j.iteration)):
        path = result_path(results_dir, job)
        if path.is_file():
            found.append(read_result(path))
        else:
            missing.append(job)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
    write_text(Path(results_dir) / "summary.csv", table.getvalue())
    write_json(Path(results_dir) / "summary.json", {"config": config, "jobs": found})
    return missing


def read_summary(results_dir) -> list:
    """The rows of summary.csv as dicts with numbers parsed."""
    path = Path(results_dir) / "summary.csv"
    if not path.is_file():
        raise InputError(f"{path}: not found; run generator.py first")
    with open(path, newline="") as f:
        return [{key: _number(value) for key, value in row.items()}
                for row in csv.DictReader(f)]


def _number(text: str):
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
