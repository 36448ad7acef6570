"""``hwsim verify systolic|engine``: co-simulate generated (or given) Verilog against the model.

``systolic`` prints a JSON verdict on stdout; ``engine`` prints a summary (``--json``: the
verdict). Exit codes: 0 outputs and latencies match, 1 mismatch (or the bench failed on the
design, e.g. a timeout), 2 bad input (config, flags, missing file or simulator, an engine
without a generator yet or a variant its generator does not build), as everywhere in the
``hwsim`` command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hwsim.config import ConfigError

__all__ = ["register", "run_systolic", "run_engine"]


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
    _register_engine(units)


def _register_engine(units: argparse._SubParsersAction) -> None:
    """``hwsim verify engine``: the generic bench of every tensor-engine generator."""
    from hwsim.accelerators.engines import EngineConfig
    from hwsim.cli import add_config_flags

    parser = units.add_parser(
        "engine",
        help="tensor engines (systolic, cube, tree, matrix2d, bitslice) and their MAC variants",
        description="Generate an engine's Verilog, drive seeded random GEMMs (plus extremes) "
        "through it fold by fold, first without backpressure (each fold's cycles against its "
        "contract and the model), then with random valid/ready throttling; check every "
        "output beat and every GEMM against the golden function. Field flags override "
        "--config.",
    )
    add_config_flags(parser, EngineConfig, "engine (EngineConfig fields; YAML keys of the same "
                     "names)")
    run = parser.add_argument_group("co-simulation")
    run.add_argument("--config", metavar="FILE.yaml", help="EngineConfig as YAML or JSON")
    run.add_argument(
        "--sim", choices=("icarus", "verilator"), default="icarus", help="simulator (icarus)"
    )
    run.add_argument("--seed", type=int, default=1, help="seed of all random stimulus (1)")
    run.add_argument(
        "--folds", type=int, default=4, help="least number of random folds per phase (4)"
    )
    run.add_argument(
        "--max-t", type=int, default=4, help="longest streamed length of a random fold, beats (4)"
    )
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
        help="leave out the extreme GEMMs (all -2**(w-1), zeros, all-zero digit groups)",
    )
    run.add_argument("--waves", action="store_true", help="record a waveform")
    run.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(handler=run_engine)


def run_engine(args: argparse.Namespace) -> int:
    """Run the engine bench and print the verdict; 0 match, 1 mismatch, 2 bad input."""
    from hwsim.accelerators.engines.cli import build_config

    from .engine_runner import run_engine_bench

    config = build_config(args)
    try:
        result = run_engine_bench(
            config,
            args.sim,
            seed=args.seed,
            folds=args.folds,
            throttle=args.throttle,
            max_t=args.max_t,
            extremes=args.extremes,
            waves=args.waves,
        )
    except RuntimeError as exc:  # the simulator cannot build the generated Verilog
        raise ConfigError(str(exc).replace("\n", " ")) from None
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_engine_summary(result)
    return 0 if result["passed"] else 1


def _print_engine_summary(result: dict) -> None:
    shape = f"{result['engine']} mac {result['mac']} (config {result['fingerprint']})"
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"{verdict}: engine {shape} on {result['simulator']}, seed {result['seed']}")
    print(
        f"  outputs: {'match' if result['outputs_match'] else 'MISMATCH'} "
        f"({result['beats_checked']} o_c beats, {result['fold_count']} folds, "
        f"{result['gemms']} GEMMs; beats {'ok' if result['beats_match'] else 'WRONG'}, "
        f"GEMMs vs engine_product {'ok' if result['gemm_match'] else 'WRONG'})"
    )
    print(
        f"  cycles:  {'match' if result['cycles_match'] else 'MISMATCH'} "
        f"(rtl {result['cycles_rtl']}, contract {result['cycles_contract']}, "
        f"model {result['cycles_model']})"
    )
    if result["throttled_cycles"] is not None:
        print(
            f"  throttled phase: {result['throttled_cycles']} cycles at throttle "
            f"{result['throttle']} (contracts sum to {result['throttled_contract_cycles']})"
        )
    for record in result["mismatches"][:4] + result["cycle_mismatches"][:4]:
        print(f"  mismatch: {json.dumps(record)}")
    if result["error"]:
        print(f"  error: {result['error']}")
    if not result["passed"]:
        print(f"  replay: --seed {result['seed']}")
    if result["waves"]:
        print(f"  waves: {result['waves']}")


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
