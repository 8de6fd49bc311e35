"""Merging fits into summary rows: means, seed-to-seed spread, test-sampling error, and
the settings check."""
import math

import pytest

from infoplane import results
from infoplane.errors import InputError
from infoplane.jobs import Job

SETTINGS = {"estimator": {"hidden": 8}, "activations": "abc", "seed": 1, "version": "x"}


def fit(h_t, se, replicate=0, **extra):
    values = {"iteration": 5, "layer": "hidden", "units": 4, "replicate": replicate,
              "H_T_plugin_bits": 3.0, "I_TY_plugin_bits": 1.0, "epochs": 6 + replicate,
              "best_epoch": 4, "stopped_early": True, "seconds": 2.0,
              "label_posterior": "classifier", **SETTINGS, **extra}
    for name in results.ESTIMATES:
        values.update({f"{name}_bits": h_t, f"{name}_bits_se": se,
                       f"{name}_bits_per_unit": h_t / 4, f"{name}_bits_per_unit_se": se / 4})
    return values


def test_summary_reports_mean_seed_sd_and_the_larger_error():
    spread = results.summarise([fit(10.0, 0.1), fit(12.0, 0.3, 1), fit(14.0, 0.2, 2)])
    assert spread["fits"] == 3 and spread["H_T_bits"] == pytest.approx(12.0)
    assert spread["H_T_bits_seed_sd"] == pytest.approx(2.0)
    assert spread["H_T_bits_se"] == pytest.approx(0.2)
    assert spread["H_T_bits_error"] == pytest.approx(2.0)
    assert spread["H_T_bits_error_kind"] == "seed sd"
    assert spread["H_T_bits_per_unit_error"] == pytest.approx(0.5)
    assert spread["epochs"] == 8 and spread["seconds"] == 6.0 and spread["stopped_early"]

    assert spread["label_posterior"] == "classifier"

    tight = results.summarise([fit(10.0, 0.5), fit(10.2, 0.5, 1, stopped_early=False,
                                                  label_posterior="conditional_model")])
    assert tight["H_T_bits_error"] == pytest.approx(0.5)
    assert tight["H_T_bits_error_kind"] == "test se" and not tight["stopped_early"]
    assert tight["label_posterior"] == "classifier / conditional_model"

    single = results.summarise([fit(10.0, 0.5)])
    assert math.isnan(single["H_T_bits_seed_sd"]) and single["H_T_bits_error"] == 0.5


def test_merge_writes_complete_jobs_only_and_checks_settings(tmp_path):
    jobs = [Job(5, "hidden", 4, r) for r in range(2)] + [Job(9, "hidden", 4, r)
                                                        for r in range(2)]
    results.write_result(tmp_path, jobs[0], fit(10.0, 0.1))
    results.write_result(tmp_path, jobs[1], fit(11.0, 0.1, 1))
    results.write_result(tmp_path, jobs[2], fit(10.0, 0.1) | {"iteration": 9})
    missing = results.merge(tmp_path, jobs, {"seeds": 2}, expected=lambda job: SETTINGS)
    assert missing == [jobs[3]]
    rows = results.read_summary(tmp_path)  # iteration 9 lacks a fit: not summarised
    assert [(r["iteration"], r["fits"]) for r in rows] == [(5, 2)]
    assert rows[0]["H_T_bits"] == pytest.approx(10.5)

    other = SETTINGS | {"seed": 2}
    with pytest.raises(InputError, match=r"itr5_hidden.json was computed with other settings "
                                         r"\(seed\)"):
        results.merge(tmp_path, jobs, {}, expected=lambda job: other)
