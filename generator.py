"""Fit the autoregressive density q(t, y) = q(t) q(y | t) to every (save iteration, layer)
in activations/ and write the information-plane estimates to results/, over MPI ranks.

    python generator.py --devices cpu --preset quick                  # one rank
    mpirun -np 4 python generator.py --devices 0,1,2,3                # rank r uses GPU r % 4

With --seeds R every job is fitted R times with different seeds. Each fit's result is
written atomically to results/itr{N}_{layer}[_seed{r}].json with the settings that made
it, and skipped on a rerun with the same settings (other settings are refused); rank 0
merges every finished result in the folder into results/summary.csv and summary.json at
the end. A live run locks its results folder.
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

import infoplane
from infoplane import archive, cli, jobs, results
from infoplane.cli import setting
from infoplane.devices import select_device
from infoplane.errors import InputError
from infoplane.estimate import PRESETS, estimate_information, with_overrides
from infoplane.ranges import check_ranges


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
    override: str = setting("", "estimator settings over the preset, e.g. hidden=32,"
                            "max_epochs=10 (fields of infoplane.estimate.EstimatorConfig)")
    overwrite: bool = setting(False, "redo the selected jobs even where a result exists")
    seed: int = setting(0, "base seed; each fit's seed also depends on its job and replicate")
    seeds: int = setting(1, "fits per job, each with its own seed: the summary reports "
                         "their mean and seed-to-seed standard deviation")
    threads: int = setting(0, "torch CPU threads per rank (0: cores / ranks on this node)")


RANGES = {"seed": (0, None, False, False), "seeds": (1, None, False, False),
          "threads": (0, None, False, False)}


def fingerprint(activations_dir, iteration: int) -> str:
    """Identifies the activations of one save iteration: sha256 of meta.json and itr{N}.npz."""
    path = archive.archive_path(activations_dir, iteration)
    if not path.is_file():
        raise InputError(f"{path}: not found")
    digest = hashlib.sha256((Path(activations_dir) / archive.META).read_bytes())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def expected_settings(job, fingerprints: dict, config: Config, estimator) -> dict:
    """Everything that changes a fit's numbers (results.SETTINGS), as its result records it."""
    return {"estimator": dataclasses.asdict(estimator),
            "activations": fingerprints[job.iteration], "seed": job.seed(config.seed),
            "version": infoplane.__version__}


def prepare(config: Config, estimator) -> tuple:
    """On rank 0: validate the activations, build the job lists and check every existing
    result in the folder against this run's settings. Returns (meta, fingerprints per
    iteration, every job of the folder, the number selected, the jobs to run)."""
    results_dir = Path(config.results_dir)
    if results_dir.exists() and not results_dir.is_dir():
        raise InputError(f"--results-dir {results_dir} exists and is not a folder")
    meta = archive.read_meta(config.activations_dir)
    selected = jobs.job_list(meta, config.iterations, config.layers, config.seeds)
    every_job = jobs.job_list(meta, seeds=config.seeds)
    for iteration in sorted({job.iteration for job in selected}):  # the ones this run reads
        archive.read_archive(archive.archive_path(config.activations_dir, iteration), meta)
    fingerprints = {i: fingerprint(config.activations_dir, i) for i in meta["iterations"]}
    redo = set(selected) if config.overwrite else set()
    for job in every_job:
        path = results.result_path(results_dir, job)
        if job not in redo and path.is_file():
            results.check_settings(path, results.read_result(path),
                                   expected_settings(job, fingerprints, config, estimator))
    todo = [job for job in selected
            if job in redo or not results.result_path(results_dir, job).is_file()]
    return meta, fingerprints, every_job, len(selected), todo


def how_the_fit_stopped(result: dict) -> str:
    """The density fit's stop, as the job's line says it: at the cap, on the minimum gain
    while its last epoch still lowered the validation NLL (a bound not yet converged), or
    after epochs that did not lower it at all."""
    if not result["stopped_early"]:
        return "CAP REACHED"
    if result["best_epoch"] == result["epochs"]:
        return "early stop on the minimum gain while validation still falls"
    return "early stop"


def run_job(job, meta, fingerprints: dict, config: Config, estimator, device: str,
            log) -> dict:
    arrays = archive.read_archive(archive.archive_path(config.activations_dir, job.iteration),
                                  meta)
    result = {"iteration": job.iteration, "layer": job.layer, "units": job.units,
              "replicate": job.replicate}
    result.update(estimate_information(
        arrays[f"train_{job.layer}"], arrays["train_labels"], arrays[f"test_{job.layer}"],
        arrays["test_labels"], bins=meta["bins"], num_labels=meta["num_labels"],
        config=estimator, device=device, seed=job.seed(config.seed), log=log))
    result.update(expected_settings(job, fingerprints, config, estimator))
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
            check_ranges(config, RANGES, label=cli.flag)
        except ValueError as bad:
            raise InputError(str(bad)) from None
        try:
            estimator = with_overrides(PRESETS[config.preset], config.override)
        except ValueError as bad:
            raise InputError(f"--override: {bad}") from None
        device, notice = select_device(config.devices, rank)
        if rank == 0:
            plan = prepare(config, estimator)
            lock = jobs.lock_results(config.results_dir)  # held until this process ends
            jobs.reset_claims(config.results_dir)
    except Exception as bad:
        error = cli.describe(bad)
    errors = [e for e in comm.allgather(error) if e]
    if errors:  # every rank stops; rank 0 says why
        status, line = errors[0]
        if rank == 0:
            print(f"error: {line}", file=sys.stderr, flush=True)
        sys.exit(status)
    meta, fingerprints, every_job, selected, todo = comm.bcast(plan, root=0)
    torch.set_num_threads(config.threads or max(1, (os.cpu_count() or 1) // local_ranks))
    say(f"of {size} on {socket.gethostname()}: device {device}"
        f"{f' ({notice})' if notice else ''}, {torch.get_num_threads()} threads; "
        f"{len(todo)} of {selected} fits to run, preset {config.preset}, "
        f"{config.seeds} seed(s) per job")

    start = time.time()
    for job in jobs.claimed_jobs(config.results_dir, todo, rank):
        say(f"{job.name}: start ({job.units} units)")
        try:
            result = run_job(job, meta, fingerprints, config, estimator, device,
                             log=lambda line, job=job: say(f"{job.name} {line}"))
            results.write_result(config.results_dir, job, result)
        except Exception as failure:  # one rank's failure must not leave the others waiting
            status, line = cli.describe(failure)
            print(f"error: [rank {rank}] {job.name}: {line}", file=sys.stderr, flush=True)
            # mpiexec drops what it has not yet forwarded when the abort ends the job: give
            # it time to pass this line on (without the pause the line was lost in a test)
            time.sleep(1.0)
            comm.Abort(status)
            sys.exit(status)  # in case Abort returns before this process is stopped
        say(f"{job.name}: H(T) {result['H_T_bits']:.2f} ± {result['H_T_bits_se']:.2f}  "
            f"I(T;Y) {result['I_TY_bits']:.3f} ± {result['I_TY_bits_se']:.3f} "
            f"({result['label_posterior'].replace('_', ' ')})  "
            f"probe {result.get('I_TY_probe_bits', float('nan')):.3f} bits  "
            f"(best epoch {result['best_epoch']} of {result['epochs']}, "
            f"{how_the_fit_stopped(result)}, "
            f"{result['seconds']:.0f} s)")
    say(f"done in {time.time() - start:.0f} s")
    barrier = comm.Ibarrier()  # wait for the other ranks without spinning on a core
    while not barrier.Test():
        time.sleep(0.2)
    if rank == 0:
        missing = results.merge(
            config.results_dir, every_job, dataclasses.asdict(config),
            expected=lambda job: expected_settings(job, fingerprints, config, estimator))
        absent = {(job.layer, job.iteration) for job in missing}
        rows = len({(job.layer, job.iteration) for job in every_job} - absent)
        say(f"wrote {Path(config.results_dir) / 'summary.csv'} ({rows} jobs of "
            f"{config.seeds} fit(s) each{f', {len(absent)} not yet complete' if absent else ''})")
        os.close(lock)


if __name__ == "__main__":
    quiet = MPI.COMM_WORLD.Get_rank() > 0  # a usage error is printed once, by rank 0
    with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
        config = cli.parse_config(Config, __doc__.split("\n\n")[0])
    cli.run(main, config)
