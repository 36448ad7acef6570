"""The analytical systolic model against hand-worked cases and published figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsim.accelerators.systolic import SystolicConfig, SystolicModel
from hwsim.accelerators.systolic.model import dram_traffic
from hwsim.config import ConfigError
from hwsim.energy import load_table
from hwsim.workloads import Gemm, Workload


def _one(config: SystolicConfig, m: int, n: int, k: int, convention: str = "hwsim", groups=1):
    workload = Workload.of("w", [Gemm("g", m, n, k, groups)])
    return SystolicModel(config, convention=convention).evaluate(workload).layers[0]


# Hand-worked: (rows, cols, dataflow, M, N, K) -> hwsim cycles, worked in the comment.
HAND_WORKED = [
    # OS 2x2, one fold: 3 beats + 1 + 1 skew + 2 output rows = 2*2 + 2 + 3 - 2 = 7
    ((2, 2, "os", 2, 2, 3), 7),
    # WS 4x4, M=10 N=6 K=9: Sr=9 -> 3 row folds, Sc=6 -> 2 col folds; T=10;
    # per fold 2*4 + 4 + 10 - 2 = 20; 6 folds -> 120
    ((4, 4, "ws", 10, 6, 9), 120),
    # IS 3x5, M=7 N=4 K=2: Sr=K=2 -> 1, Sc=M=7 -> 2; T=N=4; per fold 6 + 5 + 4 - 2 = 13 -> 26
    ((3, 5, "is", 7, 4, 2), 26),
    # OS 1x1: every MAC its own fold of T + 2 - 1 + ... = 2 + 1 + K - 2 = K + 1 cycles
    ((1, 1, "os", 2, 3, 5), 2 * 3 * 6),
]


@pytest.mark.parametrize(("case", "cycles"), HAND_WORKED)
def test_hwsim_convention_hand_worked(case, cycles):
    rows, cols, dataflow, m, n, k = case
    layer = _one(SystolicConfig(rows=rows, cols=cols, dataflow=dataflow), m, n, k)
    assert layer["compute_cycles"] == cycles
    assert layer["macs"] == m * n * k


def test_mapping_efficiency_hand_worked():
    # WS 4x4 on M=10 N=6 K=9: folds map 4x4, 4x2, 4x4, 4x2, 1x4, 1x2 PEs = 54 of 6*16
    layer = _one(SystolicConfig(rows=4, cols=4, dataflow="ws"), 10, 6, 9)
    assert layer["mapping_efficiency"] == pytest.approx(54 / 96)


@pytest.mark.parametrize(
    ("rows", "cols", "dataflow", "mnk", "cycles", "util_pct"),
    [
        # SCALE-Sim v3 runs recorded in ../shared/reference/notes_peers_scalesim_zigzag.md
        (8, 8, "os", (64, 64, 64), 4991, 82.07),
        (8, 8, "ws", (64, 64, 64), 5503, 74.43),
        (8, 8, "is", (64, 64, 64), 5503, 74.43),
        (32, 32, "os", (512, 512, 512), 146943, 89.20),
        (32, 32, "ws", (512, 512, 512), 155135, 84.49),
        # SCALE-Sim issue #125: a 4x4 OS array reports 9 cycles for a 4x4x4 GEMM
        (4, 4, "os", (4, 4, 4), 9, None),
    ],
)
def test_scalesim_convention_published(rows, cols, dataflow, mnk, cycles, util_pct):
    layer = _one(SystolicConfig(rows=rows, cols=cols, dataflow=dataflow), *mnk, "scalesim")
    assert layer["compute_cycles"] == cycles
    assert layer["stall_cycles"] == 0
    if util_pct is not None:
        assert 100 * layer["utilization"] == pytest.approx(util_pct, abs=0.005)


def test_scalesim_compute_util_for_ws_includes_extra_drain():
    # notes: WS 64^3 on 8x8 has Compute Util 68.8 % against Overall Util 74.4 %
    layer = _one(SystolicConfig(rows=8, cols=8, dataflow="ws"), 64, 64, 64, "scalesim")
    assert 100 * layer["compute_utilization"] == pytest.approx(68.8, abs=0.05)


def test_groups_scale_linearly():
    cfg = SystolicConfig(rows=4, cols=4, dataflow="os")
    one = _one(cfg, 9, 1, 9)
    many = _one(cfg, 9, 1, 9, groups=32)
    for key in ("compute_cycles", "macs"):
        assert many[key] == 32 * one[key]
    assert many["mapping_efficiency"] == pytest.approx(one["mapping_efficiency"])
    # scalesim: each channel is its own layer, each with SCALE-Sim's -1
    one_ss = _one(cfg, 9, 1, 9, "scalesim")
    assert (
        _one(cfg, 9, 1, 9, "scalesim", groups=3)["compute_cycles"] == 3 * one_ss["compute_cycles"]
    )


def test_sram_reads_hand_worked():
    # OS 4x4 on M=10, N=6, K=3: A (10x3) streams once per column fold (2), B once per row fold (3)
    layer = _one(SystolicConfig(rows=4, cols=4, dataflow="os"), 10, 6, 3)
    assert layer["sram_reads"]["ifmap"] == 10 * 3 * 2
    assert layer["sram_reads"]["filter"] == 3 * 6 * 3
    assert layer["sram_writes"]["ofmap"] == 60
    # WS 4x4 on M=10, N=6, K=9: 3 row folds -> partial sums written 3x, read back 2x
    layer = _one(SystolicConfig(rows=4, cols=4, dataflow="ws"), 10, 6, 9)
    assert layer["sram_writes"]["ofmap"] == 60 * 3
    assert layer["sram_reads"]["ofmap"] == 60 * 2 + 60  # read-backs + final drain to DRAM
    assert layer["sram_reads"]["filter"] == 54


def test_dram_traffic_fits_and_spills():
    m, n, k = 256, 64, 128
    big = SystolicConfig(rows=8, cols=8, dataflow="os")
    fits = dram_traffic(big, m, n, k, 1)
    assert fits["ifmap_dram_bytes"] == m * k and fits["filter_dram_bytes"] == k * n
    assert fits["ofmap_dram_bytes"] == m * n
    # 1 KiB ifmap SRAM cannot hold A (32 KiB): A is re-read for each of the 8 column folds
    small = big.replace(ifmap_sram_kib=1, filter_sram_kib=0.5)
    spill = dram_traffic(small, m, n, k, 1)
    assert spill["ifmap_dram_bytes"] == m * k * math.ceil(n / 8)
    # one B column block (128x8 = 1 KiB) does not fit in 0.5 KiB: re-read per row fold (32)
    assert spill["filter_dram_bytes"] == k * n * math.ceil(m / 8)
    # WS partial sums (M x 8 psums of 4 bytes = 8 KiB) spill from a 4 KiB ofmap SRAM
    ws = SystolicConfig(rows=8, cols=8, dataflow="ws", ofmap_sram_kib=4)
    psum = dram_traffic(ws, m, n, k, 1)
    folds_r = k // 8
    assert psum["ofmap_dram_bytes"] == m * n * (1 + 2 * (folds_r - 1) * 4)


def test_stalls_when_bandwidth_bound():
    cfg = SystolicConfig(rows=8, cols=8, dataflow="os", dram_bytes_per_cycle=0.5)
    layer = _one(cfg, 64, 64, 64)
    dram = sum(layer["dram_bytes"].values())
    assert dram == 3 * 64 * 64  # everything fits: each operand once, int8
    assert layer["total_cycles"] == math.ceil(dram / 0.5)
    assert layer["stall_cycles"] == layer["total_cycles"] - layer["compute_cycles"] > 0
    assert layer["utilization"] == pytest.approx(64**3 / (layer["total_cycles"] * 64))


def test_energy_table_reproduces_its_source_points():
    table = load_table("default-45nm")
    # Horowitz ISSCC 2014 (45 nm): mult 8b 0.2 pJ, 32b 3.1 pJ; add 8b 0.03 pJ, 32b 0.1 pJ
    assert table.energy_pj("multiply", 8) == pytest.approx(0.2)
    assert table.energy_pj("multiply", 32) == pytest.approx(3.1, rel=0.03)
    assert table.energy_pj("add", 8) == pytest.approx(0.03, rel=0.03)
    assert table.energy_pj("add", 32) == pytest.approx(0.1)
    # SRAM 64-bit read: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ (within the sqrt fit's error)
    assert 8 * table.energy_pj("sram_byte", 8) == pytest.approx(10)
    assert 8 * table.energy_pj("sram_byte", 32) == pytest.approx(20)
    assert 8 * table.energy_pj("sram_byte", 1024) == pytest.approx(100, rel=0.15)
    assert table.area_um2("multiply", 32) == pytest.approx(3495, rel=0.02)


def test_energy_and_area_respond_to_the_design():
    base = SystolicConfig(rows=8, cols=8)
    model = SystolicModel(base)
    bigger = SystolicModel(base.replace(rows=16, ifmap_sram_kib=512))
    assert bigger.area_mm2() > model.area_mm2()
    wide = SystolicModel(base.replace(in_width_bits=16))
    work = Workload.of("w", [Gemm("g", 64, 64, 64)])
    assert wide.evaluate(work).totals["energy_pj"] > model.evaluate(work).totals["energy_pj"]


def test_energy_table_from_file_and_errors(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: x\ntechnology_nm: 7\nsource: s\nenergy_pj: {}\narea_um2: {}\n")
    with pytest.raises(ConfigError, match="energy_pj lacks multiply"):
        SystolicModel(SystolicConfig(energy_table=str(path))).area_mm2()
    with pytest.raises(ConfigError, match="energy_table must be one of default-45nm"):
        load_table("nonsense")


def test_totals_are_consistent_with_layers():
    work = Workload.of("w", [Gemm("a", 30, 20, 10), Gemm("b", 5, 50, 7, groups=3)])
    result = SystolicModel(SystolicConfig(rows=4, cols=8, dataflow="ws")).evaluate(work)
    layers = result.layers
    assert result.totals["total_cycles"] == sum(x["total_cycles"] for x in layers)
    expected_util = sum(x["macs"] for x in layers) / (result.totals["total_cycles"] * 32)
    assert result.totals["utilization"] == pytest.approx(expected_util)


def test_vectorised_equals_one_layer_at_a_time(seed):
    rng = np.random.default_rng(seed)
    gemms = [Gemm(f"g{i}", *map(int, rng.integers(1, 300, 3))) for i in range(40)]
    cfg = SystolicConfig(
        rows=int(rng.integers(1, 40)),
        cols=int(rng.integers(1, 40)),
        dataflow=str(rng.choice(["os", "ws", "is"])),
    )
    model = SystolicModel(cfg)
    together = model.evaluate(Workload.of("all", gemms)).layers
    for gemm_layer, row in zip(gemms, together, strict=True):
        alone = model.evaluate(Workload.of("one", [gemm_layer])).layers[0]
        assert alone == row, f"seed={seed}"


def test_bad_model_settings():
    with pytest.raises(ConfigError, match="convention must be one of hwsim, scalesim"):
        SystolicModel(SystolicConfig(), convention="timeloop")
    with pytest.raises(ConfigError, match="fidelity must be one of analytical, cycle"):
        SystolicModel(SystolicConfig(), fidelity="rtl")


def test_energy_hand_worked():
    # 4x4 OS, 8 KiB SRAMs (the table's SRAM reference point: 1.25 pJ/byte), GEMM 4x4x4:
    # MACs 64 x (mult8 0.2 + add32 0.1) = 19.2 pJ.
    # SRAM words: ifmap 16 reads + 16 fills, filter 16 + 16 (1 byte each) = 64 B;
    # ofmap 16 writes + 16 drain reads (4 bytes each) = 128 B; 192 B x 1.25 = 240 pJ.
    # DRAM: A 16 B + B 16 B + C 16 B (outputs requantised to int8) = 48 B x 162.5 = 7800 pJ.
    cfg = SystolicConfig(
        rows=4, cols=4, dataflow="os", ifmap_sram_kib=8, filter_sram_kib=8, ofmap_sram_kib=8
    )
    layer = _one(cfg, 4, 4, 4)
    assert layer["energy_pj"] == pytest.approx(19.2 + 240 + 7800)


def test_dram_traffic_input_stationary_hand_worked():
    # IS 8x8 on M=24, N=128, K=16: Sr=K -> 2 row folds, Sc=M -> 3 column folds, T=N=128.
    m, n, k = 24, 128, 16
    # B (16x128 = 2 KiB) does not fit in half of a 2 KiB filter SRAM: one fetch per column fold.
    # Partial sums of a column block: 128 x 8 psums x 4 B = 4 KiB > half of 4 KiB: they spill
    # once (2 row folds): C written at 4 B then read back, final C written at 1 B.
    cfg = SystolicConfig(rows=8, cols=8, dataflow="is", filter_sram_kib=2, ofmap_sram_kib=4)
    spill = dram_traffic(cfg, m, n, k, 1)
    assert spill["ifmap_dram_bytes"] == m * k
    assert spill["filter_dram_bytes"] == k * n * 3
    assert spill["ofmap_dram_bytes"] == m * n * (1 + 4) + m * n * 4
    # 16 KiB SRAMs: B fits (2 <= 8 KiB) and the 4 KiB psum block fits (<= 8 KiB).
    roomy = dram_traffic(cfg.replace(filter_sram_kib=16, ofmap_sram_kib=16), m, n, k, 1)
    assert roomy["filter_dram_bytes"] == k * n
    assert roomy["ofmap_dram_bytes"] == m * n


def test_huge_layers_are_refused_not_overflowed():
    with pytest.raises(ConfigError, match=r"M must be an integer <= 2147483647"):
        Gemm("g", 2**31, 1, 1)
    with pytest.raises(ConfigError, match="MACs exceeds"):
        Gemm("g", 3_000_000, 3_000_000, 3_000_000)
    # the largest allowed layer still counts exactly: 2**48 MACs on a 1x1 array
    layer = _one(SystolicConfig(rows=1, cols=1), 2**16, 2**16, 2**16)
    assert layer["macs"] == 2**48 and layer["compute_cycles"] == 2**32 * (2**16 + 1)


def test_cycle_fidelity_refuses_runaway_work():
    model = SystolicModel(SystolicConfig(rows=4096, cols=4096), fidelity="cycle")
    with pytest.raises(ConfigError, match="fidelity cycle would step"):
        model.run(Workload.of("w", [Gemm("g", 1, 2, 3)]))
