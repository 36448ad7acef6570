"""Amaranth generator of the 3D-Cube tensor engine: one :class:`CubeEngine` per ``EngineConfig``.

Geometry
--------
``rows x cols`` y-chains, each ``depth`` MAC PEs long (``R = rows``, ``C = cols``,
``D = depth``). Chain ``(i, j)`` sits at x = i (over M) and z = j (over N); PE ``(i, y, j)``
is its ``y``-th PE (over K). A chain's end holds the output accumulator of ``C[i, j]``.

Port contract
-------------
The three :mod:`amaranth.lib.stream` ports of :mod:`hwsim.rtl.engine_common` (payload
``{data: ArrayLayout(signed(W), N), last}``; in Verilog ``X__payload[e*W +: W]`` is element
``e`` and bit ``N*W`` is ``last``):

=======  ==================  ===========  ===============================================
port     element width W     elements N   beat ``t`` carries (element ``e``)
=======  ==================  ===========  ===============================================
``i_a``  ``in_width_bits``   ``R * D``    ``A[i, t*D + y]`` at ``e = i*D + y`` (row-major)
``i_b``  ``in_width_bits``   ``D * C``    ``B[t*D + y, j]`` at ``e = y*C + j`` (row-major)
``o_c``  ``acc_width_bits``  ``C``        beat ``r`` (``r = 0 .. R-1``) is ``C[r, :]``
=======  ==================  ===========  ===============================================

One fold is ``T >= 1`` beat pairs (the k-chunks of ``D``; a short last chunk is zero-padded
by the driver, see :func:`fold_stimulus`), consumed pairwise: a pair is taken only when both
``i_a`` and ``i_b`` are valid, and the fold ends with the first pair in which either
``last`` is set. Then ``R`` beats on ``o_c``, ``last`` on beat ``R-1``; after it the DUT
accepts the next fold. Arithmetic is signed two's complement: in-chain partial sums are
:attr:`EngineConfig.psum_width_bits` (``P = 2*in_width + ceil(log2 D)``) wide, which never
overflows; the chain-end accumulator is ``acc_width_bits`` (``W``) wide and wraps. The DUT
is correct under any valid/ready throttling on every port.

Latency contract
----------------
From the cycle the fold's first beat pair is accepted to the cycle of its last ``o_c`` beat,
inclusive, with every valid and ``o_c.ready`` held high::

    fold_cycles = T + 2*R + C + D - 2 + X        (X = 1 for opt1, else 0)

which is :func:`hwsim.accelerators.engines.model.fold_cycles_cube`. How it is met:

* A pair accepted in cycle ``t`` is skewed on entry: A element ``(i, y)`` passes ``i + y``
  registers to PE ``(i, y, 0)`` (the z = 0 face) and then moves one PE per cycle along z;
  B element ``(y, j)`` passes ``j + y`` registers to PE ``(0, y, j)`` (the x = 0 face) and
  moves one PE per cycle along x. So PE ``(i, y, j)`` sees both in cycle ``t + i + j + y``,
  multiplies them and adds the partial sum registered by PE ``y - 1`` in the previous cycle;
  the chain end's accumulator adds the chain's registered sum in cycle ``t + i + j + D``.
  PE ``(0, 0, 0)`` multiplies the raw port values and its partial-sum register is gated by
  the accept (``fire``); every other operand enters its first register as the port value
  on an accept and as zero otherwise, so a bubble adds zero everywhere it passes. The arrays
  run freely (no stall): throttling only inserts bubbles.
* After the fold's last pair (cycle ``L``) the FSM waits ``R + C + D - 2`` cycles (the far
  corner's last accumulate is in cycle ``L + R + C + D - 2``), then drains: ``o_c.payload`` is
  the row-0 accumulator register, and on every ``o_c`` transfer the accumulator rows shift
  up one row (zeros enter at row ``R - 1``, which also clears them for the next fold).
* ``opt1``: one more wait cycle in which the registered CPA row (``C`` carry-propagate adders
  of ``W`` bits, the only CPAs of the design) resolves row 0's (sum, carry) pair into the
  output register while the rows shift up; each ``o_c`` transfer then reloads it from the
  next row. Only the fold's end moves, by one cycle.

MAC variants
------------
* ``naive`` -- ``psum_y = psum_{y-1} + a*b`` (P bits) and ``acc += psum_{D-1}`` with Amaranth
  ``*`` and ``+``.
* ``booth`` -- every chain PE puts the four radix-4 Booth partial products of ``a*b``
  (:func:`hwsim.rtl.mac_pe.add_product_rows`) and the incoming P-bit partial sum into ONE
  compressor tree (:class:`hwsim.rtl.compressor.BitMatrix`) and ONE CPA; the chain end adds
  the P-bit sum (sign-extended by the tree's constant) into the W-bit accumulator with a
  two-row tree and one CPA.
* ``opt1`` -- the y-chain carries (sum, carry) pairs: each PE's tree takes the four Booth
  partial products and the incoming pair and registers the two output rows (no CPA). The
  chain-end accumulator is carry-save too (W-bit sum and carry registers; the tree takes
  them and the chain's pair). A P-bit carry-save pair cannot be sign-extended without
  propagating carries, so the chain works in a *biased* representation: the sign-extension
  constants of the partial products (``-2**(9 + 2k)`` for Booth row ``k``, a compile-time
  constant per PE) are left out of the chain's trees, every dot is then non-negative and the
  exact chain sum ``U = psum + D * bias`` stays below ``2**P`` (``D * (2**14 + 43520) <
  2**(16 + ceil(log2 D))``), so ``sum + carry == U`` with no carry lost at the top. The
  chain end adds the pair as two unsigned rows plus the constant ``-D * bias`` (mod ``2**W``)
  to its tree. Chain registers reset to the biased zero.

Limits
------
``naive`` takes ``in_width_bits`` 2..16; ``booth`` and ``opt1`` take 8 (their encoders are
int8). At most :data:`RTL_MAX_PES` PEs (``rows * cols * depth``).
"""

from __future__ import annotations

import numpy as np
from amaranth import Module, Mux, Signal, signed, unsigned

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.model import EXTRA_STAGES
from hwsim.config import ConfigError

from .compressor import BitMatrix, cpa
from .engine_common import (
    EngineComponent,
    FoldStimulus,
    check_engine_rtl_config,
    delay_line,
    drain_rows,
    k_chunked_fold_stimulus,
    pairwise_load_and_flush,
)
from .mac_pe import add_product_rows

__all__ = [
    "CubeEngine",
    "ENGINE_CLASS",
    "RTL_MACS",
    "RTL_MAX_PES",
    "check_rtl_config",
    "fold_stimulus",
]

#: MAC variants the generator builds (all that engine cube accepts). Operand widths per
#: variant: :data:`hwsim.rtl.engine_common.RTL_IN_WIDTH_BITS` (the Booth encoders are int8).
RTL_MACS = ("naive", "booth", "opt1")
#: Largest cube (``rows * cols * depth`` PEs) the generator builds: 8x8x8, the notes' cube.
#: Each Booth PE is a compressor tree of ~100 named adder signals, and conversion time grows
#: faster than the PE count (measured, amaranth 0.5: 8x8x8 naive 2 s, booth 64 s, opt1 240 s
#: and 18 MB of Verilog), so anything larger fails at once instead.
RTL_MAX_PES = 512


def check_rtl_config(config: EngineConfig) -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config``."""
    check_engine_rtl_config(config, "cube", RTL_MACS, RTL_MAX_PES, lanes_unit="PEs",
                            width_where="for the cube RTL generator with mac {mac}")


def fold_stimulus(config: EngineConfig, a_tile: np.ndarray, b_tile: np.ndarray) -> FoldStimulus:
    """The beats of one fold ``C_tile = A_tile @ B_tile`` (see the module docstring).

    ``a_tile`` is ``m x K`` with ``m <= rows``, ``b_tile`` ``K x n`` with ``n <= cols``; both
    are zero-padded to ``rows x T*depth`` and ``T*depth x cols`` (``T = ceil(K / depth)``).
    The result beats are the golden ``engine_product`` of the padded tiles (wrapped to
    ``acc_width_bits``); ``contract_cycles`` is ``fold_cycles(config, T)`` (cycles).
    """
    check_rtl_config(config)
    a_tile, b_tile = np.asarray(a_tile, dtype=np.int64), np.asarray(b_tile, dtype=np.int64)
    r, c = config.rows, config.cols
    if a_tile.ndim != 2 or b_tile.ndim != 2 or a_tile.shape[1] != b_tile.shape[0]:
        raise ConfigError(f"tiles must be m x K and K x n, got {a_tile.shape} and {b_tile.shape}")
    m, k = a_tile.shape
    n = b_tile.shape[1]
    if not (1 <= m <= r and 1 <= n <= c and k >= 1):
        raise ConfigError(
            f"tile must fit one fold (1 <= m <= rows={r}, 1 <= n <= cols={c}, K >= 1), got "
            f"m={m}, n={n}, K={k}"
        )
    return k_chunked_fold_stimulus(config, a_tile, b_tile)


class CubeEngine(EngineComponent):
    """A ``rows x cols`` grid of ``depth``-long MAC y-chains (engine ``cube``).

    Parameters
    ----------
    config : EngineConfig
        ``engine="cube"``; dimensions, ``mac`` (naive, booth, opt1) and widths (bits). SRAM,
        energy and digit fields are ignored.

    Ports ``i_a``, ``i_b`` (stream sinks) and ``o_c`` (stream source); beats and the cycle
    contract are in the module docstring.
    """

    check_config = staticmethod(check_rtl_config)

    @staticmethod
    def beat_elements(config: EngineConfig) -> tuple[int, int, int]:
        """``R * D`` A elements, ``D * C`` B elements, ``C`` results per beat."""
        return config.rows * config.depth, config.depth * config.cols, config.cols

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        r, c, d = cfg.rows, cfg.cols, cfg.depth
        w = cfg.in_width_bits
        extra = EXTRA_STAGES[cfg.mac]
        flush_cycles = r + c + d - 2 + extra  # last accepted pair -> first o_c beat, exclusive

        fire = Signal()  # a pair of input beats is taken this cycle
        shift = Signal()  # accumulator rows move up one row this cycle

        # ---- operand distribution: skew on entry, then one PE per cycle --------------------
        a_port = self.i_a.payload.data
        b_port = self.i_b.payload.data
        # a_op[i][y][j], b_op[i][y][j]: the operands PE (i, y, j) multiplies this cycle.
        a_op = [[[None] * c for _ in range(d)] for _ in range(r)]
        b_op = [[[None] * c for _ in range(d)] for _ in range(r)]
        for i in range(r):
            for y in range(d):
                edge = Mux(fire, a_port[i * d + y], 0)
                a_op[i][y][0] = delay_line(m, edge, i + y, f"skew_a{i}_{y}_d")
        for y in range(d):
            for j in range(c):
                edge = Mux(fire, b_port[y * c + j], 0)
                b_op[0][y][j] = delay_line(m, edge, j + y, f"skew_b{y}_{j}_d")
        for i in range(r):
            for y in range(d):
                for j in range(c):
                    if j + 1 < c:  # A moves along z
                        reg = Signal(signed(w), name=f"pe{i}_{y}_{j}_a")
                        m.d.sync += reg.eq(a_op[i][y][j])
                        a_op[i][y][j + 1] = reg
                    if i + 1 < r:  # B moves along x
                        reg = Signal(signed(w), name=f"pe{i}_{y}_{j}_b")
                        m.d.sync += reg.eq(b_op[i][y][j])
                        b_op[i + 1][y][j] = reg
        # PE (0, 0, 0) multiplies the raw port values; its output register is gated instead.
        a_op[0][0][0] = a_port[0]
        b_op[0][0][0] = b_port[0]

        # ---- chains and chain-end accumulators ---------------------------------------------
        if cfg.mac == "opt1":
            acc_rows = self._build_opt1(m, a_op, b_op, fire, shift)
        else:
            acc_rows = self._build_resolved(m, a_op, b_op, fire, shift)

        # ---- output and control ------------------------------------------------------------
        out_row = Signal(range(max(r, 2)))
        flush = Signal(range(max(flush_cycles, 2)))
        cpa_load = Signal()  # opt1: the CPA row loads the output register this cycle
        if cfg.mac == "opt1":
            out_reg = [Signal(signed(cfg.acc_width_bits), name=f"out_{j}") for j in range(c)]
            for j in range(c):
                acc_sum, acc_carry = acc_rows[0][j]
                total = cpa(m, acc_sum, acc_carry, width=cfg.acc_width_bits, name=f"cpa_{j}")
                with m.If(cpa_load):
                    m.d.sync += out_reg[j].eq(total)
                m.d.comb += self.o_c.payload.data[j].eq(out_reg[j])
        else:
            m.d.comb += [self.o_c.payload.data[j].eq(acc_rows[0][j]) for j in range(c)]
        m.d.comb += self.o_c.payload.last.eq(out_row == r - 1)

        with m.FSM(name="cube_fsm"):
            # opt1: the CPA row loads row 0 while the rows shift up in FLUSH's last cycle.
            pairwise_load_and_flush(m, self.i_a, self.i_b, fire, flush, flush_cycles,
                                    [cpa_load.eq(1), shift.eq(1)] if extra else None)
            with m.State("DRAIN"):
                drain_rows(m, self.o_c, out_row, r, [shift.eq(1), cpa_load.eq(1)])
        return m

    # ---- naive / booth: resolved partial sums ---------------------------------------------
    def _build_resolved(self, m: Module, a_op, b_op, fire, shift):  # noqa: ANN001, ANN202
        """Chains of P-bit resolved partial sums and W-bit accumulators; returns ``acc[i][j]``."""
        cfg = self.config
        r, c, d = cfg.rows, cfg.cols, cfg.depth
        p, accw = cfg.psum_width_bits, cfg.acc_width_bits
        accs = [[Signal(signed(accw), name=f"acc{i}_{j}") for j in range(c)] for i in range(r)]
        for i in range(r):
            for j in range(c):
                psum = None
                for y in range(d):
                    a, b = a_op[i][y][j], b_op[i][y][j]
                    tag = f"pe{i}_{y}_{j}"
                    reg = Signal(signed(p), name=f"{tag}_psum")
                    if cfg.mac == "naive":
                        value = a * b if psum is None else psum + a * b
                    else:
                        tree = BitMatrix(p, name=f"{tag}_tree")
                        add_product_rows(m, tree, a, b, name=f"{tag}_pp")
                        if psum is not None:
                            tree.add(psum)
                        value = cpa(m, *tree.reduce(m), width=p, name=f"{tag}_cpa")
                    if i == 0 and y == 0 and j == 0:
                        value = Mux(fire, value, 0)
                    m.d.sync += reg.eq(value)
                    psum = reg
                below = accs[i + 1][j] if i + 1 < r else 0
                if cfg.mac == "naive":
                    total = accs[i][j] + psum
                else:
                    tree = BitMatrix(accw, name=f"acc{i}_{j}_tree")
                    tree.add(accs[i][j])
                    tree.add(psum)  # signed P bits: sign-extended through the tree's constant
                    total = cpa(m, *tree.reduce(m), width=accw, name=f"acc{i}_{j}_cpa")
                m.d.sync += accs[i][j].eq(Mux(shift, below, total))
        return accs

    # ---- opt1: carry-save chains and accumulators -----------------------------------------
    def _build_opt1(self, m: Module, a_op, b_op, fire, shift):  # noqa: ANN001, ANN202
        """Carry-save chains (biased, see the module docstring) and carry-save accumulators;
        returns ``(acc_sum, acc_carry)[i][j]``."""
        cfg = self.config
        r, c, d = cfg.rows, cfg.cols, cfg.depth
        p, accw = cfg.psum_width_bits, cfg.acc_width_bits
        max_product = 1 << (2 * cfg.in_width_bits - 2)  # (-2**(w-1))**2, the largest |a*b|
        accs = [[(Signal(accw, name=f"acc{i}_{j}_sum"), Signal(accw, name=f"acc{i}_{j}_carry"))
                 for j in range(c)] for i in range(r)]
        for i in range(r):
            for j in range(c):
                pair = None
                chain_bias = 0  # biased zero of the pair registered so far
                for y in range(d):
                    tag = f"pe{i}_{y}_{j}"
                    tree = BitMatrix(p, name=f"{tag}_tree")
                    add_product_rows(m, tree, a_op[i][y][j], b_op[i][y][j], name=f"{tag}_pp")
                    # The rows' sign-extension constants (-bias mod 2**P) stay out of the tree.
                    bias = -tree.constant % (1 << p)
                    tree.add_constant(bias)
                    chain_bias += bias
                    if d * (max_product + bias) >= 1 << p:  # the chain sum would not fit P bits
                        raise AssertionError(f"cube opt1 chain bias {bias} too large for {p} bits")
                    if pair is not None:
                        tree.add(pair[0])
                        tree.add(pair[1])
                    new_sum, new_carry = tree.reduce(m)
                    s_reg = Signal(unsigned(p), init=chain_bias, name=f"{tag}_psum_sum")
                    c_reg = Signal(unsigned(p), init=0, name=f"{tag}_psum_carry")
                    if i == 0 and y == 0 and j == 0:
                        new_sum, new_carry = Mux(fire, new_sum, chain_bias), Mux(fire, new_carry, 0)
                    m.d.sync += [s_reg.eq(new_sum), c_reg.eq(new_carry)]
                    pair = (s_reg, c_reg)
                acc_sum, acc_carry = accs[i][j]
                tree = BitMatrix(accw, name=f"acc{i}_{j}_tree")
                for row in (acc_sum, acc_carry, pair[0], pair[1]):
                    tree.add(row)  # unsigned rows: the chain's pair is exact (no wrap in P bits)
                tree.add_constant(-chain_bias)
                new_sum, new_carry = tree.reduce(m)
                below = accs[i + 1][j] if i + 1 < r else (0, 0)
                m.d.sync += [
                    acc_sum.eq(Mux(shift, below[0], new_sum)),
                    acc_carry.eq(Mux(shift, below[1], new_carry)),
                ]
        return accs


#: The component class the engine registry (:data:`hwsim.rtl.engine_common.ENGINE_RTL`) builds.
ENGINE_CLASS = CubeEngine
