"""Bit-exact golden function of the tensor-engine family, with the cycles the data costs.

:func:`engine_gemm` returns ``C = A @ B`` wrapped to ``acc_width_bits`` two's complement (what
the RTL's output accumulator holds) and the compute cycles of that GEMM on the engine.

Values. Dense variants compute the plain integer product. Bit-weight variants compute it the
way their datapath does, from radix-4 digits (``x = sum_j d_j(x) * 4**j``): opt2/opt3/opt4c as
``sum_j 4**j * (D_j(A) @ B)`` with the config's ``digit_encoding`` of A, laconic as
``sum_{i,j} 4**(i+j) * (D_i(A) @ D_j(B))`` with Booth digits of both operands. All are equal
to ``A @ B`` exactly; the tests hold them to plain numpy.

Cycles. Dense engines: ``folds * fold_cycles(config, T)`` (:mod:`.model`'s RTL contract; the
data does not matter). Bitslice: per fold ``fold_cycles_bitslice(config, t)`` with ``t`` the
fold's digit-issue cycles. All column groups (rows of A) and all PEs of a fold step in
lockstep through the k-groups of ``depth`` operands:

* opt3 / opt4c -- bit-weight ``j`` is the outer, temporal loop; a (k-group, j) step lasts
  ``max(1, max over the fold's A rows of #{k in group : d_j(a[m, k]) != 0})`` cycles. For one
  row this is :func:`hwsim.accelerators.bitweight.sparse_cycles`. The PEs of a column group
  share A (opt4c: one encoder per group; opt3: one per PE, same digits), so they never wait
  on each other; only the rows of a fold synchronise.
* laconic -- a labelled RE-IMPLEMENTATION of Laconic's cycle rule (Sharify et al., ISCA
  2019) from the paper's description, not from their RTL (none is public). A PE (an LPE of
  ``depth`` lanes) multiplies term by term: terms are the non-zero radix-4 Booth digits of
  each operand. Lanes synchronise on the slowest one, so a k-group of PE ``(m, n)`` takes
  ``max_lane terms(a) * max_lane terms(w)``; with the whole fold in lockstep the step is
  ``MA * MW``, the maxima over the fold's A rows and B columns. A step costs at least one
  cycle (``max(1, MA * MW)``), as the OPT3 rule does: a group is fetched even if all its
  terms are zero. (The notes' rule has no floor; they differ only on all-zero groups.)
"""

from __future__ import annotations

import numpy as np

from hwsim.accelerators.bitweight import booth_digits, ent_digits
from hwsim.accelerators.systolic.golden import gemm, wrap_signed
from hwsim.config import ConfigError

from .config import EngineConfig
from .model import engine_mapping, fold_cycles, fold_cycles_bitslice

__all__ = ["engine_gemm", "engine_product", "issue_cycles_per_fold", "gemm_cycles"]


def _check_shapes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or 0 in a.shape + b.shape:
        raise ConfigError(
            f"A (M x K) and B (K x N) must be non-empty and agree on K, got {a.shape} and "
            f"{b.shape}"
        )
    return a, b


def _int8(x: np.ndarray, name: str) -> np.ndarray:
    if not np.issubdtype(x.dtype, np.integer):
        raise ConfigError(f"{name} must hold integers (signed int8 values), got dtype {x.dtype}")
    if x.min() < -128 or x.max() > 127:
        raise ConfigError(f"{name} values must lie in [-128, 127] (signed int8)")
    return x.astype(np.int64)


def _a_digits(config: EngineConfig, a: np.ndarray) -> np.ndarray:
    encoder = ent_digits if config.digit_encoding == "ent" else booth_digits
    return encoder(a)


def engine_product(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A @ B`` as the engine's datapath forms it, wrapped to ``acc_width_bits`` (int64)."""
    a, b = _check_shapes(a, b)
    if config.mac in ("opt2", "opt3", "opt4c"):
        digits = _a_digits(config, a)  # the encoder checks A holds int8 values
        bb = _int8(b, "B")
        total = sum((4**j) * (digits[..., j] @ bb) for j in range(digits.shape[-1]))
        return wrap_signed(total, config.acc_width_bits)
    if config.mac == "laconic":
        da, dw = booth_digits(a), booth_digits(b)
        total = sum(
            (4 ** (i + j)) * (da[..., i] @ dw[..., j])
            for i in range(da.shape[-1])
            for j in range(dw.shape[-1])
        )
        return wrap_signed(total, config.acc_width_bits)
    return gemm(a, b, in_width_bits=config.in_width_bits, acc_width_bits=config.acc_width_bits)


def _pad(x: np.ndarray, axis: int, multiple: int) -> np.ndarray:
    """Zero-pad ``axis`` up to a multiple (zero operands add no digits or terms)."""
    extra = -x.shape[axis] % multiple
    if not extra:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, extra)
    return np.pad(x, widths)


def issue_cycles_per_fold(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Digit-issue cycles of every bitslice fold, shape ``(row folds, column folds)`` (int64).

    Row fold ``p`` maps A rows ``p*rows ..``, column fold ``q`` B columns ``q*cols ..``; see
    the module docstring for the step rules.
    """
    if not config.sparse:
        raise ConfigError(f"mac must be one of opt3, opt4c, laconic for digit-issue cycles, "
                          f"got '{config.mac}'")
    a, b = _check_shapes(a, b)
    r, c, d = config.rows, config.cols, config.depth
    folds_r, folds_c, groups = engine_mapping(config, a.shape[0], b.shape[1], a.shape[1])
    if config.mac == "laconic":
        terms_a = np.count_nonzero(booth_digits(a), axis=-1)  # (M, K)
        terms_w = np.count_nonzero(booth_digits(b), axis=-1)  # (K, N)
        terms_a = _pad(_pad(terms_a, 0, r), 1, d)
        terms_w = _pad(_pad(terms_w, 0, d), 1, c)
        max_a = terms_a.reshape(folds_r, r, groups, d).max(axis=(1, 3))  # (folds_r, groups)
        max_w = terms_w.reshape(groups, d, folds_c, c).max(axis=(1, 3))  # (groups, folds_c)
        steps = np.maximum(1, max_a[:, :, None] * max_w[None, :, :])
        return steps.sum(axis=1).astype(np.int64)
    digits = _pad(_pad(_a_digits(config, a), 0, r), 1, d)  # (M', K', 4)
    grouped = digits.reshape(folds_r, r, groups, d, digits.shape[-1])
    nonzero = np.count_nonzero(grouped, axis=3)  # (folds_r, rows, groups, 4)
    steps = np.maximum(1, nonzero.max(axis=1))  # rows of a fold in lockstep
    per_row_fold = steps.sum(axis=(1, 2)).astype(np.int64)
    return np.repeat(per_row_fold[:, None], folds_c, axis=1)


def gemm_cycles(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> int:
    """Compute cycles of ``A @ B`` on the engine (no stalls): the sum of its folds."""
    a, b = _check_shapes(a, b)
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    if config.sparse:
        return int(fold_cycles_bitslice(config, issue_cycles_per_fold(config, a, b)).sum())
    folds_r, folds_c, t = engine_mapping(config, m, n, k)
    return int(folds_r * folds_c * fold_cycles(config, t))


def engine_gemm(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """``(C, cycles)``: ``C = A @ B`` (``A`` is M x K, ``B`` K x N, signed ``in_width_bits``
    integers) wrapped to ``acc_width_bits`` (int64), and the compute cycles of this GEMM."""
    return engine_product(config, a, b), gemm_cycles(config, a, b)
