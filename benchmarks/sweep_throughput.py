"""Sweep throughput: design points per second for the systolic model over ResNet-50.

Runs one grid (array rows x cols x dataflow; every point evaluated on all 54 conv and FC layers
of ResNet-50) through the whole sweep path -- config validation, fingerprint, model, SQLite
writes -- on 1 and 2 local worker processes and on a Dask LocalCluster (2 worker processes on
loopback), then profiles one worker's per-point cost.

    python benchmarks/sweep_throughput.py [--points 12000] [--no-dask] [--no-profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hwsim.sweep import Job, evaluate_batch, parse_spec, run_sweep


def make_spec(points: int) -> dict:
    side = max(2, int(math.sqrt(points / 3)))
    return {
        "name": "throughput",
        "unit": "systolic",
        "axes": {"rows": {"start": 1, "stop": side, "step": 1},
                 "cols": {"start": 1, "stop": side, "step": 1},
                 "dataflow": ["os", "ws", "is"]},
        "workloads": [{"network": "resnet50"}],
        "metrics": ["total_cycles", "utilization", "energy_pj", "area_mm2"],
    }


def timed(spec_data: dict, workers: int, dask: str | None = None) -> tuple[int, float]:
    spec = parse_spec(spec_data)
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_sweep(spec, Path(tmp) / "t.db", workers=workers, dask_address=dask)
    return summary.points, summary.elapsed_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=12000)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    data = make_spec(args.points)
    console = Console()
    table = Table(title="hwsim sweep throughput: systolic model on ResNet-50 (54 layers)",
                  title_justify="left")
    for header in ("executor", "design points", "seconds", "points / s"):
        table.add_column(header, justify="left" if header == "executor" else "right")
    for workers in (1, 2):
        n, s = timed(data, workers)
        table.add_row(f"local, {workers} worker(s)", f"{n:,}", f"{s:.2f}", f"{n / s:,.0f}")
    if not args.no_dask:
        from dask.distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            timed(make_spec(600), 0, cluster.scheduler_address)  # warm the workers
            n, s = timed(data, 0, cluster.scheduler_address)
        table.add_row("Dask LocalCluster, 2 workers", f"{n:,}", f"{s:.2f}", f"{n / s:,.0f}")
    console.print(table)
    if args.no_profile:
        return
    spec = parse_spec(make_spec(3000))
    from hwsim.sweep import design_points

    points = list(design_points(spec))
    job = Job.of(spec)
    evaluate_batch(job, points[:10])
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    evaluate_batch(job, points)
    profiler.disable()
    per_point_us = (time.perf_counter() - start) / len(points) * 1e6
    console.print(f"\none worker, in process: {per_point_us:.0f} us per design point "
                  f"(profiled; profiling adds overhead). Top functions by own time:")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(12)
    console.print(stream.getvalue().split("\n", 6)[-1].rstrip(), highlight=False)


if __name__ == "__main__":
    main()
