"""The ``cycle`` fidelity: the stepped array against the closed form, the golden GEMM and
cycle counts worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.accelerators.systolic.config import SystolicConfig
from hwsim.accelerators.systolic.golden import gemm
from hwsim.accelerators.systolic.model import SystolicModel, analytical_timing
from hwsim.accelerators.systolic.stepped import _run_gemm, simulate_gemm, stepped_layer
from hwsim.config import ConfigError
from hwsim.workloads import ConvLayer, Gemm, Workload

KEYS = {
    "compute_cycles", "macs", "folds", "mapped_pe_folds", "ifmap_sram_reads",
    "filter_sram_reads", "ofmap_sram_reads", "ofmap_sram_writes",
}
DATAFLOWS = ("os", "ws", "is")
CONVENTIONS = ("hwsim", "scalesim")


def _random_operands(seed, m, n, k, width):
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    return rng.integers(lo, hi, (m, k)), rng.integers(lo, hi, (k, n))


# --- analytical vs cycle ------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 6), cols=st.integers(1, 6), dataflow=st.sampled_from(DATAFLOWS),
    convention=st.sampled_from(CONVENTIONS), m=st.integers(1, 20), n=st.integers(1, 20),
    k=st.integers(1, 20),
)
def test_stepped_layer_matches_analytical_timing(rows, cols, dataflow, convention, m, n, k):
    config = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow)
    stepped = stepped_layer(config, m, n, k, convention)
    closed = analytical_timing(config, m, n, k, 1, convention)
    assert set(stepped) == KEYS == set(closed)
    for key in KEYS:
        assert stepped[key] == int(closed[key]), (key, stepped, closed)
        assert type(stepped[key]) is int


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("rows,cols,m,n,k", [(2, 3, 7, 5, 8), (4, 2, 3, 9, 5), (3, 3, 1, 1, 1)])
def test_shortcut_equals_stepping_every_fold(dataflow, convention, rows, cols, m, n, k):
    # stepped_layer steps each distinct fold once and multiplies; _run_gemm steps every fold
    # with real data. The figures must not depend on the shortcut.
    config = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow)
    a, b = _random_operands(1, m, n, k, 8)
    _, every_fold = _run_gemm(config, a, b, convention)
    assert every_fold == stepped_layer(config, m, n, k, convention)


# --- bit-exact results --------------------------------------------------------------------

@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize(
    "rows,cols,m,n,k,width,acc",
    [
        (3, 5, 7, 11, 9, 8, 32),  # non-square, nothing a multiple of the array
        (5, 3, 11, 7, 13, 8, 32),
        (4, 4, 4, 8, 12, 8, 32),  # exact multiples
        (1, 1, 3, 2, 4, 8, 32),
        (2, 6, 9, 1, 7, 3, 6),  # odd widths, acc = 2 * in
        (6, 2, 1, 9, 5, 5, 13),
        (3, 4, 5, 6, 17, 7, 20),
        (4, 3, 6, 5, 4, 16, 40),
        (2, 3, 4, 5, 6, 32, 64),  # widest operands: 62-bit products, int64 wrap
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_simulate_gemm_matches_golden(dataflow, rows, cols, m, n, k, width, acc, seed):
    config = SystolicConfig(
        rows=rows, cols=cols, dataflow=dataflow, in_width_bits=width, acc_width_bits=acc
    )
    a, b = _random_operands(seed, m, n, k, width)
    got, _ = simulate_gemm(config, a, b)
    want = gemm(a, b, in_width_bits=width, acc_width_bits=acc)
    assert got.dtype == np.int64 and got.shape == (m, n)
    assert np.array_equal(got, want), f"seed={seed} {dataflow} {rows}x{cols} M,N,K={m},{n},{k}"


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("width", [3, 4, 5, 8])
def test_simulate_gemm_extremes_and_wrap(dataflow, width):
    # All entries -2**(w-1): every product is +2**(2w-2); with acc = 2w bits and K = 20 the
    # sum 20 * 2**(2w-2) = 5 * 2**(2w) exceeds the accumulator, so it wraps (to 0 here).
    acc = 2 * width
    config = SystolicConfig(
        rows=3, cols=2, dataflow=dataflow, in_width_bits=width, acc_width_bits=acc
    )
    m, n, k = 5, 4, 20
    a = np.full((m, k), -(1 << (width - 1)), dtype=np.int64)
    b = np.full((k, n), -(1 << (width - 1)), dtype=np.int64)
    got, _ = simulate_gemm(config, a, b)
    want = gemm(a, b, in_width_bits=width, acc_width_bits=acc)
    assert not np.array_equal(a @ b, want)  # the case really wraps
    assert np.array_equal(got, want), f"{dataflow} width={width}"
    # Mixed signs with the most negative and most positive values, wrapping at odd K.
    rng = np.random.default_rng(width)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    a = rng.choice([lo, hi, -1, 0, 1], (m, 23))
    b = rng.choice([lo, hi], (23, n))
    got, _ = simulate_gemm(config, a, b)
    want = gemm(a, b, in_width_bits=width, acc_width_bits=acc)
    assert not np.array_equal(a @ b, want)
    assert np.array_equal(got, want), f"seed={width} {dataflow} width={width} mixed"


@pytest.mark.parametrize("seed", range(6))
def test_simulate_gemm_random_configs(seed):
    rng = np.random.default_rng(100 + seed)
    width = int(rng.integers(2, 17))
    acc = int(rng.integers(2 * width, min(64, 2 * width + 12) + 1))
    config = SystolicConfig(
        rows=int(rng.integers(1, 7)), cols=int(rng.integers(1, 7)),
        dataflow=DATAFLOWS[seed % 3], in_width_bits=width, acc_width_bits=acc,
    )
    m, n, k = (int(x) for x in rng.integers(1, 21, 3))
    a, b = _random_operands(seed, m, n, k, width)
    for convention in CONVENTIONS:
        got, cycles = simulate_gemm(config, a, b, convention)
        assert np.array_equal(got, gemm(a, b, in_width_bits=width, acc_width_bits=acc)), (
            f"seed={seed} {config.to_dict()} M,N,K={m},{n},{k}"
        )
        assert cycles == stepped_layer(config, m, n, k, convention)["compute_cycles"]


def test_simulate_gemm_rejects_bad_operands():
    config = SystolicConfig(rows=2, cols=2, in_width_bits=4)
    with pytest.raises(ConfigError, match="agree on K"):
        simulate_gemm(config, np.zeros((2, 3), int), np.zeros((2, 2), int))
    with pytest.raises(ConfigError, match=r"\[-8, 7\]"):
        simulate_gemm(config, np.full((2, 2), 8), np.zeros((2, 2), int))
    with pytest.raises(ConfigError, match="convention"):
        simulate_gemm(config, np.zeros((2, 2), int), np.zeros((2, 2), int), "verilog")


# --- cycle counts worked by hand -----------------------------------------------------------

@pytest.mark.parametrize(
    "dataflow,rows,cols,m,n,k,convention,cycles",
    [
        # 2x2 OS, M=N=2, K=3, one fold. hwsim: beats 0..2 enter at cycles 0..2, the far
        # corner PE (1,1) does its last MAC at cycle 2+1+1 = 4, the 2 result rows leave at
        # cycles 5 and 6 -> 7 cycles (= 2*2 + 2 + 3 - 2).
        ("os", 2, 2, 2, 2, 3, "hwsim", 7),
        # scalesim OS: no drain, the fold ends with the last MAC (5 cycles = 3+2+2-2) and
        # SCALE-Sim reports the last cycle's index: 4.
        ("os", 2, 2, 2, 2, 3, "scalesim", 4),
        # 1x1 OS, 1 MAC: MAC at cycle 0, result out at cycle 1 -> 2 (= 2+1+1-2).
        ("os", 1, 1, 1, 1, 1, "hwsim", 2),
        # 2x2 OS, M=3 (2 row folds), N=2, K=3: 2 folds x 7 = 14; scalesim 2 x 5 - 1 = 9.
        ("os", 2, 2, 3, 2, 3, "hwsim", 14),
        ("os", 2, 2, 3, 2, 3, "scalesim", 9),
        # 2x2 WS, K=2, N=2 (one fold), T=M=3: preload at cycles 0,1; beat t enters row i at
        # 2+t+i; column 1's last sum (t=2) is made by PE (1,1) at 2+2+1+1 = 6 -> 7 cycles
        # (= 2*2+2+3-2); scalesim the same per fold, minus one: 6.
        ("ws", 2, 2, 3, 2, 2, "hwsim", 7),
        ("ws", 2, 2, 3, 2, 2, "scalesim", 6),
        # 3x5 IS, M=6 (Sc: 2 column folds), K=4 (Sr: 2 row folds), T=N=4: 4 folds, each
        # 3 preload beats + last sum made by PE (2,4) at 3+3+2+4 = 12 -> 13 (= 2*3+5+4-2);
        # 4 x 13 = 52, scalesim 51. Half-empty folds take as long as full ones.
        ("is", 3, 5, 6, 4, 4, "hwsim", 52),
        ("is", 3, 5, 6, 4, 4, "scalesim", 51),
        # 5x3 WS, M=1 (T=1), N=1, K=1: one PE mapped, still 2*5+3+1-2 = 12 cycles: the beat
        # must cross the whole physical array.
        ("ws", 5, 3, 1, 1, 1, "hwsim", 12),
        # 5x3 OS, M=N=K=1: last MAC in PE (4,2) at 0+4+2 = 6, then 5 result rows -> 12.
        ("os", 5, 3, 1, 1, 1, "hwsim", 12),
        ("os", 5, 3, 1, 1, 1, "scalesim", 6),  # 7 cycles to the last MAC, index 6
    ],
)
def test_cycles_by_hand(dataflow, rows, cols, m, n, k, convention, cycles):
    config = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow)
    a, b = _random_operands(7, m, n, k, 8)
    got, counted = simulate_gemm(config, a, b, convention)
    assert counted == cycles
    assert np.array_equal(got, gemm(a, b)), "seed=7"
    assert stepped_layer(config, m, n, k, convention)["compute_cycles"] == cycles


# --- the model at both fidelities ---------------------------------------------------------

WORKLOAD = Workload.of(
    "tiny",
    [
        Gemm("fc", m=7, n=5, k=9),
        Gemm("grouped", m=4, n=3, k=6, groups=3),
        ConvLayer("conv", ifmap_h=6, ifmap_w=5, filter_h=3, filter_w=2, channels=2,
                  num_filters=4, stride=2),
        ConvLayer("DP_conv", ifmap_h=5, ifmap_w=5, filter_h=3, filter_w=3, channels=3,
                  num_filters=1, depthwise=True),
    ],
)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_model_cycle_fidelity_equals_analytical(dataflow, convention):
    config = SystolicConfig(rows=3, cols=4, dataflow=dataflow, dram_bytes_per_cycle=0.5)
    cycle = SystolicModel(config, convention, "cycle").run(WORKLOAD)
    closed = SystolicModel(config, convention, "analytical").run(WORKLOAD)
    assert cycle.layer == closed.layer
    assert set(cycle.columns) == set(closed.columns)
    for key, values in closed.columns.items():
        np.testing.assert_array_equal(cycle[key], values, err_msg=key)
