"""generator.py end to end on small synthetic activations: one rank, two MPI ranks,
resume, and every kind of bad input."""
import json
import os
import signal
import subprocess
import time

import pytest

from infoplane import archive, results

from conftest import ROOT, run_script, script_command, write_activations

SMALL = ["--devices", "cpu", "--preset", "quick", "--threads", "1", "--override",
         "hidden=8,max_epochs=2,train_subset=0,test_subset=0"]
ESTIMATES = ["H_T_bits", "H_T_given_Y_bits", "I_TY_bits", "I_TY_bayes_bits",
             "H_T_plugin_bits", "H_T_bits_se", "I_TY_bayes_bits_se"]


@pytest.fixture(scope="module")
def activations(tmp_path_factory):
    directory = tmp_path_factory.mktemp("activations")
    write_activations(directory, {"hidden": 6, "out": 3}, iterations=(0, 10))
    return directory


def generate(activations, results_dir, *extra, ranks=0, faults=()):
    return run_script("generator.py", "--activations-dir", activations, "--results-dir",
                      results_dir, *SMALL, *extra, mpi_ranks=ranks, timeout=300,
                      faults=faults, folder=f"{results_dir}-faults")


def error_lines(run) -> list:
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def one_rank(activations, tmp_path_factory):
    results_dir = tmp_path_factory.mktemp("results")
    run = generate(activations, results_dir)
    assert run.returncode == 0, run.stderr
    return results_dir, run


def test_one_rank_writes_every_result_and_the_summary(one_rank):
    results_dir, run = one_rank
    names = sorted(p.name for p in results_dir.glob("itr*.json"))
    assert names == ["itr0_hidden.json", "itr0_out.json", "itr10_hidden.json", "itr10_out.json"]
    rows = results.read_summary(results_dir)
    assert len(rows) == 4 and list(rows[0]) == results.SUMMARY_COLUMNS
    summary = json.loads((results_dir / "summary.json").read_text())
    assert len(summary["jobs"]) == 4 and summary["config"]["preset"] == "quick"
    for row in rows:
        assert row["H_T_bits"] > 0 and row["H_T_bits_se"] > 0
        assert row["I_TY_bayes_bits"] <= row["H_Y_bits"]
        assert row["units"] == {"hidden": 6, "out": 3}[row["layer"]]
    assert "[rank 0] of 1" in run.stdout and "device cpu" in run.stdout
    assert "[rank 0] itr0_hidden q(t|y) epoch   1" in run.stdout
    assert "[rank 0] itr0_hidden q(y|t) epoch   1" in run.stdout
    assert not list(results_dir.glob("*.tmp")) and not list(results_dir.glob(".*.tmp"))


def stop_phrases(results_dir, run) -> dict:
    """{job: (how its line in the run's output says the fit stopped, its result file)}."""
    phrases = {}
    for path in results_dir.glob("itr*.json"):
        line = next(line for line in run.stdout.splitlines()
                    if f"] {path.stem}: H(T)" in line)
        phrases[path.stem] = (line.split(", ")[-2], json.loads(path.read_text()))
    return phrases


def test_each_line_says_whether_its_fit_reached_the_cap(one_rank):
    results_dir, run = one_rank
    for phrase, result in stop_phrases(results_dir, run).values():
        assert (phrase == "CAP REACHED") == (not result["stopped_early"])


def test_a_fit_stopped_while_validation_still_falls_says_so(activations, tmp_path):
    results_dir = tmp_path / "results"
    run = run_script("generator.py", "--activations-dir", activations, "--results-dir",
                     results_dir, *SMALL[:-1], "hidden=8,max_epochs=5,patience=1,"
                     "min_improvement=0.9", timeout=300)
    assert run.returncode == 0, run.stderr
    phrases = stop_phrases(results_dir, run)
    assert len(phrases) == 4
    for phrase, result in phrases.values():  # the first epoch lowers validation, by < 90 %
        assert result["stopped_early"] and result["best_epoch"] == result["epochs"] == 1
        assert phrase == "early stop on the minimum gain while validation still falls"


def test_rerun_skips_finished_jobs(activations, one_rank):
    results_dir, _ = one_rank
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in results_dir.glob("itr*")}
    run = generate(activations, results_dir)
    assert run.returncode == 0, run.stderr
    assert "0 of 4 fits to run" in run.stdout and "start" not in run.stdout
    assert before == {p.name: (p.stat().st_mtime_ns, p.read_bytes())
                      for p in results_dir.glob("itr*")}


def test_interrupted_run_resumes_the_missing_job(activations, one_rank, tmp_path):
    results_dir, _ = one_rank
    for p in results_dir.glob("itr*.json"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "itr10_out.json").unlink()  # as if the run had stopped before this job
    run = generate(activations, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "1 of 4 fits to run" in run.stdout
    assert len(results.read_summary(tmp_path)) == 4


def test_two_ranks_give_the_same_numbers_as_one(activations, one_rank, tmp_path):
    results_dir, _ = one_rank
    run = generate(activations, tmp_path, ranks=2)
    assert run.returncode == 0, run.stderr
    assert "[rank 0] of 2" in run.stdout and "[rank 1] of 2" in run.stdout
    for path in results_dir.glob("itr*.json"):
        one, two = (json.loads(p.read_text()) for p in (path, tmp_path / path.name))
        assert {k: one[k] for k in ESTIMATES} == {k: two[k] for k in ESTIMATES}, path.name


def test_other_settings_do_not_mix_with_old_results(activations, one_rank):
    results_dir, _ = one_rank
    run = run_script("generator.py", "--activations-dir", activations, "--results-dir",
                     results_dir, *SMALL[:-1], "hidden=4,max_epochs=2")
    assert run.returncode == 2
    assert "computed with other settings (estimator)" in run.stderr


def test_overwrite_redoes_the_jobs(activations, one_rank, tmp_path):
    results_dir, _ = one_rank
    run = generate(activations, results_dir, "--layers", "out", "--iterations", "0",
                   "--overwrite")
    assert run.returncode == 0, run.stderr
    assert "1 of 1 fits to run" in run.stdout


def broken_copy(activations, tmp_path):
    tmp_path.mkdir()
    for p in activations.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    data = archive.archive_path(tmp_path, 10).read_bytes()
    archive.archive_path(tmp_path, 10).write_bytes(data[:1000])
    return tmp_path


@pytest.mark.parametrize("flags, message", [
    (["--layers", "nope"], "--layers: ['nope'] not in the activations"),
    (["--iterations", "7"], "--iterations: [7] not in the activations"),
    (["--devices", "gpu"], "--devices: 'gpu' is neither 'cpu' nor a GPU index"),
    (["--preset", "huge"], "--preset must be one of"),
    (["--override", "width=3"], "--override: expected name=value"),
    (["--threads", "-1"], "--threads must be >= 0, got -1"),
    (["--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["--seed", "-1"], "--seed must be >= 0, got -1"),
    (["--override", "batch_size=0"], "--override: batch_size must be >= 1, got 0"),
    (["--override", "max_epochs=-3"], "--override: max_epochs must be >= 1, got -3"),
    (["--override", "max_epochs=abc"], "--override: max_epochs takes an integer, got 'abc'"),
    (["--override", "lr=nan"], "--override: lr must be > 0.0, got nan"),
    (["--override", "lr=-1"], "--override: lr must be > 0.0, got -1.0"),
    (["--override", "train_subset=-5"], "--override: train_subset must be >= 0, got -5"),
])
def test_bad_input_is_one_line_and_no_result(activations, tmp_path, flags, message):
    run = generate(activations, tmp_path / "results", *flags)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not list((tmp_path / "results").glob("itr*.json"))


def test_missing_activations(tmp_path):
    run = generate(tmp_path / "nowhere", tmp_path / "results")
    assert run.returncode == 2 and "meta.json: not found; run train_model.py" in run.stderr


@pytest.mark.parametrize("ranks", [0, 2])
def test_truncated_archive_stops_every_rank(activations, tmp_path, ranks):
    broken = broken_copy(activations, tmp_path / "broken")
    run = generate(broken, tmp_path / "results", ranks=ranks)
    assert run.returncode != 0
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "itr10.npz: unreadable or truncated archive" in errors[0]
    assert not list((tmp_path / "results").glob("itr*.json"))


def test_usage_error_is_printed_once_under_mpi(activations, tmp_path):
    run = generate(activations, tmp_path, "--threads", "many", ranks=2)
    assert run.returncode != 0
    assert run.stderr.count("invalid int value") == 1


@pytest.mark.parametrize("script", ["generator.py", "train_model.py"])
def test_help_lists_every_flag(script):
    run = run_script(script, "--help")
    assert run.returncode == 0, run.stderr
    assert "--devices" in run.stdout and "(default:" in run.stdout


def test_results_dir_that_is_a_file_stops_every_rank(activations, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    run = generate(activations, tmp_path / "file", ranks=2)
    assert run.returncode == 2
    assert error_lines(run) == [f"error: --results-dir {tmp_path / 'file'} exists and is not "
                                f"a folder"]


def test_internal_error_in_set_up_stops_every_rank(activations, tmp_path):
    run = generate(activations, tmp_path / "results", ranks=2,
                   faults=[("infoplane.archive.read_meta", "RuntimeError('boom')", 0)])
    assert run.returncode == 1, run.stderr  # within the subprocess timeout: no hang
    [line] = error_lines(run)
    assert "internal error RuntimeError: boom (traceback in " in line
    log = line.split("traceback in ")[1].rstrip(")")
    assert "Traceback" in open(log).read()


@pytest.mark.parametrize("ranks", [0, 2])
def test_job_that_raises_stops_every_rank(activations, tmp_path, ranks):
    # with two ranks, rank 0 waits inside its first fit, so that rank 1 surely claims a job
    # (jobs go to whichever rank claims them first) and its failure is what stops rank 0
    faults = [("infoplane.fit.fit_model", "ValueError('bad fit')", 1 if ranks else None)]
    if ranks:
        faults.append(("infoplane.fit.fit_model",
                       "__import__('time').sleep(200) or ValueError('rank 0 waited')", 0))
    run = generate(activations, tmp_path / "results", ranks=ranks, faults=faults)
    assert run.returncode != 0 and (ranks or run.returncode == 1)
    [line] = error_lines(run)
    assert "] itr" in line and "internal error ValueError: bad fit" in line
    assert "UnboundLocalError" not in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "results" / "config.json").exists()  # written at merge only


def test_disk_full_is_one_line_and_leaves_no_partial_file(activations, one_rank, tmp_path):
    finished, _ = one_rank
    for p in finished.glob("itr*.json"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "itr10_out.json").unlink()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("itr*.json")}
    run = generate(activations, tmp_path, faults=[
        ("os.fsync", "OSError(28, 'No space left on device')", None)])
    assert run.returncode == 2
    assert error_lines(run) == ["error: [rank 0] itr10_out: No space left on device"]
    assert before == {p.name: p.read_bytes() for p in tmp_path.glob("itr*.json")}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_read_only_results_folder_is_one_line(activations, tmp_path):
    run = generate(activations, tmp_path / "results", faults=[
        ("infoplane.jobs.lock_results",
         "PermissionError(13, 'Permission denied', 'results/.lock')", None)])
    assert run.returncode == 2
    assert error_lines(run) == ["error: results/.lock: Permission denied"]


def test_other_seed_is_refused_and_filtered_rerun_merges_everything(activations, one_rank,
                                                                    tmp_path):
    finished, _ = one_rank
    for p in finished.glob("itr*.json"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    run = generate(activations, tmp_path, "--seed", "5")
    assert run.returncode == 2 and "computed with other settings (seed)" in run.stderr
    run = generate(activations, tmp_path, "--iterations", "0", "--overwrite")
    assert run.returncode == 0, run.stderr
    assert "2 of 2 fits to run" in run.stdout
    assert len(results.read_summary(tmp_path)) == 4  # the unfiltered jobs stay merged


def test_seeds_fit_each_job_several_times(activations, one_rank, tmp_path):
    finished, _ = one_rank
    run = generate(activations, tmp_path, "--seeds", "2", "--layers", "out")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.glob("itr*.json")) == [
        "itr0_out.json", "itr0_out_seed1.json", "itr10_out.json", "itr10_out_seed1.json"]
    first = json.loads((tmp_path / "itr0_out.json").read_text())
    second = json.loads((tmp_path / "itr0_out_seed1.json").read_text())
    assert first["H_T_bits"] == json.loads((finished / "itr0_out.json").read_text())["H_T_bits"]
    assert first["seed"] != second["seed"] and first["H_T_bits"] != second["H_T_bits"]
    rows = results.read_summary(tmp_path)
    assert [(r["layer"], r["fits"]) for r in rows] == [("out", 2), ("out", 2)]
    row = rows[0]
    assert row["H_T_bits"] == pytest.approx((first["H_T_bits"] + second["H_T_bits"]) / 2)
    assert row["H_T_bits_seed_sd"] == pytest.approx(
        abs(first["H_T_bits"] - second["H_T_bits"]) / 2 ** 0.5)
    assert row["H_T_bits_error"] == max(row["H_T_bits_seed_sd"], row["H_T_bits_se"])


def test_second_live_run_is_refused_and_a_killed_run_leaves_no_lock(activations, tmp_path):
    slow = ["generator.py", "--activations-dir", activations, "--results-dir", tmp_path,
            "--devices", "cpu", "--threads", "1", "--override", "hidden=8,max_epochs=2000,"
            "patience=2000,min_improvement=0"]
    command, env = script_command(*slow)
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "fits to run" in first.stdout.readline()
        second = run_script(*slow, timeout=120)
        assert second.returncode == 2
        assert "is in use by a live run (pid " in second.stderr
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    third = run_script(*slow[:-1], "hidden=8,max_epochs=1", "--layers", "out",
                       "--iterations", "0", timeout=120)
    assert third.returncode == 0, third.stderr  # the killed run's lock is gone
