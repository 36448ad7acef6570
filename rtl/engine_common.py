"""What every tensor-engine generator shares: the port protocol, the fold stimulus and the registry.

One :class:`hwsim.accelerators.engines.EngineConfig` drives the model, the golden function, the
generator and the bench. Every engine generator is an Amaranth ``wiring.Component`` with the
same three :mod:`amaranth.lib.stream` ports plus the implicit ``clk``/``rst`` of ``sync``:

=======  ==============================================================================
port     payload ``StructLayout({"data": ArrayLayout(signed(W), N), "last": 1})``
=======  ==============================================================================
``i_a``  operand A beats (``W = in_width_bits``; ``N`` and beat order per engine)
``i_b``  operand B beats (``W = in_width_bits``)
``o_c``  result beats (``W = acc_width_bits``)
=======  ==============================================================================

In Verilog ``X__payload[e*W +: W]`` is element ``e`` and bit ``N*W`` is ``last``, exactly as in
:mod:`hwsim.rtl.systolic`. Each engine's module documents which elements a beat carries and
exports, besides its component class:

* ``check_rtl_config(config) -> None`` -- raises :class:`~hwsim.config.ConfigError` (one line,
  naming the field and the allowed values) for a config the generator does not build;
* ``fold_stimulus(config, a_tile, b_tile) -> FoldStimulus`` -- the beats of one fold for
  ``C_tile = A_tile @ B_tile`` (tile shapes within the engine's fold dimensions; smaller tiles
  are padded with zeros by the function), the result beats the DUT must send (wrapped to
  ``acc_width_bits``), and the fold's cycle contract: cycles from the first accepted input beat
  to the last ``o_c`` beat, inclusive, with every valid and ``o_c.ready`` held high. That
  number must equal :func:`hwsim.accelerators.engines.model.fold_cycles` for the fold (for
  digit-serial engines: for the fold's data).

Folds run one after another: after a fold's last ``o_c`` beat the DUT accepts the next fold.
The DUT is correct under any valid/ready throttling on every port.

What the generators share is here too, so each engine module holds only its datapath and
its beat order: :class:`EngineComponent` (config check and the three ports),
:func:`check_engine_rtl_config` (the one-line errors), :func:`delay_line` and
:func:`sync_when` (input skew, output de-skew, token shift registers),
:func:`pairwise_load_and_flush` and :func:`drain_rows` (the fold bookkeeping of the engines
that take ``i_a``/``i_b`` in pairs and drain an accumulator row per ``o_c`` beat) and
:func:`k_chunked_fold_stimulus` (the beats of those engines). The carry-save datapath pieces
of matrix2d and tree are in :mod:`hwsim.rtl.carry_save`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
from amaranth import Module, Signal
from amaranth.hdl import Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.golden import engine_product
from hwsim.accelerators.engines.model import fold_cycles
from hwsim.config import ConfigError

from .systolic import beat_layout

__all__ = [
    "FoldStimulus",
    "ENGINE_RTL",
    "RTL_IN_WIDTH_BITS",
    "rtl_module",
    "build_engine",
    "engine_fold_stimulus",
    "EngineComponent",
    "check_engine_rtl_config",
    "sync_when",
    "delay_line",
    "pairwise_load_and_flush",
    "drain_rows",
    "int_tile",
    "zero_padded",
    "k_chunked_fold_stimulus",
]


@dataclass(frozen=True)
class FoldStimulus:
    """One fold's input beats, expected output beats and cycle contract.

    Every beat is a list of signed element values (Python ints) in the port's element order.
    ``a_last`` / ``b_last`` say which input beats carry ``last`` (by default the final one).
    """

    a_beats: list[list[int]]
    b_beats: list[list[int]]
    c_beats: list[list[int]]
    contract_cycles: int
    a_last: list[bool] = field(default_factory=list)
    b_last: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.a_last:
            object.__setattr__(self, "a_last", [i == len(self.a_beats) - 1
                                                for i in range(len(self.a_beats))])
        if not self.b_last:
            object.__setattr__(self, "b_last", [i == len(self.b_beats) - 1
                                                for i in range(len(self.b_beats))])


#: Engine name -> the module (under ``hwsim.rtl``) that generates it. The module exports
#: ``ENGINE_CLASS`` (the component class), ``check_rtl_config`` and ``fold_stimulus``.
ENGINE_RTL: dict[str, str] = {
    "systolic": "hwsim.rtl.engine_systolic",
    "cube": "hwsim.rtl.cube",
    "matrix2d": "hwsim.rtl.matrix2d",
    "tree": "hwsim.rtl.tree",
    "bitslice": "hwsim.rtl.bitslice",
}


def rtl_module(config: EngineConfig):  # noqa: ANN201 - a module object
    """The generator module of ``config.engine``; one-line ConfigError if none is built yet."""
    name = ENGINE_RTL.get(config.engine)
    if name is None:
        raise ConfigError(
            f"engine: no RTL generator for {config.engine!r}; generated: {', '.join(ENGINE_RTL)}"
        )
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ConfigError(f"engine: the {config.engine!r} RTL generator is not built yet") from None
    module.check_rtl_config(config)
    return module


def build_engine(config: EngineConfig):  # noqa: ANN201 - a wiring.Component
    """The Amaranth component of ``config`` (checked with the engine's ``check_rtl_config``)."""
    return rtl_module(config).ENGINE_CLASS(config)


def engine_fold_stimulus(config: EngineConfig, a_tile, b_tile) -> FoldStimulus:  # noqa: ANN001
    """The fold stimulus of ``config``'s engine for ``A_tile @ B_tile`` (numpy int arrays)."""
    return rtl_module(config).fold_stimulus(config, a_tile, b_tile)


# ---- what the engine generators share -------------------------------------------------------
#: Operand widths (bits, inclusive range) per MAC variant of the cube, matrix2d and tree
#: generators: Amaranth ``*`` takes any width the config allows; the Booth / EN-T encoders of
#: the other variants are int8 only.
RTL_IN_WIDTH_BITS: dict[str, tuple[int, int]] = {
    "naive": (2, 16), "booth": (8, 8), "opt1": (8, 8), "opt2": (8, 8),
}


def check_engine_rtl_config(config: EngineConfig, engine: str, macs: tuple[str, ...],
                            max_lanes: int, *, lanes_unit: str = "multiplier lanes",
                            width_where: str = "for mac {mac} in the {engine} RTL generator",
                            ) -> None:
    """Raise :class:`ConfigError` (one line naming the field and the allowed values) unless
    ``config`` is an :class:`EngineConfig` of ``engine`` with a MAC variant in ``macs``, an
    ``in_width_bits`` in :data:`RTL_IN_WIDTH_BITS` and at most ``max_lanes`` multipliers
    (``rows * cols * depth``, called ``lanes_unit`` in the message). ``width_where`` words the
    in_width error (``{mac}`` and ``{engine}`` are filled in)."""
    if not isinstance(config, EngineConfig):
        raise ConfigError(f"expected an EngineConfig, got {type(config).__name__}")
    if config.engine != engine:
        raise ConfigError(
            f"engine must be {engine} for the {engine} RTL generator, got '{config.engine}'"
        )
    if config.mac not in macs:
        raise ConfigError(
            f"mac must be one of {', '.join(macs)} for the {engine} RTL generator, "
            f"got '{config.mac}'"
        )
    low, high = RTL_IN_WIDTH_BITS[config.mac]
    if not low <= config.in_width_bits <= high:
        allowed = f"{low}" if low == high else f"an integer in [{low}, {high}]"
        where = width_where.format(mac=config.mac, engine=engine)
        raise ConfigError(
            f"in_width_bits must be {allowed} {where}, got {config.in_width_bits}"
        )
    lanes = config.rows * config.cols * config.depth
    if lanes > max_lanes:
        raise ConfigError(
            f"rows*cols*depth must be <= {max_lanes} {lanes_unit} (e.g. 8x8x8) for the "
            f"{engine} RTL generator, got rows={config.rows} x cols={config.cols} x "
            f"depth={config.depth} = {lanes}"
        )


class EngineComponent(wiring.Component):
    """Base of the cube, matrix2d and tree generators: checks the config with
    :meth:`check_config`, keeps it as ``self.config`` and declares the ports ``i_a``, ``i_b``
    (``in_width_bits`` elements) and ``o_c`` (``acc_width_bits`` elements) with the element
    counts of :meth:`beat_elements`."""

    def __init__(self, config: EngineConfig) -> None:
        try:
            self.check_config(config)
        except ConfigError:
            self._MustUse__silence = True  # never built: no "created but never used" warning
            raise
        self.config = config
        a_elements, b_elements, c_elements = self.beat_elements(config)
        w, acc = config.in_width_bits, config.acc_width_bits
        super().__init__(
            {
                "i_a": In(stream.Signature(beat_layout(w, a_elements))),
                "i_b": In(stream.Signature(beat_layout(w, b_elements))),
                "o_c": Out(stream.Signature(beat_layout(acc, c_elements))),
            }
        )

    @staticmethod
    def check_config(config: EngineConfig) -> None:
        """The engine module's ``check_rtl_config``."""
        raise NotImplementedError

    @staticmethod
    def beat_elements(config: EngineConfig) -> tuple[int, int, int]:
        """Elements per beat of ``i_a``, ``i_b`` and ``o_c`` (a checked config)."""
        raise NotImplementedError


def sync_when(m: Module, en: Value | None, updates) -> None:  # noqa: ANN001 - statement(s)
    """Add ``updates`` to ``m.d.sync``: loaded every cycle, or only when ``en`` is high."""
    if en is None:
        m.d.sync += updates
    else:
        with m.If(en):
            m.d.sync += updates


def delay_line(m: Module, value: Value, cycles: int, prefix: str, suffix: str = "",
               en: Value | None = None) -> Value:
    """``value`` delayed by ``cycles`` registers ``{prefix}{n}{suffix}`` (``n = 0`` first),
    each shaped like ``value`` and loaded every cycle or, given ``en``, when ``en`` is high:
    an input skew, an output de-skew or a token shift register. ``cycles = 0`` returns
    ``value`` itself."""
    for n in range(cycles):
        reg = Signal.like(value, name=f"{prefix}{n}{suffix}")
        sync_when(m, en, reg.eq(value))
        value = reg
    return value


def pairwise_load_and_flush(m: Module, i_a, i_b, fire: Signal, flush: Signal,  # noqa: ANN001
                            flush_cycles: int, on_flushed: list | None = None) -> None:
    """FSM states ``LOAD`` and ``FLUSH`` (inside ``m.FSM()``) of an engine that takes its
    operand beats in pairs (cube, matrix2d).

    ``LOAD`` takes a pair only when ``i_a`` and ``i_b`` are both valid (``fire``); a pair with
    either ``last`` set ends the fold and loads ``flush`` with ``flush_cycles - 1``. ``FLUSH``
    counts ``flush`` down to zero (``flush_cycles`` cycles in the state, for the pipeline to
    empty), then adds ``on_flushed`` to ``m.d.comb`` in its last cycle and goes to
    ``DRAIN``, which the caller builds.
    """
    with m.State("LOAD"):
        m.d.comb += [
            i_a.ready.eq(i_b.valid),
            i_b.ready.eq(i_a.valid),
            fire.eq(i_a.valid & i_b.valid),
        ]
        with m.If(fire & (i_a.payload.last | i_b.payload.last)):
            m.d.sync += flush.eq(flush_cycles - 1)
            m.next = "FLUSH"
    with m.State("FLUSH"):
        with m.If(flush == 0):
            if on_flushed:
                m.d.comb += on_flushed
            m.next = "DRAIN"
        with m.Else():
            m.d.sync += flush.eq(flush - 1)


def drain_rows(m: Module, o_c, out_row: Signal, rows: int,  # noqa: ANN001 - a stream port
               on_transfer: list | None = None) -> None:
    """The body of a ``DRAIN`` state that sends ``rows`` beats, one per ``o_c`` transfer (the
    payload is the caller's): ``o_c.valid`` high, ``on_transfer`` added to ``m.d.comb`` on
    every transfer (the accumulator rows move up), ``out_row`` counts the beats and after beat
    ``rows - 1`` the FSM goes back to ``LOAD``."""
    m.d.comb += o_c.valid.eq(1)
    with m.If(o_c.ready):
        if on_transfer:
            m.d.comb += on_transfer
        with m.If(out_row == rows - 1):
            m.d.sync += out_row.eq(0)
            m.next = "LOAD"
        with m.Else():
            m.d.sync += out_row.eq(out_row + 1)


def int_tile(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as an int64 matrix; one-line ConfigError naming ``name`` unless it is a
    non-empty 2-D integer array."""
    x = np.asarray(x)
    if x.ndim != 2 or 0 in x.shape or not np.issubdtype(x.dtype, np.integer):
        raise ConfigError(f"{name} must be a non-empty 2-D integer array, got shape {x.shape}")
    return x.astype(np.int64)


def zero_padded(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``x`` in the top-left corner of an int64 zero matrix of ``shape``."""
    out = np.zeros(shape, dtype=np.int64)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def k_chunked_fold_stimulus(config: EngineConfig, a_tile: np.ndarray,
                            b_tile: np.ndarray) -> FoldStimulus:
    """The fold of an engine that takes K in chunks of ``depth`` (cube, matrix2d).

    ``a_tile`` (``m x K``, ``m <= rows``) and ``b_tile`` (``K x n``, ``n <= cols``) are checked
    by the caller; they are zero-padded to ``rows x T*depth`` and ``T*depth x cols``
    (``T = ceil(K / depth)`` beat pairs). A beat ``t`` carries ``A[i, t*depth + k]`` at element
    ``i*depth + k`` and ``B[t*depth + k, j]`` at ``k*cols + j``; result beat ``r`` is row ``r``
    of the golden ``engine_product`` of the padded tiles (wrapped to ``acc_width_bits``);
    ``contract_cycles`` is ``fold_cycles(config, T)`` (cycles).
    """
    r, c, d = config.rows, config.cols, config.depth
    t = -(-a_tile.shape[1] // d)
    a, b = zero_padded(a_tile, (r, t * d)), zero_padded(b_tile, (t * d, c))
    c_tile = engine_product(config, a, b)
    return FoldStimulus(
        a_beats=[a[:, s * d:(s + 1) * d].reshape(-1).tolist() for s in range(t)],
        b_beats=[b[s * d:(s + 1) * d, :].reshape(-1).tolist() for s in range(t)],
        c_beats=[row.tolist() for row in c_tile],
        contract_cycles=int(fold_cycles(config, t)),
    )
