"""The job list of generator.py and how ranks share it.

A job is one fit of q(t, y) to one (save iteration, layer)'s codes; with R seeds each
(iteration, layer) has R jobs, replicate r = 0 .. R-1, whose seeds differ. Jobs
are ordered largest first (by units) and claimed dynamically: a rank that finishes takes
the next unclaimed job, so no rank idles while work remains (largest-first greedy keeps
the last jobs short). A claim is a file created with O_CREAT | O_EXCL under
results/.claims/, which succeeds for exactly one rank on a local or shared file system;
no rank needs to answer messages while it computes. A run holds an exclusive lock on
results/.lock (flock: the kernel releases it when the holder dies, so a killed run never
leaves it stuck), so that a second run cannot take the same folder while one is live.
flock is local to a host on some network file systems: there, start one run per folder.
"""
import fcntl
import os
import shutil
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path

from infoplane.errors import InputError

CLAIMS = ".claims"
LOCK = ".lock"


@dataclass(frozen=True)
class Job:
    iteration: int
    layer: str
    units: int
    replicate: int = 0

    @property
    def name(self) -> str:
        """itr{N}_{layer}, and _seed{r} for replicates r > 0 (replicate 0 keeps the name
        and the seed that a run without replicates gives)."""
        return f"itr{self.iteration}_{self.layer}" + (
            f"_seed{self.replicate}" if self.replicate else "")

    def seed(self, base_seed: int = 0) -> int:
        """A seed from the job's identity (never from the rank that runs it)."""
        return (base_seed + zlib.crc32(self.name.encode())) % 2**31


def job_list(meta: dict, iterations=(), layers=(), seeds: int = 1) -> list:
    """Jobs of meta.json, restricted to the given iterations and layers (empty: all),
    `seeds` replicates of each, largest first."""
    unknown_iterations = sorted(set(iterations) - set(meta["iterations"]))
    if unknown_iterations:
        raise InputError(f"--iterations: {unknown_iterations} not in the activations "
                         f"(saved: {meta['iterations']})")
    unknown_layers = sorted(set(layers) - set(meta["layers"]))
    if unknown_layers:
        raise InputError(f"--layers: {unknown_layers} not in the activations "
                         f"(saved: {list(meta['layers'])})")
    jobs = [Job(i, name, layer["dim"], r) for i in meta["iterations"] if not iterations
            or i in iterations for name, layer in meta["layers"].items()
            if not layers or name in layers for r in range(seeds)]
    if not jobs:
        raise InputError("no jobs: the activations hold no iterations or layers")
    return sorted(jobs, key=lambda job: (-job.units, job.iteration, job.layer, job.replicate))


def lock_results(results_dir) -> int:
    """Take the results folder for this process, or raise InputError if a live run holds it.
    Returns the lock's file descriptor: the lock lasts until it is closed or the process
    ends."""
    path = Path(results_dir) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise InputError(f"{results_dir} is in use by a live run ({holder}); wait for it to "
                         f"finish or use another --results-dir") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
    return fd


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
