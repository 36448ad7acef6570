"""Exact carry-save partial sums and the registered reduction levels of the tree-shaped engines.

:mod:`hwsim.rtl.matrix2d` (a ``depth``-wide dot product per PE) and :mod:`hwsim.rtl.tree` (a
``depth``-wide multiplier-adder tree) reduce the same things the same way, so their datapath
pieces live here:

* :class:`CarrySaveNode` -- a partial sum as unsigned rows plus a generation-time offset, so
  every register between stages is as narrow as its value range and no carry-save pair ever
  needs sign extension;
* :func:`carry_save_level` -- one registered 4:2 level of a reduction tree of such nodes;
* :func:`naive_dot` -- the ``naive`` dot product: registered ``a*b`` products, then
  :func:`add_level` (one registered level of a plain ``+`` tree) until one sum is left;
* :func:`booth_product` -- ``a*b`` from a per-multiplier radix-4 Booth encoder (the baseline);
* :class:`DigitSelects` and :func:`opt2_reduce` -- OPT2 (Wu et al., HPCA 2025): one shared
  encoder per A lane and the same-bit-weight reduction of the partial products.

Every reduction is a :class:`hwsim.rtl.compressor.BitMatrix` Dadda tree. Every function takes
an optional enable ``en``: without it the registers load every cycle (matrix2d's free-running
pipeline), with it only when ``en`` is high (the tree's stallable pipeline).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amaranth import Cat, Module, Signal, signed
from amaranth.hdl import Value

from hwsim.accelerators.engines.model import tree_levels

from .bitweight_encoder import N_DIGITS, BoothEncoder, EntEncoder
from .compressor import BitMatrix
from .engine_common import sync_when
from .mac_pe import select_row

__all__ = [
    "CarrySaveNode",
    "DigitSelects",
    "add_level",
    "booth_product",
    "carry_save_level",
    "digit_rows",
    "naive_dot",
    "opt2_reduce",
]


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
            sync_when(m, en, reg.eq(value))
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
        sync_when(m, en, reg.eq(total))
        out.append(reg)
    return out


def naive_dot(m: Module, a: list[Value], b: list[Value], width: int, name: str,
              en: Value | None = None) -> Value:
    """``sum(a[d] * b[d])`` with Amaranth ``*`` and ``+``, registered: the products into
    registers ``{name}_p{d}`` of ``2 * width`` signed bits (``width`` = operand bits), then
    ``ceil(log2 D)`` levels of :func:`add_level` (``{name}_l{n}``), ``1 + ceil(log2 D)``
    register stages in all."""
    level = []
    for d, (x, y) in enumerate(zip(a, b, strict=True)):
        prod = Signal(signed(2 * width), name=f"{name}_p{d}")
        sync_when(m, en, prod.eq(x * y))
        level.append(prod)
    for n in range(tree_levels(len(level))):
        level = add_level(m, level, f"{name}_l{n}", en)
    return level[0]


def digit_rows(m: Module, b: Value, neg_b: Value, en: Value, neg: Value, two: Value,
               name: str) -> list[Signal]:
    """The four unshifted partial products ``d_k(a) * b`` (``len(b) + 2`` signed bits each,
    named ``{name}_pp{k}``) of the radix-4 digit selects ``en[k], neg[k], two[k]``."""
    return [select_row(m, b, neg_b, en[k], neg[k], two[k], name=f"{name}_pp{k}")
            for k in range(N_DIGITS)]


def booth_product(m: Module, a: Value, b: Value, name: str) -> CarrySaveNode:
    """``a * b`` from a per-multiplier Booth encoder, ``-b`` and four PPs (the baseline)."""
    encoder = BoothEncoder()
    m.submodules[f"{name}_enc"] = encoder
    m.d.comb += encoder.x.eq(a)
    neg_b = Signal(signed(len(b) + 1), name=f"{name}_neg_b")
    m.d.comb += neg_b.eq(-b)
    rows = digit_rows(m, b, neg_b, encoder.en, encoder.neg, encoder.two, name)
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
        sync_when(m, en, [dst.eq(src) for dst, src in zip((self.en, self.neg, self.two),
                                                          sources, strict=True)])

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
        return digit_rows(m, b, neg_b, self.en, self.neg, self.two, name)


def opt2_reduce(m: Module, pp_rows: list[list[Value]], name: str, en: Value | None = None,
                final: Callable[[CarrySaveNode, str], Value] | None = None,
                ) -> CarrySaveNode | Value:
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
