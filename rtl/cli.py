"""``hwsim rtl``: generate and synthesise the RTL of a unit.

    hwsim rtl emit systolic --config FILE.yaml -o DIR [--rows R --cols C --dataflow os|ws ...]
    hwsim rtl synth systolic --config FILE.yaml --target ecp5|generic [--seeds N] [--nodsp]

Both print JSON on stdout. The config is built exactly as ``hwsim model systolic`` builds it
(defaults < ``--config`` < field flags). This module imports no HDL package until a command
runs, so building the ``hwsim`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hwsim.accelerators.systolic.cli import build_config
from hwsim.accelerators.systolic.config import SystolicConfig
from hwsim.cli import add_config_flags
from hwsim.config import ConfigError

__all__ = ["register"]

EXIT_TOOL_FAILED = 1


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


def _check_synth_flags(args: argparse.Namespace) -> None:
    """One line for ecp5-only flags given with another target, as the sweep spec does."""
    if args.target == "ecp5":
        return
    given = [flag for dest, flag in _ECP5_ONLY_FLAGS if getattr(args, dest) not in (None, False)]
    if given:
        verb = "applies" if len(given) == 1 else "apply"
        raise ConfigError(
            f"{', '.join(given)} only {verb} to --target ecp5, not --target {args.target}"
        )


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
