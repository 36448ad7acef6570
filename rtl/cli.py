"""``hwsim rtl``: generate and synthesise the RTL of a unit.

    hwsim rtl emit systolic --config FILE.yaml -o DIR [--rows R --cols C --dataflow os|ws ...]
    hwsim rtl synth systolic --config FILE.yaml --target ecp5|generic [--seeds N] [--nodsp]
    hwsim rtl emit engine --engine cube --mac opt1 -o DIR [--rows R --cols C --depth D ...]
    hwsim rtl synth engine --engine tree --mac opt2 --flow generic|liberty|ecp5 [...]

All print JSON on stdout. The config is built exactly as ``hwsim model systolic`` / ``hwsim
model engine`` builds it (defaults < ``--config`` < field flags). This module imports no HDL
package until a command runs, so building the ``hwsim`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hwsim.accelerators.engines.cli import (
    add_engine_config_file_flag,
    add_engine_config_flags,
)
from hwsim.accelerators.engines.cli import build_config as build_engine_config
from hwsim.accelerators.systolic.cli import build_config
from hwsim.accelerators.systolic.config import SystolicConfig
from hwsim.cli import add_config_flags
from hwsim.config import ConfigError

__all__ = ["register"]

EXIT_TOOL_FAILED = 1
#: ``hwsim rtl synth engine --flow`` values: the flows of :mod:`hwsim.rtl.flows`.
ENGINE_FLOWS = ("generic", "liberty", "ecp5")


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """``--config`` and one flag per ``SystolicConfig`` field, as ``hwsim model systolic``."""
    add_config_flags(
        parser, SystolicConfig, "array (SystolicConfig fields; YAML keys of the same names)"
    )
    parser.add_argument("--config", metavar="FILE.yaml", help="SystolicConfig as YAML or JSON")
    parser.set_defaults(scalesim_cfg=None)  # build_config also reads SCALE-Sim configs


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``hwsim rtl emit|synth <unit>`` to the top-level sub-commands."""
    rtl = commands.add_parser("rtl", help="generate Verilog and synthesise a unit's RTL")
    actions = rtl.add_subparsers(dest="rtl_action", metavar="ACTION", parser_class=type(rtl))
    actions.required = True

    emit = actions.add_parser("emit", help="write Verilog, JSON sidecar and FuseSoC core")
    emit_units = emit.add_subparsers(dest="rtl_unit", metavar="UNIT", parser_class=type(rtl))
    emit_units.required = True
    emit_sys = emit_units.add_parser(
        "systolic",
        help="systolic array (os/ws)",
        description="Write systolic_<fingerprint>.v/.json/.core into the output folder.",
    )
    _add_config_flags(emit_sys)
    emit_sys.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    emit_sys.set_defaults(handler=_run_emit)
    emit_eng = emit_units.add_parser(
        "engine",
        help="tensor engine: systolic, cube, tree, matrix2d, bitslice x MAC variant",
        description="Write engine_<engine>_<mac>_<fingerprint>.v/.json into the output folder. "
        "Field flags override --config, which overrides the defaults (as hwsim model engine).",
    )
    _add_engine_flags(emit_eng)
    emit_eng.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    emit_eng.set_defaults(handler=_run_emit_engine)

    synth = actions.add_parser("synth", help="synthesise with Yosys (and nextpnr for ECP5)")
    synth_units = synth.add_subparsers(dest="rtl_unit", metavar="UNIT", parser_class=type(rtl))
    synth_units.required = True
    synth_sys = synth_units.add_parser(
        "systolic",
        help="systolic array (os/ws)",
        description="Synthesise the array and print resources and Fmax as JSON.",
    )
    _add_config_flags(synth_sys)
    synth_sys.add_argument(
        "--target",
        choices=("ecp5", "generic"),
        default="ecp5",
        help="ecp5 (Yosys + nextpnr, default) or generic (Yosys gates)",
    )
    synth_sys.add_argument(
        "--seeds",
        type=int,
        default=None,
        metavar="N",
        help="ecp5 only: nextpnr seeds 1..N; Fmax is their median (default: 1)",
    )
    synth_sys.add_argument(
        "--nodsp",
        action="store_true",
        help="ecp5 only: map multipliers to LUTs instead of MULT18X18D",
    )
    synth_sys.add_argument(
        "--device",
        choices=("25k", "45k", "85k"),
        default=None,
        help="ecp5 only: ECP5 device, package CABGA381 (default: 85k)",
    )
    synth_sys.add_argument(
        "--freq-mhz",
        type=float,
        default=None,
        metavar="MHZ",
        help="ecp5 only: clock constraint for nextpnr [MHz] (default: 100)",
    )
    synth_sys.add_argument(
        "--work-dir", metavar="DIR", help="keep the tool files in this folder (created if missing)"
    )
    synth_sys.set_defaults(handler=_run_synth)
    _register_synth_engine(synth_units)


def _add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per ``EngineConfig`` field and ``--config``, as ``hwsim model engine``."""
    add_engine_config_flags(parser)
    add_engine_config_file_flag(parser)


def _register_synth_engine(synth_units: argparse._SubParsersAction) -> None:
    synth_eng = synth_units.add_parser(
        "engine",
        help="tensor engine: systolic, cube, tree, matrix2d, bitslice x MAC variant",
        description="Synthesise a tensor engine with one of the flows of hwsim.rtl.flows and "
        "print its figures as JSON: generic (Yosys CMOS gates: transistors, flip-flops, logic "
        "depth), liberty (OSU018 cells via Debian berkeley-abc: area, delay) or ecp5 (Yosys + "
        "nextpnr out of context: LUTs, FFs, Fmax).",
    )
    _add_engine_flags(synth_eng)
    synth_eng.add_argument("--flow", choices=ENGINE_FLOWS, default="generic",
                           help="generic (default), liberty or ecp5")
    synth_eng.add_argument("--optimize", choices=("delay", "area"), default=None,
                           help="generic and liberty only: mapping goal (default: delay)")
    synth_eng.add_argument("--seeds", type=int, default=None, metavar="N",
                           help="ecp5 only: nextpnr seeds 1..N; Fmax is their median "
                           "(default: 1)")
    synth_eng.add_argument("--nodsp", action="store_true",
                           help="ecp5 only: map multipliers to LUTs instead of MULT18X18D")
    synth_eng.add_argument("--device", choices=("25k", "45k", "85k"), default=None,
                           help="ecp5 only: ECP5 device, package CABGA381 (default: 85k)")
    synth_eng.add_argument("--freq-mhz", type=float, default=None, metavar="MHZ",
                           help="ecp5 only: clock constraint for nextpnr [MHz] (default: 100)")
    synth_eng.add_argument("--work-dir", metavar="DIR",
                           help="keep the tool files in this folder (created if missing)")
    synth_eng.set_defaults(handler=_run_synth_engine)


def _config(args: argparse.Namespace) -> SystolicConfig:
    config, _ = build_config(args)
    from hwsim.rtl.systolic import check_rtl_config  # noqa: PLC0415 - keeps amaranth lazy

    check_rtl_config(config)
    return config


def _print_json(data: dict[str, Any]) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _require_amaranth() -> None:
    try:
        import amaranth  # noqa: F401
    except ModuleNotFoundError:
        raise ConfigError("the RTL commands need amaranth: pip install 'hwsim[rtl]'") from None


def _run_emit(args: argparse.Namespace) -> int:
    _require_amaranth()
    config = _config(args)
    from hwsim.rtl.export import check_out_dir, emit

    check_out_dir(args.out, "-o/--out")  # before any work: nothing is created on bad input
    _print_json(emit(config, args.out))
    return 0


#: ``hwsim rtl synth`` flags that only the ecp5 flow (nextpnr) uses.
_ECP5_ONLY_FLAGS = (("seeds", "--seeds"), ("nodsp", "--nodsp"), ("device", "--device"),
                    ("freq_mhz", "--freq-mhz"))


def _check_only_flags(args: argparse.Namespace, flags: tuple[tuple[str, str], ...],
                      selector: str, allowed: tuple[str, ...]) -> None:
    """One line for flags given with a ``--<selector>`` they do not apply to."""
    chosen = getattr(args, selector)
    if chosen in allowed:
        return
    given = [flag for dest, flag in flags if getattr(args, dest) not in (None, False)]
    if given:
        verb = "applies" if len(given) == 1 else "apply"
        where = " or ".join(f"--{selector} {value}" for value in allowed)
        raise ConfigError(f"{', '.join(given)} only {verb} to {where}, not --{selector} {chosen}")


def _check_synth_flags(args: argparse.Namespace) -> None:
    """One line for ecp5-only flags given with another target, as the sweep spec does."""
    _check_only_flags(args, _ECP5_ONLY_FLAGS, "target", ("ecp5",))


def _run_synth(args: argparse.Namespace) -> int:
    _require_amaranth()
    _check_synth_flags(args)
    config = _config(args)
    from hwsim.rtl.export import check_out_dir
    from hwsim.rtl.synth import ToolError, synth

    if args.work_dir is not None:
        check_out_dir(args.work_dir, "--work-dir")
    try:
        report = synth(
            config,
            args.target,
            1 if args.seeds is None else args.seeds,
            args.nodsp,
            device=args.device,
            freq_mhz=args.freq_mhz,
            work_dir=args.work_dir,
        )
    except ToolError as exc:
        first = str(exc).strip().splitlines()[0]
        print(f"hwsim: error: {first} (run with --work-dir DIR to keep the logs)", file=sys.stderr)
        return EXIT_TOOL_FAILED
    _print_json(report)
    return 0


def _engine_config(args: argparse.Namespace):  # noqa: ANN202 - an EngineConfig
    """The EngineConfig of the flags, checked by its generator; errors read ``engine: ...``."""
    config = build_engine_config(args)
    from hwsim.rtl.engine_export import check_engine_rtl_config

    try:
        check_engine_rtl_config(config)
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(message if message.startswith("engine: ")
                          else f"engine: {message}") from None
    return config


def _run_emit_engine(args: argparse.Namespace) -> int:
    _require_amaranth()
    config = _engine_config(args)
    from hwsim.rtl.engine_export import emit_engine
    from hwsim.rtl.export import check_out_dir

    check_out_dir(args.out, "-o/--out")  # before any work: nothing is created on bad input
    _print_json(emit_engine(config, args.out))
    return 0


def _check_engine_synth_flags(args: argparse.Namespace) -> None:
    """Flags of another flow, and bad ecp5 numbers, fail before any conversion."""
    _check_only_flags(args, _ECP5_ONLY_FLAGS, "flow", ("ecp5",))
    _check_only_flags(args, (("optimize", "--optimize"),), "flow", ("generic", "liberty"))
    if args.seeds is not None and args.seeds < 1:
        raise ConfigError(f"--seeds must be an integer >= 1 (nextpnr runs seeds 1..N), got "
                          f"{args.seeds}")
    if args.freq_mhz is not None and not 0 < args.freq_mhz < float("inf"):
        raise ConfigError(f"--freq-mhz must be a number > 0, got {args.freq_mhz:g}")


def _run_synth_engine(args: argparse.Namespace) -> int:
    _require_amaranth()
    _check_engine_synth_flags(args)
    config = _engine_config(args)
    from hwsim.rtl import flows
    from hwsim.rtl.engine_export import engine_top_name, engine_verilog_text
    from hwsim.rtl.export import check_out_dir
    from hwsim.rtl.synth import ECP5_DEFAULT_DEVICE, ECP5_DEFAULT_FREQ_MHZ

    if args.work_dir is not None:
        check_out_dir(args.work_dir, "--work-dir")
    optimize = args.optimize or "delay"
    try:
        if args.flow == "liberty":
            flows.require_liberty_tools()  # a missing tool fails before the conversion
        top = engine_top_name(config)
        text = engine_verilog_text(config)
        if args.flow == "generic":
            report = flows.generic_flow(text, top, args.work_dir, optimize=optimize)
        elif args.flow == "liberty":
            report = flows.liberty_flow(text, top, args.work_dir, optimize=optimize)
        else:
            report = flows.ecp5_flow(
                text, top, args.work_dir,
                seeds=tuple(range(1, (args.seeds or 1) + 1)),
                nodsp=args.nodsp,
                freq_mhz=ECP5_DEFAULT_FREQ_MHZ if args.freq_mhz is None else args.freq_mhz,
                device=args.device or ECP5_DEFAULT_DEVICE,
            )
    except flows.ToolMissing as exc:
        print(f"hwsim: error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_TOOL_FAILED
    except flows.ToolError as exc:
        first = str(exc).strip().splitlines()[0]
        print(f"hwsim: error: {first} (run with --work-dir DIR to keep the logs)", file=sys.stderr)
        return EXIT_TOOL_FAILED
    _print_json({"fingerprint": config.fingerprint(), "config": config.to_dict(), **report})
    return 0
