"""NAND flash SSD back end: per-die array timeline, per-channel bus, host link.

Model
-----
A read of one die senses ``planes_per_die`` pages at once (multi-plane read, ``tR``), then
moves them over the channel bus at ``channel_mbps``; without cache read the die is busy until
its page register has drained. So a die finishes one multi-plane read every
``tR + planes * page / channel_rate`` and the channel bus carries ``planes * page`` bytes per
read. Sustained striped read bandwidth of one channel::

    channel_read = min(channel_rate, dies * planes * page / (tR + planes * page / channel_rate))

``internal_read = channels * channel_read``; the host sees ``min(internal_read, link)`` with
the link's payload bandwidth (:mod:`hwsim.memory.links`). Writes move data first, then
program (``tPROG``), with the same form. A queue-depth-1 random read costs
``firmware + tR + page / channel_rate + link transfer of the page``.

The ``timeline`` fidelity (:meth:`FlashModel.simulate_reads`) keeps one busy-until time per
die and per channel bus and places multi-plane reads striped channel-first, then die
(CWDP order); it reproduces the closed form for long runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwsim.config import ConfigBase, ConfigError, param

from .links import LINK_PRESETS, link_preset

__all__ = ["FlashConfig", "FlashModel", "FLASH_PRESETS", "INSTINFER_CSD", "TLC_PCIE5",
           "flash_preset"]


@dataclass(frozen=True, kw_only=True)
class FlashConfig(ConfigBase):
    """Geometry and timing of a NAND flash SSD back end and its host link."""

    unit_name = "flash"

    name: str = param("custom", "label of this device")
    channels: int = param(8, "flash channels (independent buses)", low=1, high=128)
    dies_per_channel: int = param(4, "dies (LUNs) on each channel", low=1, high=64)
    planes_per_die: int = param(2, "planes read or programmed together", low=1, high=16)
    page_bytes: int = param(16384, "page size of one plane", low=512, high=1 << 20, unit="bytes")
    tr_us: float = param(45.0, "array read time tR", low=0.1, high=10000.0, unit="us")
    tprog_us: float = param(450.0, "page program time tPROG", low=1.0, high=100000.0, unit="us")
    channel_mbps: float = param(1400.0, "channel bus transfer rate", low=1.0, high=100000.0,
                                unit="MB/s")
    firmware_us: float = param(20.0, "firmware time per host command", low=0.0, high=10000.0,
                               unit="us")
    link: str = param("pcie4x4", "host link preset", choices=tuple(LINK_PRESETS))

    @property
    def dies(self) -> int:
        """Dies in the SSD."""
        return self.channels * self.dies_per_channel

    @property
    def read_unit_bytes(self) -> int:
        """Bytes of one multi-plane read."""
        return self.planes_per_die * self.page_bytes


#: InstInfer/InstAttention's emulated CSD (notes_csd_attention.md): 8 channels x 1.4 GB/s
#: (Samsung 980 Pro-like, NVMeVirt) = 11.2 GB/s internal, PCIe 4.0 x4 host link. tR 45 us
#: (V-NAND V6 "< 45 us"), 16 KiB pages x 2 planes, 4 dies per channel (enough dies that the
#: channel bus, not the array, limits: 4 x 32 KiB / (45 + 23.4) us = 1.9 GB/s > 1.4 GB/s).
INSTINFER_CSD = FlashConfig(
    name="InstInfer-CSD",
    channels=8,
    dies_per_channel=4,
    planes_per_die=2,
    page_bytes=16384,
    tr_us=45.0,
    tprog_us=450.0,  # V6 TLC program 450-500 us
    channel_mbps=1400.0,
    firmware_us=21.5,  # NVMeVirt 4 KB firmware read latency
    link="pcie4x4",
)

#: A recent TLC SSD: ONFI 5.0 2400 MT/s x 8-bit channels (Micron 232-layer), 6 planes,
#: 16 KiB pages, tR 32 us (1 Tb TLC), 8 channels x 4 dies, PCIe 5.0 x4.
TLC_PCIE5 = FlashConfig(
    name="TLC-PCIe5",
    channels=8,
    dies_per_channel=4,
    planes_per_die=6,
    page_bytes=16384,
    tr_us=32.0,
    tprog_us=450.0,
    channel_mbps=2400.0,
    firmware_us=15.0,  # assumed
    link="pcie5x4",
)

FLASH_PRESETS: dict[str, FlashConfig] = {"InstInfer-CSD": INSTINFER_CSD, "TLC-PCIe5": TLC_PCIE5}


def flash_preset(name: str) -> FlashConfig:
    """The preset called ``name`` (case-insensitive); ConfigError names the allowed ones."""
    for key, value in FLASH_PRESETS.items():
        if key.lower() == name.lower():
            return value
    raise ConfigError(f"preset must be one of {', '.join(FLASH_PRESETS)}, got {name!r}")


class FlashModel:
    """Bandwidth and latency of a flash SSD (closed form and a die/bus timeline)."""

    def __init__(self, config: FlashConfig) -> None:
        self.config = config
        self.link = link_preset(config.link)

    def _xfer_us(self, n_bytes: float) -> float:
        return n_bytes / self.config.channel_mbps  # bytes / (MB/s) = us

    def channel_read_gbps(self) -> float:
        """Sustained striped read bandwidth of one channel, GB/s."""
        c = self.config
        unit = c.read_unit_bytes
        die_rate = c.dies_per_channel * unit / (c.tr_us + self._xfer_us(unit))  # bytes/us
        return min(c.channel_mbps, die_rate) / 1e3

    def channel_write_gbps(self) -> float:
        """Sustained striped program bandwidth of one channel, GB/s."""
        c = self.config
        unit = c.read_unit_bytes
        die_rate = c.dies_per_channel * unit / (c.tprog_us + self._xfer_us(unit))
        return min(c.channel_mbps, die_rate) / 1e3

    def figures(self) -> dict[str, Any]:
        """Internal, host and effective bandwidths (GB/s) and QD-1 read latency (ns)."""
        c = self.config
        internal = c.channels * self.channel_read_gbps()
        host = self.link.effective_gbps
        latency_us = c.firmware_us + c.tr_us + self._xfer_us(c.page_bytes)
        return {
            "channel_bus_gbps": c.channel_mbps / 1e3,
            "array_read_gbps": c.dies * c.read_unit_bytes / c.tr_us / 1e3,
            "internal_read_gbps": internal,
            "internal_write_gbps": c.channels * self.channel_write_gbps(),
            "host_link_gbps": host,
            "host_link_raw_gbps": self.link.raw_gbps,
            "effective_read_gbps": min(internal, host),
            "read_latency_ns": latency_us * 1e3 + self.link.transfer_ns(c.page_bytes),
        }

    def simulate_reads(self, n_reads: int) -> dict[str, float]:
        """Timeline of ``n_reads`` multi-plane reads striped channel-first, then die.

        Each die and each channel bus has its own busy-until time (us). Returns the makespan
        (``seconds``), the bandwidth (``bandwidth_gbps``) and the busy share of the busiest
        channel bus (``bus_utilization``).
        """
        c = self.config
        if n_reads < 1:
            raise ConfigError(f"n_reads must be >= 1, got {n_reads}")
        unit = c.read_unit_bytes
        xfer = self._xfer_us(unit)
        die_free = [0.0] * c.dies
        bus_free = [0.0] * c.channels
        bus_busy = [0.0] * c.channels
        end = 0.0
        for i in range(n_reads):
            ch = i % c.channels
            die = ch * c.dies_per_channel + (i // c.channels) % c.dies_per_channel
            sensed = die_free[die] + c.tr_us
            start = max(sensed, bus_free[ch])
            bus_free[ch] = start + xfer
            bus_busy[ch] += xfer
            die_free[die] = bus_free[ch]
            end = max(end, bus_free[ch])
        return {
            "seconds": end * 1e-6,
            "bandwidth_gbps": n_reads * unit / end / 1e3,
            "bus_utilization": max(bus_busy) / end,
        }
