"""The project's one compressor-tree generator (Dadda), shared by every MAC variant.

A :class:`BitMatrix` collects the rows of a multi-operand addition modulo ``2**width`` as a
dot diagram: one list of 1-bit Amaranth values per bit column, plus one integer constant.
:meth:`BitMatrix.reduce` builds the Dadda tree of full adders (3:2 counters) and half adders
(2:2 counters), written out as explicit gate equations, down to two rows ``(sum, carry)`` with
``sum + carry == Σ rows (mod 2**width)``. :func:`cpa` is the single carry-propagate adder a
design puts after the tree (plain ``+``: Yosys and ABC choose the adder structure).

Rows
----
``add(value, shift)`` places ``value << shift``. An unsigned value contributes its bits. A
signed ``n``-bit value ``v`` uses the sign-extension constant instead of replicating its sign
bit ``s`` up to the top column: ``v = (~s)·2**(n-1) + low bits − 2**(n-1)``, so the row
contributes its low bits, the inverted sign bit, and ``−2**(n-1+shift)`` to the matrix's
constant (folded with every other constant, modulo ``2**width``). Bits at or above ``width``
are dropped (they do not change the sum modulo ``2**width``).

Constant absorption
-------------------
Before reducing, each set bit of the folded constant is a constant-1 dot in its column. A
constant dot and a variable dot ``x`` in column ``i`` are equivalent to ``~x`` in column ``i``
and ``x`` one column up (``x + 1 = ~x + 2x``); if that column holds a constant dot too, the
same rewrite repeats up the run of constant dots. So the pair costs only inverters: column
``i`` loses a dot, the run keeps its height, and the first column above the run without a
constant dot gains one (none does when the run reaches the top column, whose carries are
discarded). The rewrite turns the run's constant
dots into variable ones (an adder with a constant-1 input folds to XNOR + OR, a variable one
does not), so the generator applies it only where it lowers a column of the current maximum
height without raising another column to that height, and repeats until no column qualifies.
For a single signed row beside two accumulator rows this makes every column three dots (one
3:2 row) instead of four at the sign bit; for Booth partial products it does the job of the
textbook ``~s s s`` / ``1 ~s`` sign-extension patterns. The variable dot used is the column's
most recently added one (which one does not change the sum).

Dadda reduction
---------------
Dadda's heights ``d(1) = 2, d(j+1) = floor(1.5·d(j))`` (2, 3, 4, 6, 9, 13, 19, 28, ...). A
matrix whose tallest column has ``h`` dots needs ``#{j : d(j) < h}`` stages. Stage ``j``
(targets taken from the largest ``d(j) < h`` down to 2) walks the columns from the LSB; the
height of column ``i`` counts the carries it receives from column ``i-1`` in the same stage.
While that height exceeds the target: a full adder when it is at least two above the target,
else a half adder. Both take the column's dots in order of arrival: constant dots, then the
rows' dots, then adder outputs by adder level. Carries out of the top column are dropped
(arithmetic modulo ``2**width``), so a full adder there is a lone XOR3 and a half adder a lone
XOR; they are still counted as full / half adders. An adder with a constant-1 input is emitted
in its folded form (half adder: an inverter; full adder: XNOR + OR) and counted both as a
full / half adder and in ``constant_input_adders``.

Gate equations: full adder ``s = a ^ b ^ c``, ``co = (a & b) | (c & (a ^ b))``; half adder
``s = a ^ b``, ``co = a & b``. Every adder output is its own named ``Signal``, so the Verilog
shows the tree structure. :class:`TreeStats` reports the counts after :meth:`BitMatrix.reduce`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from amaranth import Cat, Const, Module, Signal
from amaranth.hdl import Value, ValueCastable

from hwsim.config import ConfigError

__all__ = ["BitMatrix", "TreeStats", "cpa", "dadda_heights", "dadda_stages"]

#: A dot of the matrix while reducing: (adder levels behind it, 1-bit value, is constant 1).
_Dot = tuple[int, Value, bool]


def dadda_heights(limit: int) -> list[int]:
    """Dadda's column heights ``2, 3, 4, 6, 9, 13, ...`` up to the first one ``>= limit``."""
    heights = [2]
    while heights[-1] < limit:
        heights.append(heights[-1] * 3 // 2)
    return heights


def dadda_stages(max_height: int) -> int:
    """Stages of a Dadda tree reducing columns of at most ``max_height`` dots to two rows."""
    return sum(1 for d in dadda_heights(max_height) if d < max_height)


@dataclass(frozen=True)
class TreeStats:
    """What :meth:`BitMatrix.reduce` built.

    ``rows`` counts the :meth:`BitMatrix.add` calls, ``max_height`` is the tallest column
    (dots, after constant absorption) the tree started from, ``stages`` its full/half-adder
    levels. ``full_adders`` and ``half_adders`` count every counter, including the
    ``constant_input_adders`` that have a constant-1 input (a half adder is then an inverter, a
    full adder XNOR + OR).
    """

    width: int
    rows: int
    max_height: int
    stages: int
    full_adders: int
    half_adders: int
    constant_input_adders: int


class BitMatrix:
    """Rows of a multi-operand addition modulo ``2**width``, reduced by a Dadda tree.

    Parameters
    ----------
    width : int
        Bits of the result (the arithmetic is modulo ``2**width``), >= 1.
    name : str
        Prefix of the adder signals' names in the generated design.
    """

    def __init__(self, width: int, name: str = "csa") -> None:
        if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
            raise ConfigError(f"BitMatrix width must be an integer >= 1 (bits), got {width!r}")
        self.width = int(width)
        self.name = name
        self._columns: list[list[Value]] = [[] for _ in range(self.width)]
        self._constant = 0
        self._rows = 0
        self.stats: TreeStats | None = None

    # ---- building the matrix --------------------------------------------------------------
    def add(self, value: Value | ValueCastable | int, shift: int = 0) -> None:
        """Add ``value << shift`` (an Amaranth value, signed or unsigned, or a Python int)."""
        if isinstance(shift, bool) or not isinstance(shift, numbers.Integral) or shift < 0:
            raise ConfigError(f"shift must be an integer >= 0 (bit columns), got {shift!r}")
        if self.stats is not None:
            raise ConfigError("BitMatrix already reduced; build a new one for more rows")
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            self.add_constant(int(value) << shift)
            return
        value = Value.cast(value)
        n = len(value)
        self._rows += 1
        if n == 0:
            return
        top = n - 1 + shift
        signed = value.shape().signed and top < self.width
        for i in range(n - 1 if signed else n):
            if i + shift < self.width:
                self._columns[i + shift].append(value[i])
        if signed:
            # sign-extension constant: -s·2^top = (~s)·2^top - 2^top
            self._columns[top].append(~value[n - 1])
            self.add_constant(-(1 << top))

    def add_constant(self, constant: int) -> None:
        """Add a constant (folded into one constant row, modulo ``2**width``)."""
        if isinstance(constant, bool) or not isinstance(constant, numbers.Integral):
            raise ConfigError(f"constant must be an integer, got {constant!r}")
        self._constant = (self._constant + int(constant)) % (1 << self.width)

    @property
    def constant(self) -> int:
        """The folded constant row, in ``[0, 2**width)``."""
        return self._constant

    def heights(self) -> list[int]:
        """Dots per column as added so far (each set constant bit counts one dot), LSB first."""
        return [len(col) + ((self._constant >> i) & 1) for i, col in enumerate(self._columns)]

    # ---- reduction ------------------------------------------------------------------------
    def _absorb_constant(self) -> tuple[list[list[Value]], list[bool]]:
        """Columns and constant dots after the constant absorption (module docstring)."""
        cols = [list(col) for col in self._columns]
        const = [bool((self._constant >> i) & 1) for i in range(self.width)]
        while True:
            heights = [len(c) + k for c, k in zip(cols, const, strict=True)]
            tallest = max(heights)
            for i in range(self.width):
                if not (const[i] and cols[i]):
                    continue
                j = i + 1
                while j < self.width and const[j]:
                    j += 1
                if heights[i] == tallest and (j == self.width or heights[j] + 1 < tallest):
                    x = cols[i].pop()
                    for k in range(i, j):  # x + 1 over the run of constant dots
                        cols[k].append(~x)
                        const[k] = False
                    if j < self.width:
                        cols[j].append(x)
                    break
            else:
                return cols, const

    def reduce(self, m: Module) -> tuple[Signal, Signal]:
        """Build the tree into ``m``; return ``(sum, carry)``, unsigned ``width``-bit signals.

        ``sum + carry == Σ rows (mod 2**width)``. Counts are in :attr:`stats` afterwards.
        """
        if self.stats is not None:
            raise ConfigError("BitMatrix already reduced; build a new one")
        var_cols, const = self._absorb_constant()
        # A dot is (level, value, is_constant); level = adder levels behind it (constant -1,
        # matrix dots 0). Each stage takes the earliest dots of a column first.
        cols: list[list[_Dot]] = [
            ([(-1, Const(1, 1), True)] if k else []) + [(0, v, False) for v in c]
            for c, k in zip(var_cols, const, strict=True)
        ]
        max_height = max(len(c) for c in cols)
        counts = {"full": 0, "half": 0, "const": 0}
        stages = 0
        targets = [d for d in dadda_heights(max_height) if d < max_height][::-1]
        while True:
            if not targets:
                if max(len(c) for c in cols) <= 2:
                    break
                targets = [2]  # not reached for Dadda-shaped input; kept for any matrix
            target = targets.pop(0)
            new: list[list[_Dot]] = [[] for _ in range(self.width)]
            did_work = False
            for i in range(self.width):
                dots = sorted(cols[i], key=lambda dot: dot[0])
                height = len(dots) + len(new[i])
                k = 0
                n_adders = 0
                while height > target and len(dots) - k >= 2:
                    tag = f"{self.name}_st{stages}_c{i}_{n_adders}"
                    if height - target >= 2 and len(dots) - k >= 3:
                        group, k, height = dots[k:k + 3], k + 3, height - 2
                        counts["full"] += 1
                    else:
                        group, k, height = dots[k:k + 2], k + 2, height - 1
                        counts["half"] += 1
                    counts["const"] += any(dot[2] for dot in group)
                    s, co = self._counter(m, group, tag, has_carry=i + 1 < self.width)
                    n_adders += 1
                    new[i].append(s)
                    if co is not None:
                        new[i + 1].append(co)
                new[i].extend(dots[k:])
                did_work = did_work or n_adders > 0
            cols = new
            if did_work:
                stages += 1
        sum_row = Signal(self.width, name=f"{self.name}_sum")
        carry_row = Signal(self.width, name=f"{self.name}_carry")
        zero = Const(0, 1)
        m.d.comb += [
            sum_row.eq(Cat(*(c[0][1] if len(c) > 0 else zero for c in cols))),
            carry_row.eq(Cat(*(c[1][1] if len(c) > 1 else zero for c in cols))),
        ]
        self.stats = TreeStats(
            width=self.width,
            rows=self._rows,
            max_height=max_height,
            stages=stages,
            full_adders=counts["full"],
            half_adders=counts["half"],
            constant_input_adders=counts["const"],
        )
        return sum_row, carry_row

    @staticmethod
    def _counter(m: Module, group: list[_Dot], tag: str,
                 has_carry: bool) -> tuple[_Dot, _Dot | None]:
        """A full (3 dots) or half (2 dots) adder; the carry is dropped in the top column.

        Only the first dot can be the constant 1 (dots are sorted by level). With it a half
        adder is an inverter (``s = ~x``, ``co = x``) and a full adder ``s = ~(x ^ y)``,
        ``co = x | y``.
        """
        level = max(dot[0] for dot in group) + 1
        kind = "f" if len(group) == 3 else "h"
        s = Signal(name=f"{tag}_{kind}s")
        co = Signal(name=f"{tag}_{kind}c") if has_carry else None
        if group[0][2]:
            rest = [dot[1] for dot in group[1:]]
            if len(rest) == 1:
                x = rest[0]
                m.d.comb += s.eq(~x)
                if co is not None:
                    m.d.comb += co.eq(x)
                level = group[1][0]  # an inverter, no adder level
            else:
                x, y = rest
                m.d.comb += s.eq(~(x ^ y))
                if co is not None:
                    m.d.comb += co.eq(x | y)
        elif len(group) == 3:
            a, b, c = (dot[1] for dot in group)
            m.d.comb += s.eq(a ^ b ^ c)
            if co is not None:
                m.d.comb += co.eq((a & b) | (c & (a ^ b)))
        else:
            a, b = (dot[1] for dot in group)
            m.d.comb += s.eq(a ^ b)
            if co is not None:
                m.d.comb += co.eq(a & b)
        return (level, s, False), (None if co is None else (level, co, False))


def cpa(m: Module, x: Value | ValueCastable, y: Value | ValueCastable,
        width: int | None = None, name: str = "cpa") -> Signal:
    """The carry-propagate adder ``(x + y) mod 2**width`` as an unsigned ``width``-bit signal.

    ``width`` defaults to the wider operand. Written as ``+`` on purpose: Yosys / ABC pick the
    adder structure, the same for every design that uses this.
    """
    x, y = Value.cast(x), Value.cast(y)
    if width is None:
        width = max(len(x), len(y))
    if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
        raise ConfigError(f"cpa width must be an integer >= 1 (bits), got {width!r}")
    out = Signal(width, name=name)
    m.d.comb += out.eq(x + y)
    return out
