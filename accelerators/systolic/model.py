"""Timing, traffic, energy and area model of a systolic array.

Mapping
-------
A layer is a GEMM ``C[M, N] = A[M, K] @ B[K, N]`` (``groups`` independent copies for
depthwise layers). Each dataflow maps two dimensions onto the array and streams the third
(SCALE-Sim's spatio-temporal view):

====  ==============  =========  =====  ============================================
df    Sr (rows)       Sc (cols)  T      stays in the PEs
====  ==============  =========  =====  ============================================
os    M               N          K      outputs (accumulated in place)
ws    K               N          M      weights ``B``
is    K               M          N      inputs ``A``
====  ==============  =========  =====  ============================================

A layer runs in ``folds = ceil(Sr/rows) * ceil(Sc/cols)`` tiles, one after another; column
folds are the outer loop, row folds the inner one.

Conventions
-----------
``hwsim`` -- the latency contract the generated RTL meets. Cycles of one fold are counted from
the cycle the first input beat is accepted to the cycle of the last output beat, inclusive,
with no backpressure::

    cycles_per_fold = 2*rows + cols + T - 2          (all three dataflows)

For ``os``: ``T`` operand beats, ``rows - 1 + cols - 1`` cycles of skew until the far corner
PE has done its last MAC, then ``rows`` beats to stream the result rows out. For ``ws``/``is``:
``rows`` beats to load the stationary operand, then ``T`` streamed beats and
``rows - 1 + cols - 1`` cycles of skew until the last column's last sum leaves the array.
Folds do not overlap, so ``compute_cycles = groups * folds * cycles_per_fold``. DRAM
transfers overlap compute (double-buffered SRAMs); a layer stalls only when its DRAM traffic
needs more cycles than its compute: ``stall_cycles = max(0, ceil(dram_bytes /
dram_bytes_per_cycle) - compute_cycles)``.

``scalesim`` -- reproduces SCALE-Sim v3.0.0's compute cycles exactly::

    cycles_per_fold = T + rows + cols - 2   (os; SCALE-Sim's code, its paper says 2R+C+T-2)
    cycles_per_fold = 2*rows + cols + T - 2 (ws, is)
    compute_cycles  = groups * (folds * cycles_per_fold - 1)

with SCALE-Sim's conv output size rule (``ceil((ifmap - filter + stride) / stride)``) and its
CALC interface-bandwidth mode, which never stalls (``stall_cycles = 0``). ``utilization`` is
its "Overall Util" (MACs / (total cycles x PEs)), ``mapping_efficiency`` its "Mapping
Efficiency" (mean over folds of mapped PEs / PEs), and ``compute_utilization`` its "Compute
Util" (mean over folds of mapped MACs x T / (PEs x fold demand cycles), where a WS/IS fold's
demand spans ``2*rows + 2*cols + T - 3`` cycles).

Traffic
-------
SRAM figures count words at the array's edge (``*_sram_reads``, ``*_sram_writes``); DRAM
figures are bytes. Inputs are ``in_width_bits`` wide; partial sums that spill are
``acc_width_bits`` wide; final outputs are written back at ``in_width_bits`` (requantised, as
inference accelerators do). An operand is fetched from DRAM once when the part of it that
the loop order reuses fits in its SRAM, else once per reuse; see :func:`dram_traffic`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwsim.config import ConfigError
from hwsim.energy import load_table
from hwsim.stats import LayerTable, Result
from hwsim.workloads import Workload

from .config import SystolicConfig

__all__ = [
    "CONVENTIONS",
    "FIDELITIES",
    "SystolicModel",
    "spatio_temporal",
    "cycles_per_fold",
    "analytical_timing",
    "nested_records",
    "dram_traffic",
]

CONVENTIONS = ("hwsim", "scalesim")
#: Work limit of the stepped reference (PE register updates); about a minute of numpy here.
MAX_STEPPED_PE_CYCLES = 2e9
FIDELITIES = ("analytical", "cycle")
OPERANDS = ("ifmap", "filter", "ofmap")


def _ceil_div(a: Any, b: Any) -> Any:
    return -(-a // b)


def spatio_temporal(dataflow: str, m: Any, n: Any, k: Any) -> tuple[Any, Any, Any]:
    """``(Sr, Sc, T)`` of a GEMM ``M x N`` reduced over ``K`` under ``dataflow``."""
    if dataflow == "os":
        return m, n, k
    if dataflow == "ws":
        return k, n, m
    if dataflow == "is":
        return k, m, n
    raise ConfigError(f"dataflow must be one of os, ws, is, got '{dataflow}'")


def cycles_per_fold(config: SystolicConfig, t: Any, convention: str = "hwsim") -> Any:
    """Cycles one fold takes under ``convention`` (see the module docstring)."""
    r, c = config.rows, config.cols
    if convention == "scalesim" and config.dataflow == "os":
        return t + r + c - 2
    if convention in CONVENTIONS:
        return 2 * r + c + t - 2
    raise ConfigError(f"convention must be one of {', '.join(CONVENTIONS)}, got '{convention}'")


def analytical_timing(
    config: SystolicConfig, m: Any, n: Any, k: Any, groups: Any, convention: str = "hwsim"
) -> dict[str, np.ndarray]:
    """Closed-form per-layer timing and SRAM access counts, vectorised over layers.

    Returns int64 arrays: ``compute_cycles``, ``macs``, ``folds``, ``mapped_pe_folds`` (sum
    over folds of mapped PEs, for mapping efficiency) and the SRAM word counts
    ``{ifmap,filter,ofmap}_sram_reads`` / ``ofmap_sram_writes`` made by the array (per layer,
    all groups).
    """
    m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (m, n, k, groups))
    r, c = config.rows, config.cols
    sr, sc, t = spatio_temporal(config.dataflow, m, n, k)
    folds_r = _ceil_div(sr, r)
    folds_c = _ceil_div(sc, c)
    folds = folds_r * folds_c
    per_fold = cycles_per_fold(config, t, convention)
    compute = folds * per_fold
    if convention == "scalesim":
        compute = compute - 1
    out = {
        "compute_cycles": groups * compute,
        "macs": groups * m * n * k,
        "folds": groups * folds,
        "mapped_pe_folds": groups * sr * sc,
    }
    if config.dataflow == "os":
        reads = (m * k * folds_c, k * n * folds_r, np.zeros_like(m))
        ofmap_writes = m * n
    elif config.dataflow == "ws":
        reads = (m * k * folds_c, k * n, m * n * (folds_r - 1))
        ofmap_writes = m * n * folds_r
    else:
        reads = (m * k, k * n * folds_c, m * n * (folds_r - 1))
        ofmap_writes = m * n * folds_r
    for operand, words in zip(OPERANDS, reads, strict=True):
        out[f"{operand}_sram_reads"] = groups * words
    out["ofmap_sram_writes"] = groups * ofmap_writes
    return out


def dram_traffic(
    config: SystolicConfig, m: Any, n: Any, k: Any, groups: Any
) -> dict[str, np.ndarray]:
    """DRAM bytes per operand, vectorised over layers.

    Loop order: column folds outer, row folds inner. Every SRAM is double-buffered, so half
    of it holds the working set ("fits" below means fits in half the SRAM). The operand
    indexed by the column fold is reused across the inner loop and is fetched once if one
    column block of it fits; the operand streamed in full for every column fold is fetched
    once if it fits whole, else once per column fold. Partial sums (ws, is) stay in the
    ofmap SRAM if one column block of them fits, else each row fold spills them and reads
    them back.

    Returns float64 arrays ``ifmap_dram_bytes``, ``filter_dram_bytes``,
    ``ofmap_dram_bytes`` (writes plus psum read-backs) and ``ofmap_dram_read_bytes``.
    """
    m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (m, n, k, groups))
    r, c = config.rows, config.cols
    in_bytes = config.in_width_bits / 8
    acc_bytes = config.acc_width_bits / 8
    # Double buffering: half of each SRAM holds the working set while the other half fills.
    in_cap = {
        "ifmap": config.ifmap_sram_kib * 1024 / 2 / in_bytes,
        "filter": config.filter_sram_kib * 1024 / 2 / in_bytes,
    }
    psum_cap = config.ofmap_sram_kib * 1024 / 2 / acc_bytes
    sr, sc, t = spatio_temporal(config.dataflow, m, n, k)
    folds_r = _ceil_div(sr, r)
    folds_c = _ceil_div(sc, c)
    a_words, b_words, c_words = m * k, k * n, m * n
    zero = np.zeros(np.shape(m), dtype=float)
    if config.dataflow == "os":
        ifmap_words = np.where(a_words <= in_cap["ifmap"], a_words, a_words * folds_c)
        b_block = k * np.minimum(c, n)
        filter_words = np.where(b_block <= in_cap["filter"], b_words, b_words * folds_r)
        psum_spills = zero
    else:
        if config.dataflow == "ws":
            ifmap_words = np.where(a_words <= in_cap["ifmap"], a_words, a_words * folds_c)
            filter_words = b_words
        else:
            ifmap_words = a_words
            filter_words = np.where(b_words <= in_cap["filter"], b_words, b_words * folds_c)
        psum_block = t * np.minimum(c, sc)
        psum_spills = np.where(psum_block <= psum_cap, 0, folds_r - 1).astype(float)
    ofmap_write_bytes = c_words * (in_bytes + psum_spills * acc_bytes)
    ofmap_read_bytes = c_words * psum_spills * acc_bytes
    return {
        "ifmap_dram_bytes": groups * ifmap_words * in_bytes,
        "filter_dram_bytes": groups * filter_words * in_bytes,
        "ofmap_dram_bytes": groups * (ofmap_write_bytes + ofmap_read_bytes),
        "ofmap_dram_read_bytes": groups * ofmap_read_bytes,
    }


def _cycle_timing(
    config: SystolicConfig,
    m: np.ndarray,
    n: np.ndarray,
    k: np.ndarray,
    groups: np.ndarray,
    convention: str,
    progress: Callable[[], None] | None = None,
) -> dict[str, np.ndarray]:
    from .stepped import stepped_layer  # the stepped reference is only loaded when asked for

    sr, sc, t = spatio_temporal(config.dataflow, m, n, k)
    folds = _ceil_div(sr, config.rows) * _ceil_div(sc, config.cols)
    # The stepper runs each distinct fold (at most 6 per layer) over the whole PE grid.
    pe_cycles = float(
        (np.minimum(folds, 6) * (2 * config.rows + config.cols + t) * config.pes).sum()
    )
    if pe_cycles > MAX_STEPPED_PE_CYCLES:
        raise ConfigError(
            f"fidelity cycle would step {pe_cycles:.2g} PE-cycles (limit "
            f"{MAX_STEPPED_PE_CYCLES:.0e}); use fidelity analytical or a smaller array/workload"
        )
    rows = []
    for mi, ni, ki in zip(m, n, k, strict=True):
        rows.append(stepped_layer(config, int(mi), int(ni), int(ki), convention))
        if progress is not None:
            progress()
    return {key: np.array([row[key] for row in rows], dtype=np.int64) * groups for key in rows[0]}


@dataclass(frozen=True)
class SystolicModel:
    """Cycle-approximate model of a :class:`SystolicConfig` array.

    ``convention`` is ``hwsim`` (the RTL's latency contract) or ``scalesim`` (SCALE-Sim
    v3.0.0's compute cycles, exactly); ``fidelity`` is ``analytical`` (closed form, vectorised
    over layers) or ``cycle`` (a stepped reference that moves operands through the array; for
    small layers). See the module docstring for the equations.
    """

    config: SystolicConfig
    convention: str = "hwsim"
    fidelity: str = "analytical"

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            raise ConfigError(
                f"convention must be one of {', '.join(CONVENTIONS)}, got '{self.convention}'"
            )
        if self.fidelity not in FIDELITIES:
            raise ConfigError(
                f"fidelity must be one of {', '.join(FIDELITIES)}, got '{self.fidelity}'"
            )

    @property
    def conv_rounding(self) -> str:
        return "scalesim" if self.convention == "scalesim" else "floor"

    def area_mm2(self) -> float:
        """Array plus SRAM area from the energy/area table, in mm^2."""
        cfg = self.config
        table = load_table(cfg.energy_table)
        pe_um2 = (
            table.area_um2("multiply", cfg.in_width_bits)
            + table.area_um2("add", cfg.acc_width_bits)
            + table.area_um2("register_bit") * (2 * cfg.in_width_bits + cfg.acc_width_bits)
        )
        sram_kib = cfg.ifmap_sram_kib + cfg.filter_sram_kib + cfg.ofmap_sram_kib
        return float(cfg.pes * pe_um2 + table.area_um2("sram_kib", sram_kib)) / 1e6

    def run(self, workload: Workload, progress: Callable[[], None] | None = None) -> LayerTable:
        """Per-layer figures of ``workload`` as numpy columns (see :meth:`evaluate`).

        ``progress`` is called once per finished layer by the ``cycle`` fidelity (the
        analytical one finishes all layers at once).
        """
        cfg = self.config
        cols = workload.columns(self.conv_rounding)
        m, n, k, groups = cols["m"], cols["n"], cols["k"], cols["groups"]
        if self.fidelity == "analytical":
            timing = analytical_timing(cfg, m, n, k, groups, self.convention)
        else:
            timing = _cycle_timing(cfg, m, n, k, groups, self.convention, progress)
        dram = dram_traffic(cfg, m, n, k, groups)
        pes = cfg.pes
        compute = timing["compute_cycles"]
        dram_total = dram["ifmap_dram_bytes"] + dram["filter_dram_bytes"] + dram["ofmap_dram_bytes"]
        if self.convention == "scalesim":
            stall = np.zeros_like(compute)
        else:
            dram_cycles = np.ceil(dram_total / cfg.dram_bytes_per_cycle).astype(np.int64)
            stall = np.maximum(0, dram_cycles - compute)
        total = compute + stall
        if float(total.sum(dtype=float)) >= 2.0**62:
            raise ConfigError(
                f"workload '{workload.name}' needs more than 2**62 cycles in total on this "
                "array; split it (model counters are int64)"
            )
        macs = timing["macs"]
        sr, sc, t = spatio_temporal(cfg.dataflow, m, n, k)
        mapping_eff = timing["mapped_pe_folds"] / (timing["folds"] * pes)
        if self.convention == "scalesim":
            if cfg.dataflow == "os":
                demand = t + cfg.rows + cfg.cols - 2
            else:
                demand = 2 * cfg.rows + 2 * cfg.cols + t - 3
            compute_util = mapping_eff * t / demand
        else:
            compute_util = macs / (compute * pes)
        sram_writes = {
            "ifmap": dram["ifmap_dram_bytes"] * 8 / cfg.in_width_bits,
            "filter": dram["filter_dram_bytes"] * 8 / cfg.in_width_bits,
            "ofmap": timing["ofmap_sram_writes"],
        }
        # Final outputs leave the ofmap SRAM for DRAM: one more read per output word.
        sram_reads = {
            "ifmap": timing["ifmap_sram_reads"],
            "filter": timing["filter_sram_reads"],
            "ofmap": timing["ofmap_sram_reads"] + groups * m * n,
        }
        columns: dict[str, np.ndarray] = {
            "compute_cycles": compute,
            "stall_cycles": stall,
            "total_cycles": total,
            "macs": macs,
            "utilization": macs / (total * pes),
            "mapping_efficiency": mapping_eff,
            "compute_utilization": compute_util,
        }
        for operand in OPERANDS:
            columns[f"{operand}_sram_reads"] = np.asarray(sram_reads[operand])
            columns[f"{operand}_sram_writes"] = np.asarray(sram_writes[operand])
            columns[f"{operand}_dram_bytes"] = np.asarray(dram[f"{operand}_dram_bytes"])
        columns["energy_pj"] = self._energy_pj(columns)
        return LayerTable(layer=workload.layer_names, columns=columns)

    def _energy_pj(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        cfg = self.config
        table = load_table(cfg.energy_table)
        mac_pj = table.energy_pj("multiply", cfg.in_width_bits) + table.energy_pj(
            "add", cfg.acc_width_bits
        )
        energy = columns["macs"] * mac_pj
        sizes = {
            "ifmap": cfg.ifmap_sram_kib,
            "filter": cfg.filter_sram_kib,
            "ofmap": cfg.ofmap_sram_kib,
        }
        for operand in OPERANDS:
            width = cfg.acc_width_bits if operand == "ofmap" else cfg.in_width_bits
            words = columns[f"{operand}_sram_reads"] + columns[f"{operand}_sram_writes"]
            per_byte = table.energy_pj("sram_byte", max(sizes[operand], 1.0 / 1024))
            energy = energy + words * (width / 8) * per_byte
            energy = energy + columns[f"{operand}_dram_bytes"] * table.energy_pj("dram_byte")
        return energy

    def evaluate(self, workload: Workload, progress: Callable[[], None] | None = None) -> Result:
        """Run ``workload`` and return per-layer records and totals.

        Per layer: ``compute_cycles``, ``stall_cycles``, ``total_cycles``, ``macs``,
        ``utilization``, ``mapping_efficiency``, ``compute_utilization``, ``sram_reads`` /
        ``sram_writes`` (words per operand), ``dram_bytes`` (per operand) and ``energy_pj``.
        Totals add ``area_mm2`` (of the design, not per layer).
        """
        table = self.run(workload, progress)
        layers = nested_records(table.layer, table.columns)
        sum_keys = [
            k
            for k in table.columns
            if k.endswith(("_cycles", "_reads", "_writes", "_bytes", "_pj")) or k == "macs"
        ]
        totals_flat = table.sum(sum_keys)
        totals_flat["utilization"] = totals_flat["macs"] / (
            totals_flat["total_cycles"] * self.config.pes
        )
        totals_flat["mapping_efficiency"] = float(
            np.average(table["mapping_efficiency"], weights=table["compute_cycles"])
        )
        totals_flat["compute_utilization"] = totals_flat["macs"] / (
            totals_flat["compute_cycles"] * self.config.pes
        )
        totals = nested_records(["total"], {k: [v] for k, v in totals_flat.items()})[0]
        totals.pop("layer")
        totals["area_mm2"] = self.area_mm2()
        return Result(
            unit="systolic",
            config=self.config.to_dict(),
            fingerprint=self.config.fingerprint(),
            settings={"convention": self.convention, "fidelity": self.fidelity},
            workload=workload.name,
            layers=layers,
            totals=totals,
        )


_NESTED_FIGURES = ("sram_reads", "sram_writes", "dram_bytes")


def _whole_to_int(values: list[Any]) -> list[Any]:
    return [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]


def nested_records(names: list[str], columns: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per layer; ``<operand>_sram_reads`` etc. become ``sram_reads: {operand: v}``.

    ``columns`` maps flat figure names to equal-length sequences (numpy arrays or lists).
    Whole-number floats in the nested per-operand figures are written as ints.
    """
    nested_keys = {f"{op}_{fig}": (fig, op) for fig in _NESTED_FIGURES for op in OPERANDS}
    plain = {k: np.asarray(v).tolist() for k, v in columns.items() if k not in nested_keys}
    nested = {
        k: _whole_to_int(np.asarray(v).tolist()) for k, v in columns.items() if k in nested_keys
    }
    records = []
    for i, name in enumerate(names):
        record: dict[str, Any] = {"layer": name}
        for key, values in plain.items():
            record[key] = values[i]
        for key, values in nested.items():
            figure, operand = nested_keys[key]
            record.setdefault(figure, {})[operand] = values[i]
        records.append(record)
    return records
