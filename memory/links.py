"""PCIe and CXL links: raw rate after line encoding, payload efficiency and latency.

Equations
---------
``raw_gbps = gt_per_s * lanes * encoding / 8`` per direction, with encoding 8b/10b (0.8) for
PCIe 1.x/2.x, 128b/130b for PCIe 3.0-5.0 (PCI-SIG base specifications) and the 256-byte FLIT
of PCIe 6.0 (242 of 256 bytes carry TLP/DLLP data; FEC and CRC take the rest). CXL 1.1/2.0
run on the PCIe 5.0 PHY (128b/130b) with 68-byte flits carrying 64 data bytes; CXL 3.x uses
the PCIe 6.0 256-byte flit.

``effective_gbps = raw_gbps * payload / (payload + overhead)``: a PCIe TLP of
``max_payload_bytes`` carries ``tlp_overhead_bytes`` of framing, sequence number, header and
LCRC (24 bytes with a 3-DW header and 32-bit addressing, 28 with a 4-DW header). For CXL the
flit efficiency (64/68) is already the payload share, so its TLP overhead is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.config import ConfigBase, ConfigError, param

__all__ = ["LinkConfig", "LINK_GENERATIONS", "pcie", "cxl", "link_preset", "LINK_PRESETS"]

#: generation -> (GT/s per lane, encoding efficiency, flit payload share)
LINK_GENERATIONS: dict[str, tuple[float, float, float]] = {
    "pcie1": (2.5, 8 / 10, 1.0),  # PCIe 1.x, 8b/10b
    "pcie2": (5.0, 8 / 10, 1.0),  # PCIe 2.x, 8b/10b
    "pcie3": (8.0, 128 / 130, 1.0),  # PCIe 3.0, 128b/130b
    "pcie4": (16.0, 128 / 130, 1.0),  # PCIe 4.0
    "pcie5": (32.0, 128 / 130, 1.0),  # PCIe 5.0
    "pcie6": (64.0, 242 / 256, 1.0),  # PCIe 6.0 PAM4 FLIT mode (242 of 256 bytes)
    "cxl2": (32.0, 128 / 130, 64 / 68),  # CXL 1.1/2.0 on the PCIe 5.0 PHY, 68-B flit
    "cxl3": (64.0, 242 / 256, 1.0),  # CXL 3.x on the PCIe 6.0 PHY, 256-B flit
}


@dataclass(frozen=True, kw_only=True)
class LinkConfig(ConfigBase):
    """A point-to-point PCIe or CXL link, one direction."""

    unit_name = "link"

    generation: str = param("pcie4", "link generation", choices=tuple(LINK_GENERATIONS))
    lanes: int = param(16, "lanes", choices=(1, 2, 4, 8, 16, 32))
    max_payload_bytes: int = param(256, "TLP max payload size", choices=(128, 256, 512, 1024,
                                                                           2048, 4096),
                                   unit="bytes")
    tlp_overhead_bytes: int = param(24, "framing + sequence + header + LCRC per TLP", low=0,
                                    high=64, unit="bytes")
    latency_ns: float = param(500.0, "one-way transfer latency of a small packet", low=0,
                              unit="ns")

    @property
    def raw_gbps(self) -> float:
        """Bandwidth per direction after line encoding, GB/s."""
        rate, encoding, _ = LINK_GENERATIONS[self.generation]
        return rate * self.lanes * encoding / 8

    @property
    def payload_efficiency(self) -> float:
        """Share of the encoded bandwidth that carries payload."""
        _, _, flit = LINK_GENERATIONS[self.generation]
        if self.generation.startswith("cxl"):
            return flit
        return self.max_payload_bytes / (self.max_payload_bytes + self.tlp_overhead_bytes)

    @property
    def effective_gbps(self) -> float:
        """Payload bandwidth per direction, GB/s."""
        return self.raw_gbps * self.payload_efficiency

    def transfer_ns(self, n_bytes: float) -> float:
        """Time to move ``n_bytes`` of payload one way: latency + bytes / effective rate."""
        return self.latency_ns + n_bytes / self.effective_gbps


def pcie(generation: int, lanes: int, **changes: float) -> LinkConfig:
    """A PCIe link, e.g. ``pcie(4, 4)`` for PCIe 4.0 x4."""
    return LinkConfig(generation=f"pcie{generation}", lanes=lanes, **changes)


def cxl(version: int = 2, lanes: int = 16, **changes: float) -> LinkConfig:
    """A CXL link (2 for CXL 1.1/2.0, 3 for CXL 3.x).

    Latency default 150 ns: assumed, in the range CXL memory-expander studies report for the
    link and controller (about 100-200 ns added over local DRAM).
    """
    changes.setdefault("latency_ns", 150.0)
    return LinkConfig(generation=f"cxl{version}", lanes=lanes, tlp_overhead_bytes=0, **changes)


#: Named links for the CLI and other models.
LINK_PRESETS: dict[str, LinkConfig] = {
    "pcie3x16": pcie(3, 16),
    "pcie4x4": pcie(4, 4),
    "pcie4x16": pcie(4, 16),
    "pcie5x4": pcie(5, 4),
    "pcie5x16": pcie(5, 16),
    "cxl2x16": cxl(2, 16),
}


def link_preset(name: str) -> LinkConfig:
    """The link called ``name``; ConfigError names the allowed ones."""
    key = name.lower().replace(".", "").replace("-", "")
    if key not in LINK_PRESETS:
        raise ConfigError(f"link must be one of {', '.join(LINK_PRESETS)}, got {name!r}")
    return LINK_PRESETS[key]
