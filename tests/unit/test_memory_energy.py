"""DRAM energy from datasheet currents (hwsim.memory.dram_energy).

Reference numbers are worked by hand in the comments from the datasheet currents written in
each test; sanity checks compare against published figures (cited where used).
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.config import ConfigError
from hwsim.memory.dram_config import DDR4_3200, DDR5_4800, DRAM_PRESETS, HBM2E, HBM3, DramConfig
from hwsim.memory.dram_energy import dram_energy_pj, dram_event_energies, energies_from_currents

# One 8 Gb x8 DDR4-3200 chip (DRAMsim3 configs/DDR4_8Gb_x8_3200.ini [power]): VDD 1.2 V,
# IDD0 57, IDD2N 37, IDD3N 52, IDD4R 168, IDD4W 150, IDD5B 250 mA. Timings at tCK 0.625 ns:
# tRC 74 nCK = 46.25 ns, tRAS 52 nCK = 32.5 ns, tBL 4 nCK = 2.5 ns, tRFC 560 nCK = 350 ns.
# A 64-bit rank holds 8 chips; one burst moves 64 B = 512 bits.
DDR4_ACT_PJ = 8 * 1.2 * (57 * 46.25 - (52 * 32.5 + 37 * (46.25 - 32.5)))  # 8*1.2*437.5 = 4200
DDR4_RD_PJ = 8 * 1.2 * (168 - 52) * 2.5  # 2784
DDR4_WR_PJ = 8 * 1.2 * (150 - 52) * 2.5  # 2352
DDR4_REF_PJ = 8 * 1.2 * (250 - 52) * 350  # 665280
DDR4_BG_MW = 8 * 1.2 * 52  # 499.2


def test_ddr4_event_energies_match_hand_worked_closed_form():
    assert DDR4_ACT_PJ == pytest.approx(4200.0)  # the arithmetic above, once more by hand
    events = dram_event_energies(DDR4_3200)
    assert events["source"] == "idd"
    assert events["activate_pj"] == pytest.approx(DDR4_ACT_PJ, rel=1e-12)
    assert events["read_pj"] == pytest.approx(DDR4_RD_PJ, rel=1e-12)
    assert events["write_pj"] == pytest.approx(DDR4_WR_PJ, rel=1e-12)
    assert events["refresh_pj"] == pytest.approx(DDR4_REF_PJ, rel=1e-12)
    assert events["background_mw"] == pytest.approx(DDR4_BG_MW, rel=1e-12)
    assert events["idle_mw"] == pytest.approx(8 * 1.2 * 37, rel=1e-12)
    # the preset's energy fields (what the timing models multiply) carry the same values
    assert DDR4_3200.act_energy_pj == pytest.approx(DDR4_ACT_PJ, rel=1e-12)
    assert DDR4_3200.read_energy_pj_per_bit == pytest.approx(DDR4_RD_PJ / 512, rel=1e-12)
    assert DDR4_3200.write_energy_pj_per_bit == pytest.approx(DDR4_WR_PJ / 512, rel=1e-12)
    assert DDR4_3200.refresh_energy_pj == pytest.approx(DDR4_REF_PJ, rel=1e-12)


def test_ddr5_bank_wise_act_energy_hand_worked():
    # Micron 16 Gb DDR5 x8 (-48B): VDD 1.1, IDD0 103, IDD2N 92, IDD3N 142, IDD4R 377,
    # IDD4W 359, IDD5B 277 mA; 4 chips per 32-bit sub-channel, 32 banks per chip.
    # Preset timings at tCK = 1/2.4 ns: tRC 111, tRAS 77, tBL 8, tRFC 708 nCK.
    # rho = 0: one open bank draws I1 = 92 + (142 - 92) / 32 = 93.5625 mA.
    # E_ACT = 4 * 1.1 * (103 * 111 - 93.5625 * 77 - 92 * 34) / 2.4
    #       = 4.4 * (11433 - 7204.3125 - 3128) / 2.4 = 4.4 * 1100.6875 / 2.4 = 2017.93 pJ
    act = 4.4 * 1100.6875 / 2.4
    rd = 4 * 1.1 * (377 - 142) * 8 / 2.4  # 3446.67 pJ
    ref = 4 * 1.1 * (277 - 142) * 708 / 2.4  # 175230 pJ
    events = dram_event_energies(DDR5_4800)
    assert events["activate_pj"] == pytest.approx(act, rel=1e-12)
    assert events["read_pj"] == pytest.approx(rd, rel=1e-12)
    assert events["refresh_pj"] == pytest.approx(ref, rel=1e-12)
    assert events["background_mw"] == pytest.approx(4 * 1.1 * 142, rel=1e-12)


def test_ddr5_classic_form_is_refused_because_idd3n_exceeds_idd0():
    # rho = 1 charges IDD3N (all banks open, 142 mA) for tRAS: more than IDD0 (103 mA) holds
    with pytest.raises(ConfigError, match=r"idd0_ma must be > .* for a positive ACT energy"):
        DDR5_4800.replace(idd3n_shared_fraction=1.0)


def test_published_hbm_figures_are_kept():
    # O'Connor et al., MICRO 2017 (FGDRAM) HBM2: 0.11 pJ per row bit for ACT/PRE; 0.44 + 1.01
    # + 1.23 + 0.5 + 0.3 = 3.48 pJ per bit read or written; 1 KB rows
    for cfg in (HBM2E, HBM3):
        events = dram_event_energies(cfg)
        assert events["source"] == "published"
        assert events["activate_pj"] == pytest.approx(0.11 * 8192)
        assert events["read_pj"] == pytest.approx(3.48 * 32 * 8)  # 32-byte bursts
        assert events["background_mw"] == 0.0


def test_replacing_a_timing_rederives_the_energy():
    # tRC 74 -> 80 nCK adds (IDD0 - IDD2N) * 6 nCK of charge per chip:
    # 8 * 1.2 * (57 - 37) * 6 * 0.625 = 720 pJ
    slower = DDR4_3200.replace(trc_cycles=80)
    assert slower.act_energy_pj == pytest.approx(4200.0 + 720.0, rel=1e-12)
    # without vdd_v the given energies are used as they are
    given = DDR4_3200.replace(vdd_v=None, act_energy_pj=1000.0)
    assert given.act_energy_pj == 1000.0
    assert dram_event_energies(given)["source"] == "published"


@pytest.mark.parametrize(
    "field,direction",
    [
        ("idd0_ma", ("activate_pj", +1)),
        ("idd4r_ma", ("read_pj", +1)),
        ("idd4w_ma", ("write_pj", +1)),
        ("idd5b_ma", ("refresh_pj", +1)),
        ("idd3n_ma", ("background_mw", +1)),
        ("idd3n_ma", ("read_pj", -1)),  # more standby current leaves less above it
        ("trc_ns", ("activate_pj", +1)),  # d E_ACT / d tRC = VDD * (IDD0 - IDD2N) > 0
        ("trfc_ns", ("refresh_pj", +1)),
        ("idd3n_shared_fraction", ("activate_pj", -1)),
    ],
)
def test_energies_move_the_right_way(field, direction):
    base = DDR4_3200.current_arguments() | {"idd3n_shared_fraction": 0.5}
    key, sign = direction
    low = energies_from_currents(**base)[key]
    step = 0.1 if field == "idd3n_shared_fraction" else base[field] * 0.05
    high = energies_from_currents(**(base | {field: base[field] + step}))[key]
    assert np.sign(high - low) == sign, (field, key, low, high)


def test_energy_breakdown_adds_up_and_scales(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 10**6, size=4).astype(float)
    busy_ns = float(rng.uniform(0, 1e7))
    cfg = DDR4_3200.replace(channels=2, ranks=2)
    out = dram_energy_pj(cfg, *counts, busy_ns)
    reads, writes, acts, refs = counts
    # independent arithmetic from the hand-worked per-event values; 4 ranks draw background
    assert out["activate_pj"] == pytest.approx(acts * DDR4_ACT_PJ), f"seed={seed}"
    assert out["read_pj"] == pytest.approx(reads * DDR4_RD_PJ), f"seed={seed}"
    assert out["write_pj"] == pytest.approx(writes * DDR4_WR_PJ), f"seed={seed}"
    assert out["refresh_pj"] == pytest.approx(refs * DDR4_REF_PJ), f"seed={seed}"
    assert out["background_pj"] == pytest.approx(4 * DDR4_BG_MW * busy_ns), f"seed={seed}"
    parts = sum(v for k, v in out.items() if k != "total_pj")
    assert out["total_pj"] == pytest.approx(parts), f"seed={seed}"
    doubled = dram_energy_pj(cfg, *(2 * counts), 2 * busy_ns)
    assert doubled["total_pj"] == pytest.approx(2 * out["total_pj"]), f"seed={seed}"
    more = dram_energy_pj(cfg, reads + 1, writes, acts, refs, busy_ns)
    assert more["total_pj"] > out["total_pj"], f"seed={seed}"


def test_refresh_energy_agrees_with_the_rows_it_restores():
    # Two datasheet currents, one physical quantity: a DDR4 8 Gb REF restores 65536 rows /
    # 8192 REFs per 64 ms window (JESD79-4: tREFI 7.8 us) = 8 rows in each of 16 banks, i.e.
    # 128 ACT + PRE pairs of IDD0-derived energy, 128 * 4200 = 537.6 nJ per rank, against the
    # IDD5B-derived 665.3 nJ. They must agree within 2x (REF also runs the refresh counter
    # and restores whole rows without the IDD0 loop's address switching).
    rows_per_ref = DDR4_3200.rows // 8192 * DDR4_3200.banks
    ratio = DDR4_3200.refresh_energy_pj / (rows_per_ref * DDR4_3200.act_energy_pj)
    assert 0.5 < ratio < 2.0, ratio


def test_ddr4_random_access_energy_per_bit_against_published_range():
    # Horowitz, "Computing's energy problem", ISSCC 2014: a 64-bit DRAM (DDR3, 1.5 V) access
    # costs 1.3-2.6 nJ, i.e. 20.3-40.6 pJ/bit; at DDR4's 1.2 V, CV^2 scaling by (1.2/1.5)^2
    # gives 13.0-26.0 pJ/bit. A random read (one ACT + PRE per 64 B burst) streamed at the
    # channel's 25.6 GB/s, with background and refresh, must land in that range.
    n = 1_000_000
    busy_ns = n * 64 / 25.6
    refs = busy_ns / (12480 * 0.625)
    out = dram_energy_pj(DDR4_3200, reads=n, writes=0, activates=n, refreshes=refs,
                         busy_ns=busy_ns)
    per_bit = out["total_pj"] / (n * 512)
    # hand: ACT + RD (4200 + 2784) / 512 = 13.640625, background 499.2 mW / 25.6 GB/s / 8 =
    # 2.4375, refresh 665280 pJ per 7800 ns / 25.6 / 8 = 0.41647: 16.4946 pJ/bit
    assert per_bit == pytest.approx(13.640625 + 2.4375 + 665280 / 7800 / 25.6 / 8, rel=1e-9)
    assert 20.3 * 0.64 <= per_bit <= 40.6 * 0.64
    # row-buffer hits (one ACT per 8 KB row) cost less, but never below the read burst alone
    streamed = dram_energy_pj(DDR4_3200, reads=n, writes=0, activates=n / 128,
                              refreshes=refs, busy_ns=busy_ns)["total_pj"] / (n * 512)
    assert DDR4_RD_PJ / 512 < streamed < per_bit


def test_hbm2_full_row_energy_against_published_total():
    # O'Connor et al., MICRO 2017: HBM2 moves data at about 3.9 pJ/bit. Streaming whole 1 KB
    # rows: 901 pJ / 8192 bits + 3.48 pJ/bit = 3.59 pJ/bit, within 10 % of the paper's total.
    n = 32 * 1000  # 1000 rows of 32 bursts of 32 B
    out = dram_energy_pj(HBM2E, reads=n, writes=0, activates=1000, refreshes=0, busy_ns=0)
    per_bit = out["total_pj"] / (n * 32 * 8)
    assert per_bit == pytest.approx(0.11 + 3.48)
    assert abs(per_bit - 3.9) / 3.9 < 0.1


@pytest.mark.parametrize(
    "changes,needle",
    [
        (dict(vdd_v=1.2), "idd0_ma must be a number (mA) when vdd_v is given"),
        (dict(vdd_v=1.2, idd0_ma=57.0, idd2n_ma=37.0, idd3n_ma=52.0, idd4r_ma=168.0,
              idd4w_ma=150.0), "idd5b_ma must be a number"),
        (dict(vdd_v=1.2, idd0_ma=57.0, idd2n_ma=37.0, idd3n_ma=52.0, idd4r_ma=50.0,
              idd4w_ma=150.0, idd5b_ma=250.0), "idd4r_ma must be > idd3n_ma (52)"),
        (dict(vdd_v=1.2, idd0_ma=57.0, idd2n_ma=60.0, idd3n_ma=52.0, idd4r_ma=168.0,
              idd4w_ma=150.0, idd5b_ma=250.0), "idd3n_ma must be >= idd2n_ma (60)"),
        (dict(io_energy_pj_per_bit=20.0), "io_energy_pj_per_bit must be <= read and write"),
        (dict(idd3n_shared_fraction=1.5), "idd3n_shared_fraction must be a number in [0, 1]"),
        (dict(vdd_v=-1.0), "vdd_v must be a number in [0.5, 5]"),
    ],
)
def test_bad_currents_are_one_line_config_errors(changes, needle):
    with pytest.raises(ConfigError) as info:
        DramConfig(**changes)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "3"])
def test_bad_counts_are_refused(bad):
    with pytest.raises(ConfigError, match="reads must be a finite number >= 0"):
        dram_energy_pj(DDR4_3200, reads=bad, writes=0, activates=0, refreshes=0, busy_ns=0)


def test_every_preset_has_positive_event_energies():
    for name, cfg in DRAM_PRESETS.items():
        events = dram_event_energies(cfg)
        for key in ("activate_pj", "read_pj", "write_pj", "refresh_pj"):
            assert events[key] > 0, (name, key)


def test_presets_round_trip_through_yaml(tmp_path):
    # the derived energies are written out and derived again on reading: same config
    for name, cfg in DRAM_PRESETS.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(cfg.to_yaml())
        back = DramConfig.from_file(path)
        assert back == cfg, name
        assert back.fingerprint() == cfg.fingerprint(), name


@pytest.mark.parametrize("fidelity", ["analytical", "cycle"])
def test_model_figures_carry_hand_worked_energies(fidelity, seed):
    from hwsim.memory.dram_analytical import DramAnalyticalModel
    from hwsim.memory.dram_cycle import DramCycleModel
    from hwsim.memory.dram_trace import make_trace

    addresses, is_write = make_trace(DDR4_3200, "random", 1 << 14, read_fraction=0.7, seed=seed)
    if fidelity == "cycle":
        fig = DramCycleModel(DDR4_3200).run(addresses, is_write).figures
    else:
        fig = DramAnalyticalModel(DDR4_3200).evaluate_trace(addresses, is_write)
    writes = int(is_write.sum())
    assert fig.writes_count == writes, f"seed={seed}"
    commands = (fig.activates_count * DDR4_ACT_PJ + (len(addresses) - writes) * DDR4_RD_PJ
                + writes * DDR4_WR_PJ + fig.refreshes_count * DDR4_REF_PJ)
    assert fig.energy_pj == pytest.approx(commands, rel=1e-9), f"seed={seed}"
    assert fig.background_energy_pj == pytest.approx(DDR4_BG_MW * fig.seconds * 1e9, rel=1e-9)
