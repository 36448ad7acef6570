"""Throughput of hwsim's systolic-array model (hwsim only, no SCALE-Sim).

Prints two tables:

1. the analytical model (closed form, vectorised over a workload's layers): microseconds per
   call and layers per second, for ResNet-50 (hwsim's shipped topology, when present) and for
   batches of 1, 10, 100 and 1000 random GEMMs, under both conventions (``hwsim`` and
   ``scalesim``). Two calls are timed: ``evaluate(workload)`` (the public call: per-layer
   records and totals) and ``run(workload)`` (numpy columns only).
2. the ``cycle`` fidelity (a stepped simulation of the array) on a few small layers, for
   contrast, with the analytical time of the same layer and whether the two agree on cycles.

Each figure is the best of three batches, each batch at least ``--min-time / 3`` seconds.

    python benchmarks/model_speed.py [--rows 32 --cols 32 --dataflow ws] [--min-time 0.5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from importlib import resources

import numpy as np
from rich.console import Console
from rich.table import Table

from hwsim.accelerators.systolic import CONVENTIONS, SystolicConfig, SystolicModel
from hwsim.workloads import ConvLayer, Gemm, Workload, load_network

GEMM_BATCHES = (1, 10, 100, 1000)
SEED = 0


def best_time(fn: Callable[[], object], min_time: float) -> float:
    """Seconds per call of ``fn``: best of 3 batches of at least ``min_time / 3`` seconds."""
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 3:
            break
        reps *= 4 if elapsed < min_time / 30 else 2
    best = elapsed / reps
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def random_gemms(count: int, rng: np.random.Generator) -> Workload:
    """``count`` GEMMs with M, N, K log-uniform in [1, 4096]."""
    dims = np.exp(rng.uniform(0, np.log(4096), size=(count, 3))).astype(int) + 1
    return Workload.of(
        f"{count} random GEMMs",
        [Gemm(f"g{i}", int(m), int(n), int(k)) for i, (m, n, k) in enumerate(dims)],
    )


def workloads() -> list[Workload]:
    out = []
    shipped = resources.files("hwsim") / "data" / "topologies" / "resnet50.csv"
    if shipped.is_file():
        out.append(load_network("resnet50"))
    rng = np.random.default_rng(SEED)
    out += [random_gemms(count, rng) for count in GEMM_BATCHES]
    return out


def fmt_us(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:,.1f}" if us < 1e4 else f"{us:,.0f}"


def analytical_table(config: SystolicConfig, min_time: float) -> Table:
    table = Table(
        title=f"analytical model, {config.rows}x{config.cols} {config.dataflow.upper()}",
        title_justify="left",
    )
    for name in ("workload", "layers", "convention", "evaluate µs/call", "evaluate layers/s",
                 "run µs/call", "run layers/s", "total cycles"):
        table.add_column(name, justify="left" if name in ("workload", "convention") else "right")
    for workload in workloads():
        layers = len(workload.layers)
        for convention in CONVENTIONS:
            model = SystolicModel(config, convention=convention)
            t_eval = best_time(lambda m=model, w=workload: m.evaluate(w), min_time)
            t_run = best_time(lambda m=model, w=workload: m.run(w), min_time)
            cycles = int(model.run(workload)["total_cycles"].sum())
            table.add_row(
                workload.name, f"{layers:,}", convention,
                fmt_us(t_eval), f"{layers / t_eval:,.0f}",
                fmt_us(t_run), f"{layers / t_run:,.0f}", f"{cycles:,}",
            )
    return table


SMALL_LAYERS = [
    Gemm("gemm_16x16x16", 16, 16, 16),
    Gemm("gemm_64x64x64", 64, 64, 64),
    Gemm("gemm_100x37x53", 100, 37, 53),
    ConvLayer("conv3x3_16x16x8x16", 18, 18, 3, 3, 8, 16, 1),
]


def cycle_table(min_time: float) -> Table:
    config = SystolicConfig(rows=8, cols=8, dataflow="ws")
    table = Table(
        title=f"cycle fidelity (stepped) vs analytical, one layer per call, "
              f"{config.rows}x{config.cols} {config.dataflow.upper()}",
        title_justify="left",
    )
    for name in ("layer", "convention", "cycles", "cycle µs/call", "analytical µs/call",
                 "slowdown", "cycles agree"):
        table.add_column(name, justify="left" if name in ("layer", "convention") else "right")
    for layer in SMALL_LAYERS:
        workload = Workload.of(layer.name, [layer])
        for convention in CONVENTIONS:
            fast = SystolicModel(config, convention=convention)
            slow = SystolicModel(config, convention=convention, fidelity="cycle")
            t_fast = best_time(lambda m=fast, w=workload: m.evaluate(w), min_time)
            cycles = int(fast.run(workload)["total_cycles"][0])
            try:
                stepped = int(slow.run(workload)["total_cycles"][0])
                t_slow = best_time(lambda m=slow, w=workload: m.evaluate(w), min_time)
            except Exception as exc:  # the stepped reference is developed separately
                table.add_row(layer.name, convention, f"{cycles:,}",
                              f"unavailable ({type(exc).__name__})", fmt_us(t_fast), "", "")
                continue
            table.add_row(
                layer.name, convention, f"{cycles:,}", fmt_us(t_slow), fmt_us(t_fast),
                f"{t_slow / t_fast:,.0f}x",
                "yes" if stepped == cycles else f"[bold red]no ({stepped:,})[/]",
            )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--cols", type=int, default=32)
    parser.add_argument("--dataflow", choices=("os", "ws", "is"), default="ws")
    parser.add_argument("--min-time", type=float, default=0.5, metavar="S",
                        help="seconds spent timing each figure (default 0.5)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(width=None if sys.stdout.isatty() else 140)
    config = SystolicConfig(rows=args.rows, cols=args.cols, dataflow=args.dataflow)
    console.print(analytical_table(config, args.min_time))
    console.print(cycle_table(args.min_time))
    console.print(
        f"numpy {np.__version__}, Python {sys.version.split()[0]}; random GEMMs: M, N, K "
        f"log-uniform in [1, 4096], seed {SEED}. µs/call is for the whole workload; "
        "layers/s = layers / (seconds per call)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
