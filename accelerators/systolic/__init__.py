"""Systolic array: config, bit-exact golden functions and the timing/traffic/energy model."""

from .config import DATAFLOWS, SystolicConfig
from .golden import conv2d, gemm, wrap_signed
from .model import CONVENTIONS, FIDELITIES, SystolicModel

__all__ = [
    "DATAFLOWS",
    "CONVENTIONS",
    "FIDELITIES",
    "SystolicConfig",
    "SystolicModel",
    "gemm",
    "conv2d",
    "wrap_signed",
]
