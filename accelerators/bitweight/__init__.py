"""Bit-weight tensor-engine building blocks (installs as ``hwsim.accelerators.bitweight``).

This first slice holds the operand encoders: EN-T and radix-4 Booth digits of signed int8
values, their reconstruction, non-zero digit counts, the digit-serial sparse PE's cycle rule
and Gaussian digit statistics (:mod:`hwsim.accelerators.bitweight.encoding`). The matching
Amaranth encoders are in :mod:`hwsim.rtl.bitweight_encoder`; see docs/bitweight.md.
"""

from .encoding import (
    INT8_MAX,
    INT8_MIN,
    N_DIGITS,
    DigitStatistics,
    booth_digits,
    digit_statistics,
    ent_digits,
    gaussian_int8,
    nonzero_digits,
    reconstruct,
    sparse_cycles,
)

__all__ = [
    "INT8_MAX",
    "INT8_MIN",
    "N_DIGITS",
    "DigitStatistics",
    "booth_digits",
    "digit_statistics",
    "ent_digits",
    "gaussian_int8",
    "nonzero_digits",
    "reconstruct",
    "sparse_cycles",
]
