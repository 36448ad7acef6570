"""The tensor-engine family's sweep adapter: how ``hwsim sweep`` evaluates a design point.

A point on a workload is one :meth:`EngineModel.run` whose per-layer columns are summed;
the totals equal ``EngineModel.evaluate(...).totals`` (tests/unit/test_engines.py checks
it). Any :class:`EngineConfig` field can be an axis (``engine``, ``mac``, ``rows``, ``cols``,
``depth``, ...); an engine/MAC pair that :data:`~.config.COMPATIBILITY` refuses becomes an
infeasible row with the one-line reason, like any invalid config. Engines have no RTL
generator yet, so there is no synthesis provider.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hwsim.accelerators.systolic.sweep import PreparedWorkload, prepare
from hwsim.sweep import Metric, UnitAdapter
from hwsim.workloads import Workload

from .config import EngineConfig
from .model import EngineModel

__all__ = ["ADAPTER", "METRICS", "CONVENTIONS", "evaluate", "layers"]

#: The engines' cycles follow their RTL contract only (no peer tool to mimic).
CONVENTIONS = ("hwsim",)
METRICS = (
    Metric("total_cycles", "total cycles", "sum"),
    Metric("compute_cycles", "compute cycles", "sum"),
    Metric("stall_cycles", "stall cycles", "sum"),
    Metric("macs", "MACs", "sum"),
    Metric("utilization", "utilization (fraction of peak MAC/cycle)", "mean"),
    Metric("mapping_efficiency", "mapping efficiency (fraction of MAC lanes)", "mean"),
    Metric("dram_bytes", "DRAM traffic (bytes)", "sum"),
    Metric("energy_pj", "energy (pJ)", "sum"),
    Metric("area_mm2", "area (mm²)", "same"),
    Metric("pes", "PEs (count)", "same"),
    Metric("peak_macs_per_cycle", "peak MACs per cycle", "same"),
)


def evaluate(config: EngineConfig, work: PreparedWorkload | Workload,
             convention: str = "hwsim") -> dict[str, Any]:
    """Totals of one design point on one workload (Python scalars, units in the names).

    ``total_cycles``/``compute_cycles``/``stall_cycles`` (cycles), ``macs``,
    ``utilization`` = macs / (total_cycles x peak MACs per cycle), ``mapping_efficiency``
    (compute-cycle weighted mean over layers), ``dram_bytes`` (bytes), ``energy_pj`` (pJ),
    ``area_mm2`` (mm²), ``pes`` and ``peak_macs_per_cycle``.
    """
    model = EngineModel(config)
    table = model.run(work)  # type: ignore[arg-type]  # duck-typed: columns(), layer_names
    cols = table.columns
    total = int(cols["total_cycles"].sum())
    macs = int(cols["macs"].sum())
    peak = config.peak_macs_per_cycle
    dram = (cols["ifmap_dram_bytes"].sum() + cols["filter_dram_bytes"].sum()
            + cols["ofmap_dram_bytes"].sum()).item()
    return {
        "total_cycles": total,
        "compute_cycles": int(cols["compute_cycles"].sum()),
        "stall_cycles": int(cols["stall_cycles"].sum()),
        "macs": macs,
        "utilization": macs / (total * peak),
        "mapping_efficiency": float(
            np.average(cols["mapping_efficiency"], weights=cols["compute_cycles"])
        ),
        "dram_bytes": dram,
        "energy_pj": cols["energy_pj"].sum().item(),
        "area_mm2": model.area_mm2(),
        "pes": config.pes,
        "peak_macs_per_cycle": peak,
    }


def layers(config: EngineConfig, workload: Workload,
           convention: str = "hwsim") -> tuple[list[str], np.ndarray]:
    """Layer names and per-layer utilization (fraction) for heat maps."""
    table = EngineModel(config).run(workload)
    return list(table.layer), np.asarray(table["utilization"], dtype=float)


ADAPTER = UnitAdapter(
    unit="engine",
    config_class=EngineConfig,
    metrics=METRICS,
    conventions=CONVENTIONS,
    prepare=prepare,
    evaluate=evaluate,  # type: ignore[arg-type]
    layers=layers,  # type: ignore[arg-type]
    default_objectives=("total_cycles", "area_mm2"),
)
