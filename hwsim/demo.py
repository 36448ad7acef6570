"""The main job on embedded defaults: a small systolic-array design-space study.

Arrays from 8x8 to 128x128 (every rows x cols pair of 8, 16, 32, 64, 128: square and
non-square), three dataflows and two SRAM sizes, on ResNet-50 and the BERT-base encoder layer
set: 150 design points x 2 workloads, run by the sweep engine into ``<out>/demo.db`` (resumed
if it is already there), with the Pareto plot, the utilisation heat map, the HTML report and a
CSV export beside it. Prints the Pareto table and where the files are.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

__all__ = ["run", "DEMO_SPEC", "DEMO_SIDES", "DEMO_DATAFLOWS", "DEMO_NETWORKS"]

DEMO_SIDES = (8, 16, 32, 64, 128)
DEMO_DATAFLOWS = ("os", "ws", "is")
DEMO_NETWORKS = ("resnet50", "bert-base")
DEMO_SRAM_KIB = (64, 256)

#: The demo's sweep spec (the same form as a YAML spec file).
DEMO_SPEC: dict[str, Any] = {
    "name": "demo",
    "unit": "systolic",
    "base": {"in_width_bits": 8, "acc_width_bits": 32, "dram_bytes_per_cycle": 32},
    "axes": {
        "rows": list(DEMO_SIDES),
        "cols": list(DEMO_SIDES),
        "dataflow": list(DEMO_DATAFLOWS),
        "ifmap_sram_kib,filter_sram_kib,ofmap_sram_kib": [[s, s, s] for s in DEMO_SRAM_KIB],
    },
    "workloads": [{"network": n} for n in DEMO_NETWORKS],
    "objectives": {"total_cycles": "min", "area_mm2": "min"},
    "method": "grid",
}


def run(out_dir: str | Path = "results") -> int:
    """Run the study, write the database, plots and report, print the Pareto table."""
    from rich.table import Table

    from hwsim import store
    from hwsim.html_report import write_report
    from hwsim.plot import pareto_table, plot_heatmap, plot_pareto
    from hwsim.report import console as make_console
    from hwsim.sweep import parse_spec, run_sweep

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    spec = parse_spec(DEMO_SPEC, source="demo")
    db_path = out / "demo.db"
    summary = run_sweep(spec, db_path, workers=min(2, os.cpu_count() or 1))
    df = store.load(db_path)
    pareto_png = out / "demo_pareto.png"
    heat_png = out / "demo_heatmap.png"
    plot_pareto(df, "area_mm2", "total_cycles", color="dataflow", out=pareto_png)
    plot_heatmap(df, workload="resnet50", out=heat_png)
    report = write_report(db_path, out / "demo_report.html")
    csv_path = store.export(db_path, "csv", out / "demo.csv")
    elapsed_s = time.perf_counter() - start

    console = make_console()
    front = pareto_table(df)
    table = Table(
        title="Pareto set: systolic arrays on ResNet-50 + BERT-base (cycles summed), int8, "
        "32 B/cycle DRAM, hwsim convention",
        title_justify="left",
    )
    for header in ("array", "dataflow", "SRAM KiB (each)", "total cycles", "util %",
                   "energy mJ", "area mm²"):
        table.add_column(header, justify="left" if header in ("array", "dataflow") else "right")
    for r in front.to_dict("records"):
        table.add_row(
            f"{r['rows']}x{r['cols']}",
            r["dataflow"],
            f"{r['ifmap_sram_kib']:g}",
            f"{r['total_cycles']:,}",
            f"{100 * r['utilization']:.1f}",
            f"{r['energy_pj'] / 1e9:,.3f}",
            f"{r['area_mm2']:.2f}",
        )
    console.print(table)
    console.print(
        f"{summary.points} design points x {len(spec.workloads)} workloads "
        f"({summary.rows_written} rows computed, {summary.rows_skipped} already stored) "
        f"in {elapsed_s:.2f} s"
    )
    console.print(f"results:  {db_path.resolve()}")
    console.print(f"          {csv_path.resolve()}")
    console.print(f"plots:    {pareto_png.resolve()}")
    console.print(f"          {heat_png.resolve()}")
    console.print(f"report:   {report.resolve()}")
    return 0
