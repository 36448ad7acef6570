"""The systolic array's one config: it drives the golden function, the model and (later) the RTL."""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.config import ConfigBase, ConfigError, param

__all__ = ["SystolicConfig", "DATAFLOWS"]

DATAFLOWS = ("os", "ws", "is")


@dataclass(frozen=True, kw_only=True)
class SystolicConfig(ConfigBase):
    """A ``rows x cols`` systolic array of signed-integer MAC PEs with three operand SRAMs.

    Dataflows: ``os`` output stationary, ``ws`` weight stationary, ``is`` input stationary.
    SRAM sizes are in KiB; ``dram_bytes_per_cycle`` is the off-chip bandwidth in bytes per
    array clock cycle.
    """

    unit_name = "systolic"

    rows: int = param(16, "PE rows of the array", low=1, high=4096, unit="PEs")
    cols: int = param(16, "PE columns of the array", low=1, high=4096, unit="PEs")
    dataflow: str = param("os", "what stays in the PEs", choices=DATAFLOWS)
    in_width_bits: int = param(8, "signed operand width", low=2, high=32, unit="bits")
    acc_width_bits: int = param(32, "accumulator width", low=4, high=64, unit="bits")
    ifmap_sram_kib: float = param(256.0, "input-feature-map SRAM", low=0, unit="KiB")
    filter_sram_kib: float = param(256.0, "filter (weight) SRAM", low=0, unit="KiB")
    ofmap_sram_kib: float = param(256.0, "output / partial-sum SRAM", low=0, unit="KiB")
    dram_bytes_per_cycle: float = param(
        32.0, "off-chip bandwidth per array cycle", low=1e-9, unit="bytes/cycle"
    )
    energy_table: str = param(
        "default-45nm",
        "energy/area table: a shipped name or a path to a YAML table",
    )

    def _validate(self) -> None:
        product_bits = 2 * self.in_width_bits
        if self.acc_width_bits < product_bits:
            raise ConfigError(
                f"acc_width_bits must be >= 2 * in_width_bits = {product_bits} to hold one "
                f"product, got {self.acc_width_bits}"
            )

    @property
    def pes(self) -> int:
        """Number of processing elements."""
        return self.rows * self.cols
