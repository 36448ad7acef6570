"""``hwsim model systolic``: evaluate the systolic model on a GEMM, a topology or a network."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hwsim.cli import add_config_flags
from hwsim.config import ConfigError
from hwsim.workloads import NETWORKS, Workload, load_network, load_topology, parse_gemm

from .config import SystolicConfig
from .model import CONVENTIONS, FIDELITIES, SystolicModel

__all__ = ["register", "build_config", "build_workload"]


def register(units: argparse._SubParsersAction) -> None:
    """Add the ``systolic`` sub-command to ``hwsim model``."""
    parser = units.add_parser(
        "systolic",
        help="systolic array (os/ws/is dataflows)",
        description="Evaluate a systolic array on a workload. Field flags override --config "
        "and --scalesim-cfg, which override the defaults.",
    )
    add_config_flags(
        parser, SystolicConfig, "array (SystolicConfig fields; YAML keys of the same names)"
    )
    source = parser.add_argument_group("workload (exactly one)")
    workload = source.add_mutually_exclusive_group(required=True)
    workload.add_argument(
        "--gemm",
        action="append",
        metavar="M,N,K",
        help="an M x N output reduced over K (repeat for several layers)",
    )
    workload.add_argument(
        "--topology", metavar="FILE.csv", help="SCALE-Sim topology CSV (conv or GEMM)"
    )
    workload.add_argument(
        "--network", metavar="NAME", help=f"shipped network: {', '.join(NETWORKS)}"
    )
    source.add_argument(
        "--topology-format",
        choices=("auto", "conv", "gemm"),
        default="auto",
        help="topology CSV format (default: auto, from the header)",
    )
    run = parser.add_argument_group("run")
    run.add_argument("--config", metavar="FILE.yaml", help="SystolicConfig as YAML or JSON")
    run.add_argument(
        "--scalesim-cfg",
        metavar="FILE.cfg",
        help="read array fields from a SCALE-Sim config (implies --convention scalesim)",
    )
    run.add_argument(
        "--convention",
        choices=CONVENTIONS,
        default=None,
        help="hwsim (RTL latency contract, default) or scalesim (SCALE-Sim v3 cycles)",
    )
    run.add_argument(
        "--fidelity",
        choices=FIDELITIES,
        default="analytical",
        help="analytical (closed form, default) or cycle (stepped reference)",
    )
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run_command)


def build_config(args: argparse.Namespace) -> tuple[SystolicConfig, list[str]]:
    """Defaults < --config file < --scalesim-cfg < field flags. Returns config and notes."""
    values: dict[str, Any] = {}
    notes: list[str] = []
    if args.config:
        values.update(SystolicConfig.from_file(args.config).to_dict())
    if args.scalesim_cfg:
        from .scalesim_io import read_scalesim_cfg

        imported = read_scalesim_cfg(args.scalesim_cfg)
        values.update(imported.fields)
        notes.extend(imported.notes)
    for name in SystolicConfig.field_names():
        flag_value = getattr(args, name)
        if flag_value is not None:
            values[name] = flag_value
    try:
        return SystolicConfig(**values), notes
    except ConfigError as exc:
        raise ConfigError(f"systolic: {exc}") from None


def build_workload(args: argparse.Namespace) -> Workload:
    """The workload named by --gemm, --topology or --network."""
    if args.gemm:
        gemms = [parse_gemm(text) for text in args.gemm]
        name = gemms[0].name if len(gemms) == 1 else "gemms"
        return Workload.of(name, gemms)
    if args.topology:
        return load_topology(args.topology, args.topology_format)
    return load_network(args.network)


def _print_table(result: dict[str, Any], notes: list[str]) -> None:
    from rich.table import Table

    from hwsim.report import console as make_console

    cfg = result["config"]
    title = (
        f"systolic {cfg['rows']}x{cfg['cols']} {cfg['dataflow'].upper()} "
        f"int{cfg['in_width_bits']}/acc{cfg['acc_width_bits']} on {result['workload']} "
        f"({result['convention']} convention, {result['fidelity']}; config {result['fingerprint']})"
    )
    table = Table(title=title, title_justify="left")
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
    console.print(
        f"area {result['totals']['area_mm2']:.3f} mm^2 (energy/area table: {cfg['energy_table']})"
    )
    for note in notes:
        console.print(f"note: {note}")


def run_command(args: argparse.Namespace) -> int:
    """Evaluate and print; bad input raises ConfigError (exit 2 in the CLI)."""
    config, notes = build_config(args)
    convention = args.convention or ("scalesim" if args.scalesim_cfg else "hwsim")
    workload = build_workload(args)
    model = SystolicModel(config, convention=convention, fidelity=args.fidelity)
    if args.fidelity == "cycle" and len(workload.layers) > 1:
        from hwsim.report import layer_progress

        with layer_progress(len(workload.layers), f"stepping {workload.name}") as advance:
            result = model.evaluate(workload, advance).to_dict()
    else:
        result = model.evaluate(workload).to_dict()
    if notes:
        result["notes"] = notes
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(result, notes)
    return 0
