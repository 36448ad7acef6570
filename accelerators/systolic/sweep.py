"""The systolic array's sweep adapter: how the sweep engine evaluates a design point.

A point on a workload is one :meth:`SystolicModel.run` (per-layer numpy columns) whose columns
are summed; that is about three times cheaper than :meth:`SystolicModel.evaluate`, which also
builds per-layer records. The workload's GEMM columns are computed once per worker
(:func:`prepare`) instead of once per call. The totals equal ``evaluate(...).totals``
exactly (tests/unit/test_sweep.py checks it).

A spec with ``synthesis: {target: ...}`` also synthesises each design point once through the
provider named by :data:`SYNTHESIS_PROVIDER` (``hwsim.rtl.synth:sweep_metrics``). It is named
by dotted path, never imported here: accelerators must not import ``hwsim.rtl``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.config import ConfigError
from hwsim.energy import load_table
from hwsim.sweep import Metric, UnitAdapter
from hwsim.workloads import Workload

from .config import SystolicConfig
from .model import CONVENTIONS, SystolicModel

__all__ = ["ADAPTER", "PreparedWorkload", "prepare", "evaluate", "layers", "METRICS",
           "SYNTHESIS_METRICS", "SYNTHESIS_PROVIDER", "check_synthesis"]

METRICS = (
    Metric("total_cycles", "total cycles", "sum"),
    Metric("compute_cycles", "compute cycles", "sum"),
    Metric("stall_cycles", "stall cycles", "sum"),
    Metric("macs", "MACs", "sum"),
    Metric("utilization", "utilization (fraction of PE cycles)", "mean"),
    Metric("mapping_efficiency", "mapping efficiency (fraction of PEs)", "mean"),
    Metric("dram_bytes", "DRAM traffic (bytes)", "sum"),
    Metric("energy_pj", "energy (pJ)", "sum"),
    Metric("area_mm2", "area (mm²)", "same"),
    Metric("pes", "PEs (count)", "same"),
)
#: ``"module:function"`` of the synthesis provider (see :attr:`UnitAdapter.synthesis`).
SYNTHESIS_PROVIDER = "hwsim.rtl.synth:sweep_metrics"
#: Figures each synthesis target adds to a row (all properties of the design: ``same``).
SYNTHESIS_METRICS = {
    "generic": (
        Metric("transistors_count", "transistors (count)", "same"),
        Metric("logic_depth_count", "logic depth (gates, count)", "same"),
    ),
    "ecp5": (
        Metric("lut4_count", "ECP5 LUT4s (count)", "same"),
        Metric("ff_count", "ECP5 flip-flops (count)", "same"),
        Metric("carry_count", "ECP5 CCU2C carry cells (count)", "same"),
        Metric("dsp_count", "ECP5 MULT18X18D DSPs (count)", "same"),
        Metric("fmax_mhz", "Fmax (MHz)", "same"),
    ),
}


@dataclass(frozen=True)
class PreparedWorkload:
    """A workload whose GEMM columns are computed once (what :class:`SystolicModel` reads)."""

    name: str
    layer_names: list[str]
    _columns: dict[str, dict[str, np.ndarray]]

    def columns(self, rounding: str = "floor") -> dict[str, np.ndarray]:
        return self._columns[rounding]


def prepare(workload: Workload, convention: str) -> PreparedWorkload:
    """Precompute the GEMM columns of ``workload`` under both conv rounding rules."""
    return PreparedWorkload(
        name=workload.name,
        layer_names=workload.layer_names,
        _columns={r: workload.columns(r) for r in ("floor", "scalesim")},
    )


def evaluate(config: SystolicConfig, work: PreparedWorkload | Workload,
             convention: str = "hwsim") -> dict[str, Any]:
    """Totals of one design point on one workload (Python scalars, units in the names).

    ``total_cycles``/``compute_cycles``/``stall_cycles`` (cycles), ``macs``,
    ``utilization`` = macs / (total_cycles x PEs), ``mapping_efficiency`` (compute-cycle
    weighted mean over layers, as :meth:`SystolicModel.evaluate`), ``dram_bytes`` (all
    operands, bytes), ``energy_pj`` (pJ), ``area_mm2`` (mm²) and ``pes``.
    """
    model = SystolicModel(config, convention=convention)
    table = model.run(work)  # type: ignore[arg-type]  # duck-typed: columns(), layer_names
    cols = table.columns
    total = int(cols["total_cycles"].sum())
    compute = int(cols["compute_cycles"].sum())
    macs = int(cols["macs"].sum())
    pes = config.pes
    dram = (cols["ifmap_dram_bytes"].sum() + cols["filter_dram_bytes"].sum()
            + cols["ofmap_dram_bytes"].sum()).item()
    return {
        "total_cycles": total,
        "compute_cycles": compute,
        "stall_cycles": int(cols["stall_cycles"].sum()),
        "macs": macs,
        "utilization": macs / (total * pes),
        "mapping_efficiency": float(
            np.average(cols["mapping_efficiency"], weights=cols["compute_cycles"])
        ),
        "dram_bytes": dram,
        "energy_pj": cols["energy_pj"].sum().item(),
        "area_mm2": model.area_mm2(),
        "pes": pes,
    }


def layers(config: SystolicConfig, workload: Workload,
           convention: str = "hwsim") -> tuple[list[str], np.ndarray]:
    """Layer names and per-layer utilization (fraction) for heat maps."""
    table = SystolicModel(config, convention=convention).run(workload)
    return list(table.layer), np.asarray(table["utilization"], dtype=float)


def check_synthesis(config: SystolicConfig, target: str) -> None:
    """Raise :class:`ConfigError` when ``config`` cannot get synthesis-backed figures.

    ``generic`` turns the transistor count into mm^2 with the energy table's optional
    ``area_um2.transistor`` entry, so the table must have it.
    """
    if target == "generic":
        table = load_table(config.energy_table)
        if not table.has_area("transistor"):
            raise ConfigError(
                f"energy table '{table.name}' has no area_um2.transistor entry, which "
                "synthesis target generic needs (um^2 per transistor)"
            )


ADAPTER = UnitAdapter(
    unit="systolic",
    config_class=SystolicConfig,
    metrics=METRICS,
    conventions=CONVENTIONS,
    prepare=prepare,
    evaluate=evaluate,  # type: ignore[arg-type]
    layers=layers,  # type: ignore[arg-type]
    default_objectives=("total_cycles", "area_mm2"),
    synthesis=SYNTHESIS_PROVIDER,
    synthesis_metrics=SYNTHESIS_METRICS,
    synthesis_check=check_synthesis,  # type: ignore[arg-type]
)
