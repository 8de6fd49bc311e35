"""The job list of generator.py and how ranks share it.

A job is one (save iteration, layer): fit q(t) and q(t | y) to that layer's codes. Jobs
are ordered largest first (by units) and claimed dynamically: a rank that finishes takes
the next unclaimed job, so no rank idles while work remains (largest-first greedy keeps
the last jobs short). A claim is a file created with O_CREAT | O_EXCL under
results/.claims/, which succeeds for exactly one rank on a local or shared file system;
no rank needs to answer messages while it computes.
"""
import os
import shutil
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path

from infoplane.errors import InputError

CLAIMS = ".claims"


@dataclass(frozen=True)
class Job:
    iteration: int
    layer: str
    units: int

    @property
    def name(self) -> str:
        return f"itr{self.iteration}_{self.layer}"

    def seed(self, base_seed: int = 0) -> int:
        """A seed from the job's identity (never from the rank that runs it)."""
        return (base_seed + zlib.crc32(self.name.encode())) % 2**31


def job_list(meta: dict, iterations=(), layers=()) -> list:
    """Jobs of meta.json, restricted to the given iterations and layers (empty: all),
    largest first."""
    unknown_iterations = sorted(set(iterations) - set(meta["iterations"]))
    if unknown_iterations:
        raise InputError(f"--iterations: {unknown_iterations} not in the activations "
                         f"(saved: {meta['iterations']})")
    unknown_layers = sorted(set(layers) - set(meta["layers"]))
    if unknown_layers:
        raise InputError(f"--layers: {unknown_layers} not in the activations "
                         f"(saved: {list(meta['layers'])})")
    jobs = [Job(i, name, layer["dim"]) for i in meta["iterations"] if not iterations
            or i in iterations for name, layer in meta["layers"].items()
            if not layers or name in layers]
    if not jobs:
        raise InputError("no jobs: the activations hold no iterations or layers")
    return sorted(jobs, key=lambda job: (-job.units, job.iteration, job.layer))


def reset_claims(results_dir) -> None:
    """Forget the claims of an earlier run (call on one rank, before any rank claims)."""
    shutil.rmtree(Path(results_dir) / CLAIMS, ignore_errors=True)
    (Path(results_dir) / CLAIMS).mkdir(parents=True, exist_ok=True)


def claim(results_dir, job: Job, rank: int) -> bool:
    """True for exactly one caller per job and run."""
    try:
        fd = os.open(Path(results_dir) / CLAIMS / job.name, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, f"rank {rank} on {socket.gethostname()}\n".encode())
    os.close(fd)
    return True


def claimed_jobs(results_dir, jobs: list, rank: int):
    """Yield the jobs this rank wins, in order, until none is left."""
    for job in jobs:
        if claim(results_dir, job, rank):
            yield job
