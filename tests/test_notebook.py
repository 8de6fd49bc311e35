"""plots.ipynb executes headless on small result files, and writes the figures."""
import json
import math

import nbformat
import pytest
from nbclient import NotebookClient

from infoplane import archive, plotting, results
from infoplane.jobs import Job

from conftest import ROOT

ITERATIONS = (0, 5, 100)
LAYERS = {"hidden1": 8, "output": 3}


def fake_result(iteration, layer, units):
    """A result with every summary column, numbers shaped like a real run's."""
    h_t = units * (1 + math.log1p(iteration))
    row = {"iteration": iteration, "layer": layer, "units": units, "H_Y_bits": math.log2(10),
           "I_TY_bayes_negative": False, "H_T_plugin_bits": min(h_t, 8.0),
           "I_TY_plugin_bits": 3.0, "plugin_ceiling_bits": math.log2(300), "n_train": 900,
           "n_validation": 100, "n_test": 300, "epochs": 5, "best_epoch": 3,
           "stopped_early": True, "label_posterior": "classifier", "seconds": 1.0,
           "device": "cpu"}
    values = {"H_T": h_t, "I_XT": h_t, "H_T_given_Y": h_t - 1.0, "I_TY": 1.0,
              "I_TY_bayes": 0.9, "I_TY_probe": 0.8}
    for name, value in values.items():
        row.update({f"{name}_bits": value, f"{name}_bits_se": 0.05,
                    f"{name}_bits_per_unit": value / units,
                    f"{name}_bits_per_unit_se": 0.05 / units})
    return row


@pytest.fixture
def run_folders(tmp_path):
    results_dir, activations_dir = tmp_path / "results", tmp_path / "activations"
    job_list = [Job(i, layer, units) for i in ITERATIONS for layer, units in LAYERS.items()]
    for job in job_list[:-1]:  # the last job is missing: a partial run
        results.write_result(results_dir, job, fake_result(job.iteration, job.layer, job.units))
    results.merge(results_dir, job_list, {"preset": "test"})
    archive.write_meta(activations_dir, {
        "bins": 4, "num_labels": 10, "iterations": list(ITERATIONS),
        "layers": {layer: {"dim": units, "edges": [0, 1, 2]} for layer, units in LAYERS.items()},
        "accuracy": {str(i): {"train": 0.1 + i / 200, "test": 0.1 + i / 250} for i in ITERATIONS}})
    return results_dir, activations_dir


def executed_outputs(results_dir, activations_dir, monkeypatch) -> str:
    """The outputs of plots.ipynb run on these folders, as JSON text."""
    monkeypatch.setenv("INFOPLANE_RESULTS", str(results_dir))
    monkeypatch.setenv("INFOPLANE_ACTIVATIONS", str(activations_dir))
    notebook = nbformat.read(ROOT / "plots.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(notebook, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


def test_notebook_executes_and_writes_the_figures(run_folders, monkeypatch):
    results_dir, activations_dir = run_folders
    text = executed_outputs(results_dir, activations_dir, monkeypatch)
    assert "5 jobs" in text and "not yet estimated: itr100_output" in text
    assert text.count("image/png") >= 4  # plane, curves, plug-in, accuracy
    for name in ("information_plane", "entropies", "plugin", "accuracy"):
        assert (results_dir / f"{name}.png").stat().st_size > 10_000
    assert "| hidden1 | 100 |" in (results_dir / "table.md").read_text()


def test_notebook_on_empty_and_unmerged_folders(run_folders, monkeypatch, tmp_path):
    results_dir, activations_dir = run_folders
    text = executed_outputs(tmp_path / "empty", activations_dir, monkeypatch)
    assert "no results in" in text and "run `make demo`" in text
    assert text.count("image/png") == 1  # the accuracy only

    (results_dir / "summary.csv").unlink()  # as a killed run leaves the folder
    text = executed_outputs(results_dir, activations_dir, monkeypatch)
    assert "5 result files in" in text and "not merged into summary.csv yet" in text
    assert "not yet estimated: itr100_output" in text and text.count("image/png") >= 4


def test_figures_without_meta(run_folders, tmp_path):
    results_dir, _ = run_folders
    paths = plotting.write_figures(results_dir, tmp_path / "no_activations")
    assert sorted(p.name for p in paths) == ["entropies.png", "information_plane.png",
                                             "plugin.png", "table.md"]


def test_table_has_totals_with_errors(run_folders):
    rows = results.read_summary(run_folders[0])
    table = plotting.results_table(rows)
    assert plotting.error_note(rows).endswith("(fits per job: 1) and the test-sampling se; "
                                              "the seed sd at 0 of 10 H(T) and I(T;Y) points")
    assert table.splitlines()[0].startswith("| layer | iteration | fits | I(X;T) = H(T) [bits]")
    assert "| output | 0 | 1 | 3.00 ± 0.05 | 1.000 ± 0.050 | 0.800 ± 0.050 |" in table
