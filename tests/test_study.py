"""study.py end to end on tiny MNIST: two activations, two network seeds, its table,
figure and verdicts, the resume of an interrupted study, other settings refused."""
import csv
import math

from infoplane import study

from conftest import run_script

TINY = ["--itr-count", "30", "--iterations", "0,30", "--seeds", "0,1", "--ranks", "1",
        "--override", "hidden=8,max_epochs=2,train_subset=300,test_subset=100"]


def run_study(tiny_mnist, out, *extra):
    return run_script("study.py", "--data-dir", tiny_mnist, "--out-dir", out, *TINY, *extra,
                      timeout=600)


def test_study_end_to_end_and_resume(tiny_mnist, tmp_path):
    out = tmp_path / "study"
    run = run_study(tiny_mnist, out)
    assert run.returncode == 0, run.stderr
    with open(out / "study.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 2 * 3  # activations x seeds x iterations x layers
    assert {r["activation"] for r in rows} == {"tanh", "relu"}
    for r in rows:
        n_kde = 200  # the size's 2000 continuous examples, of tiny MNIST's 200 test images
        assert 0 <= float(r["I_XT_kde_bits"]) <= math.log2(n_kde) + 1e-9
        assert float(r["H_T_bits"]) > 0
    table = (out / "table.md").read_text()
    assert "| tanh | hidden1 | 30 | 2 |" in table and "| relu | output |" in table
    assert table.count("| yes |") + table.count("| no |") == 6
    assert (out / "study.png").stat().st_size > 20_000
    assert run.stdout.count("compression") + run.stdout.count("compresses") >= 6

    # an interrupted study: one network's last fit and KDE bounds were never written
    network = out / "relu_seed1"
    (network / "results" / "itr30_hidden2.json").unlink()
    (network / "results" / "summary.csv").unlink()
    (network / "kde.json").unlink()
    before = (out / "tanh_seed0" / "results" / "itr0_hidden1.json").read_bytes()
    run = run_study(tiny_mnist, out)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("0 of 6 fits to run") == 3 and "1 of 6 fits to run" in run.stdout
    assert "train_model.py" not in run.stdout  # no network trained again
    assert (out / "tanh_seed0" / "results" / "itr0_hidden1.json").read_bytes() == before
    assert (network / "kde.json").is_file()

    run = run_study(tiny_mnist, out, "--itr-count", "40")  # other settings, same folder
    assert run.returncode == 2 and "holds activations of other settings" in run.stderr


def test_compression_verdict():
    def entry(iteration, h, sd):
        return {"activation": "tanh", "layer": "h", "iteration": iteration,
                "H_T_bits_mean": h, "H_T_bits_sd": sd}
    falls = [entry(0, 100, 1), entry(10, 200, 1), entry(20, 150, 1)]
    [verdict] = study.compression(falls, bias_fraction=0.03)
    assert verdict["peak_iteration"] == 10 and verdict["fall_bits"] == 50
    assert verdict["compresses"] and verdict["verdict"] == "yes"
    noisy = [entry(0, 100, 1), entry(10, 200, 30), entry(20, 150, 30)]
    [verdict] = study.compression(noisy, 0.03)  # within the seed spread
    assert not verdict["compresses"] and verdict["verdict"] == "no"
    slack = [entry(0, 100, 0.1), entry(10, 200, 0.1), entry(20, 195, 0.1)]
    [verdict] = study.compression(slack, 0.03)  # beyond the spread, within the slack
    assert not verdict["compresses"] and verdict["verdict"] == "undecided"
