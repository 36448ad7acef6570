"""``hwsim model engine``: evaluate a tensor engine on a GEMM, a topology or a network."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hwsim.accelerators.systolic.cli import build_workload
from hwsim.cli import add_config_flags
from hwsim.config import ConfigError
from hwsim.workloads import NETWORKS

from .config import COMPATIBILITY, EngineConfig
from .model import EngineModel

__all__ = ["register", "build_config", "add_engine_config_flags", "add_engine_config_file_flag"]


def register(units: argparse._SubParsersAction) -> None:
    """Add the ``engine`` sub-command to ``hwsim model``."""
    pairs = "; ".join(f"{engine}: {', '.join(macs)}" for engine, macs in COMPATIBILITY.items())
    parser = units.add_parser(
        "engine",
        help="tensor engines: systolic, cube, tree, matrix2d, bitslice (MAC variants)",
        description="Evaluate a tensor engine of one family with one MAC variant on a "
        f"workload. Field flags override --config, which overrides the defaults. MAC variants "
        f"per engine: {pairs}.",
    )
    add_engine_config_flags(parser)
    source = parser.add_argument_group("workload (exactly one)")
    workload = source.add_mutually_exclusive_group(required=True)
    workload.add_argument(
        "--gemm", action="append", metavar="M,N,K",
        help="an M x N output reduced over K (repeat for several layers)",
    )
    workload.add_argument(
        "--topology", metavar="FILE.csv", help="SCALE-Sim topology CSV (conv or GEMM)"
    )
    workload.add_argument(
        "--network", metavar="NAME", help=f"shipped network: {', '.join(NETWORKS)}"
    )
    source.add_argument(
        "--topology-format", choices=("auto", "conv", "gemm"), default="auto",
        help="topology CSV format (default: auto, from the header)",
    )
    run = parser.add_argument_group("run")
    add_engine_config_file_flag(run)
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run_command)


def add_engine_config_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--kebab-case`` flag per :class:`EngineConfig` field, read by :func:`build_config`
    (shared with ``hwsim rtl emit|synth engine``)."""
    add_config_flags(parser, EngineConfig, "engine (EngineConfig fields; YAML keys of the same "
                     "names)")


def add_engine_config_file_flag(group: argparse._ActionsContainer) -> None:
    """``--config FILE.yaml``, the file :func:`build_config` reads under the field flags."""
    group.add_argument("--config", metavar="FILE.yaml", help="EngineConfig as YAML or JSON")


def build_config(args: argparse.Namespace) -> EngineConfig:
    """Defaults < --config file < field flags; errors read ``engine: <field> must be ...``."""
    values: dict[str, Any] = {}
    if args.config:
        values.update(EngineConfig.from_file(args.config).to_dict())
    for name in EngineConfig.field_names():
        flag_value = getattr(args, name)
        if flag_value is not None:
            values[name] = flag_value
    try:
        return EngineConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f"engine: {exc}") from None


def _title(result: dict[str, Any]) -> str:
    cfg = result["config"]
    engine = cfg["engine"]
    if engine == "systolic":
        shape = f"{cfg['rows']}x{cfg['cols']} {cfg['dataflow'].upper()}"
    else:
        shape = f"{cfg['rows']}x{cfg['cols']}x{cfg['depth']}"
    sparse = ""
    if cfg["mac"] in ("opt3", "opt4c", "laconic"):
        encoding = "booth" if cfg["mac"] == "laconic" else cfg["digit_encoding"]
        sparse = f", {encoding} digits, cycles {result['cycles']}"
    return (
        f"engine {engine} {shape} mac {cfg['mac']} int{cfg['in_width_bits']}/"
        f"acc{cfg['acc_width_bits']} on {result['workload']}{sparse} (config "
        f"{result['fingerprint']})"
    )


def _print_table(result: dict[str, Any]) -> None:
    from rich.table import Table

    from hwsim.report import console as make_console

    table = Table(title=_title(result), title_justify="left")
    columns = [
        ("layer", "layer", "left"),
        ("compute_cycles", "compute\ncycles", "right"),
        ("stall_cycles", "stall\ncycles", "right"),
        ("total_cycles", "total\ncycles", "right"),
        ("utilization", "util\n%", "right"),
        ("mapping_efficiency", "mapping\neff %", "right"),
        ("dram_bytes", "DRAM\nKiB", "right"),
        ("energy_pj", "energy\nuJ", "right"),
    ]
    for _, header, justify in columns:
        table.add_column(header, justify=justify)

    def row(record: dict[str, Any], name: str) -> list[str]:
        cells = [name]
        for key, _, _ in columns[1:]:
            value = record[key]
            if key in ("utilization", "mapping_efficiency"):
                cells.append(f"{100 * value:.2f}")
            elif key == "dram_bytes":
                cells.append(f"{sum(value.values()) / 1024:,.1f}")
            elif key == "energy_pj":
                cells.append(f"{value / 1e6:,.2f}")
            else:
                cells.append(f"{value:,}")
        return cells

    for record in result["layers"]:
        table.add_row(*row(record, record["layer"]))
    table.add_section()
    table.add_row(*row(result["totals"], "total"), style="bold")
    console = make_console()
    console.print(table)
    totals = result["totals"]
    console.print(
        f"area {totals['area_mm2']:.3f} mm^2, {totals['pes']:,} PEs, peak "
        f"{totals['peak_macs_per_cycle']:g} MACs/cycle (energy/area table: "
        f"{result['config']['energy_table']})"
    )


def run_command(args: argparse.Namespace) -> int:
    """Evaluate and print; bad input raises ConfigError (exit 2 in the CLI)."""
    config = build_config(args)
    workload = build_workload(args)
    result = EngineModel(config).evaluate(workload).to_dict()
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(result)
    return 0
