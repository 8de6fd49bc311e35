"""Fit the autoregressive density q(t, y) = q(t) q(y | t) to every (save iteration, layer)
in activations/ and write the information-plane estimates to results/, over MPI ranks.

    python generator.py --devices cpu --preset quick                  # one rank
    mpirun -np 4 python generator.py --devices 0,1,2,3                # rank r uses GPU r % 4

Each job's result is written atomically to results/itr{N}_{layer}.json and skipped on a
rerun; rank 0 merges them into results/summary.csv and summary.json at the end.
"""
import contextlib
import dataclasses
import hashlib
import io
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from mpi4py import MPI

from infoplane import archive, cli, jobs, results
from infoplane.atomic import write_json
from infoplane.cli import setting
from infoplane.devices import select_device
from infoplane.errors import InputError
from infoplane.estimate import PRESETS, estimate_information, with_overrides


@dataclass
class Config:
    devices: str = setting("0", "GPU indices, comma-separated, or 'cpu'; rank r uses "
                           "devices[r % len]")
    activations_dir: str = setting("activations", "written by train_model.py")
    results_dir: str = setting("results", "one JSON per job, then summary.csv/json")
    iterations: tuple[int, ...] = setting((), "only these save iterations, comma-separated "
                                          "(default: all)")
    layers: tuple[str, ...] = setting((), "only these layers, comma-separated (default: all)")
    preset: str = setting("full", f"estimator settings: {' or '.join(PRESETS)} "
                          f"(quick: the CPU demo)")
    override: str = setting("", "estimator settings over the preset, e.g. channels=32,"
                            "max_epochs=10 (fields of infoplane.estimate.EstimatorConfig)")
    overwrite: bool = setting(False, "redo jobs whose result exists")
    seed: int = setting(0, "base seed; each job's seed also depends on its name")
    threads: int = setting(0, "torch CPU threads per rank (0: cores / ranks on this node)")


def fingerprint(activations_dir) -> str:
    """Identifies the activations a result was computed from."""
    return hashlib.sha256((Path(activations_dir) / archive.META).read_bytes()).hexdigest()[:16]


def prepare(config: Config, estimator) -> tuple:
    """On rank 0: validate the activations, build the job list, check existing results.
    Returns (meta, its fingerprint, jobs, jobs to run)."""
    meta = archive.read_meta(config.activations_dir)
    job_list = jobs.job_list(meta, config.iterations, config.layers)
    for iteration in sorted({job.iteration for job in job_list}):
        archive.read_archive(archive.archive_path(config.activations_dir, iteration), meta)
    activations = fingerprint(config.activations_dir)
    todo = []
    for job in job_list:
        path = results.result_path(config.results_dir, job)
        if config.overwrite or not path.is_file():
            todo.append(job)
            continue
        old = results.read_result(path)
        if old.get("estimator") != dataclasses.asdict(estimator) or \
                old.get("activations") != activations:
            raise InputError(f"{path} was computed with other estimator settings or other "
                             f"activations; use --overwrite or another --results-dir")
    return meta, activations, job_list, todo


def run_job(job, meta, activations: str, config: Config, estimator, device: str, log) -> dict:
    arrays = archive.read_archive(archive.archive_path(config.activations_dir, job.iteration),
                                  meta)
    result = {"iteration": job.iteration, "layer": job.layer, "units": job.units}
    result.update(estimate_information(
        arrays[f"train_{job.layer}"], arrays["train_labels"], arrays[f"test_{job.layer}"],
        arrays["test_labels"], bins=meta["bins"], num_labels=meta["num_labels"],
        config=estimator, device=device, seed=job.seed(config.seed), log=log))
    result["activations"] = activations
    return result


def main(config: Config) -> None:
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    local_ranks = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()

    def say(line):
        print(f"[rank {rank}] {line}", flush=True)

    # Set-up: every rank checks its device, rank 0 the inputs; any error stops all ranks.
    error, plan, device = None, None, "cpu"
    try:
        if config.preset not in PRESETS:
            raise InputError(f"--preset must be one of {list(PRESETS)}, got {config.preset!r}")
        try:
            estimator = with_overrides(PRESETS[config.preset], config.override)
        except ValueError as bad:
            raise InputError(f"--override: {bad}") from None
        device, notice = select_device(config.devices, rank)
        if rank == 0:
            plan = prepare(config, estimator)
            jobs.reset_claims(config.results_dir)
            write_json(Path(config.results_dir) / "config.json", dataclasses.asdict(config))
    except InputError as bad:
        error = str(bad)
    errors = [e for e in comm.allgather(error) if e]
    if errors:  # every rank stops; rank 0 says why
        if rank == 0:
            raise InputError(errors[0])
        sys.exit(2)
    meta, activations, job_list, todo = comm.bcast(plan, root=0)
    torch.set_num_threads(config.threads or max(1, (os.cpu_count() or 1) // local_ranks))
    say(f"of {size} on {socket.gethostname()}: device {device}"
        f"{f' ({notice})' if notice else ''}, {torch.get_num_threads()} threads; "
        f"{len(todo)} of {len(job_list)} jobs to run, preset {config.preset}")

    start = time.time()
    for job in jobs.claimed_jobs(config.results_dir, todo, rank):
        say(f"{job.name}: start ({job.units} units)")
        try:
            result = run_job(job, meta, activations, config, estimator, device,
                             log=lambda line, job=job: say(f"{job.name} {line}"))
        except Exception as failure:  # one rank's failure must not leave the others waiting
            print(f"error: [rank {rank}] {job.name}: {failure}", file=sys.stderr, flush=True)
            comm.Abort(2)
        results.write_result(config.results_dir, job, result)
        say(f"{job.name}: H(T) {result['H_T_bits']:.2f} ± {result['H_T_bits_se']:.2f}  "
            f"I(T;Y) {result['I_TY_bits']:.3f} ± {result['I_TY_bits_se']:.3f}  "
            f"probe {result.get('I_TY_probe_bits', float('nan')):.3f} bits  "
            f"(best epoch {result['best_epoch']} of {result['epochs']}, "
            f"{'early stop' if result['stopped_early'] else 'CAP REACHED'}, "
            f"{result['seconds']:.0f} s)")
    say(f"done in {time.time() - start:.0f} s")
    barrier = comm.Ibarrier()  # wait for the other ranks without spinning on a core
    while not barrier.Test():
        time.sleep(0.2)
    if rank == 0:
        missing = results.merge(config.results_dir, job_list, dataclasses.asdict(config))
        absent = f", missing {len(missing)}" if missing else ""
        say(f"wrote {Path(config.results_dir) / 'summary.csv'} "
            f"({len(job_list) - len(missing)} jobs{absent})")


if __name__ == "__main__":
    quiet = MPI.COMM_WORLD.Get_rank() > 0  # a usage error is printed once, by rank 0
    with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
        config = cli.parse_config(Config, __doc__.split("\n\n")[0])
    cli.run(main, config)
