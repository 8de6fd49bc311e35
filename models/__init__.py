"""Neural network modules only: no I/O, no devices, no argument parsing."""
from models.dense import DenseAutoregressive
from models.label import LabelPosterior, code_positions
from models.mlp import MLP
from models.pixelcnn import AutoregressiveDensity

__all__ = ["MLP", "DenseAutoregressive", "LabelPosterior", "AutoregressiveDensity",
           "code_positions"]
