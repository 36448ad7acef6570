"""Unit helpers. Every quantity in hwsim carries its unit in its name (``*_bytes``, ``*_cycles``,
``*_pj``, ``*_mm2``, ``*_ns``, ``*_mhz``, ``*_gbps``, ``*_kib``, ``*_bits``)."""

from __future__ import annotations

__all__ = [
    "BYTES_PER_KIB",
    "bits_to_bytes",
    "kib_to_bytes",
    "cycles_to_ns",
    "ns_to_cycles",
    "UNIT_SUFFIXES",
    "RATIO_NAMES",
    "COUNT_NAMES",
    "has_unit",
]

BYTES_PER_KIB = 1024

#: Name endings that state a unit. ``_reads``/``_writes`` count word accesses, ``_macs``
#: counts multiply-accumulates.
UNIT_SUFFIXES = (
    "_cycles",
    "_bytes",
    "_words",
    "_bits",
    "_kib",
    "_pj",
    "_mm2",
    "_ns",
    "_s",
    "_mhz",
    "_gbps",
    "_macs",
    "_reads",
    "_writes",
    "_count",
)
#: Dimensionless figures (fractions in [0, 1]) whose names need no suffix.
RATIO_NAMES = frozenset({"utilization", "mapping_efficiency", "compute_utilization"})
#: Counts whose name is their unit.
COUNT_NAMES = frozenset({"macs", "folds"})


def has_unit(name: str) -> bool:
    """True when a figure's name states its unit or is a known dimensionless ratio."""
    return (
        name in RATIO_NAMES
        or name in COUNT_NAMES
        or name.endswith(UNIT_SUFFIXES)
        or name.endswith("_fraction")
    )


def bits_to_bytes(bits: float) -> float:
    """Bits to bytes (not rounded: packed sub-byte operands stay fractional)."""
    return bits / 8


def kib_to_bytes(kib: float) -> float:
    """KiB (1024 bytes) to bytes."""
    return kib * BYTES_PER_KIB


def cycles_to_ns(cycles: float, clock_mhz: float) -> float:
    """Cycles at ``clock_mhz`` to nanoseconds."""
    return cycles * 1e3 / clock_mhz


def ns_to_cycles(ns: float, clock_mhz: float) -> float:
    """Nanoseconds to cycles at ``clock_mhz`` (not rounded)."""
    return ns * clock_mhz / 1e3
