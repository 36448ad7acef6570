"""Engine ``systolic`` of the tensor-engine family: the engine-protocol adapter of
:class:`hwsim.rtl.systolic.SystolicArray`.

One :class:`~hwsim.accelerators.engines.EngineConfig` with ``engine="systolic"`` builds
``SystolicArray(equivalent_systolic(config), mac=config.mac)``: a ``rows x cols`` array in the
config's ``dataflow`` (``os`` or ``ws``) with ``naive``, ``booth`` or ``opt1`` PEs. The ports
are exactly the systolic array's (the protocol of :mod:`hwsim.rtl.engine_common`):

=======  ==================  ================  ==========================================
port     element width W     elements N        meaning
=======  ==================  ================  ==========================================
``i_a``  ``in_width_bits``   ``rows``          A operand (os: a column of A; ws: a row)
``i_b``  ``in_width_bits``   ``cols``          B operand (a row of B)
``o_c``  ``acc_width_bits``  ``cols``          a row of C
=======  ==================  ================  ==========================================

One fold ``C_tile = A_tile @ B_tile`` (:func:`fold_stimulus`; tiles smaller than the array
are zero-padded up to it):

* ``os`` -- ``A_tile`` is ``rows x K``, ``B_tile`` ``K x cols``, ``T = K``. ``K`` beat pairs:
  ``i_a`` beat ``k`` = ``A[0..rows-1, k]``, ``i_b`` beat ``k`` = ``B[k, 0..cols-1]``, ``last``
  on beat ``K-1`` of both. Then ``rows`` ``o_c`` beats, beat ``r`` = ``C[r, :]``.
* ``ws`` -- ``A_tile`` is ``M x rows``, ``B_tile`` ``rows x cols``, ``T = M``. ``rows``
  ``i_b`` beats preload the weights (beat ``r`` = ``B[r, :]``, ``last`` on beat ``rows-1``),
  ``M`` ``i_a`` beats (beat ``m`` = ``A[m, 0..rows-1]``, ``last`` on beat ``M-1``); a driver
  presents ``i_a`` without waiting for ``i_b`` to finish. ``M`` ``o_c`` beats, beat ``m`` =
  ``C[m, :]``.

``last`` on ``o_c`` marks the fold's final beat. The contract is
:func:`hwsim.accelerators.engines.model.fold_cycles_systolic`, ``2*rows + cols + T - 2 + X``
(``X`` = 1 for ``opt1``, else 0); :mod:`hwsim.rtl.systolic` explains how the array meets it:
``naive`` and ``booth`` PEs update their accumulator / partial sum in one cycle, as the
naive ``*`` + ``+`` does, so they share the base contract; ``opt1`` keeps carry-save pairs in
the array and resolves them in one registered CPA row at the output edge (os: the drain row;
ws: the column bottoms), which delays every output beat by one cycle but keeps them back to
back, so the fold is one cycle longer.
"""

from __future__ import annotations

import numpy as np

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.golden import engine_product
from hwsim.accelerators.engines.model import equivalent_systolic, fold_cycles
from hwsim.config import ConfigError

from .engine_common import FoldStimulus
from .systolic import SystolicArray
from .systolic import check_rtl_config as check_array_config

__all__ = ["ENGINE_CLASS", "SystolicEngine", "check_rtl_config", "fold_stimulus"]


def check_rtl_config(config: EngineConfig) -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config``."""
    if not isinstance(config, EngineConfig):
        raise ConfigError(f"expected an EngineConfig, got {type(config).__name__}")
    if config.engine != "systolic":
        raise ConfigError(
            f"engine must be systolic for hwsim.rtl.engine_systolic, got {config.engine!r}"
        )
    check_array_config(equivalent_systolic(config), config.mac)


class SystolicEngine(SystolicArray):
    """The systolic array built from an :class:`EngineConfig` (``engine="systolic"``).

    Ports and protocol as :class:`~hwsim.rtl.systolic.SystolicArray`; ``engine_config``
    keeps the config it was built from.
    """

    def __init__(self, config: EngineConfig) -> None:
        try:
            check_rtl_config(config)
        except ConfigError:
            self._MustUse__silence = True  # never built: no "created but never used" warning
            raise
        self.engine_config = config
        super().__init__(equivalent_systolic(config), mac=config.mac)


#: The component class of this engine (the :data:`hwsim.rtl.engine_common.ENGINE_RTL` protocol).
ENGINE_CLASS = SystolicEngine


def _padded(tile: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """``tile`` zero-padded up to ``shape``; one-line ConfigError if it does not fit."""
    tile = np.asarray(tile)
    if tile.ndim != 2 or tile.shape[0] > shape[0] or tile.shape[1] > shape[1] or 0 in tile.shape:
        raise ConfigError(
            f"{name} must be a non-empty 2-D tile of at most {shape[0]} x {shape[1]}, "
            f"got shape {tile.shape}"
        )
    if not np.issubdtype(tile.dtype, np.integer):
        raise ConfigError(f"{name} must hold integers, got dtype {tile.dtype}")
    out = np.zeros(shape, dtype=np.int64)
    out[: tile.shape[0], : tile.shape[1]] = tile
    return out


def fold_stimulus(config: EngineConfig, a_tile: np.ndarray, b_tile: np.ndarray) -> FoldStimulus:
    """The beats of one fold ``A_tile @ B_tile`` (module docstring), its expected ``o_c`` beats
    (the golden :func:`engine_product`, wrapped to ``acc_width_bits``) and its contract
    (cycles, :func:`fold_cycles`)."""
    check_rtl_config(config)
    a_tile, b_tile = np.asarray(a_tile), np.asarray(b_tile)
    if a_tile.ndim != 2 or b_tile.ndim != 2 or a_tile.shape[1] != b_tile.shape[0]:
        raise ConfigError(
            f"A_tile and B_tile must be 2-D and agree on K, got {a_tile.shape} and {b_tile.shape}"
        )
    rows, cols = config.rows, config.cols
    k = a_tile.shape[1]
    if config.dataflow == "os":
        a = _padded(a_tile, (rows, k), "A_tile (os: rows x K)")
        b = _padded(b_tile, (k, cols), "B_tile (os: K x cols)")
        t = k
        a_beats = [a[:, n].tolist() for n in range(t)]
        b_beats = [b[n, :].tolist() for n in range(t)]
    else:
        m = a_tile.shape[0]
        a = _padded(a_tile, (m, rows), "A_tile (ws: M x rows)")
        b = _padded(b_tile, (rows, cols), "B_tile (ws: rows x cols)")
        t = m
        a_beats = [a[n, :].tolist() for n in range(t)]
        b_beats = [b[r, :].tolist() for r in range(rows)]
    low, high = -(1 << (config.in_width_bits - 1)), (1 << (config.in_width_bits - 1)) - 1
    if min(a.min(), b.min()) < low or max(a.max(), b.max()) > high:
        raise ConfigError(
            f"tile values must lie in [{low}, {high}] (signed in_width_bits="
            f"{config.in_width_bits})"
        )
    c = engine_product(config, a, b)
    return FoldStimulus(
        a_beats=a_beats,
        b_beats=b_beats,
        c_beats=[c[r, :].tolist() for r in range(c.shape[0])],
        contract_cycles=int(fold_cycles(config, t)),
    )
