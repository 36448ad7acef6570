"""Radix-4 digit encoders of signed int8 operands for bit-weight tensor engines.

An int8 operand ``x`` is written as four radix-4 digits, least significant first::

    x = d[0] + 4*d[1] + 16*d[2] + 64*d[3],    d[i] in {-2, -1, 0, 1, 2}

Two encoders produce such digits:

* :func:`ent_digits` -- EN-T (Wu et al., ICCD 2024). The operand is taken as sign and magnitude
  (``-128`` keeps the magnitude 128, which fits 8 unsigned bits). The magnitude is cut into 2-bit
  groups ``g[i]`` from the LSB and a carry ``c`` (initially 0) runs up the groups: for the three
  lower groups a sum ``g[i] + c`` of 3 or more becomes the digit ``g[i] + c - 4`` with ``c = 1``,
  anything else is the digit ``g[i] + c`` with ``c = 0``; the top group takes ``g[3] + c``.
  Before the sign is applied every digit lies in ``{-1, 0, 1, 2}`` (the top one in ``{0, 1, 2}``);
  the operand's sign then multiplies every digit.
* :func:`booth_digits` -- standard radix-4 (modified) Booth recoding of the two's-complement
  bits ``b``: ``d[i] = -2*b[2i+1] + b[2i] + b[2i-1]`` with ``b[-1] = 0``.

Both reconstruct every int8 value exactly (:func:`reconstruct`). A zero digit costs nothing in
a sparse PE, so the count of non-zero digits (:func:`nonzero_digits`) and the digit-serial
sparse PE's cycle count (:func:`sparse_cycles`) are the figures of merit;
:func:`digit_statistics` measures them on Gaussian int8 data.

Input checking: operands must be integers in ``[-128, 127]`` and digits integers in
``[-2, 2]``; anything else raises :class:`hwsim.config.ConfigError` with a one-line message.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from hwsim.config import ConfigError

__all__ = [
    "N_DIGITS",
    "INT8_MIN",
    "INT8_MAX",
    "DigitStatistics",
    "ent_digits",
    "booth_digits",
    "reconstruct",
    "nonzero_digits",
    "sparse_cycles",
    "digit_statistics",
    "gaussian_int8",
]

#: Radix-4 digits per int8 operand.
N_DIGITS = 4
INT8_MIN, INT8_MAX = -128, 127


def _check_int8(x: object, name: str = "x") -> np.ndarray:
    """``x`` as an int64 array after checking it holds int8 integers."""
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{name} must hold integers (signed int8 values), got dtype {arr.dtype}")
    if arr.size and (arr.min() < INT8_MIN or arr.max() > INT8_MAX):
        bad = arr[(arr < INT8_MIN) | (arr > INT8_MAX)].flat[0]
        raise ConfigError(
            f"{name} values must lie in [{INT8_MIN}, {INT8_MAX}] (signed int8), got {int(bad)}"
        )
    return arr.astype(np.int64)


def _check_digits(digits: object, name: str = "digits", min_ndim: int = 1) -> np.ndarray:
    """``digits`` as an int64 array after checking dtype, rank and the digit range."""
    arr = np.asarray(digits)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{name} must hold integers (radix-4 digits), got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ConfigError(
            f"{name} must have at least {min_ndim} dimension(s) (digits on the last axis), "
            f"got shape {arr.shape}"
        )
    if arr.size and (arr.min() < -2 or arr.max() > 2):
        raise ConfigError(
            f"{name} must lie in [-2, 2] (radix-4 digits), got {arr.min()}..{arr.max()}"
        )
    return arr.astype(np.int64)


def ent_digits(x: np.ndarray) -> np.ndarray:
    """EN-T digits of signed int8 operands, shape ``x.shape + (4,)``, LSB digit first.

    Digits are in ``{-2, ..., 2}``; for ``x >= 0`` they are in ``{-1, 0, 1, 2}`` and for
    ``x < 0`` in ``{-2, -1, 0, 1}`` (the negated set), the top digit's magnitude at most 2.
    Examples (MSB..LSB): 91 -> 1, 2, -1, -1; 124 -> 2, 0, -1, 0; -128 -> -2, 0, 0, 0.
    """
    x = _check_int8(x)
    sign = np.where(x < 0, -1, 1)
    mag = np.abs(x)  # 0..128; int64, so -128 keeps its magnitude
    carry = np.zeros_like(mag)
    out = np.empty(x.shape + (N_DIGITS,), dtype=np.int64)
    for i in range(N_DIGITS):
        total = ((mag >> (2 * i)) & 3) + carry  # 0..4
        if i < N_DIGITS - 1:
            wrap = total >= 3
            out[..., i] = np.where(wrap, total - 4, total)
            carry = wrap.astype(np.int64)
        else:
            out[..., i] = total  # mag <= 128 keeps this <= 2
    return out * sign[..., None]


def booth_digits(x: np.ndarray) -> np.ndarray:
    """Radix-4 Booth digits of signed int8 operands, shape ``x.shape + (4,)``, LSB first.

    ``d[i] = -2*b[2i+1] + b[2i] + b[2i-1]`` over the two's-complement bits (``b[-1] = 0``);
    digits in ``{-2, ..., 2}``.
    """
    bits = _check_int8(x) & 0xFF
    out = np.empty(bits.shape + (N_DIGITS,), dtype=np.int64)
    for i in range(N_DIGITS):
        hi = (bits >> (2 * i + 1)) & 1
        mid = (bits >> (2 * i)) & 1
        lo = (bits >> (2 * i - 1)) & 1 if i else 0
        out[..., i] = -2 * hi + mid + lo
    return out


def reconstruct(digits: np.ndarray) -> np.ndarray:
    """``sum(d[i] * 4**i)`` over the last axis (int64): the value the digits stand for."""
    d = _check_digits(digits)
    weights = 4 ** np.arange(d.shape[-1], dtype=np.int64)
    return d @ weights


def nonzero_digits(digits: np.ndarray) -> np.ndarray:
    """Non-zero digits per operand: the count over the last axis.

    Returns int64 of shape ``digits.shape[:-1]``.
    """
    d = _check_digits(digits)
    return np.count_nonzero(d, axis=-1).astype(np.int64)


def sparse_cycles(a_digits: np.ndarray, group: int = 4) -> np.ndarray | int:
    """Cycles of the digit-serial sparse PE (OPT3 / OPT4C) for K-vectors of encoded operands.

    ``a_digits`` has shape ``(..., K, n_digits)``: the digits of ``K`` operands of one dot
    product (leading axes are independent vectors). The PE runs bit-weight ``j`` as its outer,
    temporal loop and takes the ``K`` operands in groups of ``group`` consecutive ones; for each
    (group, ``j``) its sparse encoder issues one non-zero digit per cycle, and a group whose
    digits ``j`` are all zero still costs one cycle. So::

        cycles = sum over (group g, bit-weight j) of max(1, #{k in g : d_j(a_k) != 0})

    A last, partial group (``K`` not a multiple of ``group``) counts as a group of its own.
    Returns an int for a single vector (2-D input), else an int64 array of shape ``(...)``.
    """
    if isinstance(group, bool) or not isinstance(group, numbers.Integral) or group < 1:
        raise ConfigError(f"group must be an integer >= 1, got {group!r}")
    d = _check_digits(a_digits, "a_digits", min_ndim=2)
    k, n_digits = d.shape[-2], d.shape[-1]
    n_groups = -(-k // group)
    pad = n_groups * group - k
    if pad:  # zero operands add no non-zero digits; max(1, .) still charges the group once
        d = np.concatenate([d, np.zeros(d.shape[:-2] + (pad, n_digits), np.int64)], axis=-2)
    grouped = d.reshape(d.shape[:-2] + (n_groups, group, n_digits))
    nnz = np.count_nonzero(grouped, axis=-2)  # (..., n_groups, n_digits)
    cycles = np.maximum(1, nnz).sum(axis=(-2, -1)).astype(np.int64)
    return int(cycles) if cycles.ndim == 0 else cycles


@dataclass(frozen=True)
class DigitStatistics:
    """What :func:`digit_statistics` measured (all means are per int8 operand)."""

    sigma: float
    samples: int
    seed: int
    group: int
    ent_nnz_per_operand: float
    booth_nnz_per_operand: float
    ent_cycles_per_operand: float
    booth_cycles_per_operand: float


def gaussian_int8(sigma: float, samples: int, seed: int) -> np.ndarray:
    """``samples`` int8 operands drawn from N(0, ``sigma``): rounded half-to-even
    (:func:`numpy.rint`), then clipped to ``[-128, 127]`` (not rejected), as int64."""
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(rng.normal(0.0, sigma, samples)), INT8_MIN, INT8_MAX).astype(np.int64)


def digit_statistics(sigma: float, samples: int, seed: int, group: int = 4) -> DigitStatistics:
    """Mean non-zero digits and sparse-PE cycles per operand on Gaussian int8 data.

    Draws ``samples`` operands with :func:`gaussian_int8` (N(0, ``sigma``), ``numpy``'s
    ``default_rng(seed)``, rounded to the nearest integer with ties to even, then **clipped**
    to ``[-128, 127]``; the tails are clipped, not redrawn) and encodes them with EN-T and Booth.
    Cycles per operand are :func:`sparse_cycles` over the whole draw, taken as one vector in
    groups of ``group`` consecutive operands, divided by ``samples``.
    """
    if (
        isinstance(sigma, bool)
        or not isinstance(sigma, numbers.Real)
        or not (math.isfinite(sigma) and sigma > 0)
    ):
        raise ConfigError(f"sigma must be a finite number > 0, got {sigma!r}")
    for name, value, low in (("samples", samples, 1), ("seed", seed, 0), ("group", group, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    x = gaussian_int8(float(sigma), int(samples), int(seed))
    ent, booth = ent_digits(x), booth_digits(x)
    return DigitStatistics(
        sigma=float(sigma),
        samples=int(samples),
        seed=int(seed),
        group=int(group),
        ent_nnz_per_operand=float(nonzero_digits(ent).mean()),
        booth_nnz_per_operand=float(nonzero_digits(booth).mean()),
        ent_cycles_per_operand=sparse_cycles(ent, group) / samples,
        booth_cycles_per_operand=sparse_cycles(booth, group) / samples,
    )
