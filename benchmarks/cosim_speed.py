"""Speed of the systolic-array co-simulation (cocotb + Icarus / Verilator).

For each simulator, array size and dataflow it runs one ``verify_systolic`` (random tiles
without backpressure, then throttled, plus the extreme tiles) and prints:

- build time (Verilog generation excluded; a fresh build unless ``--reuse``),
- simulated cycles, and simulated cycles per second measured two ways: inside the bench
  (cocotb test time: stimulus generation, drivers, monitor, scoreboard, simulator) and over
  the whole simulator process (adds start-up: loading Python, cocotb and the design),
- whether the run passed (outputs bit-exact, latencies equal to the model).

    python benchmarks/cosim_speed.py [--sizes 8 16] [--sims icarus verilator]
                                     [--dataflows os ws] [--tiles 8] [--seed 1] [--reuse]

Build directories go to ``build/cosim-bench`` (or ``$HWSIM_BUILD_DIR``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hwsim.accelerators.systolic import SystolicConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--sims", nargs="+", default=["icarus", "verilator"])
    parser.add_argument("--dataflows", nargs="+", default=["os", "ws"])
    parser.add_argument("--tiles", type=int, default=8, help="random tiles per phase (8)")
    parser.add_argument("--throttle", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep existing builds")
    args = parser.parse_args(argv)

    root = Path(os.environ.setdefault("HWSIM_BUILD_DIR", "build/cosim-bench")).resolve()
    from hwsim.verification.runner import emit_systolic, verify_systolic

    table = Table(
        title=f"co-simulation speed (seed {args.seed}, {args.tiles} random + 2 extreme tiles "
        f"per phase, throttle {args.throttle})",
        title_justify="left",
    )
    for header in (
        "sim", "array", "df", "build s", "sim cycles", "bench s", "cycles/s (bench)",
        "process s", "cycles/s (process)", "passed",
    ):  # fmt: skip
        table.add_column(header, justify="left" if header in ("sim", "df") else "right")
    failed = 0
    for sim in args.sims:
        for size in args.sizes:
            for dataflow in args.dataflows:
                config = SystolicConfig(
                    rows=size, cols=size, dataflow=dataflow, in_width_bits=8, acc_width_bits=32
                )
                emit_systolic(config)  # generation is not part of the build time
                if not args.reuse:
                    for old in root.glob(f"*.{sim}.{config.fingerprint()}*"):
                        shutil.rmtree(old)
                start = time.perf_counter()
                verdict = verify_systolic(
                    config,
                    sim=sim,
                    seed=args.seed,
                    tiles=args.tiles,
                    throttle=args.throttle,
                    extremes=True,
                )
                total = time.perf_counter() - start
                bench_s = float(verdict.details.get("bench_seconds", 0.0)) or total
                cycles = verdict.sim_cycles
                failed += not verdict.passed
                table.add_row(
                    sim,
                    f"{size}x{size}",
                    dataflow,
                    f"{verdict.build_seconds:.1f}",
                    f"{cycles:,}",
                    f"{bench_s:.2f}",
                    f"{cycles / bench_s:,.0f}",
                    f"{verdict.run_seconds:.2f}",
                    f"{cycles / verdict.run_seconds:,.0f}",
                    "yes" if verdict.passed else "NO",
                )
    Console(width=160).print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
