"""Stepped reference of the systolic array: the ``cycle`` fidelity of :class:`SystolicModel`.

Operands move through a ``rows x cols`` grid of PE registers one cycle at a time (numpy over
the whole grid per cycle). Nothing here evaluates the closed form of :mod:`.model`: cycles,
MACs and SRAM words are counted while the array steps, so the model's equations can be
checked against them.

The array frame
---------------
Each dataflow arranges the GEMM ``C[M, N] = A[M, K] @ B[K, N]`` as in the model's table:

====  =============================  =============================  ==================
df    left edge (row ``i``)           top edge (column ``j``)        output
====  =============================  =============================  ==================
os    ``A`` row ``i``, over ``K``     ``B`` column ``j``, over ``K``  ``C`` in place
ws    ``A`` column ``i``, over ``M``  ``B`` preloaded (stationary)    ``C`` at bottom
is    ``B`` row ``i``, over ``N``     ``A.T`` preloaded (stationary)  ``C.T`` at bottom
====  =============================  =============================  ==================

A layer runs in folds (tiles of at most ``rows x cols`` mapped PEs), column folds outer and
row folds inner; folds do not overlap. Unmapped lanes of a partial fold still clock (their
control tokens travel through the whole physical array, so timing depends on ``rows`` and
``cols`` only), but they carry no valid data: no SRAM word is read for them, their PEs do no
MAC, and nothing they produce is written.

One fold, cycle 0 being the cycle the fold's first input beat is accepted:

* ``os`` -- beat ``t`` of row ``i`` reaches the left edge at cycle ``t + i`` and of column
  ``j`` the top edge at ``t + j`` (skew buffers); operands move one PE right / down per
  cycle, so PE ``(i, j)`` does MAC ``t`` at cycle ``t + i + j`` into its accumulator. When
  every PE has seen all ``T`` beats (the far corner, at ``T + rows + cols - 3``) the
  accumulators drain: one result row leaves the bottom edge per cycle and the rest shift
  down, ``rows`` output beats.
* ``ws`` / ``is`` -- cycles ``0 .. rows-1`` preload the stationary operand at the top edge,
  one row per beat, shifting down. Streamed beat ``t`` then enters row ``i`` at cycle
  ``rows + t + i`` and moves right; a partial sum enters column ``j``'s top at cycle
  ``rows + t + j`` (zero for a column's first row fold, else read back from the ofmap SRAM),
  picks up one MAC per PE on its way down, and leaves the bottom edge -- one output beat,
  written to the ofmap SRAM -- in the cycle the bottom PE adds to it.

Counts
------
* ``compute_cycles``: per fold, the index of the cycle in which the fold's last output beat
  leaves the array, plus one (a count, inclusive). Under ``scalesim`` the ``os`` fold ends at
  the far corner's last MAC instead, because SCALE-Sim puts no result drain on its timeline
  (the drain still runs, to deliver results and count their writes). Folds follow one another
  without overlap, so a layer takes the sum of its folds; ``scalesim`` reports the index of
  the layer's last cycle (0-based, SCALE-Sim's figure), i.e. that sum minus one.
* ``macs``: MACs done by PEs whose two operands are both valid (mapped data).
* ``mapped_pe_folds``: per fold, the PEs that did at least one valid MAC.
* ``{ifmap,filter}_sram_reads``: valid operand words injected at the array's edges
  (streamed words at the left/top, preloaded words at the top).
* ``ofmap_sram_writes`` / ``ofmap_sram_reads``: valid partial-sum or result words leaving
  the bottom edge, and valid partial sums read back into the top edge.

:func:`stepped_layer` simulates each DISTINCT fold once -- a fold is fixed by the shape it
maps, ``(rows_used, cols_used)``, of which a layer has at most 4, and for ``ws``/``is`` by
whether it resumes partial sums from the ofmap SRAM (not a column's first row fold), so at
most 6 simulations -- on dummy (zero) operands, and multiplies each fold's counts by how many
folds of the layer are that fold. :func:`simulate_gemm` runs the same engine on every fold
with real operand values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from hwsim.config import ConfigError

from .config import SystolicConfig

__all__ = ["stepped_layer", "simulate_gemm"]

_CONVENTIONS = ("hwsim", "scalesim")


@dataclass(frozen=True)
class FoldRun:
    """What one fold did, as counted while it stepped (cycle indices are fold-relative)."""

    last_mac_cycle: int
    last_output_cycle: int
    macs: int
    mapped_pes: int
    left_words: int  # valid operand words injected at the left edge
    top_words: int  # valid operand words injected at the top edge (os stream, ws/is preload)
    psum_reads: int  # valid partial sums read back into the top edge (ws/is)
    psum_writes: int  # valid sums / results leaving the bottom edge


def _wrap(x: np.ndarray, bits: int) -> np.ndarray:
    """The accumulator register: keep the low ``bits`` bits, read back as signed."""
    if bits >= 64:
        return x  # int64 arithmetic already wraps modulo 2**64
    mask = (1 << bits) - 1
    low = x & mask
    return np.where(low >= 1 << (bits - 1), low - mask - 1, low)


def _shift_right(grid: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """Every register takes its left neighbour's value; column 0 takes the left edge."""
    return np.concatenate([edge[:, None], grid[:, :-1]], axis=1)


def _shift_down(grid: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """Every register takes its upper neighbour's value; row 0 takes the top edge."""
    return np.concatenate([edge[None, :], grid[:-1, :]], axis=0)


def _cycle_limit(rows: int, cols: int, t_len: int) -> int:
    return 4 * (rows + cols + t_len) + 16


def _os_fold(
    rows: int, cols: int, left: np.ndarray, top: np.ndarray, acc_bits: int
) -> tuple[FoldRun, np.ndarray]:
    """Output-stationary fold. ``left`` is ``ru x T`` (row ``i``'s stream), ``top`` is
    ``cu x T`` (column ``j``'s stream). Returns the run and the ``ru x cu`` result tile."""
    ru, t_len = left.shape
    cu = top.shape[0]
    ri, ci = np.arange(rows), np.arange(cols)
    shape = (rows, cols)
    a, a_ok, a_live = np.zeros(shape, np.int64), np.zeros(shape, bool), np.zeros(shape, bool)
    b, b_ok, b_live = np.zeros(shape, np.int64), np.zeros(shape, bool), np.zeros(shape, bool)
    acc = np.zeros(shape, np.int64)
    held = np.zeros(shape, bool)  # PE holds a valid (mapped) result
    beats = np.zeros(shape, np.int64)  # stream beats that have passed each PE
    macs = left_words = top_words = 0
    limit = _cycle_limit(rows, cols, t_len)

    cycle = -1
    while True:
        cycle += 1
        if cycle > limit:
            raise RuntimeError("os fold did not finish: stepping engine bug")
        # Left edge: row i is skewed by i cycles.
        beat_l = cycle - ri
        live_l = (beat_l >= 0) & (beat_l < t_len)
        ok_l = live_l & (ri < ru)
        edge_a = np.zeros(rows, np.int64)
        edge_a[ok_l] = left[ri[ok_l], beat_l[ok_l]]
        left_words += int(ok_l.sum())
        # Top edge: column j is skewed by j cycles.
        beat_t = cycle - ci
        live_t = (beat_t >= 0) & (beat_t < t_len)
        ok_t = live_t & (ci < cu)
        edge_b = np.zeros(cols, np.int64)
        edge_b[ok_t] = top[ci[ok_t], beat_t[ok_t]]
        top_words += int(ok_t.sum())

        a, a_ok, a_live = (_shift_right(g, e) for g, e in ((a, edge_a), (a_ok, ok_l),
                                                             (a_live, live_l)))
        b, b_ok, b_live = (_shift_down(g, e) for g, e in ((b, edge_b), (b_ok, ok_t),
                                                            (b_live, live_t)))
        mac = a_ok & b_ok
        acc = np.where(mac, _wrap(acc + a * b, acc_bits), acc)
        macs += int(mac.sum())
        held |= mac
        beats += a_live & b_live
        if beats.min() == t_len:  # the far corner has done its last MAC
            break
    last_mac = cycle

    # Drain: one result row leaves the bottom edge per cycle, the others shift down.
    out = np.zeros((ru, cu), np.int64)
    writes = 0
    mapped_pes = int(held.sum())
    zero_row, false_row = np.zeros(cols, np.int64), np.zeros(cols, bool)
    for beat in range(rows):
        cycle += 1
        physical_row = rows - 1 - beat
        ok = np.flatnonzero(held[-1])
        if ok.size:  # rows below the mapped ones carry no results
            out[physical_row, ok] = acc[-1, ok]
            writes += ok.size
        acc, held = _shift_down(acc, zero_row), _shift_down(held, false_row)
    return (
        FoldRun(last_mac, cycle, macs, mapped_pes, left_words, top_words, 0, writes),
        out,
    )


def _stationary_fold(
    rows: int, cols: int, stationary: np.ndarray, stream: np.ndarray,
    psums: np.ndarray | None, acc_bits: int,
) -> tuple[FoldRun, np.ndarray]:
    """Weight/input-stationary fold. ``stationary`` is ``ru x cu``; ``stream`` is ``T x ru``
    (beat ``t`` carries ``stream[t, i]`` into row ``i``); ``psums`` is ``T x cu`` read back
    from the ofmap SRAM, or ``None`` for a column's first row fold (sums start at zero).
    Returns the run and the ``T x cu`` sums that left the bottom edge."""
    ru, cu = stationary.shape
    t_len = stream.shape[0]
    ri, ci = np.arange(rows), np.arange(cols)
    shape = (rows, cols)
    w, w_ok = np.zeros(shape, np.int64), np.zeros(shape, bool)
    top_words = 0

    # Preload: `rows` beats, one row per beat entering at the top and shifting down, so the
    # row sent first ends in the bottom PE row.
    cycle = -1
    for beat in range(rows):
        cycle += 1
        dest = rows - 1 - beat
        ok = (ci < cu) & (dest < ru)
        edge = np.zeros(cols, np.int64)
        if dest < ru:  # rows below the mapped ones load nothing
            edge[ok] = stationary[dest, ci[ok]]
        top_words += int(ok.sum())
        w, w_ok = _shift_down(w, edge), _shift_down(w_ok, ok)
    start = cycle + 1  # the first streamed beat

    x, x_ok = np.zeros(shape, np.int64), np.zeros(shape, bool)
    p, p_ok, p_live = np.zeros(shape, np.int64), np.zeros(shape, bool), np.zeros(shape, bool)
    held = np.zeros(shape, bool)
    out = np.zeros((t_len, cu), np.int64)
    macs = left_words = reads = writes = beats_out = 0
    limit = _cycle_limit(rows, cols, t_len)
    while beats_out < t_len * cols:  # every physical column has emitted all T beats
        cycle += 1
        if cycle > limit:
            raise RuntimeError("stationary fold did not finish: stepping engine bug")
        # Left edge: streamed operand, row i skewed by i cycles.
        beat_l = cycle - start - ri
        live_l = (beat_l >= 0) & (beat_l < t_len)
        ok_l = live_l & (ri < ru)
        edge_x = np.zeros(rows, np.int64)
        edge_x[ok_l] = stream[beat_l[ok_l], ri[ok_l]]
        left_words += int(ok_l.sum())
        # Top edge: partial sums, column j skewed by j cycles.
        beat_t = cycle - start - ci
        live_t = (beat_t >= 0) & (beat_t < t_len)
        ok_t = live_t & (ci < cu)
        edge_p = np.zeros(cols, np.int64)
        if psums is not None:
            edge_p[ok_t] = psums[beat_t[ok_t], ci[ok_t]]
            reads += int(ok_t.sum())

        x, x_ok = _shift_right(x, edge_x), _shift_right(x_ok, ok_l)
        p, p_ok, p_live = (_shift_down(g, e) for g, e in ((p, edge_p), (p_ok, ok_t),
                                                            (p_live, live_t)))
        mac = x_ok & w_ok
        p = np.where(mac, _wrap(p + x * w, acc_bits), p)
        macs += int(mac.sum())
        held |= mac
        # Bottom edge: the bottom row's sums leave the array this cycle.
        beats_out += int(p_live[-1].sum())
        ok = np.flatnonzero(p_ok[-1])
        out[cycle - start - (rows - 1) - ok, ok] = p[-1, ok]
        writes += ok.size
    return (
        FoldRun(cycle, cycle, macs, int(held.sum()), left_words, top_words, reads, writes),
        out,
    )


def _arrange(dataflow: str, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two operands in the array frame.

    ``os``: (``A``, ``B.T``), both ``S x T`` (rows / columns by stream beat).
    ``ws``: (``B``, ``A``): stationary ``Sr x Sc`` and stream ``T x Sr``; output ``C``.
    ``is``: (``A.T``, ``B.T``): stationary ``Sr x Sc`` and stream ``T x Sr``; output ``C.T``.
    """
    if dataflow == "os":
        return a, b.T
    if dataflow == "ws":
        return b, a
    if dataflow == "is":
        return a.T, b.T
    raise ConfigError(f"dataflow must be one of os, ws, is, got '{dataflow}'")


def _extent(dataflow: str, first: np.ndarray, second: np.ndarray) -> tuple[int, int]:
    """``(Sr, Sc)``: the output extents mapped onto rows and columns."""
    if dataflow == "os":
        return first.shape[0], second.shape[0]
    return first.shape


def _folds(rows: int, cols: int, sr: int, sc: int) -> Iterator[tuple[int, int, int, int, int]]:
    """``(row_fold, r0, ru, c0, cu)`` in run order: column folds outer, row folds inner."""
    for c0 in range(0, sc, cols):
        for row_fold, r0 in enumerate(range(0, sr, rows)):
            yield row_fold, r0, min(rows, sr - r0), c0, min(cols, sc - c0)


def _run_fold(
    config: SystolicConfig, first: np.ndarray, second: np.ndarray, r0: int, ru: int, c0: int,
    cu: int, psums: np.ndarray | None,
) -> tuple[FoldRun, np.ndarray]:
    rows, cols, acc_bits = config.rows, config.cols, config.acc_width_bits
    if config.dataflow == "os":
        return _os_fold(rows, cols, first[r0:r0 + ru], second[c0:c0 + cu], acc_bits)
    return _stationary_fold(
        rows, cols, first[r0:r0 + ru, c0:c0 + cu], second[:, r0:r0 + ru], psums, acc_bits
    )


def _fold_cycles(run: FoldRun, dataflow: str, convention: str) -> int:
    if convention == "scalesim" and dataflow == "os":
        return run.last_mac_cycle + 1  # SCALE-Sim's OS fold: no result drain
    return run.last_output_cycle + 1


def _tally(
    dataflow: str, convention: str, runs: list[tuple[FoldRun, int]]
) -> dict[str, int]:
    """Layer figures from ``(fold run, how many folds ran like it)`` pairs."""
    cycles = sum(n * _fold_cycles(run, dataflow, convention) for run, n in runs)
    if convention == "scalesim":
        cycles -= 1  # the index of the last cycle, not a count
    left = sum(n * run.left_words for run, n in runs)
    top = sum(n * run.top_words for run, n in runs)
    ifmap, filt = (top, left) if dataflow == "is" else (left, top)
    return {
        "compute_cycles": cycles,
        "macs": sum(n * run.macs for run, n in runs),
        "folds": sum(n for _, n in runs),
        "mapped_pe_folds": sum(n * run.mapped_pes for run, n in runs),
        "ifmap_sram_reads": ifmap,
        "filter_sram_reads": filt,
        "ofmap_sram_reads": sum(n * run.psum_reads for run, n in runs),
        "ofmap_sram_writes": sum(n * run.psum_writes for run, n in runs),
    }


def _check_convention(convention: str) -> None:
    if convention not in _CONVENTIONS:
        raise ConfigError(
            f"convention must be one of {', '.join(_CONVENTIONS)}, got '{convention}'"
        )


def stepped_layer(
    config: SystolicConfig, m: int, n: int, k: int, convention: str
) -> dict[str, int]:
    """Figures of one group of an ``M x N`` GEMM reduced over ``K``, counted by stepping.

    Keys and meanings as :func:`.model.analytical_timing` (per group): ``compute_cycles``,
    ``macs``, ``folds``, ``mapped_pe_folds``, ``ifmap_sram_reads``, ``filter_sram_reads``,
    ``ofmap_sram_reads``, ``ofmap_sram_writes``. Each distinct fold -- its mapped shape
    ``(rows_used, cols_used)`` (at most 4 per layer) and, for ``ws``/``is``, whether it resumes
    partial sums from the ofmap SRAM -- is stepped ONCE on dummy zero operands, and its counts
    are multiplied by the number of the layer's folds like it; see the module docstring for how
    each figure is counted.
    """
    _check_convention(convention)
    for name, value in (("m", m), ("n", n), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    df = config.dataflow
    zeros_a = np.broadcast_to(np.int64(0), (int(m), int(k)))  # dummy data, no allocation
    zeros_b = np.broadcast_to(np.int64(0), (int(k), int(n)))
    first, second = _arrange(df, zeros_a, zeros_b)
    sr, sc = _extent(df, first, second)
    t_len = second.shape[1] if df == "os" else second.shape[0]
    kinds: Counter[tuple[int, int, int, int, bool]] = Counter()
    first_fold: dict[tuple[int, int, bool], tuple[int, int]] = {}
    for row_fold, r0, ru, c0, cu in _folds(config.rows, config.cols, sr, sc):
        resumes = df != "os" and row_fold > 0
        kinds[ru, cu, resumes] += 1
        first_fold.setdefault((ru, cu, resumes), (r0, c0))
    runs = []
    for (ru, cu, resumes), count in kinds.items():
        r0, c0 = first_fold[ru, cu, resumes]
        psums = np.broadcast_to(np.int64(0), (t_len, cu)) if resumes else None
        run, _ = _run_fold(config, first, second, r0, ru, c0, cu, psums)
        runs.append((run, count))
    return _tally(df, convention, runs)


def _check_operand(x: np.ndarray, name: str, width: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
        raise ConfigError(f"{name} must be a 2-D integer array, got {x.ndim}-D {x.dtype}")
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if x.size and (x.min() < lo or x.max() > hi):
        raise ConfigError(f"{name} values must lie in [{lo}, {hi}] for in_width_bits={width}")
    return x.astype(np.int64)


def _run_gemm(
    config: SystolicConfig, a: np.ndarray, b: np.ndarray, convention: str
) -> tuple[np.ndarray, dict[str, int]]:
    """Step every fold with real operands; returns ``C`` and the layer figures."""
    _check_convention(convention)
    a = _check_operand(a, "A", config.in_width_bits)
    b = _check_operand(b, "B", config.in_width_bits)
    if a.shape[1] != b.shape[0] or 0 in a.shape or 0 in b.shape:
        raise ConfigError(f"A (M x K) and B (K x N) must agree on K, got {a.shape} and {b.shape}")
    df = config.dataflow
    first, second = _arrange(df, a, b)
    sr, sc = _extent(df, first, second)
    if df == "os":
        result = np.zeros((sr, sc), np.int64)
    else:
        result = np.zeros((second.shape[0], sc), np.int64)  # the ofmap SRAM: T x Sc sums
    runs = []
    for row_fold, r0, ru, c0, cu in _folds(config.rows, config.cols, sr, sc):
        if df == "os":
            run, tile = _run_fold(config, first, second, r0, ru, c0, cu, None)
            result[r0:r0 + ru, c0:c0 + cu] = tile
        else:
            psums = result[:, c0:c0 + cu].copy() if row_fold > 0 else None
            run, tile = _run_fold(config, first, second, r0, ru, c0, cu, psums)
            result[:, c0:c0 + cu] = tile
        runs.append((run, 1))
    c = result.T if df == "is" else result
    return np.ascontiguousarray(c), _tally(df, convention, runs)


def simulate_gemm(
    config: SystolicConfig, a: np.ndarray, b: np.ndarray, convention: str = "hwsim"
) -> tuple[np.ndarray, int]:
    """Run ``C = A @ B`` through the stepped array, every fold, with real operand values.

    ``A`` is ``M x K`` and ``B`` is ``K x N``, signed ``in_width_bits`` integers; every MAC
    wraps at ``acc_width_bits`` as the accumulator register does. Returns ``(C, compute_cycles)``
    with ``C`` int64 (bit-exact with :func:`.golden.gemm`) and the cycles counted as in
    :func:`stepped_layer`. Meant for small shapes.
    """
    c, figures = _run_gemm(config, a, b, convention)
    return c, figures["compute_cycles"]
