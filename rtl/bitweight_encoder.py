"""Amaranth radix-4 digit encoders of a signed int8 operand: :class:`EntEncoder` (EN-T) and
:class:`BoothEncoder` (radix-4 Booth). The bit-exact references are
:func:`hwsim.accelerators.bitweight.ent_digits` and
:func:`hwsim.accelerators.bitweight.booth_digits`.

Both are **purely combinational** (no clock, no register stage): a user registers the outputs
where its pipeline wants them. Both have the same ports; ``i`` is the digit index, LSB first,
and ``x = sum(digit[i] * 4**i)``:

==========  ==================================  ===============================================
port        shape                               meaning
==========  ==================================  ===============================================
``x``       ``In(signed(8))``                   the operand
``digit``   ``Out(ArrayLayout(signed(3), 4))``  digit ``i`` as a number in ``-2..2``
``en``      ``Out(4)``                          bit ``i``: digit ``i`` is non-zero (the PP is used)
``neg``     ``Out(4)``                          bit ``i``: digit ``i`` is negative (select -B/-2B)
``two``     ``Out(4)``                          bit ``i``: ``|digit i| == 2`` (select 2B, else B)
==========  ==================================  ===============================================

``(en, neg, two)`` is the partial-product select a PE muxes ``{B, 2B, -B, -2B}`` with; it is
canonical: a zero digit has ``en = neg = two = 0``. ``digit`` is decoded from those three bits
(``en ? (two ? 2 : 1) * (neg ? -1 : 1) : 0``), so the two views cannot disagree.

EN-T: ``s = x[7]``, ``mag = |x|`` in 8 unsigned bits (``-128`` -> 128). A carry chain over the
2-bit groups of ``mag`` forms ``t[i] = mag[2i+1:2i] + c[i]`` (``0..4``), ``c[0] = 0`` and, for
``i < 3``, ``c[i+1] = t[i] >= 3``; the unsigned-side digit is ``t`` with 3 -> -1 and 4 -> 0
(the top group never wraps and never exceeds 2). The notes' 2-bit code ``{00: 0, 01: 1, 10: 2,
11: -1}`` is ``t[i] mod 4`` for ``t < 4``; here it appears as ``en = t in {1, 2, 3}``,
``two = (t == 2)`` and ``neg = (t == 3) XOR s`` (gated by ``en``).

Booth: from the bit triple ``(b[2i+1], b[2i], b[2i-1])`` (``b[-1] = 0``): ``en`` = the three
bits are not all equal, ``neg = b[2i+1] AND NOT (b[2i] AND b[2i-1])`` gated by ``en``,
``two`` = the triple is ``100`` or ``011``.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["N_DIGITS", "EntEncoder", "BoothEncoder"]

#: Radix-4 digits per int8 operand.
N_DIGITS = 4


class _DigitEncoder(wiring.Component):
    """Shared ports and the select-to-digit decode; subclasses drive ``en``/``neg``/``two``."""

    def __init__(self) -> None:
        # The signature is passed explicitly: with ``from __future__ import annotations`` the
        # class annotations would be strings, which ``wiring.Component`` does not evaluate.
        super().__init__(
            {
                "x": In(signed(8)),
                "digit": Out(data.ArrayLayout(signed(3), N_DIGITS)),
                "en": Out(N_DIGITS),
                "neg": Out(N_DIGITS),
                "two": Out(N_DIGITS),
            }
        )

    def _decode(self, m: Module) -> None:
        for i in range(N_DIGITS):
            magnitude = Mux(self.two[i], 2, 1)
            value = Mux(self.neg[i], -magnitude, magnitude)
            m.d.comb += self.digit[i].eq(Mux(self.en[i], value, 0))


class EntEncoder(_DigitEncoder):
    """EN-T encoder (sign-magnitude, carry-chained 2-bit groups); combinational."""

    def elaborate(self, platform) -> Module:
        m = Module()
        sign = self.x[7]
        mag = Signal(8)
        m.d.comb += mag.eq(Mux(sign, -self.x, self.x))  # -(-128) truncates to 0x80 = 128
        carry = Signal(1, init=0)
        for i in range(N_DIGITS):
            t = Signal(3, name=f"t{i}")
            m.d.comb += t.eq(mag[2 * i : 2 * i + 2] + carry)
            is_minus_one = t == 3  # before the sign (only reachable for i < 3)
            en = (t != 0) & (t != 4)
            m.d.comb += [
                self.en[i].eq(en),
                self.two[i].eq(t == 2),
                self.neg[i].eq(en & (is_minus_one ^ sign)),
            ]
            if i < N_DIGITS - 1:
                next_carry = Signal(1, name=f"c{i + 1}")
                m.d.comb += next_carry.eq(t >= 3)
                carry = next_carry
        self._decode(m)
        return m


class BoothEncoder(_DigitEncoder):
    """Radix-4 Booth encoder of the two's-complement bits; combinational."""

    def elaborate(self, platform) -> Module:
        m = Module()
        for i in range(N_DIGITS):
            hi, mid = self.x[2 * i + 1], self.x[2 * i]
            lo = self.x[2 * i - 1] if i else Const(0, 1)
            en = ~((hi == mid) & (mid == lo))
            m.d.comb += [
                self.en[i].eq(en),
                self.two[i].eq((hi & ~mid & ~lo) | (~hi & mid & lo)),
                self.neg[i].eq(en & hi & ~(mid & lo)),
            ]
        self._decode(m)
        return m
