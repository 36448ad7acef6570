"""The tensor-engine family's one config: it drives the golden function and the model.

One :class:`EngineConfig` names an engine family (``systolic``, ``cube``, ``tree``,
``matrix2d``, ``bitslice``), its dimensions and the MAC variant its PEs use, so a sweep can put
the families side by side. Which MAC variants an engine accepts is fixed by
:data:`COMPATIBILITY`; an invalid pair is a one-line :class:`ConfigError`.

How the dimensions read per engine (see docs/engines.md):

==========  ===============================  =============================  =================
engine      rows                             cols                           depth
==========  ===============================  =============================  =================
systolic    PE rows                          PE columns                     not used
cube        rows of y-chains (M)             columns of y-chains (N)        chain length (K)
tree        tree replicas (split M)          trees per replica (N)          tree width (K)
matrix2d    PE rows (M)                      PE columns (N)                 dot width per PE (K)
bitslice    column groups (M)                PEs per column group (N)       k-group size
==========  ===============================  =============================  =================

``acc_width_bits`` is the width of the OUTPUT accumulator, where the whole reduction over K
lands (in the PE for ``systolic``/``cube``/``matrix2d``/``bitslice``; in the ofmap-side
accumulate of ``tree`` and of ``systolic`` ``ws``). The golden function wraps there. In-array
partial sums of one fold (a y-chain, an adder tree, a PE's dot product) are
:attr:`EngineConfig.psum_width_bits` wide, ``2 * in_width_bits + ceil(log2 depth)``, which
cannot overflow; the config refuses an ``acc_width_bits`` narrower than that. The default stays
32 for every engine (the notes' OS choice); set 19 for an 8x8x8 cube to get the notes' width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.accelerators.bitweight import N_DIGITS
from hwsim.config import ConfigBase, ConfigError, param

__all__ = [
    "EngineConfig",
    "ENGINES",
    "MACS",
    "DENSE_MACS",
    "SPARSE_MACS",
    "COMPATIBILITY",
    "DIGIT_ENCODINGS",
    "ENGINE_DATAFLOWS",
]

ENGINES = ("systolic", "cube", "tree", "matrix2d", "bitslice")
MACS = ("naive", "booth", "opt1", "opt2", "opt3", "opt4c", "laconic")
#: MAC variants whose cycle count does not depend on the data.
DENSE_MACS = ("naive", "booth", "opt1", "opt2")
#: Digit-serial variants: cycles depend on the operands' non-zero radix-4 digits.
SPARSE_MACS = ("opt3", "opt4c", "laconic")
DIGIT_ENCODINGS = ("ent", "booth")
ENGINE_DATAFLOWS = ("os", "ws")

#: Engine -> the MAC variants it accepts (Wu et al., HPCA 2025: OPT1 applies to the systolic
#: array, the 3D cube and the 2D matrix; OPT2 (shared operand encoder + same-bit-weight
#: reduction) to reduction trees, so the multiplier-adder tree and the 2D matrix's per-PE dot
#: product; OPT3/OPT4C are the digit-serial bit-slice column; Laconic is the labelled
#: re-implementation of Sharify et al., ISCA 2019, on the same column geometry).
COMPATIBILITY: dict[str, tuple[str, ...]] = {
    "systolic": ("naive", "booth", "opt1"),
    "cube": ("naive", "booth", "opt1"),
    "tree": ("naive", "booth", "opt2"),
    "matrix2d": ("naive", "booth", "opt1", "opt2"),
    "bitslice": ("opt3", "opt4c", "laconic"),
}

#: MAC variants whose datapath works on radix-4 digits of int8 operands.
_DIGIT_MACS = ("opt2", "opt3", "opt4c", "laconic")


@dataclass(frozen=True, kw_only=True)
class EngineConfig(ConfigBase):
    """A tensor engine of one family with one MAC variant and three operand SRAMs.

    SRAM sizes are in KiB; ``dram_bytes_per_cycle`` is the off-chip bandwidth in bytes per
    engine clock cycle. ``digit_encoding`` (ent or booth) is the radix-4 encoder of the shared
    operand A for ``opt2``/``opt3``/``opt4c``; ``laconic`` always uses Booth terms of both
    operands (its published encoding). ``operand_sigma`` is the standard deviation of the
    N(0, sigma) int8 operands the model assumes for digit-serial engines when it has no data.
    """

    unit_name = "engine"

    engine: str = param("systolic", "engine family", choices=ENGINES)
    dataflow: str = param(
        "os", "what stays in the PEs (engine systolic only; the others have a fixed dataflow)",
        choices=ENGINE_DATAFLOWS,
    )
    rows: int = param(8, "first array dimension (PE rows, replicas or column groups)",
                      low=1, high=4096, unit="PEs")
    cols: int = param(8, "second array dimension (PE columns, trees or PEs per group)",
                      low=1, high=4096, unit="PEs")
    depth: int = param(4, "reduction dimension (chain length, tree width, dot width, k-group)",
                       low=1, high=256, unit="MACs")
    mac: str = param("naive", "MAC variant of the PEs (see COMPATIBILITY)", choices=MACS)
    in_width_bits: int = param(8, "signed operand width", low=2, high=16, unit="bits")
    acc_width_bits: int = param(32, "output accumulator width", low=4, high=64, unit="bits")
    digit_encoding: str = param(
        "ent", "radix-4 encoder of operand A for opt2/opt3/opt4c", choices=DIGIT_ENCODINGS
    )
    operand_sigma: float = param(
        20.0, "std dev of the N(0, sigma) int8 operands assumed by sparse engines",
        low=0.05, high=1000.0,
    )
    ifmap_sram_kib: float = param(256.0, "input-feature-map SRAM", low=0, unit="KiB")
    filter_sram_kib: float = param(256.0, "filter (weight) SRAM", low=0, unit="KiB")
    ofmap_sram_kib: float = param(256.0, "output / partial-sum SRAM", low=0, unit="KiB")
    dram_bytes_per_cycle: float = param(
        32.0, "off-chip bandwidth per engine cycle", low=1e-9, unit="bytes/cycle"
    )
    energy_table: str = param(
        "default-45nm",
        "energy/area table: a shipped name or a path to a YAML table",
    )

    def _validate(self) -> None:
        allowed = COMPATIBILITY[self.engine]
        if self.mac not in allowed:
            raise ConfigError(
                f"mac must be one of {', '.join(allowed)} for engine {self.engine}, "
                f"got '{self.mac}'"
            )
        if self.engine != "systolic" and self.dataflow != "os":
            raise ConfigError(
                f"dataflow must be os for engine {self.engine} (only engine systolic has a ws "
                f"dataflow; {self.engine}'s dataflow is fixed), got '{self.dataflow}'"
            )
        if self.mac in _DIGIT_MACS and self.in_width_bits != 8:
            raise ConfigError(
                f"in_width_bits must be 8 for mac {self.mac} (its radix-4 digit encoders take "
                f"int8 operands), got {self.in_width_bits}"
            )
        needed = self.psum_width_bits
        if self.acc_width_bits < needed:
            rule = (
                "2 * in_width_bits + ceil(log2 depth)"
                if self.engine in ("cube", "tree", "matrix2d")
                else "2 * in_width_bits"
            )
            raise ConfigError(
                f"acc_width_bits must be >= {needed} ({rule}) for engine {self.engine}, so one "
                f"fold's partial sum fits the accumulator, got {self.acc_width_bits}"
            )

    @property
    def psum_width_bits(self) -> int:
        """Width of one fold's in-array partial sum, in bits.

        ``2 * in_width_bits + ceil(log2 depth)`` for engines that reduce ``depth`` products in
        the array before the accumulator (cube chain, adder tree, matrix2d dot product);
        ``2 * in_width_bits`` (one product) for the others, which accumulate in place.
        """
        product = 2 * self.in_width_bits
        if self.engine in ("cube", "tree", "matrix2d"):
            return product + math.ceil(math.log2(self.depth))
        return product

    @property
    def pes(self) -> int:
        """Processing elements: MAC PEs (systolic, cube nodes), dot-product PEs (matrix2d),
        trees (tree) or digit-serial PEs (bitslice)."""
        if self.engine == "cube":
            return self.rows * self.cols * self.depth
        return self.rows * self.cols

    @property
    def peak_macs_per_cycle(self) -> float:
        """MACs per cycle at best, the reference of ``utilization``.

        Dense engines: one MAC per multiplier lane per cycle (``rows * cols`` for systolic,
        ``rows * cols * depth`` for the others). ``opt3``/``opt4c``: a k-group of ``depth``
        operands takes at least one cycle per bit-weight (4 of them), so ``rows * cols *
        depth / 4``. ``laconic``: at least one cycle per k-group, ``rows * cols * depth``.
        """
        if self.engine == "systolic":
            return float(self.rows * self.cols)
        lanes = float(self.rows * self.cols * self.depth)
        if self.mac in ("opt3", "opt4c"):
            return lanes / N_DIGITS
        return lanes

    @property
    def sparse(self) -> bool:
        """True for digit-serial engines, whose cycles depend on the data."""
        return self.mac in SPARSE_MACS
