"""The main job on embedded defaults: a small systolic-array study on shipped networks.

Square arrays from 8x8 to 128x128, three dataflows, on ResNet-50 and a BERT-base encoder
layer; prints one table and writes the figures as JSON and CSV. (The sweep engine will take
this job over with its database, Pareto plot and HTML report.)
"""

from __future__ import annotations

import csv
import importlib
import json
import time
from pathlib import Path
from typing import Any

__all__ = ["run", "DEMO_SIDES", "DEMO_DATAFLOWS", "DEMO_NETWORKS"]

DEMO_SIDES = (8, 16, 32, 64, 128)
DEMO_DATAFLOWS = ("os", "ws", "is")
DEMO_NETWORKS = ("resnet50", "bert-base")


def study() -> list[dict[str, Any]]:
    """Evaluate every (array side, dataflow, network) point; one flat record per point."""
    from hwsim.workloads import load_network

    systolic = importlib.import_module("hwsim.accelerators.systolic")
    workloads = [load_network(name) for name in DEMO_NETWORKS]
    rows = []
    for side in DEMO_SIDES:
        for dataflow in DEMO_DATAFLOWS:
            config = systolic.SystolicConfig(rows=side, cols=side, dataflow=dataflow)
            model = systolic.SystolicModel(config)
            for workload in workloads:
                totals = model.evaluate(workload).totals
                rows.append(
                    {
                        "network": workload.name,
                        "rows": side,
                        "cols": side,
                        "dataflow": dataflow,
                        "fingerprint": config.fingerprint(),
                        "total_cycles": totals["total_cycles"],
                        "stall_cycles": totals["stall_cycles"],
                        "utilization": totals["utilization"],
                        "dram_bytes": sum(totals["dram_bytes"].values()),
                        "energy_pj": totals["energy_pj"],
                        "area_mm2": totals["area_mm2"],
                    }
                )
    return rows


def run(out_dir: str | Path = "results") -> int:
    """Run the study, print the table and where the files are; returns the exit code."""
    from rich.table import Table

    from hwsim.report import console as make_console

    start = time.perf_counter()
    rows = study()
    elapsed_s = time.perf_counter() - start
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "demo.json"
    csv_path = out / "demo.csv"
    tmp_json = json_path.with_suffix(".json.tmp")
    tmp_json.write_text(json.dumps(rows, indent=2) + "\n")
    tmp_json.replace(json_path)
    tmp_csv = csv_path.with_suffix(".csv.tmp")
    with tmp_csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp_csv.replace(csv_path)

    console = make_console()
    for network in DEMO_NETWORKS:
        table = Table(
            title=f"{network}: systolic arrays, int8 operands, 256 KiB SRAMs each, 32 B/cycle DRAM "
            "(hwsim convention)",
            title_justify="left",
        )
        for header in (
            "array",
            "dataflow",
            "total cycles",
            "stall %",
            "util %",
            "DRAM MiB",
            "energy mJ",
            "area mm^2",
        ):
            table.add_column(header, justify="left" if header in ("array", "dataflow") else "right")
        subset = [r for r in rows if r["network"] == network]
        best = min(subset, key=lambda r: r["total_cycles"] * r["area_mm2"])
        for r in subset:
            table.add_row(
                f"{r['rows']}x{r['cols']}",
                r["dataflow"],
                f"{r['total_cycles']:,}",
                f"{100 * r['stall_cycles'] / r['total_cycles']:.1f}",
                f"{100 * r['utilization']:.1f}",
                f"{r['dram_bytes'] / 2**20:,.1f}",
                f"{r['energy_pj'] / 1e9:,.3f}",
                f"{r['area_mm2']:.2f}",
                style="bold green" if r is best else None,
            )
        console.print(table)
        console.print(
            f"lowest cycles x area on {network}: {best['rows']}x{best['cols']} "
            f"{best['dataflow'].upper()} (highlighted)\n"
        )
    console.print(f"{len(rows)} design points in {elapsed_s:.2f} s")
    console.print(f"results: {json_path.resolve()}")
    console.print(f"         {csv_path.resolve()}")
    return 0
