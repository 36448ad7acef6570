"""Sustained bank-level PIM bandwidth (hwsim.memory.dram_pim) against hand-worked values."""

from __future__ import annotations

import math

import pytest

from hwsim.config import ConfigError
from hwsim.memory.dram_analytical import internal_bandwidth_gbps
from hwsim.memory.dram_config import DDR4_3200, DRAM_PRESETS, HBM2E
from hwsim.memory.dram_pim import pim_bank_bandwidth_gbps

#: L3/CHIME host memory: 16 channels x 4 ranks of DDR4-3200, 8 x8 chips per rank, 16 banks
#: per chip (notes_dimm_pim.md Table I): 16 * 4 * 8 * 16 = 8192 banks.
CHIME = DDR4_3200.replace(channels=16, ranks=4)
TCK = 0.625  # ns
# ACT interval of a rank: max(tFAW / 4, tRRD_S, tRRD_L / 4 groups) = max(8.5, 4, 2) = 8.5 nCK
ACT_NS = 8.5 * TCK


def test_peak_figures_stay_as_chime_counts_them():
    peak = internal_bandwidth_gbps(CHIME)
    # 409.6 GB/s channels, 1638.4 GB/s ranks, 8 B per 5 ns per bank x 8192 = 13107.2 GB/s
    assert peak["channel_gbps"] == pytest.approx(409.6)
    assert peak["rank_gbps"] == pytest.approx(1638.4)
    assert peak["bank_gbps"] == pytest.approx(13107.2)
    assert pim_bank_bandwidth_gbps(CHIME)["peak_bank_gbps"] == pytest.approx(13107.2)


def test_full_row_visits_are_bank_bound():
    # 1 KB chip row = 128 reads of 8 B: T_row = max(74, 22 + 127 * 8 + 12 + 22, 128 * 8)
    # = 1072 nCK = 670 ns; 8192 banks * 1024 B / 670 ns = 12520.3 GB/s (95.5 % of peak)
    out = pim_bank_bandwidth_gbps(CHIME)
    assert out["visit_column_reads"] == 128
    assert out["row_visit_cycles"] == 1072
    assert out["bank_limit_gbps"] == pytest.approx(8192 * 1024 / 670)
    # 64 ranks * 8 chips * 1024 B per 5.3125 ns = 98689.5 GB/s: far from binding
    assert out["activate_limit_gbps"] == pytest.approx(64 * 8 * 1024 / ACT_NS)
    assert out["binding"] == "bank"
    assert out["sustained_gbps"] == pytest.approx(8192 * 1024 / 670)
    assert out["utilization"] == pytest.approx(1024 / 1072)
    assert out["power_limit_gbps"] is None


def test_small_visits_are_activate_bound():
    # 64 B per chip = 8 reads: T_row = max(74, 22 + 7 * 8 + 12 + 22 = 112, 64) = 112 nCK
    # bank limit 8192 * 64 B / 70 ns = 7489.8 GB/s; activate limit 64 * 8 * 64 B / 5.3125 ns
    # = 6168.1 GB/s binds: 16 banks want an ACT every 112 / 16 = 7 nCK, tFAW allows one per 8.5
    out = pim_bank_bandwidth_gbps(CHIME, bytes_per_row_visit=64)
    assert out["row_visit_cycles"] == 112
    assert out["bank_limit_gbps"] == pytest.approx(8192 * 64 / 70)
    assert out["activate_limit_gbps"] == pytest.approx(64 * 8 * 64 / ACT_NS)
    assert out["binding"] == "activate"
    assert out["sustained_gbps"] == pytest.approx(6168.094117647, rel=1e-9)
    # one burst per visit: tRC (74 nCK) holds the bank, tFAW still binds
    single = pim_bank_bandwidth_gbps(CHIME, bytes_per_row_visit=8)
    assert single["row_visit_cycles"] == 74
    assert single["bank_limit_gbps"] == pytest.approx(8192 * 8 / (74 * TCK))
    assert single["sustained_gbps"] == pytest.approx(64 * 8 * 8 / ACT_NS)


def test_rrd_binds_when_it_exceeds_a_quarter_of_tfaw():
    # tRRD_S 12 nCK > tFAW / 4 = 8.5: ACT interval 12 nCK; 64 B visits
    out = pim_bank_bandwidth_gbps(CHIME.replace(trrd_s_cycles=12, trrd_l_cycles=12), 64)
    assert out["activate_interval_cycles"] == 12
    assert out["activate_limit_gbps"] == pytest.approx(64 * 8 * 64 / (12 * TCK))


def test_power_cap_binds_with_hand_worked_energy():
    # Energy per byte of a full-row visit: E_ACT / (8 chips * 1024 B) + 8 bits * RD pJ/bit
    # = 4200 / 8192 + 8 * 2784 / 512 = 0.5126953 + 43.5 = 44.0126953 pJ/B (DDR4 IDD values:
    # see test_memory_energy.py); 100 W / 44.0127 pJ/B = 2272.07 GB/s
    e = 4200 / 8192 + 8 * 2784 / 512
    out = pim_bank_bandwidth_gbps(CHIME, power_cap_w=100.0)
    assert out["energy_pj_per_byte"] == pytest.approx(e, rel=1e-12)
    assert out["power_limit_gbps"] == pytest.approx(100.0 * 1e3 / e, rel=1e-12)
    assert out["binding"] == "power"
    assert out["power_w"] == pytest.approx(100.0)
    # uncapped, the same streaming draws 12520.3 GB/s * 44.01 pJ/B = 551 W
    free = pim_bank_bandwidth_gbps(CHIME)
    assert free["power_w"] == pytest.approx(8192 * 1024 / 670 * e * 1e-3)
    # a cap above that changes nothing
    loose = pim_bank_bandwidth_gbps(CHIME, power_cap_w=1000.0)
    assert loose["binding"] == "bank"
    assert loose["sustained_gbps"] == pytest.approx(free["sustained_gbps"])


def test_hbm2e_pseudo_channels_are_activate_bound():
    # HBM2e: 16 pseudo-channels, one 64-bit "chip" each, 16 banks, 32 B bursts, 1 KB rows:
    # k = 32, T_row = max(77, 23 + 31 * 4 + 7 + 23 = 177, 128) = 177 nCK -> bank limit
    # 16 * 16 * 1024 B / 110.625 ns = 2369.7 GB/s; ACT interval max(48 / 4, 7, 10 / 4) = 12 nCK
    # -> 16 * 1024 B / 7.5 ns = 2184.5 GB/s binds; peak 16 * 16 * 32 B / 2.5 ns = 3276.8 GB/s
    out = pim_bank_bandwidth_gbps(HBM2E)
    assert out["row_visit_cycles"] == 177
    assert out["bank_limit_gbps"] == pytest.approx(16 * 16 * 1024 / (177 * TCK))
    assert out["activate_limit_gbps"] == pytest.approx(16 * 1024 / (12 * TCK))
    assert out["peak_bank_gbps"] == pytest.approx(3276.8)
    assert out["binding"] == "activate"


def test_sustained_never_exceeds_peak_and_grows_with_visit_size():
    for name, cfg in DRAM_PRESETS.items():
        burst = cfg.device_width_bits * cfg.burst_length // 8
        row = cfg.columns * cfg.device_width_bits // 8
        previous = 0.0
        for visit in range(burst, row + 1, burst):
            out = pim_bank_bandwidth_gbps(cfg, visit)
            assert out["sustained_gbps"] <= out["peak_bank_gbps"] * (1 + 1e-12), (name, visit)
            assert out["sustained_gbps"] >= previous * (1 - 1e-12), (name, visit)
            previous = out["sustained_gbps"]


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(bytes_per_row_visit=12), "bytes_per_row_visit must be a multiple of the chip burst"),
        (dict(bytes_per_row_visit=2048), "in [8, 1024]"),
        (dict(bytes_per_row_visit=0), "bytes_per_row_visit must be"),
        (dict(bytes_per_row_visit=64.0), "bytes_per_row_visit must be"),
        (dict(power_cap_w=0.0), "power_cap_w must be a finite number > 0"),
        (dict(power_cap_w=math.nan), "power_cap_w must be a finite number > 0"),
        (dict(power_cap_w=-5), "power_cap_w must be a finite number > 0"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs, needle):
    with pytest.raises(ConfigError) as info:
        pim_bank_bandwidth_gbps(CHIME, **kwargs)
    assert needle in str(info.value)
