"""Tensor-engine family (installs as ``hwsim.accelerators.engines``): systolic array, 3D cube,
multiplier-adder tree, 2D matrix and bit-slice column from one :class:`EngineConfig`, each
with naive / Booth / bit-weight (OPT1-OPT4C) / Laconic MAC variants where they apply.

:func:`engine_gemm` is the bit-exact golden function (and the data's cycle count);
:class:`EngineModel` the closed-form timing/traffic/energy model. See docs/engines.md.
"""

from .config import COMPATIBILITY, ENGINES, MACS, EngineConfig
from .golden import engine_gemm
from .model import EngineModel, fold_cycles

__all__ = ["COMPATIBILITY", "ENGINES", "MACS", "EngineConfig", "EngineModel", "engine_gemm",
           "fold_cycles"]
