"""Information-plane estimation with autoregressive density models.

One concept a module: binning, archives (activations/), entropy math, density fitting,
synthetic sources with exact entropies, jobs and their scheduling over MPI ranks, result
files, figures. Scripts import this package; this package imports models/.
"""

__version__ = "0.12"  # raise when a change alters the numbers: results record it
