"""The golden functions against independent references (Python integers, naive loops)."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.accelerators.systolic import conv2d, gemm, wrap_signed
from hwsim.config import ConfigError


def _wrap_python(value: int, width: int) -> int:
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def _naive_gemm(a, b, acc):
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=object)
    for i in range(m):
        for j in range(n):
            total = 0
            for x in range(k):
                total = _wrap_python(total + int(a[i, x]) * int(b[x, j]), acc)  # wrap every MAC
            out[i, j] = total
    return out


@pytest.mark.parametrize(("w", "acc"), [(8, 32), (3, 6), (5, 11), (16, 32), (7, 14)])
def test_gemm_matches_naive_wrapping_mac(seed, w, acc):
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    m, n, k = rng.integers(1, 9, size=3)
    a = rng.integers(lo, hi + 1, size=(m, k))
    b = rng.integers(lo, hi + 1, size=(k, n))
    expected = _naive_gemm(a, b, acc)
    got = gemm(a, b, in_width_bits=w, acc_width_bits=acc)
    assert (got == expected.astype(np.int64)).all(), f"seed={seed}"


def test_gemm_extremes_wrap():
    w, acc, k = 8, 16, 7
    a = np.full((3, k), -128)
    b = np.full((k, 2), -128)
    # 7 * 16384 = 114688 wraps modulo 2**16 to 114688 - 131072 = -16384
    assert (gemm(a, b, in_width_bits=w, acc_width_bits=acc) == -16384).all()


def test_wrap_signed_matches_python():
    values = np.array([0, 1, -1, 127, 128, -129, 2**40 + 5, -(2**40) - 5])
    for width in (2, 8, 13, 32):
        assert wrap_signed(values, width).tolist() == [_wrap_python(int(v), width) for v in values]


def test_operand_range_checked():
    with pytest.raises(ConfigError, match=r"A values must lie in \[-8, 7\]"):
        gemm(np.array([[8]]), np.array([[1]]), in_width_bits=4, acc_width_bits=8)
    with pytest.raises(ConfigError, match="must agree on K"):
        gemm(np.ones((2, 3), int), np.ones((2, 3), int))


def test_conv2d_matches_direct_loops(seed):
    rng = np.random.default_rng(seed)
    h, w, ch, fh, fw, nf, stride = 7, 6, 3, 3, 2, 4, 2
    ifmap = rng.integers(-128, 128, size=(h, w, ch))
    filters = rng.integers(-128, 128, size=(fh, fw, ch, nf))
    out = conv2d(ifmap, filters, stride)
    out_h, out_w = (h - fh) // stride + 1, (w - fw) // stride + 1
    assert out.shape == (out_h, out_w, nf)
    for y in range(out_h):
        for x in range(out_w):
            for f in range(nf):
                window = ifmap[y * stride : y * stride + fh, x * stride : x * stride + fw, :]
                assert out[y, x, f] == int((window * filters[:, :, :, f]).sum()), f"seed={seed}"
