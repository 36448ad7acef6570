"""PCIe/CXL links against the specification numbers."""

from __future__ import annotations

import pytest

from hwsim.config import ConfigError
from hwsim.memory.links import LinkConfig, cxl, link_preset, pcie


@pytest.mark.parametrize(
    "gen,lanes,expected",
    [
        (1, 1, 2.5 * 0.8 / 8),  # 8b/10b: 0.25 GB/s
        (2, 16, 5.0 * 16 * 0.8 / 8),  # 8 GB/s
        (3, 16, 8 * 16 * 128 / 130 / 8),  # 15.75 GB/s
        (4, 4, 16 * 4 * 128 / 130 / 8),  # 7.88 GB/s (InstInfer's CSD link)
        (4, 16, 16 * 16 * 128 / 130 / 8),  # 31.5 GB/s
        (5, 16, 32 * 16 * 128 / 130 / 8),  # 63.0 GB/s
        (6, 16, 64 * 16 * 242 / 256 / 8),  # FLIT mode
    ],
)
def test_pcie_raw_rate_matches_spec(gen, lanes, expected):
    assert pcie(gen, lanes).raw_gbps == pytest.approx(expected)


def test_spec_rounded_figures():
    assert pcie(4, 4).raw_gbps == pytest.approx(7.88, abs=0.005)
    assert pcie(3, 16).raw_gbps == pytest.approx(15.75, abs=0.01)
    assert pcie(5, 16).raw_gbps == pytest.approx(63.0, abs=0.05)


def test_payload_efficiency_of_tlps():
    link = pcie(4, 16, max_payload_bytes=256, tlp_overhead_bytes=24)
    assert link.payload_efficiency == pytest.approx(256 / 280)
    assert link.effective_gbps < link.raw_gbps
    assert pcie(4, 16, max_payload_bytes=512).effective_gbps > link.effective_gbps


def test_cxl_flit_efficiency():
    link = cxl(2, 16)
    assert link.raw_gbps == pytest.approx(32 * 16 * 128 / 130 / 8)
    assert link.effective_gbps == pytest.approx(link.raw_gbps * 64 / 68)


def test_transfer_time_is_latency_plus_bytes_over_rate():
    link = pcie(4, 4, latency_ns=800.0)
    assert link.transfer_ns(1e6) == pytest.approx(800.0 + 1e6 / link.effective_gbps)


def test_bad_link_input():
    with pytest.raises(ConfigError, match="lanes must be one of 1, 2, 4, 8, 16, 32"):
        LinkConfig(lanes=3)
    with pytest.raises(ConfigError, match="generation must be one of pcie1"):
        LinkConfig(generation="pcie9")
    with pytest.raises(ConfigError, match="link must be one of"):
        link_preset("usb3")
