import pytest

from infoplane import jobs
from infoplane.errors import InputError

META = {"iterations": [0, 5, 100], "layers": {"hidden1": {"dim": 256}, "output": {"dim": 10}}}


def test_job_list_is_largest_first_and_filtered():
    job_list = jobs.job_list(META)
    assert [job.name for job in job_list] == [
        "itr0_hidden1", "itr5_hidden1", "itr100_hidden1", "itr0_output", "itr5_output",
        "itr100_output"]
    assert [j.name for j in jobs.job_list(META, iterations=(5,), layers=("output",))] == \
        ["itr5_output"]


@pytest.mark.parametrize("iterations, layers, message", [
    ((7,), (), r"--iterations: \[7\] not in the activations"),
    ((), ("hidden3",), r"--layers: \['hidden3'\] not in the activations"),
])
def test_unknown_filters_are_errors(iterations, layers, message):
    with pytest.raises(InputError, match=message):
        jobs.job_list(META, iterations, layers)


def test_no_jobs_is_an_error():
    with pytest.raises(InputError, match="no jobs"):
        jobs.job_list({"iterations": [], "layers": META["layers"]})


def test_seed_depends_on_the_job_only():
    a, b = jobs.Job(5, "hidden1", 256), jobs.Job(5, "hidden2", 256)
    assert a.seed() == jobs.Job(5, "hidden1", 256).seed() != b.seed()
    assert a.seed(1) != a.seed(0)


def test_each_job_is_claimed_exactly_once(tmp_path):
    job_list = jobs.job_list(META)
    jobs.reset_claims(tmp_path)
    first = jobs.claimed_jobs(tmp_path, job_list, rank=0)
    second = jobs.claimed_jobs(tmp_path, job_list, rank=1)
    won = {0: [], 1: []}
    for _ in range(3):  # the two ranks alternate, as if each had finished a job
        won[0].append(next(first))
        won[1].append(next(second))
    assert sorted(won[0] + won[1], key=job_list.index) == job_list
    assert not set(won[0]) & set(won[1])
    assert next(first, None) is None
    jobs.reset_claims(tmp_path)  # a new run forgets the old claims
    assert list(jobs.claimed_jobs(tmp_path, job_list, rank=0)) == job_list
