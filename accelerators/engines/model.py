"""Timing, traffic, energy and area model of the tensor-engine family.

Every layer is a GEMM ``C[M, N] = A[M, K] @ B[K, N]`` (``groups`` independent copies for
depthwise layers). Each engine maps two of M, N, K onto its array, streams the third in
``T`` beats per fold, and runs folds one after another (no overlap, as the systolic model):

=========  ==========================  ==========================  ================  =========
engine     row folds                   column folds                T (beats/fold)    stays
=========  ==========================  ==========================  ================  =========
systolic   as :mod:`..systolic.model`  (os: M/rows, N/cols; ws: K/rows, N/cols)      os / ws
cube       ceil(M / rows)              ceil(N / cols)              ceil(K / depth)   outputs
matrix2d   ceil(M / rows)              ceil(N / cols)              ceil(K / depth)   outputs
tree       ceil(K / depth)             ceil(N / cols)              ceil(M / rows)    weights
bitslice   ceil(M / rows)              ceil(N / cols)              data-dependent    outputs
=========  ==========================  ==========================  ================  =========

The RTL contract
----------------
Each engine's cycles per fold are ONE function below (``fold_cycles_<engine>``), counted
like the systolic array's: from the cycle the fold's first input beat is accepted to the
cycle of its last output beat, inclusive, no backpressure. A future Amaranth generator must
meet these exactly. ``L = ceil(log2 depth)`` is the number of registered adder-tree levels;
``X`` the MAC variant's extra pipeline stages (:data:`EXTRA_STAGES`: opt1 +1 for the CPA row
that resolves carry-save results on their way out, opt2 +3 for the registered shared encoder
and the two levels that shift and add the four bit-weight sums)::

    systolic  2*rows + cols + T - 2 + X             (the systolic model's contract)
    cube      T + 2*rows + cols + depth - 2 + X
    matrix2d  T + L + rows + 1 + X
    tree      depth + T + cols + L - 1 + X
    bitslice  t + rows + 3                          (t = the fold's digit-issue cycles)

Digit-serial engines (``bitslice``) issue ``t`` cycles per fold that depend on the operands'
digits (see :mod:`.golden`); with no data the model uses their EXPECTED value for int8
operands drawn from N(0, ``operand_sigma``), rounded to N(0, sigma) then clipped to int8 as
:func:`hwsim.accelerators.bitweight.gaussian_int8` does. The expectation is a closed form
(:func:`expected_issue_cycles`) from the per-bit-weight non-zero digit probabilities; a
layer's expected cycles are rounded to a whole cycle.

Traffic follows the systolic model's rules: cube, matrix2d and bitslice as its ``os``
dataflow on a ``rows x cols`` array, tree as its ``ws`` dataflow on a ``depth x cols`` array
(the weights of one fold stay in the trees; partial sums of K folds go to the ofmap SRAM).
Stalls: ``max(0, ceil(dram_bytes / dram_bytes_per_cycle) - compute_cycles)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.accelerators.bitweight import N_DIGITS, booth_digits, ent_digits
from hwsim.accelerators.systolic import SystolicConfig
from hwsim.accelerators.systolic import model as systolic_model
from hwsim.accelerators.systolic.model import nested_records
from hwsim.config import ConfigError
from hwsim.energy import EnergyAreaTable, load_table
from hwsim.stats import LayerTable, Result
from hwsim.workloads import Workload

from .config import EngineConfig

__all__ = [
    "EXTRA_STAGES",
    "SPARSE_TAIL_STAGES",
    "EngineModel",
    "tree_levels",
    "fold_cycles",
    "fold_cycles_systolic",
    "fold_cycles_cube",
    "fold_cycles_matrix2d",
    "fold_cycles_tree",
    "fold_cycles_bitslice",
    "engine_mapping",
    "equivalent_systolic",
    "int8_pmf",
    "digit_nonzero_probabilities",
    "terms_pmf",
    "expected_issue_cycles",
    "analytical_timing",
]

OPERANDS = ("ifmap", "filter", "ofmap")
#: Extra pipeline stages a MAC variant adds to a dense engine's fold (see the module doc).
EXTRA_STAGES = {"naive": 0, "booth": 0, "opt1": 1, "opt2": 3}
#: Bitslice fold tail: 1 cycle to encode the first k-group before issue, 1 CPA cycle that
#: resolves the last bit-weight pass's carry-save accumulator, 1 shift-add into the result.
SPARSE_TAIL_STAGES = 3


def _ceil_div(a: Any, b: Any) -> Any:
    return -(-a // b)


def tree_levels(depth: int) -> int:
    """Registered levels of a binary adder tree over ``depth`` inputs: ``ceil(log2 depth)``."""
    return (int(depth) - 1).bit_length()


# ---- the RTL contract: one function per engine --------------------------------------------
def equivalent_systolic(config: EngineConfig) -> SystolicConfig:
    """The systolic array whose timing (engine systolic) or traffic rules an engine shares.

    systolic: itself; cube, matrix2d, bitslice: an ``os`` array of ``rows x cols``; tree: a
    ``ws`` array of ``depth x cols`` (one fold holds a ``depth x cols`` block of weights).
    """
    if config.engine == "systolic":
        rows, dataflow = config.rows, config.dataflow
    elif config.engine == "tree":
        rows, dataflow = config.depth, "ws"
    else:
        rows, dataflow = config.rows, "os"
    return SystolicConfig(
        rows=rows,
        cols=config.cols,
        dataflow=dataflow,
        in_width_bits=config.in_width_bits,
        acc_width_bits=config.acc_width_bits,
        ifmap_sram_kib=config.ifmap_sram_kib,
        filter_sram_kib=config.filter_sram_kib,
        ofmap_sram_kib=config.ofmap_sram_kib,
        dram_bytes_per_cycle=config.dram_bytes_per_cycle,
        energy_table=config.energy_table,
    )


def fold_cycles_systolic(config: EngineConfig, t: Any) -> Any:
    """Systolic fold: ``2*rows + cols + T - 2`` (the systolic model's contract) plus opt1's
    CPA row at the output edge (+1: os result rows and ws partial sums leave through one
    registered row of carry-propagate adders, back to back, so only the last beat is later).
    """
    base = systolic_model.cycles_per_fold(equivalent_systolic(config), t)
    return base + EXTRA_STAGES[config.mac]


def fold_cycles_cube(config: EngineConfig, t: Any) -> Any:
    """Cube fold of ``T`` k-chunks: ``T + 2*rows + cols + depth - 2 + X``.

    Chain ``(i, j)`` (x = i over M, z = j over N) has ``depth`` PEs along y. A-chunk ``t`` of
    row ``i`` enters at z = 0 and moves one PE per cycle along z; B-chunk ``t`` of column ``j``
    enters at x = 0 and moves along x; both are skewed by ``y`` so PE ``(i, y, j)`` multiplies
    beat ``t`` at cycle ``t + i + j + y`` and adds the partial sum from ``y - 1``. The chain
    end's accumulator adds it at ``t + i + j + depth``. After the far corner's last
    accumulate (cycle ``T + rows + cols + depth - 3``) the ``rows`` result rows drain one per
    cycle. opt1 adds the registered CPA row on the drain (+1).
    """
    r, c, d = config.rows, config.cols, config.depth
    return t + 2 * r + c + d - 2 + EXTRA_STAGES[config.mac]


def fold_cycles_matrix2d(config: EngineConfig, t: Any) -> Any:
    """Matrix2d fold of ``T`` k-chunks: ``T + L + rows + 1 + X``.

    Beat ``t`` is accepted at cycle ``t`` and broadcast (no skew): A-chunk of row ``i`` to the
    PEs of row ``i``, B-chunk of column ``j`` to the PEs of column ``j``. Each PE forms its
    ``depth`` products in cycle ``t`` (registered), reduces them in ``L`` registered tree
    levels (cycles ``t+1 .. t+L``) and accumulates at ``t + L + 1``. After the last beat's
    accumulate (cycle ``T + L``) the ``rows`` result rows drain one per cycle. opt1 adds the
    CPA row on the drain (+1); opt2 the shared-encoder register and two levels combining the
    four bit-weight sums (+3).
    """
    return t + tree_levels(config.depth) + config.rows + 1 + EXTRA_STAGES[config.mac]


def fold_cycles_tree(config: EngineConfig, t: Any) -> Any:
    """Tree fold of ``T = ceil(M / rows)`` A rows per replica: ``depth + T + cols + L - 1 + X``.

    Cycles ``0 .. depth-1`` write one k-row of the fold's weights into every tree's
    ``depth``-entry weight register (broadcast to the ``rows`` replicas). Beat ``t`` (one A
    row chunk per replica) is accepted at column 0 at cycle ``depth - 1 + t`` (beat 0 with
    the last weight row, read from the port by tree 0) and pipelined one tree per cycle, so
    tree ``j`` registers its products at ``depth - 1 + t + j``; ``L`` registered levels later
    (cycle ``depth + t + j + L``) its partial sum is ready, and de-skew registers send the
    ``cols`` sums of a replica as one output beat at ``depth + t + cols - 1 + L``. opt2 adds
    the registered shared encoder before column 0 and two bit-weight combine levels (+3).
    The generator :mod:`hwsim.rtl.tree` meets this exactly.
    """
    d = config.depth
    return d + t + config.cols + tree_levels(d) - 1 + EXTRA_STAGES[config.mac]


def fold_cycles_bitslice(config: EngineConfig, t: Any) -> Any:
    """Bitslice fold with ``t`` digit-issue cycles: ``t + rows + 3``.

    Cycle 0 encodes the first k-group (registered); issue cycles ``1 .. t`` feed one
    partial product per PE per cycle into its carry-save accumulator (all column groups and
    PEs step in lockstep, see :mod:`.golden`); cycle ``t + 1`` resolves the last bit-weight
    pass (CPA), cycle ``t + 2`` shifts and adds it into the result; then the ``rows`` column
    groups drain their results one group per cycle. Same tail for opt3, opt4c and laconic.
    """
    return t + config.rows + SPARSE_TAIL_STAGES


FOLD_CYCLES: dict[str, Callable[[EngineConfig, Any], Any]] = {
    "systolic": fold_cycles_systolic,
    "cube": fold_cycles_cube,
    "matrix2d": fold_cycles_matrix2d,
    "tree": fold_cycles_tree,
    "bitslice": fold_cycles_bitslice,
}


def fold_cycles(config: EngineConfig, t: Any) -> Any:
    """Cycles of one fold with ``t`` beats (issue cycles for bitslice): the RTL contract."""
    return FOLD_CYCLES[config.engine](config, t)


def engine_mapping(config: EngineConfig, m: Any, n: Any, k: Any) -> tuple[Any, Any, Any]:
    """``(row folds, column folds, T)`` of one group of a GEMM (see the module table).

    For bitslice ``T`` is the number of k-groups (``ceil(K / depth)``), the fold's length in
    spatial lane-beats; its cycles come from the digits.
    """
    r, c, d = config.rows, config.cols, config.depth
    if config.engine == "systolic":
        sr, sc, t = systolic_model.spatio_temporal(config.dataflow, m, n, k)
        return _ceil_div(sr, r), _ceil_div(sc, c), t
    if config.engine == "tree":
        return _ceil_div(k, d), _ceil_div(n, c), _ceil_div(m, r)
    return _ceil_div(m, r), _ceil_div(n, c), _ceil_div(k, d)


# ---- digit statistics under N(0, sigma) ------------------------------------------------------
_INT8_VALUES = np.arange(-128, 128, dtype=np.int64)


@functools.lru_cache(maxsize=64)
def _int8_pmf_cached(sigma: float) -> tuple[float, ...]:
    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / (sigma * math.sqrt(2.0))))

    upper = [cdf(v + 0.5) for v in range(-128, 127)] + [1.0]  # 127 takes the upper tail
    lower = [0.0] + [cdf(v - 0.5) for v in range(-127, 128)]  # -128 takes the lower tail
    return tuple(u - lo for u, lo in zip(upper, lower, strict=True))


def int8_pmf(sigma: float) -> np.ndarray:
    """P(x = v) for v = -128..127 of N(0, sigma) rounded to an integer, clipped to int8.

    Index ``v + 128``. Rounding ties have probability zero, so round-half-even and any other
    tie rule give the same law; the clipped tails land on -128 and 127.
    """
    return np.array(_int8_pmf_cached(float(sigma)))


def digit_nonzero_probabilities(sigma: float, encoding: str) -> np.ndarray:
    """P(d_j(x) != 0) for bit-weights j = 0..3 of an N(0, sigma) int8 operand, shape (4,)."""
    encoder = ent_digits if encoding == "ent" else booth_digits
    nonzero = encoder(_INT8_VALUES) != 0  # (256, 4)
    return int8_pmf(sigma) @ nonzero


def terms_pmf(sigma: float) -> np.ndarray:
    """P(terms = t), t = 0..4: non-zero radix-4 Booth digits of an N(0, sigma) int8 operand."""
    terms = np.count_nonzero(booth_digits(_INT8_VALUES), axis=1)
    return np.bincount(terms, weights=int8_pmf(sigma), minlength=N_DIGITS + 1)


@functools.lru_cache(maxsize=64)
def _binomial_cdf_table(size: int, p: float) -> np.ndarray:
    """``cdf[s, x] = P(Binomial(s, p) <= x)`` for s, x in 0..size (float64)."""
    cdf = np.ones((size + 1, size + 1))
    for s in range(size + 1):
        pmf = [math.comb(s, x) * p**x * (1.0 - p) ** (s - x) for x in range(s + 1)]
        cdf[s, : s + 1] = np.minimum(np.cumsum(pmf), 1.0)
    return cdf


def _expected_step(rows_used: np.ndarray, size: np.ndarray, p: float, depth: int) -> np.ndarray:
    """E[max(1, max over ``rows_used`` iid Binomial(``size``, p))]; 0 where ``size`` is 0.

    ``E[Y] = sum_{x >= 0} P(Y > x)`` with ``Y = max(1, max_i B_i)``: 1 for x = 0, and
    ``1 - F(x)**rows_used`` for x = 1 .. size-1 (independent rows).
    """
    cdf = _binomial_cdf_table(depth, float(p))[size]  # (..., depth + 1)
    x = np.arange(depth + 1)
    inside = (x >= 1) & (x <= size[..., None] - 1)
    tail = np.where(inside, 1.0 - cdf ** rows_used[..., None].astype(float), 0.0).sum(axis=-1)
    return np.where(size > 0, 1.0 + tail, 0.0)


def _expected_laconic_step(
    rows_used: np.ndarray, cols_used: np.ndarray, size: np.ndarray, pmf: np.ndarray
) -> np.ndarray:
    """E[max(1, MA * MW)] with MA the max Booth terms over ``rows_used * size`` A operands and
    MW over ``cols_used * size`` B operands (all independent); 0 where ``size`` is 0."""
    cdf = np.cumsum(pmf)

    def expected_max(count: np.ndarray) -> np.ndarray:
        return sum(1.0 - cdf[x - 1] ** count for x in range(1, N_DIGITS + 1))

    na = (rows_used * size).astype(float)
    nw = (cols_used * size).astype(float)
    zero_a, zero_w = cdf[0] ** na, cdf[0] ** nw
    value = expected_max(na) * expected_max(nw) + zero_a + zero_w - zero_a * zero_w
    return np.where(size > 0, value, 0.0)


def expected_issue_cycles(
    config: EngineConfig, rows_used: Any, cols_used: Any, k: Any
) -> np.ndarray:
    """Expected digit-issue cycles of one bitslice fold (float64, vectorised).

    The fold maps ``rows_used`` rows of A and ``cols_used`` columns of B and reduces over
    ``k`` in ``ceil(k / depth)`` k-groups (the last one ``k mod depth`` wide if not full).
    opt3/opt4c: per (k-group, bit-weight j) the step takes ``max(1, max_rows nnz_j)``, with
    ``nnz_j ~ Binomial(group size, p_j)`` independently per row. laconic: per k-group
    ``max(1, MA * MW)``. Operands are iid N(0, ``operand_sigma``) int8.
    """
    rows_used, cols_used, k = (np.asarray(x, dtype=np.int64) for x in (rows_used, cols_used, k))
    d = config.depth
    full, rest = k // d, k % d
    full_size = np.full_like(k, d)
    if config.mac == "laconic":
        pmf = terms_pmf(config.operand_sigma)
        return full * _expected_laconic_step(rows_used, cols_used, full_size, pmf) + \
            _expected_laconic_step(rows_used, cols_used, rest, pmf)
    probabilities = digit_nonzero_probabilities(config.operand_sigma, config.digit_encoding)
    total = np.zeros(np.shape(k))
    for p in probabilities:
        total = total + full * _expected_step(rows_used, full_size, p, d)
        total = total + _expected_step(rows_used, rest, p, d)
    return total


def _expected_sparse_compute(
    config: EngineConfig, m: np.ndarray, n: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Expected compute cycles of one group: every fold type (full or partial rows, full or
    partial columns) times its count, through :func:`fold_cycles_bitslice`."""
    r, c = config.rows, config.cols
    row_types = ((m // r, np.full_like(m, r)), ((m % r > 0).astype(np.int64), m % r))
    col_types = ((n // c, np.full_like(n, c)), ((n % c > 0).astype(np.int64), n % c))
    total = np.zeros(np.shape(m))
    for row_count, rows_used in row_types:
        for col_count, cols_used in col_types:
            count = row_count * col_count
            issue = expected_issue_cycles(config, np.maximum(rows_used, 1),
                                          np.maximum(cols_used, 1), k)
            total = total + np.where(count > 0, count * fold_cycles_bitslice(config, issue), 0.0)
    return total


# ---- per-layer timing and traffic ------------------------------------------------------------
def analytical_timing(
    config: EngineConfig, m: Any, n: Any, k: Any, groups: Any
) -> dict[str, np.ndarray]:
    """Closed-form per-layer timing and SRAM word counts, vectorised over layers.

    Returns int64 arrays ``compute_cycles`` (bitslice: expected, rounded), ``macs``,
    ``folds``, ``lane_beats`` (sum over folds of T x physical MAC lanes, the denominator of
    mapping efficiency), ``{ifmap,filter,ofmap}_sram_reads`` and ``ofmap_sram_writes`` made
    by the array, and ``accumulates`` (output-accumulator adds outside the MAC lanes).
    """
    m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (m, n, k, groups))
    cfg = config
    if cfg.engine == "systolic":
        out = systolic_model.analytical_timing(equivalent_systolic(cfg), m, n, k, groups)
        out["compute_cycles"] = out["compute_cycles"] + out["folds"] * EXTRA_STAGES[cfg.mac]
        folds_r, folds_c, t = engine_mapping(cfg, m, n, k)
        out["lane_beats"] = groups * folds_r * folds_c * t * cfg.rows * cfg.cols
        out["accumulates"] = np.zeros_like(m)
        out.pop("mapped_pe_folds")
        return out
    folds_r, folds_c, t = engine_mapping(cfg, m, n, k)
    folds = folds_r * folds_c
    if cfg.sparse:
        compute = np.rint(_expected_sparse_compute(cfg, m, n, k)).astype(np.int64)
    else:
        compute = folds * fold_cycles(cfg, t)
    out = {
        "compute_cycles": groups * compute,
        "macs": groups * m * n * k,
        "folds": groups * folds,
        "lane_beats": groups * folds * t * cfg.rows * cfg.cols * cfg.depth,
    }
    if cfg.engine == "tree":
        reads = (m * k * folds_c, k * n, m * n * (folds_r - 1))
        ofmap_writes = m * n * folds_r
        accumulates = m * n * (folds_r - 1)  # a K fold's partial sum joins the stored one
    else:
        reads = (m * k * folds_c, k * n * folds_r, np.zeros_like(m))
        ofmap_writes = m * n
        if cfg.engine in ("cube", "matrix2d"):
            accumulates = m * n * t  # the output accumulator adds one chain/dot sum per beat
        elif cfg.mac == "laconic":
            accumulates = m * n * t  # each PE shift-adds its term counts once per k-group
        else:
            accumulates = m * n * 2 * N_DIGITS  # per bit-weight pass: a CPA and a shift-add
    for operand, words in zip(OPERANDS, reads, strict=True):
        out[f"{operand}_sram_reads"] = groups * words
    out["ofmap_sram_writes"] = groups * ofmap_writes
    out["accumulates"] = groups * accumulates
    return out


@dataclass(frozen=True)
class EngineModel:
    """Cycle-approximate model of an :class:`EngineConfig` engine (closed form, vectorised).

    Cycles follow the per-engine RTL contract (:func:`fold_cycles`); traffic, stalls and
    SRAM/DRAM energy follow the systolic model's rules; PE energy and area are a first-order
    recipe from the energy/area table (:meth:`pe_energy_pj`, :meth:`area_mm2`, see
    docs/engines.md). Engine systolic reproduces :class:`~hwsim.accelerators.systolic.
    SystolicModel` (hwsim convention, analytical) exactly for naive and booth.
    """

    config: EngineConfig

    @property
    def table(self) -> EnergyAreaTable:
        return load_table(self.config.energy_table)

    # ---- area and energy recipe ------------------------------------------------------------
    def area_mm2(self) -> float:
        """Engine plus SRAM area from the energy/area table, in mm^2.

        Per MAC lane (cube, tree, matrix2d): a multiplier (in_width), an adder and registers
        of ``psum_width_bits``, input registers (2 x in_width); per output accumulator
        (rows x cols of them): an adder and a register of ``acc_width_bits``. Systolic PEs as
        the systolic model. opt1 adds the carry register of every carry-save sum and a row
        of ``cols`` CPAs; opt2 one encoder (priced as an in_width adder) per shared A lane.
        Bitslice PE: a +-B/+-2B generator (adder of in_width + 2), a carry-save accumulator
        (adder + 2 x acc_width registers) and a B prefetch register, plus radix-4 encoders
        (opt3: one per PE lane, opt4c: one per column-group lane). Laconic PE: per lane an
        exponent adder (4 bits) and two term registers (4 bits each), and an accumulator.
        """
        cfg, table = self.config, self.table
        r, c, d = cfg.rows, cfg.cols, cfg.depth
        w_in, acc, pw = cfg.in_width_bits, cfg.acc_width_bits, cfg.psum_width_bits

        def add(width: int) -> float:
            return float(table.area_um2("add", width))

        ff = float(table.area_um2("register_bit"))
        mul = float(table.area_um2("multiply", w_in))
        if cfg.engine == "systolic":
            um2 = r * c * (mul + add(acc) + ff * (2 * w_in + acc))
            if cfg.mac == "opt1":
                um2 += r * c * ff * acc + c * add(acc)
        elif cfg.engine in ("cube", "tree", "matrix2d"):
            lanes = r * c * d
            um2 = lanes * (mul + add(pw) + ff * (2 * w_in + pw)) + r * c * (add(acc) + ff * acc)
            if cfg.mac == "opt1":
                um2 += lanes * ff * pw + r * c * ff * acc + c * add(acc)
            elif cfg.mac == "opt2":
                um2 += r * d * add(w_in)
        elif cfg.mac == "laconic":
            um2 = r * c * (d * (add(4) + ff * 8) + add(acc) + ff * acc) + (r + c) * d * add(w_in)
        else:
            um2 = r * c * (add(w_in + 2) + add(acc) + ff * (2 * acc + w_in))
            encoders = r * c * d if cfg.mac == "opt3" else r * d
            um2 += encoders * add(w_in)
        sram_kib = cfg.ifmap_sram_kib + cfg.filter_sram_kib + cfg.ofmap_sram_kib
        return float(um2 + table.area_um2("sram_kib", sram_kib)) / 1e6

    def pe_energy_pj(self, timing: dict[str, np.ndarray]) -> np.ndarray:
        """Energy of the MAC datapath per layer, in pJ (SRAM and DRAM come on top).

        Dense: MACs x (multiply(in_width) + add(psum width; acc width for systolic)) plus
        ``accumulates`` x add(acc); opt1 one add(acc) per word leaving the array (its CPA);
        opt2 one add(in_width) per A word read (the shared encoder). opt3/opt4c: one
        add(acc) per issued non-zero digit (MACs x expected non-zero digits of A), two
        add(acc) per bit-weight pass per output (CPA, shift-add), plus encoders (opt4c: per
        A word read; opt3: per MAC). laconic: add(4) per term pair (MACs x E[terms_a] x
        E[terms_w]), add(acc) per PE and k-group, encoders per A and B word read.
        """
        cfg, table = self.config, self.table
        macs = timing["macs"].astype(float)

        def add(width: int) -> float:
            return float(table.energy_pj("add", width))

        acc, w_in = cfg.acc_width_bits, cfg.in_width_bits
        if not cfg.sparse:
            lane_add = acc if cfg.engine == "systolic" else cfg.psum_width_bits
            energy = macs * (float(table.energy_pj("multiply", w_in)) + add(lane_add))
            energy = energy + timing["accumulates"] * add(acc)
            if cfg.mac == "opt1":
                energy = energy + timing["ofmap_sram_writes"] * add(acc)
            if cfg.mac == "opt2":
                energy = energy + timing["ifmap_sram_reads"] * add(w_in)
            return energy
        energy = timing["accumulates"] * add(acc)
        if cfg.mac == "laconic":
            mean_terms = float(terms_pmf(cfg.operand_sigma) @ np.arange(N_DIGITS + 1))
            energy = energy + macs * mean_terms**2 * add(4)
            reads = timing["ifmap_sram_reads"] + timing["filter_sram_reads"]
            return energy + reads * add(w_in)
        p = digit_nonzero_probabilities(cfg.operand_sigma, cfg.digit_encoding)
        energy = energy + macs * float(p.sum()) * add(acc)
        encodes = macs if cfg.mac == "opt3" else timing["ifmap_sram_reads"]
        return energy + encodes * add(w_in)

    # ---- run -------------------------------------------------------------------------------
    def run(self, workload: Workload) -> LayerTable:
        """Per-layer figures of ``workload`` as numpy columns (see :meth:`evaluate`)."""
        cfg = self.config
        cols = workload.columns("floor")
        m, n, k, groups = cols["m"], cols["n"], cols["k"], cols["groups"]
        timing = analytical_timing(cfg, m, n, k, groups)
        dram = systolic_model.dram_traffic(equivalent_systolic(cfg), m, n, k, groups)
        compute = timing["compute_cycles"]
        dram_total = dram["ifmap_dram_bytes"] + dram["filter_dram_bytes"] + dram["ofmap_dram_bytes"]
        dram_cycles = np.ceil(dram_total / cfg.dram_bytes_per_cycle).astype(np.int64)
        stall = np.maximum(0, dram_cycles - compute)
        total = compute + stall
        if float(total.sum(dtype=float)) >= 2.0**62:
            raise ConfigError(
                f"workload '{workload.name}' needs more than 2**62 cycles in total on this "
                "engine; split it (model counters are int64)"
            )
        macs = timing["macs"]
        peak = cfg.peak_macs_per_cycle
        sram_writes = {
            "ifmap": dram["ifmap_dram_bytes"] * 8 / cfg.in_width_bits,
            "filter": dram["filter_dram_bytes"] * 8 / cfg.in_width_bits,
            "ofmap": timing["ofmap_sram_writes"],
        }
        # Final outputs leave the ofmap SRAM for DRAM: one more read per output word.
        sram_reads = {
            "ifmap": timing["ifmap_sram_reads"],
            "filter": timing["filter_sram_reads"],
            "ofmap": timing["ofmap_sram_reads"] + groups * m * n,
        }
        columns: dict[str, np.ndarray] = {
            "compute_cycles": compute,
            "stall_cycles": stall,
            "total_cycles": total,
            "macs": macs,
            "utilization": macs / (total * peak),
            "mapping_efficiency": macs / timing["lane_beats"],
            "compute_utilization": macs / (compute * peak),
        }
        for operand in OPERANDS:
            columns[f"{operand}_sram_reads"] = np.asarray(sram_reads[operand])
            columns[f"{operand}_sram_writes"] = np.asarray(sram_writes[operand])
            columns[f"{operand}_dram_bytes"] = np.asarray(dram[f"{operand}_dram_bytes"])
        columns["energy_pj"] = self.pe_energy_pj(timing) + self._memory_energy_pj(columns)
        return LayerTable(layer=workload.layer_names, columns=columns)

    def _memory_energy_pj(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """SRAM and DRAM energy per layer, in pJ (the systolic model's rule)."""
        cfg, table = self.config, self.table
        sizes = {
            "ifmap": cfg.ifmap_sram_kib,
            "filter": cfg.filter_sram_kib,
            "ofmap": cfg.ofmap_sram_kib,
        }
        energy = np.zeros(len(columns["macs"]))
        for operand in OPERANDS:
            width = cfg.acc_width_bits if operand == "ofmap" else cfg.in_width_bits
            words = columns[f"{operand}_sram_reads"] + columns[f"{operand}_sram_writes"]
            per_byte = table.energy_pj("sram_byte", max(sizes[operand], 1.0 / 1024))
            energy = energy + words * (width / 8) * per_byte
            energy = energy + columns[f"{operand}_dram_bytes"] * table.energy_pj("dram_byte")
        return energy

    def evaluate(self, workload: Workload) -> Result:
        """Run ``workload`` and return per-layer records and totals.

        Per layer: ``compute_cycles``, ``stall_cycles``, ``total_cycles`` (cycles), ``macs``,
        ``utilization`` = MACs / (total cycles x peak MACs per cycle), ``mapping_efficiency``
        (MACs / mapped lane-beats), ``compute_utilization``, ``sram_reads`` / ``sram_writes``
        (words per operand), ``dram_bytes`` (bytes per operand) and ``energy_pj`` (pJ).
        Totals add ``area_mm2``, ``pes`` and ``peak_macs_per_cycle``.
        """
        cfg = self.config
        table = self.run(workload)
        layers = nested_records(table.layer, table.columns)
        sum_keys = [
            key
            for key in table.columns
            if key.endswith(("_cycles", "_reads", "_writes", "_bytes", "_pj")) or key == "macs"
        ]
        totals_flat = table.sum(sum_keys)
        peak = cfg.peak_macs_per_cycle
        totals_flat["utilization"] = totals_flat["macs"] / (totals_flat["total_cycles"] * peak)
        totals_flat["mapping_efficiency"] = float(
            np.average(table["mapping_efficiency"], weights=table["compute_cycles"])
        )
        totals_flat["compute_utilization"] = totals_flat["macs"] / (
            totals_flat["compute_cycles"] * peak
        )
        totals = nested_records(["total"], {key: [v] for key, v in totals_flat.items()})[0]
        totals.pop("layer")
        totals["area_mm2"] = self.area_mm2()
        totals["pes"] = cfg.pes
        totals["peak_macs_per_cycle"] = peak
        cycles = (
            f"expected at operand_sigma={cfg.operand_sigma:g}" if cfg.sparse else "exact"
        )
        return Result(
            unit="engine",
            config=cfg.to_dict(),
            fingerprint=cfg.fingerprint(),
            settings={"convention": "hwsim", "fidelity": "analytical", "cycles": cycles},
            workload=workload.name,
            layers=layers,
            totals=totals,
        )
