"""NAND flash: closed forms, the die/bus timeline, and the InstInfer CSD figures."""

from __future__ import annotations

import pytest

from hwsim.config import ConfigError
from hwsim.memory.flash import INSTINFER_CSD, TLC_PCIE5, FlashConfig, FlashModel, flash_preset


def test_instinfer_internal_and_host_bandwidth():
    fig = FlashModel(INSTINFER_CSD).figures()
    # paper: 8 channels x 1.4 GB/s = 11.2 GB/s internal; PCIe 4.0 x4 ("7 GB/s") external
    assert fig["internal_read_gbps"] == pytest.approx(8 * 1.4)
    assert fig["host_link_raw_gbps"] == pytest.approx(16 * 4 * 128 / 130 / 8)
    assert 6.8 <= fig["host_link_gbps"] <= 7.6
    assert fig["effective_read_gbps"] == pytest.approx(fig["host_link_gbps"])
    # the paper's measured decode read, 7.66 GB/s, sits below the internal bound
    assert 7.66 < fig["internal_read_gbps"]


def test_die_limited_channel_closed_form():
    # 1 die, 1 plane of 16 KiB, tR 50 us, 1 GB/s bus: one read every 50 + 16.384 us
    cfg = FlashConfig(channels=2, dies_per_channel=1, planes_per_die=1, page_bytes=16384,
                      tr_us=50.0, channel_mbps=1000.0)
    expected = 2 * 16384 / (50.0 + 16.384) / 1e3
    assert FlashModel(cfg).figures()["internal_read_gbps"] == pytest.approx(expected)


@pytest.mark.parametrize("cfg", [INSTINFER_CSD, TLC_PCIE5,
                                 INSTINFER_CSD.replace(dies_per_channel=1),
                                 TLC_PCIE5.replace(planes_per_die=1, dies_per_channel=2)],
                         ids=["instinfer", "tlc", "one-die", "two-die"])
def test_timeline_agrees_with_closed_form(cfg):
    model = FlashModel(cfg)
    sim = model.simulate_reads(64 * cfg.dies)
    # start-up (first tR) is not amortised in the closed form; 64 reads per die -> < 3 %
    assert sim["bandwidth_gbps"] == pytest.approx(model.figures()["internal_read_gbps"], rel=0.03)


def test_more_planes_add_array_not_bus_bandwidth():
    base = FlashModel(TLC_PCIE5).figures()
    more = FlashModel(TLC_PCIE5.replace(planes_per_die=12)).figures()
    assert more["array_read_gbps"] == pytest.approx(2 * base["array_read_gbps"])
    assert more["internal_read_gbps"] == pytest.approx(base["internal_read_gbps"])


def test_qd1_read_latency():
    cfg = INSTINFER_CSD
    fig = FlashModel(cfg).figures()
    link_ns = 500.0 + cfg.page_bytes / (7.876923 * 256 / 280)
    expected = (cfg.firmware_us + cfg.tr_us + cfg.page_bytes / cfg.channel_mbps) * 1e3 + link_ns
    assert fig["read_latency_ns"] == pytest.approx(expected, rel=1e-4)


def test_bad_flash_input():
    with pytest.raises(ConfigError, match="preset must be one of InstInfer-CSD, TLC-PCIe5"):
        flash_preset("QLC")
    with pytest.raises(ConfigError, match=r"channels must be an integer in \[1, 128\]"):
        FlashConfig(channels=0)
