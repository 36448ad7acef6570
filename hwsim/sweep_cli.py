"""``hwsim sweep``, ``hwsim results``, ``hwsim plot`` and ``hwsim report``.

Registered by :mod:`hwsim.cli` through ``register(commands)``. Bad input raises
:class:`~hwsim.config.ConfigError`, which the CLI prints as one line with exit code 2; a spec
is validated completely before any point runs or any file is created.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hwsim.config import ConfigError

__all__ = ["register", "sweep_progress"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the study commands to the top-level ``hwsim`` parser."""
    sweep = commands.add_parser(
        "sweep", help="run a design-space sweep from a YAML spec (resumable)",
        description="Run a sweep spec (see docs/sweeps.md). Rerunning the same command resumes.",
    )
    sweep.add_argument("spec", metavar="SPEC.yaml", help="sweep spec (YAML or JSON)")
    sweep.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: CPU count; 1 = in this process)")
    sweep.add_argument("--out", metavar="RESULTS.db", default=None,
                       help="results database (default: results/<spec stem>.db)")
    sweep.add_argument("--dask", metavar="SCHEDULER_ADDRESS", default=None,
                       help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument("--batch", type=int, default=None, metavar="N",
                       help="design points per task (default: spec batch, else automatic)")
    sweep.add_argument("--report", metavar="REPORT.html", default=None,
                       help="also write the HTML study report")
    sweep.set_defaults(handler=_sweep)

    results = commands.add_parser("results", help="export a study's results")
    sub = results.add_subparsers(dest="action", metavar="ACTION",
                                 parser_class=commands._parser_class)
    sub.required = True
    export = sub.add_parser("export", help="write the results table as CSV or Parquet")
    export.add_argument("db", metavar="RESULTS.db")
    fmt = export.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", dest="fmt", action="store_const", const="csv")
    fmt.add_argument("--parquet", dest="fmt", action="store_const", const="parquet")
    export.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="output file (default: beside the database)")
    export.set_defaults(handler=_export)

    plot = commands.add_parser("plot", help="plot a study (PNG)")
    kinds = plot.add_subparsers(dest="kind", metavar="KIND",
                                parser_class=commands._parser_class)
    kinds.required = True
    pareto = kinds.add_parser("pareto", help="scatter with the Pareto front highlighted")
    pareto.add_argument("db", metavar="RESULTS.db")
    pareto.add_argument("--x", default="area_mm2", help="metric on x (default: area_mm2)")
    pareto.add_argument("--y", default="total_cycles", help="metric on y (default: total_cycles)")
    pareto.add_argument("--color", default=None, help="axis field to colour by, e.g. dataflow")
    pareto.add_argument("--workload", default=None, help="one workload (default: all combined)")
    for axis in ("x", "y"):
        pareto.add_argument(f"--{axis}-direction", choices=("min", "max"), default=None,
                            help=f"whether a smaller or larger {axis} is better (default: the "
                            "study's objective direction, else max for utilization-like "
                            "ratios and fmax_mhz, min otherwise)")
    pareto.add_argument("-o", "--output", default=None, metavar="FILE.png",
                        help="PNG path (default: <db stem>_pareto.png beside the database; "
                        ".png is appended when there is no suffix)")
    pareto.set_defaults(handler=_plot_pareto)
    heat = kinds.add_parser("heatmap", help="per-layer utilisation of the Pareto set")
    heat.add_argument("db", metavar="RESULTS.db")
    heat.add_argument("--workload", default=None, help="workload (default: the first)")
    heat.add_argument("-o", "--output", default=None, metavar="FILE.png",
                      help="PNG path (default: <db stem>_heatmap.png beside the database)")
    heat.set_defaults(handler=_plot_heatmap)

    report = commands.add_parser("report", help="write the HTML study report")
    report.add_argument("db", metavar="RESULTS.db")
    report.add_argument("-o", "--output", default=None, metavar="REPORT.html",
                        help="default: <db stem>.html beside the database")
    report.set_defaults(handler=_report)


@contextmanager
def sweep_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (points done/total, points/s, elapsed, ETA).

    Yields ``update(done, total)``; shown only on a terminal.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:  # noqa: ANN001
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} pts/s" if speed else "- pts/s")

    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _positive(value: int | None, flag: str) -> None:
    if value is not None and value < 1:
        raise ConfigError(f"{flag} must be an integer >= 1, got {value}")


def _sweep(args: argparse.Namespace) -> int:
    from hwsim import store
    from hwsim.report import console as make_console
    from hwsim.sweep import load_spec, run_sweep

    _positive(args.workers, "--workers")
    _positive(args.batch, "--batch")
    spec = load_spec(args.spec)  # validates everything before a file is touched
    db_path = Path(args.out) if args.out else store.default_db_path(args.spec)
    if db_path.is_dir() or str(args.out or "").endswith("/"):
        raise ConfigError(f"--out: {db_path} is a directory; give a results file such as "
                          f"{db_path / (spec.name + '.db')}")
    report_path = store.check_output(args.report, (".html", ".htm"), "--report") \
        if args.report else None
    if db_path.exists():  # a different spec is refused before any point runs
        store.open_study(db_path, spec).close()
    workers = args.workers or os.cpu_count() or 1
    where = f"Dask at {args.dask}" if args.dask else f"{workers} worker(s)"
    with sweep_progress(f"{spec.name} ({where})") as update:
        summary = run_sweep(spec, db_path, workers=workers, dask_address=args.dask,
                            batch=args.batch, progress=update)
    console = make_console()
    rate = summary.rows_written / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    console.print(
        f"{spec.name}: {summary.points} design points x {len(spec.workloads)} workloads; "
        f"{summary.rows_written} rows written ({rate:,.0f}/s), {summary.rows_skipped} already "
        f"stored, {summary.infeasible} infeasible, {summary.elapsed_s:.2f} s"
    )
    console.print(f"results: {db_path.resolve()}")
    if args.report:
        from hwsim.html_report import write_report

        console.print(f"report:  {write_report(db_path, report_path).resolve()}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from hwsim import store

    out = store.export(args.db, args.fmt, args.output)  # checks -o before writing anything
    print(f"wrote {out}")
    return 0


def _plot_pareto(args: argparse.Namespace) -> int:
    from hwsim import store
    from hwsim.plot import plot_pareto

    out = store.check_output(args.output or Path(args.db).with_name(
        Path(args.db).stem + "_pareto.png"), (".png",))
    store.require_rows(args.db)
    plot_pareto(args.db, args.x, args.y, color=args.color, workload=args.workload, out=out,
                x_direction=args.x_direction, y_direction=args.y_direction)
    print(f"wrote {out}")
    return 0


def _plot_heatmap(args: argparse.Namespace) -> int:
    from hwsim import store
    from hwsim.plot import plot_heatmap

    out = store.check_output(args.output or Path(args.db).with_name(
        Path(args.db).stem + "_heatmap.png"), (".png",))
    store.require_rows(args.db)
    plot_heatmap(args.db, workload=args.workload, out=out)
    print(f"wrote {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from hwsim import store
    from hwsim.html_report import write_report

    out = store.check_output(args.output or Path(args.db).with_suffix(".html"),
                             (".html", ".htm"))
    print(f"wrote {write_report(args.db, out)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the hwsim command")
