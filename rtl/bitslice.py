"""Amaranth generator of the bit-slice engine: digit-serial sparse column groups.

One :class:`BitsliceEngine` per :class:`~hwsim.accelerators.engines.EngineConfig` with
``engine="bitslice"`` and ``mac`` one of ``opt3``, ``opt4c`` (Wu et al., HPCA 2025, OPT3/OPT4C:
bit-weight-serial PEs that skip zero radix-4 digits of A) or ``laconic``. **Laconic here is a
labelled re-implementation from the paper's description** (Sharify et al., ISCA 2019: both
operands Booth-encoded into terms, one term pair per lane per cycle, lanes synchronised on the
slowest pair); no Laconic RTL is public and this is not theirs.

Geometry: ``rows`` (R) column groups over M, ``cols`` (C) PEs per group over N, k-groups of
``depth`` (D) operands over K. PE ``(r, c)`` owns ``C[r, c]``.

Ports and beats
---------------
The three :mod:`amaranth.lib.stream` ports of :mod:`hwsim.rtl.engine_common` (payload
``{data: ArrayLayout(signed(W), N), last}``; Verilog ``X__payload[e*W +: W]`` is element ``e``,
bit ``N*W`` is ``last``):

=======  ===================  ==========  ====================================================
port     W                    N           beat ``g`` of a fold
=======  ===================  ==========  ====================================================
``i_a``  ``in_width_bits``    ``R * D``   k-group ``g`` of A: element ``r*D + k`` is
                                          ``A[r, g*D + k]``
``i_b``  ``in_width_bits``    ``D * C``   k-group ``g`` of B: element ``k*C + c`` is
                                          ``B[g*D + k, c]``
``o_c``  ``acc_width_bits``   ``C``       beat ``r`` (``r = 0 .. R-1``) is ``C[r, :]``, ``last``
                                          on beat ``R-1``
=======  ===================  ==========  ====================================================

A fold is ``G >= 1`` beat pairs (one per k-group; the fold ends at the first pair with
``i_a.last`` or ``i_b.last`` set; zero-pad partial groups, rows and columns). The two inputs are
consumed pairwise (a pair is taken only when both are valid). The DUT deasserts ``ready`` while it
issues a group's digits, so it takes a data-dependent number of cycles per pair. After the last
pair the R result rows leave on ``o_c``; after the last ``o_c`` beat the next fold is accepted.
Arithmetic is two's complement modulo ``2**acc_width_bits`` (the golden ``engine_product``).

Datapath (opt3 / opt4c)
-----------------------
A pair is accepted in cycle ``c`` and its group registered at the end of ``c``: the D values of B
per PE column (the PEs' prefetch registers) and A's radix-4 digits (``digit_encoding``: EN-T or
Booth, :mod:`hwsim.rtl.bitweight_encoder`).

* **opt4c** encodes A once per column group: R x D encoders sit on the ``i_a`` port and their
  digit selects ``(en, neg, two)`` are registered. One sparse encoder per group (a D-bit mask of
  the remaining non-zero digits of the current bit weight, lowest first) broadcasts the
  one-hot position and the ``(neg, two)`` select to the group's C PEs.
* **opt3** has the encoder and the sparse encoder inside every PE: the PE registers the raw A
  values of its group and encodes them in the issue path. Same digits, so the same cycles (the
  notes' OPT3 -> OPT4C step moves exactly this logic out of the PE).

Issue: for each k-group the bit weight ``j = 0..3`` steps in turn; a step lasts
``max(1, max over the R groups of #{k : d_j(A[r, k]) != 0})`` cycles, each cycle each group
issues its next non-zero digit (or nothing). PE ``(r, c)`` muxes ``b[k, c]`` by the one-hot
position, forms ``{+-b, +-2b}`` (:func:`hwsim.rtl.mac_pe.add_digit_row`, ``-b`` once) and adds
it with ONE 3:2 row (:class:`~hwsim.rtl.compressor.BitMatrix`) into the carry-save accumulator
of bit weight ``j``: a bank of four ``(sum, carry)`` pairs, one per ``j``, ``acc_width - 2j``
bits wide (``4**j * x mod 2**W`` needs only ``x mod 2**(W-2j)``). The PP path has no shifter;
the weights ``4**j`` are applied once per output. So each bit-weight pass keeps its own
carry-save sum across the whole K of the fold (the j loop of OPT3 run interleaved per k-group,
since the stream brings each k-group once).

Tail: one cycle resolves the four pairs (a CPA each, written back into ``sum_j``); one cycle
shift-adds ``sum_j << 2j`` (a :class:`BitMatrix` + one CPA) into the PE's result register and
clears the bank; then the R result rows drain one per cycle (``o_c.payload`` is row 0 of the
result registers; rows shift up on each transfer).

Datapath (laconic, re-implementation)
-------------------------------------
At accept, R x D Booth encoders on ``i_a`` and D x C on ``i_b`` register the digit selects of
both operands (the terms: non-zero digits, ``d * 4**i = +-2**(2i + [|d| = 2])``). A k-group
steps through ``MA x MW`` cycles (``ia`` outer, ``iw`` inner; MA / MW = the largest term count
over the fold's A lanes / B lanes; one cycle if either is 0). In a cycle every lane ``k`` of PE
``(r, c)`` takes A term ``ia`` of ``A[r, k]`` and B term ``iw`` of ``B[k, c]`` (if both exist),
adds the exponents (4-bit adder), XORs the signs and registers the product ``+-2**e`` (a one-hot
decode, 16 bits). The next cycle the D products and the accumulator's ``(sum, carry)`` go
through one Dadda tree into the carry-save accumulator: the tree's bit columns do the
per-exponent counting and the shift-sum of the LPE in one structure.

Tail: the cycle after the last issue cycle accumulates its products; the next resolves the
accumulator (one CPA) into the result register and clears it; then the R rows drain.

Cycle contract
--------------
Cycle 0 accepts the fold's first pair (and encodes it); issue cycles 1..t (``t`` =
:func:`hwsim.accelerators.engines.golden.issue_cycles_per_fold`: the sum of the step lengths);
the next pair is accepted in the last issue cycle of a group, so groups issue back to back;
cycles ``t+1`` and ``t+2`` are the tail; the R o_c beats leave in cycles ``t+3 .. t+R+2``::

    cycles = t + rows + 3      (:func:`hwsim.accelerators.engines.model.fold_cycles_bitslice`)

With a throttled input the DUT waits for the next pair with its accumulators held; with a
throttled ``o_c`` it holds the drain. ``o_c.payload``/``o_c.valid`` come from registers.

The generator builds the three bitslice variants only, and at most ``rows * cols * depth <=
4096`` MAC lanes (:data:`RTL_MAX_LANES`).
"""

from __future__ import annotations

import numpy as np
from amaranth import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.golden import engine_product, issue_cycles_per_fold
from hwsim.accelerators.engines.model import fold_cycles_bitslice
from hwsim.config import ConfigError

from .bitweight_encoder import N_DIGITS, BoothEncoder, EntEncoder
from .compressor import BitMatrix, cpa
from .engine_common import FoldStimulus
from .mac_pe import add_digit_row
from .systolic import beat_layout

__all__ = [
    "BitsliceEngine",
    "ENGINE_CLASS",
    "RTL_MACS",
    "RTL_MAX_LANES",
    "check_rtl_config",
    "fold_stimulus",
]

#: MAC variants the generator builds.
RTL_MACS = ("opt3", "opt4c", "laconic")
#: Largest engine built, in MAC lanes (``rows * cols * depth``): conversion time and every
#: later tool grow with it (opt3 has an encoder per lane), so a typo fails at once.
RTL_MAX_LANES = 4096
#: Width of one Laconic term product ``+-2**e``, ``e <= 2*(2*3 + 1) = 14``: signed 16 bits.
_LACONIC_PRODUCT_BITS = 16


def check_rtl_config(config: EngineConfig) -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config``."""
    if not isinstance(config, EngineConfig):
        raise ConfigError(f"expected an EngineConfig, got {type(config).__name__}")
    if config.engine != "bitslice":
        raise ConfigError(f"engine must be bitslice for this generator, got '{config.engine}'")
    if config.mac not in RTL_MACS:
        raise ConfigError(
            f"mac must be one of {', '.join(RTL_MACS)} for the bitslice RTL generator, "
            f"got '{config.mac}'"
        )
    lanes = config.rows * config.cols * config.depth
    if lanes > RTL_MAX_LANES:
        raise ConfigError(
            f"rows*cols*depth must be <= {RTL_MAX_LANES} MAC lanes for the bitslice RTL "
            f"generator, got {config.rows}x{config.cols}x{config.depth} = {lanes}"
        )


def _encoder(encoding: str) -> wiring.Component:
    return EntEncoder() if encoding == "ent" else BoothEncoder()


def _any(bits: list) -> object:
    """OR of 1-bit values (0 for none)."""
    out = Const(0, 1)
    for bit in bits:
        out = out | bit
    return out


class BitsliceEngine(wiring.Component):
    """The bit-slice engine of ``config`` (opt3, opt4c or laconic); see the module docstring.

    Ports ``i_a``, ``i_b`` (stream sinks) and ``o_c`` (stream source); cycles per fold
    ``t + rows + 3`` with ``t`` the fold's digit-issue cycles.
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
                "i_a": In(stream_signature(w, r * d)),
                "i_b": In(stream_signature(w, d * c)),
                "o_c": Out(stream_signature(acc, c)),
            }
        )

    # ---- control shared by every variant ---------------------------------------------------
    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        rows, cols = cfg.rows, cfg.cols
        self._fire = Signal()  # a pair is accepted this cycle (the group registers load)
        self._issue = Signal()  # an issue cycle of the current group
        self._group_end = Signal()  # driven by the datapath: this issue cycle ends the group
        self._tail1 = Signal()  # cycle t+1
        self._tail2 = Signal()  # cycle t+2 (the result registers load)
        accept = Signal()
        drain_shift = Signal()
        m.d.comb += [
            self.i_a.ready.eq(accept & self.i_b.valid),
            self.i_b.ready.eq(accept & self.i_a.valid),
            self._fire.eq(accept & self.i_a.valid & self.i_b.valid),
        ]
        self._results = [[Signal(signed(cfg.acc_width_bits), name=f"pe{r}_{c}_result")
                          for c in range(cols)] for r in range(rows)]
        if cfg.mac == "laconic":
            self._laconic(m)
        else:
            self._digit_serial(m)

        fold_last = Signal()  # the pair being issued is the fold's last
        with m.If(self._fire):
            m.d.sync += fold_last.eq(self.i_a.payload.last | self.i_b.payload.last)
        out_row = Signal(range(max(rows, 2)))
        m.d.comb += [self.o_c.payload.data[c].eq(self._results[0][c]) for c in range(cols)]
        m.d.comb += self.o_c.payload.last.eq(out_row == rows - 1)
        with m.If(drain_shift):
            for r in range(rows - 1):
                m.d.sync += [self._results[r][c].eq(self._results[r + 1][c])
                             for c in range(cols)]
        with m.FSM(name="bitslice_fsm"):
            with m.State("WAIT_PAIR"):  # a fold's first pair, or the next one if it was late
                m.d.comb += accept.eq(1)
                with m.If(self._fire):
                    m.next = "ISSUE"
            with m.State("ISSUE"):
                m.d.comb += self._issue.eq(1)
                with m.If(self._group_end):
                    with m.If(fold_last):
                        m.next = "TAIL1"
                    with m.Else():
                        # The next group loads in this cycle if its pair is there.
                        m.d.comb += accept.eq(1)
                        with m.If(~self._fire):
                            m.next = "WAIT_PAIR"
            with m.State("TAIL1"):
                m.d.comb += self._tail1.eq(1)
                m.next = "TAIL2"
            with m.State("TAIL2"):
                m.d.comb += self._tail2.eq(1)
                m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += [self.o_c.valid.eq(1), drain_shift.eq(self.o_c.ready)]
                with m.If(self.o_c.ready):
                    with m.If(out_row == rows - 1):
                        m.d.sync += out_row.eq(0)
                        m.next = "WAIT_PAIR"
                    with m.Else():
                        m.d.sync += out_row.eq(out_row + 1)
        return m

    # ---- opt3 / opt4c ----------------------------------------------------------------------
    def _sparse_encoder(self, m: Module, digits: list[tuple], j: Signal, first: Signal,
                        name: str) -> tuple[Signal, Signal, Signal, Signal]:
        """One sparse encoder over a group's D digit selects ``[(en, neg, two), ...]`` (4-bit
        each, bit = weight): ``(onehot, neg, two, done)`` of this issue cycle. ``onehot`` is
        the lowest remaining non-zero digit of weight ``j`` (zero if none is left), ``done``
        says none is left after it."""
        d = len(digits)
        remaining = Signal(d, name=f"{name}_remaining")
        masks = Array([Cat(*(en[jj] for en, _, _ in digits)) for jj in range(N_DIGITS)])
        negs = Array([Cat(*(neg[jj] for _, neg, _ in digits)) for jj in range(N_DIGITS)])
        twos = Array([Cat(*(two[jj] for _, _, two in digits)) for jj in range(N_DIGITS)])
        cur = Signal(d, name=f"{name}_cur")
        rest = Signal(d, name=f"{name}_rest")
        onehot = Signal(d, name=f"{name}_onehot")
        neg, two, done = (Signal(name=f"{name}_{n}") for n in ("neg", "two", "done"))
        m.d.comb += [
            cur.eq(Mux(first, masks[j], remaining)),
            rest.eq(cur & (cur - 1)),  # clear the lowest set bit
            onehot.eq(cur ^ rest),
            neg.eq((onehot & negs[j]).any()),
            two.eq((onehot & twos[j]).any()),
            done.eq(rest == 0),
        ]
        with m.If(self._issue):
            m.d.sync += remaining.eq(rest)
        return onehot, neg, two, done

    def _digit_serial(self, m: Module) -> None:
        cfg = self.config
        rows, cols, d, w, acc = (cfg.rows, cfg.cols, cfg.depth, cfg.in_width_bits,
                                 cfg.acc_width_bits)
        j = Signal(2, name="bit_weight")  # current bit weight of the group
        first = Signal(name="step_first")  # first cycle of a (group, j) step
        step_end = Signal()
        with m.If(self._fire):
            m.d.sync += [j.eq(0), first.eq(1)]
        with m.Elif(self._issue):
            m.d.sync += first.eq(step_end)
            with m.If(step_end):
                m.d.sync += j.eq(j + 1)
        m.d.comb += self._group_end.eq(step_end & (j == N_DIGITS - 1))

        # B prefetch registers of the group: b_reg[k][c] = B[g*D + k, c].
        b_reg = [[Signal(signed(w), name=f"b{k}_{c}") for c in range(cols)] for k in range(d)]
        with m.If(self._fire):
            m.d.sync += [b_reg[k][c].eq(self.i_b.payload.data[k * cols + c])
                         for k in range(d) for c in range(cols)]

        def registered_digits(r: int, name: str) -> list[tuple]:
            """opt4c: the encoders sit on the port; their selects are registered."""
            out = []
            for k in range(d):
                enc = _encoder(cfg.digit_encoding)
                m.submodules[f"{name}_enc{k}"] = enc
                m.d.comb += enc.x.eq(self.i_a.payload.data[r * d + k])
                regs = tuple(Signal(N_DIGITS, name=f"{name}_k{k}_{n}")
                             for n in ("en", "neg", "two"))
                with m.If(self._fire):
                    m.d.sync += [regs[0].eq(enc.en), regs[1].eq(enc.neg), regs[2].eq(enc.two)]
                out.append(regs)
            return out

        def pe_local_digits(r: int, name: str) -> list[tuple]:
            """opt3: the PE registers A and encodes it in the issue path."""
            out = []
            for k in range(d):
                a_reg = Signal(signed(w), name=f"{name}_a{k}")
                with m.If(self._fire):
                    m.d.sync += a_reg.eq(self.i_a.payload.data[r * d + k])
                enc = _encoder(cfg.digit_encoding)
                m.submodules[f"{name}_enc{k}"] = enc
                m.d.comb += enc.x.eq(a_reg)
                out.append((enc.en, enc.neg, enc.two))
            return out

        dones = []
        selects: dict[tuple[int, int], tuple] = {}
        for r in range(rows):
            if cfg.mac == "opt4c":
                sel = self._sparse_encoder(m, registered_digits(r, f"grp{r}"), j, first,
                                           name=f"grp{r}_sparse")
                dones.append(sel[3])
                for c in range(cols):
                    selects[r, c] = sel
            else:
                for c in range(cols):
                    digits = pe_local_digits(r, f"pe{r}_{c}")
                    sel = self._sparse_encoder(m, digits, j, first, name=f"pe{r}_{c}_sparse")
                    dones.append(sel[3])
                    selects[r, c] = sel
        m.d.comb += step_end.eq(~_any([~done for done in dones]))

        widths = [acc - 2 * jj for jj in range(N_DIGITS)]  # 4**j x mod 2**W needs x mod 2**(W-2j)
        for r in range(rows):
            for c in range(cols):
                name = f"pe{r}_{c}"
                onehot, neg, two, _ = selects[r, c]
                b_sel = Signal(signed(w), name=f"{name}_b")
                m.d.comb += b_sel.eq(_onehot_mux(onehot, [b_reg[k][c] for k in range(d)]))
                sums = [Signal(widths[jj], name=f"{name}_sum{jj}") for jj in range(N_DIGITS)]
                carries = [Signal(widths[jj], name=f"{name}_carry{jj}")
                           for jj in range(N_DIGITS)]
                # One 3:2 row: the digit's PP plus the (sum, carry) of the current bit weight.
                tree = BitMatrix(acc, name=f"{name}_csa")
                add_digit_row(m, tree, b_sel, onehot.any(), neg, two, name=f"{name}_pp")
                tree.add(Array(sums)[j])
                tree.add(Array(carries)[j])
                new_sum, new_carry = tree.reduce(m)
                for jj in range(N_DIGITS):
                    resolved = cpa(m, sums[jj], carries[jj], width=widths[jj],
                                   name=f"{name}_cpa{jj}")
                    with m.If(self._issue & (j == jj) & onehot.any()):
                        m.d.sync += [sums[jj].eq(new_sum), carries[jj].eq(new_carry)]
                    with m.If(self._tail1):  # resolve each pass: one CPA per bit weight
                        m.d.sync += [sums[jj].eq(resolved), carries[jj].eq(0)]
                    with m.If(self._tail2):
                        m.d.sync += sums[jj].eq(0)
                # Shift by 2j and add the four resolved passes into the result register.
                shift_add = BitMatrix(acc, name=f"{name}_shadd")
                for jj in range(N_DIGITS):
                    shift_add.add(sums[jj], shift=2 * jj)
                total = cpa(m, *shift_add.reduce(m), width=acc, name=f"{name}_total")
                with m.If(self._tail2):
                    m.d.sync += self._results[r][c].eq(total)

    # ---- laconic (re-implementation) -------------------------------------------------------
    def _laconic(self, m: Module) -> None:
        cfg = self.config
        rows, cols, d, acc = cfg.rows, cfg.cols, cfg.depth, cfg.acc_width_bits
        ia = Signal(2, name="a_term")  # A term index of this cycle (outer)
        iw = Signal(2, name="w_term")  # B term index (inner)

        def encoded(port, index: int, name: str) -> tuple[Signal, Signal, Signal]:
            enc = BoothEncoder()
            m.submodules[f"{name}_enc"] = enc
            m.d.comb += enc.x.eq(port.payload.data[index])
            regs = tuple(Signal(N_DIGITS, name=f"{name}_{n}") for n in ("en", "neg", "two"))
            with m.If(self._fire):
                m.d.sync += [regs[0].eq(enc.en), regs[1].eq(enc.neg), regs[2].eq(enc.two)]
            return regs

        a_lanes = {(r, k): encoded(self.i_a, r * d + k, f"a{r}_{k}")
                   for r in range(rows) for k in range(d)}
        w_lanes = {(k, c): encoded(self.i_b, k * cols + c, f"w{k}_{c}")
                   for k in range(d) for c in range(cols)}
        a_terms = {key: _nth_term(m, *lane, ia, f"a{key[0]}_{key[1]}")
                   for key, lane in a_lanes.items()}
        w_terms = {key: _nth_term(m, *lane, iw, f"w{key[0]}_{key[1]}")
                   for key, lane in w_lanes.items()}
        # Lanes synchronise on the slowest pair: the group ends after MA * MW cycles.
        a_none = ~_any([lane[0].any() for lane in a_lanes.values()])  # MA == 0
        w_none = ~_any([lane[0].any() for lane in w_lanes.values()])
        a_last = ~_any([t[3] for t in a_terms.values()])  # no A lane has a term after ia
        w_last = ~_any([t[3] for t in w_terms.values()])
        m.d.comb += self._group_end.eq(a_none | w_none | (a_last & w_last))
        with m.If(self._fire):
            m.d.sync += [ia.eq(0), iw.eq(0)]
        with m.Elif(self._issue):
            with m.If(w_last):
                m.d.sync += [iw.eq(0), ia.eq(ia + 1)]
            with m.Else():
                m.d.sync += iw.eq(iw + 1)

        products_valid = Signal(name="products_valid")
        m.d.sync += products_valid.eq(self._issue)
        for r in range(rows):
            for c in range(cols):
                name = f"pe{r}_{c}"
                tree = BitMatrix(acc, name=f"{name}_tree")
                for k in range(d):
                    a_ok, a_exp, a_neg, _ = a_terms[r, k]
                    w_ok, w_exp, w_neg, _ = w_terms[k, c]
                    exponent = Signal(4, name=f"{name}_l{k}_exp")
                    magnitude = Signal(_LACONIC_PRODUCT_BITS - 1, name=f"{name}_l{k}_onehot")
                    product = Signal(signed(_LACONIC_PRODUCT_BITS), name=f"{name}_l{k}_prod")
                    m.d.comb += [
                        exponent.eq(a_exp + w_exp),
                        magnitude.eq(Const(1, _LACONIC_PRODUCT_BITS - 1) << exponent),
                    ]
                    m.d.sync += product.eq(
                        Mux(self._issue & a_ok & w_ok,
                            Mux(a_neg ^ w_neg, -magnitude, magnitude), 0)
                    )
                    tree.add(product)
                acc_sum = Signal(acc, name=f"{name}_acc_sum")
                acc_carry = Signal(acc, name=f"{name}_acc_carry")
                tree.add(acc_sum)
                tree.add(acc_carry)
                new_sum, new_carry = tree.reduce(m)
                with m.If(products_valid):
                    m.d.sync += [acc_sum.eq(new_sum), acc_carry.eq(new_carry)]
                total = cpa(m, acc_sum, acc_carry, width=acc, name=f"{name}_cpa")
                with m.If(self._tail2):
                    m.d.sync += [self._results[r][c].eq(total), acc_sum.eq(0),
                                 acc_carry.eq(0)]


def stream_signature(width_bits: int, elements: int) -> stream.Signature:
    """A stream of ``elements`` signed ``width_bits`` values plus ``last``."""
    return stream.Signature(beat_layout(width_bits, elements))


def _onehot_mux(onehot: Signal, values: list) -> object:
    """AND-OR mux: the value whose one-hot bit is set (0 if none)."""
    out = Const(0, signed(len(values[0])))
    for k, value in enumerate(values):
        out = out | Mux(onehot[k], value, 0)
    return out


def _nth_term(m: Module, en: Signal, neg: Signal, two: Signal, n: Signal,
              name: str) -> tuple[Signal, Signal, Signal, Signal]:
    """Term ``n`` (0-based, LSB first) of a Booth-encoded operand: ``(exists, exponent, neg,
    more)`` with the term ``(-1)**neg * 2**exponent`` and ``more`` = a term ``n+1`` exists."""
    hit = []
    count = Const(0, 3)
    for i in range(N_DIGITS):
        hit.append(en[i] & (count == n))
        count = count + en[i]
    exists, is_neg, more = (Signal(name=f"{name}_{x}") for x in ("term", "neg", "more"))
    exponent = Signal(3, name=f"{name}_exp")
    digit_index = Cat(hit[1] | hit[3], hit[2] | hit[3])
    m.d.comb += [
        exists.eq(_any(hit)),
        is_neg.eq(_any([h & neg[i] for i, h in enumerate(hit)])),
        exponent.eq(Cat(_any([h & two[i] for i, h in enumerate(hit)]), digit_index)),
        more.eq(count > n + 1),
    ]
    return exists, exponent, is_neg, more


ENGINE_CLASS = BitsliceEngine


def fold_stimulus(config: EngineConfig, a_tile: np.ndarray, b_tile: np.ndarray) -> FoldStimulus:
    """The beats of one fold ``C_tile = A_tile @ B_tile`` (``A_tile`` at most ``rows x K``,
    ``B_tile`` ``K x`` at most ``cols``, int8 values), zero-padded to ``rows``, ``cols`` and a
    multiple of ``depth``; the R result beats (``engine_product``, wrapped); and the contract
    ``fold_cycles_bitslice(config, t)`` with ``t`` the fold's digit-issue cycles (cycles)."""
    check_rtl_config(config)
    a, b = np.asarray(a_tile, dtype=np.int64), np.asarray(b_tile, dtype=np.int64)
    r, c, d = config.rows, config.cols, config.depth
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or a.shape[1] == 0:
        raise ConfigError(f"A_tile (M x K) and B_tile (K x N) must agree on K >= 1, got "
                          f"{a.shape} and {b.shape}")
    if a.shape[0] > r or b.shape[1] > c:
        raise ConfigError(f"a fold holds at most rows={r} rows of A and cols={c} columns of B, "
                          f"got {a.shape[0]} and {b.shape[1]}")
    k = a.shape[1]
    groups = -(-k // d)
    a_pad = np.zeros((r, groups * d), dtype=np.int64)
    b_pad = np.zeros((groups * d, c), dtype=np.int64)
    a_pad[: a.shape[0], :k] = a
    b_pad[:k, : b.shape[1]] = b
    product = engine_product(config, a_pad, b_pad)  # checks the int8 range
    t = int(issue_cycles_per_fold(config, a_pad, b_pad)[0, 0])
    return FoldStimulus(
        a_beats=[[int(v) for v in a_pad[:, g * d:(g + 1) * d].reshape(-1)]
                 for g in range(groups)],
        b_beats=[[int(v) for v in b_pad[g * d:(g + 1) * d, :].reshape(-1)]
                 for g in range(groups)],
        c_beats=[[int(v) for v in row] for row in product],
        contract_cycles=int(fold_cycles_bitslice(config, t)),
    )
