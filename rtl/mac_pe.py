"""MAC processing elements of the tensor-engine family, one :class:`MacPE` per variant.

Every variant shares the control contract and the register structure (so the pairs compared
in synthesis differ only in their arithmetic): the operands and the control bits are captured
by input registers, and the accumulator (one register, or a sum/carry pair) sits after the
arithmetic. All arithmetic is signed two's complement modulo ``2**acc_width``.

Control, per cycle (as seen after the input registers):

=================  ==========================================================
``valid clear``    accumulator update
=================  ==========================================================
``0 0``            hold
``1 0``            ``acc <- acc + product``
``1 1``            ``acc <- product`` (start a new sum with this pair)
``0 1``            ``acc <- 0``
=================  ==========================================================

Variants (:data:`PE_VARIANTS`):

``naive``
    ``acc + a*b`` written with Amaranth ``*`` and ``+``: Yosys builds a multiplier and an adder.
``booth``
    The fair baseline, a fused MAC: four radix-4 Booth partial products (selects from
    :class:`~hwsim.rtl.bitweight_encoder.BoothEncoder`), the gated accumulator as a fifth row,
    ONE Dadda tree (:mod:`hwsim.rtl.compressor`) and ONE carry-propagate adder into ``acc``.
``ent``
    As ``booth`` with EN-T digits (:class:`~hwsim.rtl.bitweight_encoder.EntEncoder`).
``opt1``
    Carry-save accumulation (Wu et al., HPCA 2025, OPT1): the same four Booth partial products
    plus the ``acc_sum`` and ``acc_carry`` rows go through the tree, whose two output rows are
    registered as the new ``(acc_sum, acc_carry)``; there is no carry-propagate adder in the PE.
    The value is ``(acc_sum + acc_carry) mod 2**acc_width``; an array resolves it once per
    output with :class:`CarrySaveResolve`.
``digit_serial``
    The OPT3 / OPT4C PE: per cycle one radix-4 digit select ``(en, neg, two)`` of the shared
    operand (from an encoder outside the PE) and a held ``b``; it forms ``{+-b, +-2b}`` by a mux
    and adds it into a carry-save accumulator with one 3:2 row (``acc_width`` default 26). There
    is no shifter: the digit's bit weight ``4**j`` is applied outside, once per pass (the array
    resolves ``(acc_sum + acc_carry)`` and shifts it by ``2j`` before adding the passes).

Negation of the Booth-family partial products (``negation``, :data:`NEGATIONS`):

``"once"`` (default; the only choice for ``digit_serial``)
    The rows select among ``{b, 2b, -b, -2b}`` with ``-b`` formed once per PE from the
    registered ``b`` (an ``in_width+1``-bit negation, as in the reference repo's OPT1 PE), so
    every partial product is an exact ``in_width+2``-bit signed row and the tree needs no
    ``+1`` correction dots.
``"tree"`` (``booth``, ``opt1``, ``ent``)
    No negator: a negative digit selects the one's complement ``~(b or 2b)`` and adds a
    ``+1`` dot at the row's weight to the same tree (one more dot in columns ``0, 2, 4, 6``).

Either way the rows enter the tree with the sign-extension constant.

Ports (``w = in_width``, ``W = acc_width``; plus ``clk``/``rst`` of the ``sync`` domain):

==============  ==========================  ===============================================
port            shape                       variants
==============  ==========================  ===============================================
``a``           ``In(signed(w))``           all but ``digit_serial``
``b``           ``In(signed(w))``           all
``en neg two``  ``In(1)`` each              ``digit_serial``: digit select (en = 0: zero)
``valid``       ``In(1)``                   all
``clear``       ``In(1)``                   all
``acc``         ``Out(signed(W))``          ``naive``, ``booth``, ``ent``
``acc_sum``     ``Out(W)``                  ``opt1``, ``digit_serial``
``acc_carry``   ``Out(W)``                  ``opt1``, ``digit_serial``
==============  ==========================  ===============================================

Latency (:func:`pe_latency_cycles`): inputs presented in cycle ``t`` are captured at the end
of cycle ``t`` and reach the accumulator register at the end of cycle ``t+1``; the outputs
show them in cycle ``t+2``. Every output comes straight from a register.
"""

from __future__ import annotations

import numbers

from amaranth import Module, Mux, Signal, signed
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.config import ConfigError

from .bitweight_encoder import N_DIGITS, BoothEncoder, EntEncoder
from .compressor import BitMatrix, TreeStats, cpa

__all__ = [
    "PE_VARIANTS",
    "CARRY_SAVE_VARIANTS",
    "DEFAULT_ACC_WIDTH",
    "NEGATIONS",
    "MAC_PE_MAX_ACC_WIDTH",
    "MacPE",
    "CarrySaveResolve",
    "check_pe_config",
    "pe_latency_cycles",
    "mac_pe_verilog",
    "add_product_rows",
    "add_digit_row",
    "select_row",
]

#: The PE variants :class:`MacPE` builds.
PE_VARIANTS = ("naive", "booth", "opt1", "ent", "digit_serial")
#: Variants whose accumulator is a (sum, carry) pair instead of one number.
CARRY_SAVE_VARIANTS = ("opt1", "digit_serial")
#: How Booth-family partial products are negated: ``-b`` formed once per PE, or one's
#: complement rows plus a ``+1`` dot per row in the tree.
NEGATIONS = ("once", "tree")
#: Accumulator bits when ``acc_width`` is not given.
DEFAULT_ACC_WIDTH = {"naive": 32, "booth": 32, "opt1": 32, "ent": 32, "digit_serial": 26}
#: Operand widths, bits: the Booth and EN-T encoders are int8 only.
_ENCODED_VARIANTS = ("booth", "opt1", "ent")
_IN_WIDTH_RANGE = (2, 16)
#: Widest accumulator built, bits.
MAC_PE_MAX_ACC_WIDTH = 64
#: Cycles from the input ports to the accumulator outputs (input register + accumulator).
_LATENCY_CYCLES = 2


def check_pe_config(variant: str, in_width: int = 8, acc_width: int | None = None,
                    negation: str = "once") -> int:
    """Check a PE configuration; return the accumulator width (bits) it resolves to.

    Raises :class:`ConfigError` (one line naming the field and the allowed values).
    """
    if variant not in PE_VARIANTS:
        raise ConfigError(f"variant must be one of {', '.join(PE_VARIANTS)}, got {variant!r}")
    if isinstance(in_width, bool) or not isinstance(in_width, numbers.Integral):
        raise ConfigError(f"in_width must be an integer (bits), got {in_width!r}")
    if variant in _ENCODED_VARIANTS:
        if in_width != 8:
            raise ConfigError(
                f"in_width must be 8 for variant {variant!r} (the Booth/EN-T encoders are "
                f"int8), got {in_width}; naive and digit_serial allow "
                f"{_IN_WIDTH_RANGE[0]}..{_IN_WIDTH_RANGE[1]}"
            )
    elif not _IN_WIDTH_RANGE[0] <= in_width <= _IN_WIDTH_RANGE[1]:
        raise ConfigError(
            f"in_width must be an integer in [{_IN_WIDTH_RANGE[0]}, {_IN_WIDTH_RANGE[1]}] "
            f"for variant {variant!r}, got {in_width}"
        )
    allowed = NEGATIONS if variant in _ENCODED_VARIANTS else ("once",)
    if negation not in allowed:
        raise ConfigError(
            f"negation must be one of {', '.join(allowed)} for variant {variant!r}, "
            f"got {negation!r}"
        )
    if acc_width is None:
        acc_width = DEFAULT_ACC_WIDTH[variant]
    low = 2 * int(in_width)
    if (
        isinstance(acc_width, bool)
        or not isinstance(acc_width, numbers.Integral)
        or not low <= acc_width <= MAC_PE_MAX_ACC_WIDTH
    ):
        raise ConfigError(
            f"acc_width must be an integer in [{low}, {MAC_PE_MAX_ACC_WIDTH}] (2*in_width.."
            f"{MAC_PE_MAX_ACC_WIDTH} bits) for in_width {in_width}, got {acc_width!r}"
        )
    return int(acc_width)


def pe_latency_cycles(variant: str) -> int:
    """Cycles from presenting ``(a, b, valid, clear)`` at the ports to seeing its effect on
    the accumulator outputs: 2 for every variant (input registers, then the accumulator)."""
    check_pe_config(variant)
    return _LATENCY_CYCLES


def select_row(m: Module, b: Signal, neg_b: Signal, en, neg, two,  # noqa: ANN001 - 1-bit
               name: str) -> Signal:
    """One radix-4 digit partial product ``en ? (neg ? -1 : 1) * (two ? 2 : 1) * b : 0`` as a
    signal ``name``, exact in ``len(b)+2`` signed bits: a mux of ``b`` and the caller's
    precomputed ``neg_b = -b`` (``len(b)+1`` signed bits, formed once per operand and shared
    by its rows), then the 1-bit shift. For datapaths that need the rows themselves (to
    register or regroup them); :func:`add_product_rows` and :func:`add_digit_row` add them to
    a tree."""
    w = len(b)
    base = Signal(signed(w + 1), name=f"{name}_base")
    row = Signal(signed(w + 2), name=name)
    m.d.comb += [
        base.eq(Mux(neg, neg_b, b)),
        row.eq(Mux(en, Mux(two, base << 1, base), 0)),
    ]
    return row


def _ones_complement_row(m: Module, b: Signal, en, neg, two, name: str) -> tuple[Signal, Signal]:
    """``(row, plus_one)`` with ``row + plus_one`` the partial product: ``row`` is
    ``(two ? 2b : b)``, inverted when ``neg`` (``~x = -x - 1``), zero when ``en`` is 0, and
    ``plus_one = en & neg`` is the dot that completes the negation in the tree."""
    w = len(b)
    magnitude = Signal(signed(w + 2), name=f"{name}_mag")
    row = Signal(signed(w + 2), name=name)
    plus_one = Signal(name=f"{name}_plus1")
    m.d.comb += [
        magnitude.eq(Mux(two, b << 1, b)),
        row.eq(Mux(en, Mux(neg, ~magnitude, magnitude), 0)),
        plus_one.eq(en & neg),
    ]
    return row, plus_one


def add_product_rows(m: Module, tree: BitMatrix, a: Signal, b: Signal, *, encoding: str = "booth",
                     shift: int = 0, name: str = "pp") -> None:
    """Add the four radix-4 partial products of ``a * b`` to ``tree`` (no carry-propagate add).

    ``a`` is a signed int8 operand (encoded with a :class:`BoothEncoder` or, for
    ``encoding="ent"``, an :class:`EntEncoder` added as a submodule), ``b`` any signed operand;
    ``-b`` is formed once. Row ``i`` is ``digit_i(a) * b`` shifted by ``2*i + shift`` bits, so
    ``sum(rows) = a * b * 2**shift`` exactly; the tree's width decides the wrap. This is the
    datapath of the ``booth``/``ent``/``opt1`` PEs, for arrays that fuse more rows (an
    accumulator, carry-save partial sums, other products) into one tree.
    """
    if encoding not in ("booth", "ent"):
        raise ConfigError(f"encoding must be one of booth, ent, got {encoding!r}")
    encoder = EntEncoder() if encoding == "ent" else BoothEncoder()
    m.submodules[f"{name}_encoder"] = encoder
    m.d.comb += encoder.x.eq(a)
    neg_b = Signal(signed(len(b) + 1), name=f"{name}_neg_b")
    m.d.comb += neg_b.eq(-b)
    for i in range(N_DIGITS):
        row = select_row(m, b, neg_b, encoder.en[i], encoder.neg[i], encoder.two[i],
                          name=f"{name}{i}")
        tree.add(row, shift=2 * i + shift)


def add_digit_row(m: Module, tree: BitMatrix, b: Signal, en, neg, two, *,  # noqa: ANN001
                  shift: int = 0, name: str = "pp") -> None:
    """Add one digit partial product ``en ? (neg ? -1 : 1) * (two ? 2 : 1) * b : 0`` (shifted by
    ``shift`` bits) to ``tree``: the digit-serial (OPT3/OPT4C) PE's datapath, ``-b`` formed once."""
    neg_b = Signal(signed(len(b) + 1), name=f"{name}_neg_b")
    m.d.comb += neg_b.eq(-b)
    tree.add(select_row(m, b, neg_b, en, neg, two, name=name), shift=shift)


class MacPE(wiring.Component):
    """A signed MAC processing element of one of :data:`PE_VARIANTS`.

    Parameters
    ----------
    variant : str
        One of :data:`PE_VARIANTS` (see the module docstring).
    in_width : int
        Operand bits (8; ``naive`` and ``digit_serial`` take 2..16).
    acc_width : int, optional
        Accumulator bits, ``2*in_width..64``; default 32 (26 for ``digit_serial``).
    negation : {"once", "tree"}
        How Booth-family partial products are negated (see the module docstring); ``"tree"``
        only for ``booth``, ``opt1`` and ``ent``.

    After elaboration :attr:`tree_stats` holds the compressor tree's counts (``None`` for
    ``naive``, which has no tree of ours).
    """

    def __init__(self, variant: str = "booth", in_width: int = 8,
                 acc_width: int | None = None, negation: str = "once") -> None:
        try:
            acc_width = check_pe_config(variant, in_width, acc_width, negation)
        except ConfigError:
            self._MustUse__silence = True  # never built: no "created but never used" warning
            raise
        self.variant = variant
        self.negation = negation
        self.in_width = int(in_width)
        self.acc_width = acc_width
        self.tree_stats: TreeStats | None = None
        ports: dict[str, object] = {}
        if variant != "digit_serial":
            ports["a"] = In(signed(self.in_width))
        ports["b"] = In(signed(self.in_width))
        if variant == "digit_serial":
            ports.update(en=In(1), neg=In(1), two=In(1))
        ports.update(valid=In(1), clear=In(1))
        if variant in CARRY_SAVE_VARIANTS:
            ports.update(acc_sum=Out(acc_width), acc_carry=Out(acc_width))
        else:
            ports["acc"] = Out(signed(acc_width))
        super().__init__(ports)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        w, acc_w = self.in_width, self.acc_width
        b = Signal(signed(w), name="b_reg")
        valid = Signal(name="valid_reg")
        clear = Signal(name="clear_reg")
        m.d.sync += [b.eq(self.b), valid.eq(self.valid), clear.eq(self.clear)]
        if self.variant != "digit_serial":
            a = Signal(signed(w), name="a_reg")
            m.d.sync += a.eq(self.a)

        if self.variant == "naive":
            acc = Signal(signed(acc_w), name="acc_reg")
            kept = Mux(clear, 0, acc)
            with m.If(valid):
                m.d.sync += acc.eq(kept + a * b)
            with m.Elif(clear):
                m.d.sync += acc.eq(0)
            m.d.comb += self.acc.eq(acc)
            return m

        tree = BitMatrix(acc_w, name="tree")
        if self.negation == "once":  # -b once per PE: rows need no +1 dots
            neg_b = Signal(signed(w + 1), name="neg_b")
            m.d.comb += neg_b.eq(-b)
        if self.variant == "digit_serial":
            sel = [Signal(name=f"{n}_reg") for n in ("en", "neg", "two")]
            m.d.sync += [sel[0].eq(self.en), sel[1].eq(self.neg), sel[2].eq(self.two)]
            tree.add(select_row(m, b, neg_b, *sel, name="pp"))
        else:
            encoder = EntEncoder() if self.variant == "ent" else BoothEncoder()
            m.submodules.encoder = encoder
            m.d.comb += encoder.x.eq(a)
            for i in range(N_DIGITS):
                select = (encoder.en[i], encoder.neg[i], encoder.two[i])
                if self.negation == "once":
                    tree.add(select_row(m, b, neg_b, *select, name=f"pp{i}"), shift=2 * i)
                else:
                    row, plus_one = _ones_complement_row(m, b, *select, name=f"pp{i}")
                    tree.add(row, shift=2 * i)
                    tree.add(plus_one, shift=2 * i)

        if self.variant in CARRY_SAVE_VARIANTS:
            acc_sum = Signal(acc_w, name="acc_sum_reg")
            acc_carry = Signal(acc_w, name="acc_carry_reg")
            for reg in (acc_sum, acc_carry):
                gated = Signal(acc_w, name=f"{reg.name}_kept")
                m.d.comb += gated.eq(Mux(clear, 0, reg))
                tree.add(gated)
            new_sum, new_carry = tree.reduce(m)
            with m.If(valid):
                m.d.sync += [acc_sum.eq(new_sum), acc_carry.eq(new_carry)]
            with m.Elif(clear):
                m.d.sync += [acc_sum.eq(0), acc_carry.eq(0)]
            m.d.comb += [self.acc_sum.eq(acc_sum), self.acc_carry.eq(acc_carry)]
        else:
            acc = Signal(signed(acc_w), name="acc_reg")
            kept = Signal(acc_w, name="acc_kept")
            m.d.comb += kept.eq(Mux(clear, 0, acc))
            tree.add(kept)
            total = cpa(m, *tree.reduce(m), width=acc_w)
            with m.If(valid):
                m.d.sync += acc.eq(total)
            with m.Elif(clear):
                m.d.sync += acc.eq(0)
            m.d.comb += self.acc.eq(acc)
        self.tree_stats = tree.stats
        return m


class CarrySaveResolve(wiring.Component):
    """The one carry-propagate adder an array puts after a carry-save accumulator.

    Combinational: ``result = (acc_sum + acc_carry) mod 2**acc_width`` as a signed number.
    Ports ``acc_sum``, ``acc_carry`` (``In(acc_width)``) and ``result``
    (``Out(signed(acc_width))``).
    """

    def __init__(self, acc_width: int = 32) -> None:
        if (
            isinstance(acc_width, bool)
            or not isinstance(acc_width, numbers.Integral)
            or not 1 <= acc_width <= MAC_PE_MAX_ACC_WIDTH
        ):
            self._MustUse__silence = True
            raise ConfigError(
                f"acc_width must be an integer in [1, {MAC_PE_MAX_ACC_WIDTH}] (bits), "
                f"got {acc_width!r}"
            )
        self.acc_width = int(acc_width)
        super().__init__(
            {
                "acc_sum": In(self.acc_width),
                "acc_carry": In(self.acc_width),
                "result": Out(signed(self.acc_width)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.d.comb += self.result.eq(cpa(m, self.acc_sum, self.acc_carry, width=self.acc_width))
        return m


def mac_pe_verilog(variant: str, in_width: int = 8, acc_width: int | None = None,
                   negation: str = "once") -> str:
    """Verilog of one PE, top module ``mac_pe_<variant>`` (ports as in the module docstring,
    plus ``clk`` and ``rst``), for synthesis and Verilog simulation flows."""
    pe = MacPE(variant, in_width, acc_width, negation)
    return verilog.convert(pe, name=f"mac_pe_{variant}", emit_src=False)
