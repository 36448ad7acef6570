"""``hwsim verify systolic``: co-simulate the generated (or a given) Verilog against the model.

Prints a JSON verdict on stdout. Exit codes: 0 outputs and latencies match, 1 mismatch (or
the bench failed on the design, e.g. a timeout), 2 bad input (config, flags, missing file or
simulator), as everywhere in the ``hwsim`` command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hwsim.config import ConfigError

__all__ = ["register", "run_systolic"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``hwsim verify`` (and its ``systolic`` unit) to the top-level commands."""
    from hwsim.accelerators.systolic.config import SystolicConfig
    from hwsim.cli import add_config_flags

    verify = commands.add_parser(
        "verify",
        help="co-simulate a unit's RTL against its golden function and model (cocotb)",
        description="Co-simulate RTL under cocotb (Icarus or Verilator) and check it "
        "bit-exactly against the golden function and cycle-exactly against the model.",
    )
    units = verify.add_subparsers(dest="unit", metavar="UNIT", parser_class=type(verify))
    units.required = True
    parser = units.add_parser(
        "systolic",
        help="systolic array (os/ws dataflows)",
        description="Drive random tiles (plus extremes) through the systolic-array Verilog, "
        "first without backpressure (latency checked against the model), then with random "
        "valid/ready throttling; print a JSON verdict. Field flags override --config.",
    )
    add_config_flags(
        parser, SystolicConfig, "array (SystolicConfig fields; YAML keys of the same names)"
    )
    run = parser.add_argument_group("co-simulation")
    run.add_argument("--config", metavar="FILE.yaml", help="SystolicConfig as YAML or JSON")
    run.add_argument(
        "--verilog",
        metavar="FILE.v",
        help="simulate this Verilog instead of generating it (same ports as the generator's)",
    )
    run.add_argument(
        "--top", help="top module of --verilog (default: from the JSON sidecar next to it)"
    )
    run.add_argument(
        "--sim", choices=("icarus", "verilator"), default="icarus", help="simulator (icarus)"
    )
    run.add_argument("--seed", type=int, default=1, help="seed of all random stimulus (1)")
    run.add_argument("--tiles", type=int, default=4, help="random tiles per phase (4)")
    run.add_argument(
        "--throttle",
        type=float,
        default=0.3,
        help="chance per cycle of dropping valid/ready in the throttled phase (0.3)",
    )
    run.add_argument(
        "--no-extremes",
        dest="extremes",
        action="store_false",
        help="leave out the all -2**(w-1) tiles",
    )
    run.add_argument("--waves", action="store_true", help="record an FST waveform")
    parser.set_defaults(handler=run_systolic, scalesim_cfg=None)


def run_systolic(args: argparse.Namespace) -> int:
    """Run the co-simulation and print the verdict; 0 match, 1 mismatch, 2 bad input."""
    from hwsim.accelerators.systolic.cli import build_config

    from .runner import verify_systolic

    config, _ = build_config(args)
    if config.dataflow not in ("os", "ws"):
        raise ConfigError(
            f"verify systolic: dataflow must be os or ws (the RTL's), got '{config.dataflow}'"
        )
    # The --verilog / --top / output-folder checks live in verify_systolic (one line each).
    try:
        verdict = verify_systolic(
            config,
            sim=args.sim,
            seed=args.seed,
            tiles=args.tiles,
            throttle=args.throttle,
            extremes=args.extremes,
            verilog=Path(args.verilog) if args.verilog else None,
            top=args.top,
            waves=args.waves,
        )
    except RuntimeError as exc:  # a build that fails on the given Verilog is bad input
        raise ConfigError(str(exc).replace("\n", " ")) from None
    json.dump(verdict.to_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if verdict.passed else 1
