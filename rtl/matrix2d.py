"""Amaranth generator of the 2D-matrix tensor engine: one :class:`Matrix2dEngine` per config.

Geometry
--------
``rows x cols`` PEs (``R = rows`` over M, ``C = cols`` over N); PE ``(i, j)`` is a
``depth``-wide dot product (``D = depth`` over K) followed by the output accumulator of
``C[i, j]``. Operands are broadcast, not skewed: a beat's A-chunk of row ``i`` reaches every
PE of row ``i`` and its B-chunk of column ``j`` every PE of column ``j`` in the same cycle.

Port contract
-------------
The three :mod:`amaranth.lib.stream` ports of :mod:`hwsim.rtl.engine_common` (payload
``{data: ArrayLayout(signed(W), N), last}``; in Verilog ``X__payload[e*W +: W]`` is element
``e`` and bit ``N*W`` is ``last``):

=======  ==================  ===========  ===============================================
port     element width W     elements N   beat ``t`` carries (element ``e``)
=======  ==================  ===========  ===============================================
``i_a``  ``in_width_bits``   ``R * D``    ``A[i, t*D + d]`` at ``e = i*D + d`` (row-major)
``i_b``  ``in_width_bits``   ``D * C``    ``B[t*D + d, j]`` at ``e = d*C + j`` (row-major)
``o_c``  ``acc_width_bits``  ``C``        beat ``r`` (``r = 0 .. R-1``) is ``C[r, :]``
=======  ==================  ===========  ===============================================

One fold is ``T >= 1`` beat pairs (the k-chunks of ``D``; the driver zero-pads a short last
chunk, see :func:`fold_stimulus`), consumed pairwise: a pair is taken only when ``i_a`` and
``i_b`` are both valid, and the fold ends with the first pair in which either ``last`` is set.
Then ``R`` beats on ``o_c``, ``last`` on beat ``R-1``; after it the DUT accepts the next fold.
Arithmetic is signed two's complement; a PE's dot product is exact (never wider than
``psum_width_bits = 2*in_width + ceil(log2 D)``), the accumulator is ``acc_width_bits`` wide
and wraps. The DUT is correct under any valid/ready throttling on every port.

Latency contract
----------------
From the cycle the fold's first beat pair is accepted to the cycle of its last ``o_c`` beat,
inclusive, with every valid and ``o_c.ready`` held high::

    fold_cycles = T + L + R + 1 + X      (L = ceil(log2 D); X = 1 opt1, 3 opt2, else 0)

which is :func:`hwsim.accelerators.engines.model.fold_cycles_matrix2d`. How it is met: a
pair accepted in cycle ``t`` passes ``P`` pipeline registers (``P = 1 + L``, opt2 ``4 + L``)
and is added into the accumulators at the end of cycle ``t + P``; a token shift register
beside the data enables the accumulators only for accepted pairs, so throttling just inserts
bubbles and the pipeline never stalls (nothing downstream of it can push back while a fold is
loading). After the fold's last pair (cycle ``T - 1``) the FSM waits ``P`` cycles, so the last
accumulate is at the end of cycle ``T - 1 + P`` and the drain starts in cycle ``T + P``:

* naive / booth / opt2: ``o_c.payload`` is the row-0 accumulator register; every ``o_c``
  transfer shifts the accumulator rows up one row (zeros enter at row ``R - 1``, which also
  clears them for the next fold). Last beat in cycle ``T + P + R - 1``.
* opt1: the accumulators are (sum, carry) pairs; a registered row of ``C`` carry-propagate
  adders (the only CPAs of the design) resolves row 0 into the output register while the rows
  shift up, so every beat leaves one cycle later (``X = 1``).

Pipeline per PE (``t`` = the cycle the pair is accepted):

=========  ===============================================================================
variant    stages
=========  ===============================================================================
naive      cycle ``t``: ``D`` products ``a*b`` (Amaranth ``*``) -> registers; ``L`` levels of
           a registered binary ``+`` tree; accumulate ``acc + sum`` (``+``).
booth      cycle ``t``: per multiplier a radix-4 Booth encoder of ``a``, ``-b`` and four
           partial products (PPs), compressed to a carry-save pair -> registers; ``L`` levels
           each merge two carry-save pairs (4:2) -> registers; accumulate: the accumulator and
           the last pair in one tree and ONE carry-propagate adder. The whole PE is one
           carry-save reduction of all ``4*D`` Booth PPs plus the accumulator, cut into
           ``L + 2`` register stages, with a single CPA at the end.
opt1       as booth, but the accumulator is a (sum, carry) pair: the last stage is a tree of
           ``acc_sum``, ``acc_carry`` and the dot-product pair, with no CPA in the PE.
opt2       Wu et al., HPCA 2025, OPT2. Cycle ``t``: ONE encoder per A lane ``(i, d)``
           (``digit_encoding``: EN-T or Booth, shared by the ``C`` PEs of row ``i``) ->
           registered digit selects, B registered beside them (X stage 1). Cycle ``t+1``:
           ``-b`` once per B lane ``(d, j)`` (shared by the ``R`` PEs of column ``j``); per
           PE ``4*D`` unshifted PPs ``d_k(a) * b``, those of one bit-weight compressed four
           at a time into carry-save pairs -> registers. ``L`` levels: per bit-weight ``k``
           reduce the ``D`` PPs of weight ``k`` (narrow trees, no shifts). Two levels
           (X stages 2 and 3): shift by ``2k`` and add the four bit-weight sums (``0+1``,
           ``2+3``, then both). Accumulate as booth (one tree + ONE CPA).
=========  ===============================================================================

Every reduction is a :class:`hwsim.rtl.compressor.BitMatrix` Dadda tree. The carry-save
pairs between register stages are kept exact and non-negative: a signed row enters as its
low bits plus its inverted sign bit (its value plus ``2**(n-1)``) and the offsets are summed
at generation time and subtracted once, as a constant row of the accumulate stage's tree
(:class:`hwsim.rtl.carry_save.CarrySaveNode`, shared with :mod:`hwsim.rtl.tree` and
re-exported here). So every intermediate register is as narrow as its value range and
no carry-save pair ever needs sign extension.

Only the four variants engine matrix2d accepts are built; booth and opt1 take int8 operands
(the Booth encoder), naive 2..16 bits. At most :data:`RTL_MAX_LANES` multipliers
(``rows * cols * depth``).
"""

from __future__ import annotations

import numpy as np
from amaranth import Module, Signal, signed

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.model import tree_levels
from hwsim.config import ConfigError

from .carry_save import (
    CarrySaveNode,
    DigitSelects,
    booth_product,
    carry_save_level,
    naive_dot,
    opt2_reduce,
)
from .compressor import BitMatrix, cpa
from .engine_common import (
    EngineComponent,
    FoldStimulus,
    check_engine_rtl_config,
    delay_line,
    drain_rows,
    int_tile,
    k_chunked_fold_stimulus,
    pairwise_load_and_flush,
)

__all__ = [
    "Matrix2dEngine",
    "ENGINE_CLASS",
    "RTL_MACS",
    "RTL_MAX_LANES",
    "CarrySaveNode",
    "check_rtl_config",
    "fold_stimulus",
    "pipeline_stages",
]

#: MAC variants the generator builds (all that engine matrix2d accepts). Operand widths per
#: variant: :data:`hwsim.rtl.engine_common.RTL_IN_WIDTH_BITS` (the Booth / EN-T encoders are
#: int8).
RTL_MACS = ("naive", "booth", "opt1", "opt2")
#: Largest engine (``rows * cols * depth`` multiplier lanes) the generator builds. A Booth
#: lane is an encoder, four PP muxes and compressor trees of named adder signals, and the
#: conversion time grows with the lanes: 128 lanes (4x4x8 booth, or a 1x8x16 opt2 tree) take
#: ~25 s to convert to Verilog on a loaded 2-core machine, so 512 (8x8x8, the notes' largest
#: OPT2 tile K16 x N32) takes minutes and a typo beyond it fails at once instead.
RTL_MAX_LANES = 512


def check_rtl_config(config: EngineConfig) -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config``."""
    check_engine_rtl_config(config, "matrix2d", RTL_MACS, RTL_MAX_LANES)


def pipeline_stages(config: EngineConfig) -> int:
    """Registers from the accepted pair to the accumulators' input (cycles): ``1 + L`` (the
    products, ``L`` tree levels), plus 3 for opt2 (shared encoder, two combine levels)."""
    extra = 3 if config.mac == "opt2" else 0
    return 1 + tree_levels(config.depth) + extra


class Matrix2dEngine(EngineComponent):
    """A ``rows x cols`` array of ``depth``-wide dot-product PEs with output accumulators.

    Parameters
    ----------
    config : EngineConfig
        ``engine = "matrix2d"``; shape, MAC variant and widths (bits). SRAM, energy and
        ``operand_sigma`` fields are ignored.

    Ports ``i_a``, ``i_b`` (stream sinks) and ``o_c`` (stream source); see the module
    docstring for the beat layout, fold protocol and cycle contract.
    """

    check_config = staticmethod(check_rtl_config)

    @staticmethod
    def beat_elements(config: EngineConfig) -> tuple[int, int, int]:
        """``R * D`` A elements, ``D * C`` B elements, ``C`` results per beat."""
        return config.rows * config.depth, config.depth * config.cols, config.cols

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        rows, cols, depth, accw = cfg.rows, cfg.cols, cfg.depth, cfg.acc_width_bits
        stages = pipeline_stages(cfg)
        a = [[self.i_a.payload.data[i * depth + d] for d in range(depth)] for i in range(rows)]
        b = [[self.i_b.payload.data[d * cols + j] for d in range(depth)] for j in range(cols)]

        fire = Signal()
        drain_shift = Signal()  # accumulator rows shift up one row this cycle
        # Token beside the data: the accumulate of stage `stages` belongs to an accepted pair.
        accumulate = delay_line(m, fire, stages, "tok")

        dots = self._dot_products(m, a, b)  # [i][j]: a signed Value (naive) or a CarrySaveNode
        carry_save = cfg.mac == "opt1"
        if carry_save:
            acc_rows = [[[Signal(accw, name=f"pe{i}_{j}_acc_{k}") for j in range(cols)]
                         for i in range(rows)] for k in ("sum", "carry")]
        else:
            accs = [[Signal(signed(accw), name=f"pe{i}_{j}_acc") for j in range(cols)]
                    for i in range(rows)]
        for i in range(rows):
            for j in range(cols):
                name = f"pe{i}_{j}_acc"
                if cfg.mac == "naive":
                    nxt = accs[i][j] + dots[i][j]
                else:
                    tree = BitMatrix(accw, name=f"{name}_tree")
                    dots[i][j].add_to(tree)
                    if carry_save:
                        tree.add(acc_rows[0][i][j])
                        tree.add(acc_rows[1][i][j])
                        nxt = tree.reduce(m)
                    else:
                        tree.add(accs[i][j].as_unsigned())
                        nxt = cpa(m, *tree.reduce(m), width=accw, name=f"{name}_cpa")
                if carry_save:
                    for k in range(2):
                        below = acc_rows[k][i + 1][j] if i + 1 < rows else 0
                        with m.If(drain_shift):
                            m.d.sync += acc_rows[k][i][j].eq(below)
                        with m.Elif(accumulate):
                            m.d.sync += acc_rows[k][i][j].eq(nxt[k])
                else:
                    below = accs[i + 1][j] if i + 1 < rows else 0
                    with m.If(drain_shift):
                        m.d.sync += accs[i][j].eq(below)
                    with m.Elif(accumulate):
                        m.d.sync += accs[i][j].eq(nxt)

        out_row = Signal(range(rows + 1))  # rows moved to the output so far
        flush = Signal(range(max(stages, 2)))
        take = Signal()
        m.d.comb += take.eq(self.o_c.valid & self.o_c.ready)
        if carry_save:
            # The registered CPA row: resolves row 0 into the output register as rows shift.
            out_data = [Signal(signed(accw), name=f"out{j}") for j in range(cols)]
            out_valid = Signal()
            out_last = Signal()
            for j in range(cols):
                resolved = cpa(m, acc_rows[0][0][j], acc_rows[1][0][j], width=accw,
                               name=f"out{j}_cpa")
                with m.If(drain_shift):
                    m.d.sync += out_data[j].eq(resolved)
            with m.If(drain_shift):
                m.d.sync += [out_valid.eq(1), out_last.eq(out_row == rows - 1)]
            with m.Elif(take):
                m.d.sync += out_valid.eq(0)
            m.d.comb += [self.o_c.payload.data[j].eq(out_data[j]) for j in range(cols)]
            m.d.comb += [self.o_c.valid.eq(out_valid), self.o_c.payload.last.eq(out_last)]
        else:
            m.d.comb += [self.o_c.payload.data[j].eq(accs[0][j]) for j in range(cols)]
            m.d.comb += self.o_c.payload.last.eq(out_row == rows - 1)

        with m.FSM(name="fsm"):
            pairwise_load_and_flush(m, self.i_a, self.i_b, fire, flush, stages)
            with m.State("DRAIN"):
                if carry_save:
                    m.d.comb += drain_shift.eq((out_row != rows) & (~out_valid | take))
                    with m.If(drain_shift):
                        m.d.sync += out_row.eq(out_row + 1)
                    with m.If(take & out_last):
                        m.d.sync += out_row.eq(0)
                        m.next = "LOAD"
                else:
                    drain_rows(m, self.o_c, out_row, rows)
                    # = drain_rows(..., [drain_shift.eq(1)]), in the wording the Verilog has.
                    m.d.comb += drain_shift.eq(self.o_c.ready)
        return m

    def _dot_products(self, m: Module, a, b):  # noqa: ANN001, ANN202
        """Per PE ``(i, j)`` its dot product after ``pipeline_stages`` registers: a signed
        value (naive) or a :class:`CarrySaveNode` (the others)."""
        cfg = self.config
        rows, cols, depth = cfg.rows, cfg.cols, cfg.depth
        dots = [[None] * cols for _ in range(rows)]
        if cfg.mac == "opt2":
            selects = [[DigitSelects.encode(m, a[i][d], cfg.digit_encoding, f"a{i}_{d}")
                        for d in range(depth)] for i in range(rows)]
            b_reg = [[Signal(signed(cfg.in_width_bits), name=f"b{d}_{j}") for d in range(depth)]
                     for j in range(cols)]
            neg_b = [[Signal(signed(cfg.in_width_bits + 1), name=f"b{d}_{j}_neg")
                      for d in range(depth)] for j in range(cols)]
            for j in range(cols):
                for d in range(depth):
                    m.d.sync += b_reg[j][d].eq(b[j][d])
                    m.d.comb += neg_b[j][d].eq(-b_reg[j][d])  # once per B lane
        for i in range(rows):
            for j in range(cols):
                pe = f"pe{i}_{j}"
                if cfg.mac == "naive":
                    dots[i][j] = naive_dot(m, a[i], b[j], cfg.in_width_bits, pe)
                elif cfg.mac == "opt2":
                    pps = [selects[i][d].rows(m, b_reg[j][d], neg_b[j][d], f"{pe}_d{d}")
                           for d in range(depth)]
                    dots[i][j] = opt2_reduce(m, pps, pe)
                else:
                    # Not shared with the tree engine's booth tree: that one builds all
                    # products before their registers, and the order shows in the Verilog.
                    level = [
                        booth_product(m, a[i][d], b[j][d], f"{pe}_m{d}")
                        .compressed(m, f"{pe}_m{d}_csa").registered(m, f"{pe}_m{d}")
                        for d in range(depth)
                    ]
                    for n in range(tree_levels(depth)):
                        level = carry_save_level(m, level, f"{pe}_l{n}")
                    dots[i][j] = level[0]
        return dots


ENGINE_CLASS = Matrix2dEngine


def fold_stimulus(config: EngineConfig, a_tile: np.ndarray, b_tile: np.ndarray) -> FoldStimulus:
    """The beats of one fold ``C_tile = A_tile @ B_tile`` (see the module docstring).

    ``a_tile`` is ``m x K`` with ``m <= rows``, ``b_tile`` ``K x n`` with ``n <= cols``; both
    are zero-padded to ``rows x T*depth`` and ``T*depth x cols`` (``T = ceil(K / depth)``).
    The result beats are the golden ``engine_product`` of the padded tiles (wrapped to
    ``acc_width_bits``); ``contract_cycles`` is ``fold_cycles(config, T)`` (cycles).
    """
    check_rtl_config(config)
    a, b = int_tile(a_tile, "a_tile"), int_tile(b_tile, "b_tile")
    r, c = config.rows, config.cols
    if a.shape[1] != b.shape[0] or a.shape[0] > r or b.shape[1] > c:
        raise ConfigError(
            f"a_tile (m x K) and b_tile (K x n) must agree on K with m <= rows={r} and "
            f"n <= cols={c}, got {a.shape} and {b.shape}"
        )
    return k_chunked_fold_stimulus(config, a, b)
