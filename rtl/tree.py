"""Amaranth generator of the multiplier-adder tree engine: one :class:`TreeEngine` per config.

Geometry
--------
``rows x cols`` trees (``R = rows`` replicas, which split M; ``C = cols`` trees per replica,
over N), each ``depth`` multipliers wide (``D = depth``, over K) into an adder tree. Weight
stationary: tree ``(r, j)`` holds ``B[0..D-1, j]`` for the whole fold (one weight register
set per column ``j``, read by the ``R`` replicas), and A rows stream through.

Port contract
-------------
The three :mod:`amaranth.lib.stream` ports of :mod:`hwsim.rtl.engine_common` (payload
``{data: ArrayLayout(signed(W), N), last}``; in Verilog ``X__payload[e*W +: W]`` is element
``e`` and bit ``N*W`` is ``last``):

=======  ==================  ===========  ===============================================
port     element width W     elements N   beat carries (element ``e``)
=======  ==================  ===========  ===============================================
``i_b``  ``in_width_bits``   ``C``        weight beat ``d`` (``d = 0 .. D-1``): ``B[d, j]``
                                          at ``e = j``
``i_a``  ``in_width_bits``   ``R * D``    A beat ``t``: ``A[t*R + r, d]`` at ``e = r*D + d``
``o_c``  ``acc_width_bits``  ``R * C``    beat ``t``: ``C[t*R + r, j]`` at ``e = r*C + j``
=======  ==================  ===========  ===============================================

One fold: ``D`` weight beats on ``i_b`` (counted by the DUT; ``i_b.last`` is expected on beat
``D-1`` and otherwise ignored), then ``T >= 1`` beats on ``i_a`` (``last`` on beat ``T-1``;
replica ``r`` takes A rows ``r, R + r, 2R + r, ...``). The first ``i_a`` beat may be accepted
in the same cycle as the last weight beat, so a driver should present ``i_a`` without waiting
for ``i_b`` to finish. ``T`` beats leave on ``o_c`` (``last`` on beat ``T-1``); after it the
DUT accepts the next fold. Each output is one fold's partial sum over its ``D`` k-rows,
exact in :attr:`EngineConfig.psum_width_bits` (``P = 2*in_width + ceil(log2 D)``) bits and
sign-extended to ``acc_width_bits``; partial sums of successive K folds meet in the
ofmap-side accumulator, outside this engine. Correct under any valid/ready throttling on
every port.

Latency contract
----------------
From the cycle the fold's first input beat (weight beat 0) is accepted to the cycle of its
last ``o_c`` beat, inclusive, with every valid and ``o_c.ready`` held high::

    fold_cycles = D + T + C + L - 1 + X      (L = ceil(log2 D); X = 3 opt2, else 0)

which is :func:`hwsim.accelerators.engines.model.fold_cycles_tree`. How it is met:

* Weight beats in cycles ``0 .. D-1``, written to entry ``d`` of every column's weight
  register. A beat ``t`` is accepted in cycle ``D - 1 + t`` (beat 0 together with the last
  weight row: tree ``(r, 0)`` reads that row straight from ``i_b``) and pipelined one tree per
  cycle along the replica, so tree ``j`` forms its ``D`` products in cycle ``D - 1 + t + j``
  into registers; ``L`` registered levels later its partial sum is in a register in cycle
  ``D + t + j + L``, and ``C - 1 - j`` de-skew registers align the ``C`` trees into one beat
  that leaves in cycle ``D + t + C - 1 + L``.
* opt2 (Wu et al., HPCA 2025, OPT2, as the reference repo pipelines its encoded A row over
  its N tiles): one encoder per A lane ``(r, d)`` (``digit_encoding``), registered in the
  accept cycle; the digit selects, not A, travel one tree per cycle. Tree ``j`` forms its
  ``4*D`` unshifted partial products ``d_k(a) * w`` (``-w`` once per weight lane, shared by
  the replicas) and registers them, those of one bit-weight compressed four at a time into
  carry-save pairs; it reduces the ``D`` PPs of each bit-weight ``k`` in ``L`` registered
  levels, then shifts by ``2k`` and adds the four sums in two registered levels (``X = 3``:
  encoder, two combine levels).
* A token (valid, last) travels beside the data through the ``C + L + X`` registers; the
  whole pipeline advances when ``o_c`` is empty or taken (``~o_c.valid | o_c.ready``), so
  backpressure stalls it and missing input beats become bubbles.

Datapaths per tree: naive: ``D`` products ``a*w`` (Amaranth ``*``) into registers, then a
registered binary ``+`` tree. booth (the baseline): per multiplier a Booth encoder, ``-w`` and
four PPs compressed to a carry-save pair into registers; levels merge carry-save pairs; the
last level's tree ends in the ONE carry-propagate adder (for ``D = 1`` the multiplier's four
PPs go straight into one tree and the CPA). opt2: as above, its last combine level ends in
the one CPA. All reductions are :class:`hwsim.rtl.compressor.BitMatrix` Dadda trees over the
exact, non-negative carry-save rows of :class:`hwsim.rtl.carry_save.CarrySaveNode`.

Only naive, booth and opt2 (what engine tree accepts) are built; booth and opt2 take int8,
naive 2..16 bits. At most :data:`RTL_MAX_LANES` multipliers (``rows * cols * depth``).
"""

from __future__ import annotations

import numpy as np
from amaranth import Module, Mux, Signal, signed
from amaranth.hdl import Value

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.golden import engine_product
from hwsim.accelerators.engines.model import fold_cycles, tree_levels
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
    int_tile,
    sync_when,
    zero_padded,
)

__all__ = [
    "TreeEngine",
    "ENGINE_CLASS",
    "RTL_MACS",
    "RTL_MAX_LANES",
    "check_rtl_config",
    "fold_stimulus",
    "pipeline_stages",
]

#: MAC variants the generator builds (all that engine tree accepts). Operand widths per
#: variant: :data:`hwsim.rtl.engine_common.RTL_IN_WIDTH_BITS` (the encoders are int8).
RTL_MACS = ("naive", "booth", "opt2")
#: Largest engine (``rows * cols * depth`` multiplier lanes) the generator builds (see
#: :data:`hwsim.rtl.matrix2d.RTL_MAX_LANES`; the notes' OPT2 tiles are K 16 x N <= 32, <= 512).
RTL_MAX_LANES = 512


def check_rtl_config(config: EngineConfig) -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config``."""
    check_engine_rtl_config(config, "tree", RTL_MACS, RTL_MAX_LANES)


def pipeline_stages(config: EngineConfig) -> int:
    """Registers from an accepted A beat to its ``o_c`` beat (cycles): ``C + L`` (tree hops,
    products, ``L`` levels, de-skew), plus 3 for opt2 (encoder, two combine levels)."""
    extra = 3 if config.mac == "opt2" else 0
    return config.cols + tree_levels(config.depth) + extra


class TreeEngine(EngineComponent):
    """``rows`` replicas of ``cols`` weight-stationary multiplier-adder trees, ``depth`` wide.

    Parameters
    ----------
    config : EngineConfig
        ``engine = "tree"``; shape, MAC variant and widths (bits). SRAM, energy and
        ``operand_sigma`` fields are ignored.

    Ports ``i_a``, ``i_b`` (stream sinks) and ``o_c`` (stream source); see the module
    docstring for the beat layout, fold protocol and cycle contract.
    """

    check_config = staticmethod(check_rtl_config)

    @staticmethod
    def beat_elements(config: EngineConfig) -> tuple[int, int, int]:
        """``R * D`` A elements, ``C`` weights, ``R * C`` results per beat."""
        return config.rows * config.depth, config.cols, config.rows * config.cols

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        rows, cols, depth, w = cfg.rows, cfg.cols, cfg.depth, cfg.in_width_bits
        psum = cfg.psum_width_bits
        levels = tree_levels(depth)
        stages = pipeline_stages(cfg)

        advance = Signal()  # the whole pipeline moves this cycle (o_c slot free or taken)
        a_fire, b_fire = Signal(), Signal()
        w_row = Signal(range(max(depth, 2)))  # next weight row to write
        m.d.comb += [
            advance.eq(~self.o_c.valid | self.o_c.ready),
            a_fire.eq(self.i_a.valid & self.i_a.ready),
            b_fire.eq(self.i_b.valid & self.i_b.ready),
        ]

        # Stationary weights: entry d of column j <- B[d, j], one k-row per i_b beat.
        weights = [[Signal(signed(w), name=f"w{d}_{j}") for d in range(depth)]
                   for j in range(cols)]
        for d in range(depth):
            with m.If(b_fire & (w_row == d)):
                m.d.sync += [weights[j][d].eq(self.i_b.payload.data[j]) for j in range(cols)]
        a_port = [[self.i_a.payload.data[r * depth + d] for d in range(depth)]
                  for r in range(rows)]

        def final(node: CarrySaveNode, name: str) -> Signal:
            """The last level: the tree of ``node`` and its offset, the ONE CPA, a register."""
            tree = BitMatrix(psum, name=f"{name}_tree")
            node.add_to(tree)
            total = cpa(m, *tree.reduce(m), width=psum, name=f"{name}_cpa")
            reg = Signal(signed(psum), name=f"{name}_out")
            sync_when(m, advance, reg.eq(total))
            return reg

        sums = [[None] * cols for _ in range(rows)]  # [r][j]: registered signed partial sum
        if cfg.mac == "opt2":
            neg_w = [[Signal(signed(w + 1), name=f"w{d}_{j}_neg") for d in range(depth)]
                     for j in range(cols)]
            for j in range(cols):
                m.d.comb += [neg_w[j][d].eq(-weights[j][d]) for d in range(depth)]
            selects = [[DigitSelects.encode(m, a_port[r][d], cfg.digit_encoding, f"a{r}_{d}",
                                              advance)
                        for d in range(depth)] for r in range(rows)]
            for j in range(cols):
                if j:
                    selects = [[sel.delayed(m, f"a{r}_{d}_t{j}", advance)
                                for d, sel in enumerate(lane)] for r, lane in enumerate(selects)]
                for r in range(rows):
                    name = f"t{r}_{j}"
                    pps = [selects[r][d].rows(m, weights[j][d], neg_w[j][d], f"{name}_d{d}")
                           for d in range(depth)]
                    sums[r][j] = opt2_reduce(m, pps, name, advance, final)
        else:
            # Tree 0 multiplies in the accept cycle; A beat 0 comes with the last weight row.
            w_eff = [row[:] for row in weights]
            w_eff[0][depth - 1] = Mux(b_fire, self.i_b.payload.data[0], weights[0][depth - 1])
            a_at = a_port
            for j in range(cols):
                if j:
                    nxt = [[Signal(signed(w), name=f"a{r}_{d}_t{j}") for d in range(depth)]
                           for r in range(rows)]
                    sync_when(m, advance, [nxt[r][d].eq(a_at[r][d]) for r in range(rows)
                                           for d in range(depth)])
                    a_at = nxt
                for r in range(rows):
                    sums[r][j] = self._tree(m, [a_at[r][d] for d in range(depth)], w_eff[j],
                                            f"t{r}_{j}", levels, advance, final)

        # De-skew: tree j waits cols-1-j more cycles so a replica's C sums leave as one beat.
        for r in range(rows):
            for j in range(cols):
                value = delay_line(m, sums[r][j], cols - 1 - j, f"t{r}_{j}_deskew", en=advance)
                m.d.comb += self.o_c.payload.data[r * cols + j].eq(value)

        # Token (valid, last) beside the data; it stalls with the pipeline. Not two
        # delay_line()s: their statement order would reorder the emitted Verilog.
        tok_valid = [Signal(name=f"tok{n}_valid") for n in range(stages)]
        tok_last = [Signal(name=f"tok{n}_last") for n in range(stages)]
        with m.If(advance):
            m.d.sync += [tok_valid[0].eq(a_fire), tok_last[0].eq(self.i_a.payload.last)]
            m.d.sync += [tok_valid[n].eq(tok_valid[n - 1]) for n in range(1, stages)]
            m.d.sync += [tok_last[n].eq(tok_last[n - 1]) for n in range(1, stages)]
        m.d.comb += [self.o_c.valid.eq(tok_valid[-1]), self.o_c.payload.last.eq(tok_last[-1])]

        with m.FSM(name="fsm"):
            with m.State("LOAD_W"):
                last_row = w_row == depth - 1
                m.d.comb += [
                    self.i_b.ready.eq(1),
                    self.i_a.ready.eq(advance & self.i_b.valid & last_row),
                ]
                with m.If(b_fire):
                    with m.If(last_row):
                        m.d.sync += w_row.eq(0)
                        m.next = "LOAD_A"
                    with m.Else():
                        m.d.sync += w_row.eq(w_row + 1)
                with m.If(a_fire & self.i_a.payload.last):
                    m.next = "DRAIN"
            with m.State("LOAD_A"):
                m.d.comb += self.i_a.ready.eq(advance)
                with m.If(a_fire & self.i_a.payload.last):
                    m.next = "DRAIN"
            with m.State("DRAIN"):
                with m.If(self.o_c.valid & self.o_c.ready & self.o_c.payload.last):
                    m.next = "LOAD_W"
        return m

    def _tree(self, m: Module, a: list[Value], w: list[Value], name: str, levels: int,
              en: Value, final) -> Value:  # noqa: ANN001
        """One naive or booth tree: registered products, ``levels`` registered levels."""
        if self.config.mac == "naive":
            return naive_dot(m, a, w, self.config.in_width_bits, name, en)
        nodes = [booth_product(m, x, y, f"{name}_m{d}")
                 for d, (x, y) in enumerate(zip(a, w, strict=True))]
        if levels == 0:
            return final(nodes[0], f"{name}_m0")
        nodes = [node.compressed(m, f"{name}_m{d}_csa").registered(m, f"{name}_m{d}", en)
                 for d, node in enumerate(nodes)]
        for n in range(levels - 1):
            nodes = carry_save_level(m, nodes, f"{name}_l{n}", en)
        return final(CarrySaveNode.merged(nodes), f"{name}_l{levels - 1}")


ENGINE_CLASS = TreeEngine


def fold_stimulus(config: EngineConfig, a_tile: np.ndarray, b_tile: np.ndarray) -> FoldStimulus:
    """The beats of one fold ``C_tile = A_tile @ B_tile`` (see the module docstring).

    ``a_tile`` is ``m x k`` (any ``m >= 1``, ``k <= depth``), ``b_tile`` ``k x n`` with
    ``n <= cols``; they are zero-padded to ``T*rows x depth`` and ``depth x cols``
    (``T = ceil(m / rows)``). The result beats are the golden ``engine_product`` of the padded
    tiles (one fold's partial sums; wrapped to ``acc_width_bits``, which they always fit);
    ``contract_cycles`` is ``fold_cycles(config, T)`` (cycles).
    """
    check_rtl_config(config)
    a, b = int_tile(a_tile, "a_tile"), int_tile(b_tile, "b_tile")
    r, c, d = config.rows, config.cols, config.depth
    if a.shape[1] != b.shape[0] or a.shape[1] > d or b.shape[1] > c:
        raise ConfigError(
            f"a_tile (m x k) and b_tile (k x n) must agree on k with k <= depth={d} and "
            f"n <= cols={c}, got {a.shape} and {b.shape}"
        )
    t = -(-a.shape[0] // r)
    a, b = zero_padded(a, (t * r, d)), zero_padded(b, (d, c))
    c_tile = engine_product(config, a, b)
    return FoldStimulus(
        a_beats=[[int(a[s * r + i, k]) for i in range(r) for k in range(d)] for s in range(t)],
        b_beats=[[int(b[k, j]) for j in range(c)] for k in range(d)],
        c_beats=[[int(c_tile[s * r + i, j]) for i in range(r) for j in range(c)]
                 for s in range(t)],
        contract_cycles=int(fold_cycles(config, t)),
    )
