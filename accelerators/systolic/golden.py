"""Bit-exact reference functions of the systolic array: signed integer GEMM and convolution
with the accumulator wrapping at ``acc_width_bits`` (two's complement), as the RTL does."""

from __future__ import annotations

import numpy as np

from hwsim.config import ConfigError

__all__ = ["wrap_signed", "gemm", "conv2d", "im2col"]


def wrap_signed(values: np.ndarray, width_bits: int) -> np.ndarray:
    """Reduce integers to ``width_bits``-bit two's complement (int64 result)."""
    if not 1 <= width_bits <= 64:
        raise ConfigError(f"width_bits must be an integer in [1, 64], got {width_bits}")
    values = np.asarray(values).astype(np.int64)
    if width_bits == 64:
        return values
    mask = np.int64((1 << width_bits) - 1)
    half = np.int64(1 << (width_bits - 1))
    return ((values & mask) ^ half) - half


def _check_operand(x: np.ndarray, name: str, in_width_bits: int) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ConfigError(f"{name} must hold integers, got dtype {x.dtype}")
    lo, hi = -(1 << (in_width_bits - 1)), (1 << (in_width_bits - 1)) - 1
    if x.size and (x.min() < lo or x.max() > hi):
        raise ConfigError(
            f"{name} values must lie in [{lo}, {hi}] for in_width_bits={in_width_bits}"
        )
    return x.astype(np.int64)


def gemm(
    a: np.ndarray, b: np.ndarray, *, in_width_bits: int = 8, acc_width_bits: int = 32
) -> np.ndarray:
    """``C = A @ B`` for signed ``in_width_bits`` operands, wrapped to ``acc_width_bits``.

    ``A`` is ``M x K`` and ``B`` is ``K x N``. Wrapping after the full sum equals wrapping
    after every MAC, because two's-complement addition is associative modulo ``2**acc``.
    The sum is formed in int64 after reducing each product, so it cannot overflow for any
    ``K`` below ``2**(63 - 2*in_width_bits)``.
    """
    a = _check_operand(a, "A", in_width_bits)
    b = _check_operand(b, "B", in_width_bits)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ConfigError(f"A (M x K) and B (K x N) must agree on K, got {a.shape} and {b.shape}")
    # Products of two in_width operands fit in 2*in_width bits; dot in int64 is exact for any
    # realistic K, and the mod-2**acc reduction commutes with the sum.
    return wrap_signed(a @ b, acc_width_bits)


def im2col(ifmap: np.ndarray, filter_h: int, filter_w: int, stride: int) -> np.ndarray:
    """Rows = output pixels (row-major), columns = window elements (h, w, channel).

    ``ifmap`` is ``H x W x C`` (already padded).
    """
    h, w, ch = ifmap.shape
    out_h = (h - filter_h) // stride + 1
    out_w = (w - filter_w) // stride + 1
    windows = np.lib.stride_tricks.sliding_window_view(ifmap, (filter_h, filter_w), axis=(0, 1))
    windows = windows[::stride, ::stride][:out_h, :out_w]  # out_h x out_w x C x fh x fw
    return windows.transpose(0, 1, 3, 4, 2).reshape(out_h * out_w, filter_h * filter_w * ch)


def conv2d(
    ifmap: np.ndarray,
    filters: np.ndarray,
    stride: int = 1,
    *,
    in_width_bits: int = 8,
    acc_width_bits: int = 32,
) -> np.ndarray:
    """Convolution of ``ifmap`` (``H x W x C``) with ``filters`` (``Fh x Fw x C x N``).

    Returns ``out_h x out_w x N``, computed as the im2col GEMM the array runs.
    """
    fh, fw, ch, nf = filters.shape
    if ifmap.ndim != 3 or ifmap.shape[2] != ch:
        raise ConfigError(f"ifmap must be H x W x {ch}, got shape {ifmap.shape}")
    cols = im2col(np.asarray(ifmap), fh, fw, stride)
    out = gemm(
        cols,
        filters.reshape(fh * fw * ch, nf),
        in_width_bits=in_width_bits,
        acc_width_bits=acc_width_bits,
    )
    out_h = (ifmap.shape[0] - fh) // stride + 1
    return out.reshape(out_h, -1, nf)
