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
(:class:`CarrySaveNode`). So every intermediate register is as narrow as its value range and
no carry-save pair ever needs sign extension.

Only the four variants engine matrix2d accepts are built; booth and opt1 take int8 operands
(the Booth encoder), naive 2..16 bits. At most :data:`RTL_MAX_LANES` multipliers
(``rows * cols * depth``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth import Cat, Module, Signal, signed
from amaranth.hdl import Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.golden import engine_product
from hwsim.accelerators.engines.model import fold_cycles, tree_levels
from hwsim.config import ConfigError

from .bitweight_encoder import N_DIGITS, BoothEncoder, EntEncoder
from .compressor import BitMatrix, cpa
from .engine_common import FoldStimulus
from .mac_pe import _select_row
from .systolic import beat_layout

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

#: MAC variants the generator builds (all that engine matrix2d accepts).
RTL_MACS = ("naive", "booth", "opt1", "opt2")
#: Operand widths (bits) per variant: the Booth / EN-T encoders take int8 only.
_IN_WIDTH_RANGE = {"naive": (2, 16), "booth": (8, 8), "opt1": (8, 8), "opt2": (8, 8)}
#: Largest engine (``rows * cols * depth`` multiplier lanes) the generator builds. A Booth
#: lane is an encoder, four PP muxes and compressor trees of named adder signals, and the
#: conversion time grows with the lanes: 128 lanes (4x4x8 booth, or a 1x8x16 opt2 tree) take
#: ~25 s to convert to Verilog on a loaded 2-core machine, so 512 (8x8x8, the notes' largest
#: OPT2 tile K16 x N32) takes minutes and a typo beyond it fails at once instead.
RTL_MAX_LANES = 512


def check_rtl_config(config: EngineConfig) -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config``."""
    _check(config, "matrix2d", RTL_MACS, _IN_WIDTH_RANGE, RTL_MAX_LANES)


def _check(config: EngineConfig, engine: str, macs: tuple[str, ...],
           widths: dict[str, tuple[int, int]], max_lanes: int) -> None:
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
    low, high = widths[config.mac]
    if not low <= config.in_width_bits <= high:
        allowed = f"{low}" if low == high else f"in [{low}, {high}]"
        raise ConfigError(
            f"in_width_bits must be {allowed} for mac {config.mac} in the {engine} RTL "
            f"generator, got {config.in_width_bits}"
        )
    lanes = config.rows * config.cols * config.depth
    if lanes > max_lanes:
        raise ConfigError(
            f"rows*cols*depth must be <= {max_lanes} multiplier lanes (e.g. 8x8x8) for the "
            f"{engine} RTL generator, got rows={config.rows} x cols={config.cols} x "
            f"depth={config.depth} = {lanes}"
        )


def pipeline_stages(config: EngineConfig) -> int:
    """Registers from the accepted pair to the accumulators' input (cycles): ``1 + L`` (the
    products, ``L`` tree levels), plus 3 for opt2 (shared encoder, two combine levels)."""
    extra = 3 if config.mac == "opt2" else 0
    return 1 + tree_levels(config.depth) + extra


# ---- exact carry-save partial sums shared with hwsim.rtl.tree -------------------------------
@dataclass(frozen=True)
class CarrySaveNode:
    """A partial sum held as unsigned rows: ``value = sum(row << shift) - offset``.

    ``rows`` are unsigned Amaranth values with their left shifts (bits); their weighted sum
    lies in ``[0, bound]``, so a tree of width ``bound.bit_length()`` adds them exactly (no
    carry ever leaves its top column). ``offset`` is a generation-time integer.
    """

    rows: tuple[tuple[Value, int], ...]
    bound: int
    offset: int

    @staticmethod
    def of_signed(value: Value, shift: int = 0) -> CarrySaveNode:
        """A signed ``n``-bit value as ``(its low bits, its inverted sign bit)`` = value plus
        ``2**(n-1)`` (non-negative), with that ``2**(n-1)`` as the offset."""
        value = Value.cast(value)
        n = len(value)
        biased = Cat(value[: n - 1], ~value[n - 1])
        return CarrySaveNode(((biased, shift),), ((1 << n) - 1) << shift,
                             (1 << (n - 1)) << shift)

    def shifted(self, bits: int) -> CarrySaveNode:
        """This partial sum times ``2**bits`` (no logic: the rows' shifts move)."""
        return CarrySaveNode(tuple((v, s + bits) for v, s in self.rows), self.bound << bits,
                             self.offset << bits)

    @staticmethod
    def merged(nodes: list[CarrySaveNode]) -> CarrySaveNode:
        """The sum of ``nodes`` (their rows side by side, no logic)."""
        return CarrySaveNode(tuple(r for node in nodes for r in node.rows),
                             sum(node.bound for node in nodes), sum(n.offset for n in nodes))

    def compressed(self, m: Module, name: str) -> CarrySaveNode:
        """Reduce the rows to a (sum, carry) pair with one exact Dadda tree (no-op for <= 2)."""
        if len(self.rows) <= 2:
            return self
        tree = BitMatrix(self.bound.bit_length(), name=name)
        for value, shift in self.rows:
            tree.add(value, shift)
        total, carry = tree.reduce(m)
        return CarrySaveNode(((total, 0), (carry, 0)), self.bound, self.offset)

    def registered(self, m: Module, name: str, en: Value | None = None) -> CarrySaveNode:
        """The rows through one register each (enabled by ``en`` if given)."""
        rows = []
        for k, (value, shift) in enumerate(self.rows):
            reg = Signal(len(value), name=f"{name}_r{k}")
            if en is None:
                m.d.sync += reg.eq(value)
            else:
                with m.If(en):
                    m.d.sync += reg.eq(value)
            rows.append((reg, shift))
        return CarrySaveNode(tuple(rows), self.bound, self.offset)

    def add_to(self, tree: BitMatrix) -> None:
        """Add this partial sum to a modular tree (rows plus the constant ``-offset``)."""
        for value, shift in self.rows:
            tree.add(value, shift)
        tree.add_constant(-self.offset)


def carry_save_level(m: Module, nodes: list[CarrySaveNode], name: str,
                     en: Value | None = None) -> list[CarrySaveNode]:
    """One registered level of a reduction tree: consecutive nodes are merged while their rows
    total at most four (two carry-save pairs, or up to four single rows: a 4:2 compression),
    each group compressed to a pair and registered. A lone node is only registered."""
    groups: list[list[CarrySaveNode]] = []
    for node in nodes:
        if groups and sum(len(n.rows) for n in groups[-1]) + len(node.rows) <= 4:
            groups[-1].append(node)
        else:
            groups.append([node])
    return [CarrySaveNode.merged(group).compressed(m, f"{name}_n{g}")
            .registered(m, f"{name}_n{g}", en) for g, group in enumerate(groups)]


def add_level(m: Module, values: list[Value], name: str, en: Value | None = None) -> list[Value]:
    """One registered level of a plain ``+`` tree (naive): pairwise sums, one register each."""
    out = []
    for p in range(0, len(values), 2):
        pair = values[p:p + 2]
        total = pair[0] + pair[1] if len(pair) == 2 else pair[0]
        reg = Signal(total.shape(), name=f"{name}_s{p // 2}")
        if en is None:
            m.d.sync += reg.eq(total)
        else:
            with m.If(en):
                m.d.sync += reg.eq(total)
        out.append(reg)
    return out


def booth_product(m: Module, a: Value, b: Value, name: str) -> CarrySaveNode:
    """``a * b`` from a per-multiplier Booth encoder, ``-b`` and four PPs (the baseline)."""
    encoder = BoothEncoder()
    m.submodules[f"{name}_enc"] = encoder
    m.d.comb += encoder.x.eq(a)
    neg_b = Signal(signed(len(b) + 1), name=f"{name}_neg_b")
    m.d.comb += neg_b.eq(-b)
    rows = [_select_row(m, b, neg_b, encoder.en[k], encoder.neg[k], encoder.two[k],
                        name=f"{name}_pp{k}") for k in range(N_DIGITS)]
    return CarrySaveNode.merged([CarrySaveNode.of_signed(row, 2 * k)
                                 for k, row in enumerate(rows)])


class DigitSelects:
    """Registered radix-4 digit selects ``(en, neg, two)`` of one A lane: OPT2's shared
    encoder (:meth:`encode`), or the same selects one register further down the trees
    (:meth:`delayed`)."""

    def __init__(self, m: Module, sources: tuple[Value, Value, Value], name: str,
                 en: Value | None = None) -> None:
        self.en, self.neg, self.two = (Signal(N_DIGITS, name=f"{name}_{field}")
                                       for field in ("en", "neg", "two"))
        updates = [dst.eq(src) for dst, src in zip((self.en, self.neg, self.two), sources,
                                                   strict=True)]
        if en is None:
            m.d.sync += updates
        else:
            with m.If(en):
                m.d.sync += updates

    @classmethod
    def encode(cls, m: Module, a: Value, encoding: str, name: str,
               en: Value | None = None) -> DigitSelects:
        """One encoder (``ent`` or ``booth``) of ``a`` with its selects registered."""
        encoder = EntEncoder() if encoding == "ent" else BoothEncoder()
        m.submodules[f"{name}_enc"] = encoder
        m.d.comb += encoder.x.eq(a)
        return cls(m, (encoder.en, encoder.neg, encoder.two), name, en)

    def delayed(self, m: Module, name: str, en: Value | None = None) -> DigitSelects:
        """The same selects one register later (pipelined to the next tree)."""
        return DigitSelects(m, (self.en, self.neg, self.two), name, en)

    def rows(self, m: Module, b: Value, neg_b: Value, name: str) -> list[Signal]:
        """The four unshifted PPs ``d_k(a) * b`` (``w + 2`` signed bits each)."""
        return [_select_row(m, b, neg_b, self.en[k], self.neg[k], self.two[k],
                            name=f"{name}_pp{k}") for k in range(N_DIGITS)]


def opt2_reduce(m: Module, pp_rows: list[list[Value]], name: str,
                en: Value | None = None, final=None):  # noqa: ANN001, ANN201
    """OPT2's same-bit-weight reduction of the PPs ``pp_rows[d][k]`` (weight ``4**k``, signed,
    unshifted), from the PP register stage to the last combine level.

    Per bit-weight ``k`` the ``D`` PPs are reduced on their own (narrow trees, no shifts): the
    PP stage compresses them four at a time into carry-save pairs before its registers, and
    ``L = ceil(log2 D)`` registered levels merge the pairs two at a time
    (:func:`carry_save_level`; once a weight's sum is one pair, a level left only registers
    it). Then two registered levels shift by ``2k`` and add (``0 + 1<<2``, ``2 + 3<<2``; then
    ``01 + 23<<4``). ``final(node, name)`` (if given) builds the last level's logic instead of
    a compress (the tree engine puts its CPA there); its result is returned as is.
    """
    depth = len(pp_rows)
    per_weight = [carry_save_level(m, [CarrySaveNode.of_signed(pp_rows[d][k])
                                       for d in range(depth)], f"{name}_w{k}_pp", en)
                  for k in range(N_DIGITS)]
    for level in range(tree_levels(depth)):
        per_weight = [carry_save_level(m, nodes, f"{name}_w{k}_l{level}", en)
                      for k, nodes in enumerate(per_weight)]
    sums = [nodes[0] for nodes in per_weight]
    halves = [
        CarrySaveNode.merged([sums[2 * h], sums[2 * h + 1].shifted(2)])
        .compressed(m, f"{name}_c0_{h}").registered(m, f"{name}_c0_{h}", en)
        for h in range(2)
    ]
    whole = CarrySaveNode.merged([halves[0], halves[1].shifted(4)])
    if final is not None:
        return final(whole, f"{name}_c1")
    return whole.compressed(m, f"{name}_c1").registered(m, f"{name}_c1", en)


class Matrix2dEngine(wiring.Component):
    """A ``rows x cols`` array of ``depth``-wide dot-product PEs with output accumulators.

    Parameters
    ----------
    config : EngineConfig
        ``engine = "matrix2d"``; shape, MAC variant and widths (bits). SRAM, energy and
        ``operand_sigma`` fields are ignored.

    Ports ``i_a``, ``i_b`` (stream sinks) and ``o_c`` (stream source); see the module
    docstring for the beat layout, fold protocol and cycle contract.
    """

    def __init__(self, config: EngineConfig) -> None:
        try:
            check_rtl_config(config)
        except ConfigError:
            self._MustUse__silence = True  # never built: no "created but never used" warning
            raise
        self.config = config
        r, c, d = config.rows, config.cols, config.depth
        w, acc = config.in_width_bits, config.acc_width_bits
        super().__init__(
            {
                "i_a": In(stream.Signature(beat_layout(w, r * d))),
                "i_b": In(stream.Signature(beat_layout(w, d * c))),
                "o_c": Out(stream.Signature(beat_layout(acc, c))),
            }
        )

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
        tokens = [Signal(name=f"tok{n}") for n in range(stages)]
        m.d.sync += tokens[0].eq(fire)
        m.d.sync += [tokens[n].eq(tokens[n - 1]) for n in range(1, stages)]
        accumulate = tokens[-1]

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
            with m.State("LOAD"):
                m.d.comb += [
                    self.i_a.ready.eq(self.i_b.valid),
                    self.i_b.ready.eq(self.i_a.valid),
                    fire.eq(self.i_a.valid & self.i_b.valid),
                ]
                with m.If(fire & (self.i_a.payload.last | self.i_b.payload.last)):
                    m.d.sync += flush.eq(stages - 1)
                    m.next = "FLUSH"
            with m.State("FLUSH"):
                with m.If(flush == 0):
                    m.next = "DRAIN"
                with m.Else():
                    m.d.sync += flush.eq(flush - 1)
            with m.State("DRAIN"):
                if carry_save:
                    m.d.comb += drain_shift.eq((out_row != rows) & (~out_valid | take))
                    with m.If(drain_shift):
                        m.d.sync += out_row.eq(out_row + 1)
                    with m.If(take & out_last):
                        m.d.sync += out_row.eq(0)
                        m.next = "LOAD"
                else:
                    m.d.comb += [self.o_c.valid.eq(1), drain_shift.eq(self.o_c.ready)]
                    with m.If(self.o_c.ready):
                        with m.If(out_row == rows - 1):
                            m.d.sync += out_row.eq(0)
                            m.next = "LOAD"
                        with m.Else():
                            m.d.sync += out_row.eq(out_row + 1)
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
                    level = []
                    for d in range(depth):
                        prod = Signal(signed(2 * cfg.in_width_bits), name=f"{pe}_p{d}")
                        m.d.sync += prod.eq(a[i][d] * b[j][d])
                        level.append(prod)
                    n = 0
                    while len(level) > 1:
                        level = add_level(m, level, f"{pe}_l{n}")
                        n += 1
                    dots[i][j] = level[0]
                elif cfg.mac == "opt2":
                    pps = [selects[i][d].rows(m, b_reg[j][d], neg_b[j][d], f"{pe}_d{d}")
                           for d in range(depth)]
                    dots[i][j] = opt2_reduce(m, pps, pe)
                else:
                    level = [
                        booth_product(m, a[i][d], b[j][d], f"{pe}_m{d}")
                        .compressed(m, f"{pe}_m{d}_csa").registered(m, f"{pe}_m{d}")
                        for d in range(depth)
                    ]
                    n = 0
                    while len(level) > 1:
                        level = carry_save_level(m, level, f"{pe}_l{n}")
                        n += 1
                    dots[i][j] = level[0]
        return dots


ENGINE_CLASS = Matrix2dEngine


def _tile(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or 0 in x.shape or not np.issubdtype(x.dtype, np.integer):
        raise ConfigError(f"{name} must be a non-empty 2-D integer array, got shape {x.shape}")
    return x.astype(np.int64)


def _padded(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def fold_stimulus(config: EngineConfig, a_tile: np.ndarray, b_tile: np.ndarray) -> FoldStimulus:
    """The beats of one fold ``C_tile = A_tile @ B_tile`` (see the module docstring).

    ``a_tile`` is ``m x K`` with ``m <= rows``, ``b_tile`` ``K x n`` with ``n <= cols``; both
    are zero-padded to ``rows x T*depth`` and ``T*depth x cols`` (``T = ceil(K / depth)``).
    The result beats are the golden ``engine_product`` of the padded tiles (wrapped to
    ``acc_width_bits``); ``contract_cycles`` is ``fold_cycles(config, T)`` (cycles).
    """
    check_rtl_config(config)
    a, b = _tile(a_tile, "a_tile"), _tile(b_tile, "b_tile")
    r, c, d = config.rows, config.cols, config.depth
    if a.shape[1] != b.shape[0] or a.shape[0] > r or b.shape[1] > c:
        raise ConfigError(
            f"a_tile (m x K) and b_tile (K x n) must agree on K with m <= rows={r} and "
            f"n <= cols={c}, got {a.shape} and {b.shape}"
        )
    t = -(-a.shape[1] // d)
    a, b = _padded(a, (r, t * d)), _padded(b, (t * d, c))
    c_tile = engine_product(config, a, b)
    return FoldStimulus(
        a_beats=[[int(a[i, s * d + k]) for i in range(r) for k in range(d)] for s in range(t)],
        b_beats=[[int(b[s * d + k, j]) for k in range(d) for j in range(c)] for s in range(t)],
        c_beats=[[int(v) for v in row] for row in c_tile],
        contract_cycles=int(fold_cycles(config, t)),
    )
