"""Parity and speed of hwsim's ``scalesim`` convention against SCALE-Sim v3.0.0 itself.

For every case (array size x dataflow x workload) this script

1. runs SCALE-Sim v3.0.0 in its own venv (``benchmarks/.venv-scalesim``, created on first use
   with ``pip install scalesim==3.0.0 "numpy<2.4"``) through ``_scalesim_driver.py``, which
   prints SCALE-Sim's per-layer compute report and wall time as JSON (CALC interface
   bandwidth, 1024 kB SRAMs, no traces);
2. runs ``SystolicModel(config, convention="scalesim")`` on the same topology text and times
   it: hwsim evaluates a whole workload in one vectorised call, so its per-layer time is the
   time of one ``evaluate(workload)`` call divided by the number of layers;
3. prints a table per case and a summary line.

SCALE-Sim splits a depthwise row (``DP`` in its name) into one layer per channel
(``<name>Channel_<i>``); hwsim keeps one layer with ``groups = channels``. They are compared
on the sum of the channel cycles and on the per-channel utilisations (identical per channel).

Exit status: 0 when every cycle count matches exactly and every utilisation matches to
1e-6 percentage points, 1 otherwise, 2 when SCALE-Sim could not be run.

    python benchmarks/scalesim_parity.py                 # all cases, a few minutes
    python benchmarks/scalesim_parity.py --quick         # a subset, well under a minute
    python benchmarks/scalesim_parity.py --quick --record tests/data/scalesim_recorded.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hwsim.accelerators.systolic import SystolicConfig, SystolicModel
from hwsim.workloads import ConvLayer, Gemm, Workload, load_network, load_topology

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv-scalesim"
DRIVER = HERE / "_scalesim_driver.py"
SCALESIM_VERSION = "3.0.0"
SCALESIM_REQUIREMENTS = [f"scalesim=={SCALESIM_VERSION}", "numpy<2.4"]
SRAM_KB = 1024
UTIL_TOLERANCE_PP = 1e-6  # percentage points
UTIL_KEYS = ("overall_util", "mapping_eff", "compute_util")  # SCALE-Sim's report, in %

GEMM_HEADER = "Layer, M, N, K,"
CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
    "Num Filter, Strides,"
)

ARRAYS = [(8, 8), (32, 32), (4, 16), (16, 4), (7, 13)]
DATAFLOWS = ("os", "ws", "is")

GEMMS = [
    Gemm("gemm_64x64x64", 64, 64, 64),
    Gemm("gemm_100x37x53", 100, 37, 53),
    Gemm("gemm_1x1x1", 1, 1, 1),
    Gemm("gemm_17x300x9", 17, 300, 9),
]

# Conv rows in SCALE-Sim's terms (ifmap sizes include padding, one stride for H and W).
CONVS = [
    ConvLayer("conv3x3_s1", 18, 18, 3, 3, 8, 16, 1),
    # (ifmap - filter) odd with stride 2: SCALE-Sim's ceil rule gives one more output row/col.
    ConvLayer("conv7x7_s2_odd", 24, 24, 7, 7, 3, 8, 2),
    ConvLayer("conv3x3_s2_odd_rect", 16, 14, 3, 3, 6, 12, 2),
    ConvLayer("conv1x1", 8, 8, 1, 1, 32, 24, 1),
    ConvLayer("dw3x3_DP", 10, 10, 3, 3, 4, 1, 1, depthwise=True),
    ConvLayer("dw3x3_s2_DP", 12, 12, 3, 3, 3, 1, 2, depthwise=True),
]

QUICK_CONFIGS = [(8, 8, "os"), (4, 16, "ws"), (7, 13, "is"), (32, 32, "ws")]
QUICK_GEMMS = ("gemm_64x64x64", "gemm_100x37x53", "gemm_1x1x1")
QUICK_CONVS = ("conv7x7_s2_odd", "conv3x3_s2_odd_rect", "dw3x3_DP")

RESNET_ARRAY = (32, 32)
RESNET_LAYERS_PER_CASE = 2
RESNET_CYCLE_BUDGET = 120_000  # estimated SCALE-Sim cycles per ResNet-50 case (~35 s at 3.5k/s)


@dataclass
class Case:
    id: str
    rows: int
    cols: int
    dataflow: str
    kind: str  # gemm | conv
    workload: Workload
    topology: str = ""
    ss_layers: list[dict] = field(default_factory=list)
    ss_wall_s: float = 0.0

    def __post_init__(self) -> None:
        self.topology = topology_csv(self.workload, self.kind)

    def config(self) -> SystolicConfig:
        return SystolicConfig(
            rows=self.rows, cols=self.cols, dataflow=self.dataflow,
            ifmap_sram_kib=SRAM_KB, filter_sram_kib=SRAM_KB, ofmap_sram_kib=SRAM_KB,
        )

    def spec(self) -> dict:
        return {
            "id": self.id, "rows": self.rows, "cols": self.cols, "dataflow": self.dataflow,
            "sram_kb": SRAM_KB, "kind": self.kind, "topology": self.topology,
        }


def topology_csv(workload: Workload, kind: str) -> str:
    """SCALE-Sim topology text: a header, then one row per layer, each ending in a comma."""
    lines = [GEMM_HEADER if kind == "gemm" else CONV_HEADER]
    for layer in workload.layers:
        if kind == "gemm":
            fields = [layer.name, layer.m, layer.n, layer.k]
        else:
            fields = [
                layer.name, layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w,
                layer.channels, layer.num_filters, layer.stride,
            ]
        lines.append(", ".join(str(f) for f in fields) + ",")
    return "\n".join(lines) + "\n"


def resnet50_layers() -> list[ConvLayer] | None:
    """hwsim's shipped ResNet-50 conv layers, or None when the topology is not shipped yet."""
    data = resources.files("hwsim") / "data" / "topologies" / "resnet50.csv"
    if not data.is_file():
        return None
    return [layer for layer in load_network("resnet50").layers if isinstance(layer, ConvLayer)]


def pick_resnet_layers(layers: list[ConvLayer], rows: int, cols: int, dataflow: str) -> list:
    """The cheapest distinct ResNet-50 layers for SCALE-Sim (by hwsim's own cycle estimate)."""
    cfg = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow)
    table = SystolicModel(cfg, convention="scalesim").run(Workload.of("resnet50", layers))
    seen, picked, spent = set(), [], 0
    for i in sorted(range(len(layers)), key=lambda j: int(table["total_cycles"][j])):
        layer = layers[i]
        shape = (layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w,
                 layer.channels, layer.num_filters, layer.stride)
        cycles = int(table["total_cycles"][i])
        if shape in seen or spent + cycles > RESNET_CYCLE_BUDGET:
            continue
        seen.add(shape)
        picked.append(layer)
        spent += cycles
        if len(picked) == RESNET_LAYERS_PER_CASE:
            break
    return sorted(picked, key=layers.index)


def build_cases(quick: bool) -> list[Case]:
    cases = []
    if quick:
        configs = QUICK_CONFIGS
        gemms = [g for g in GEMMS if g.name in QUICK_GEMMS]
        convs = [c for c in CONVS if c.name in QUICK_CONVS]
    else:
        configs = [(r, c, df) for r, c in ARRAYS for df in DATAFLOWS]
        gemms, convs = GEMMS, CONVS
    for rows, cols, df in configs:
        tag = f"{rows}x{cols}-{df}"
        cases.append(Case(f"{tag}-gemm", rows, cols, df, "gemm", Workload.of("gemms", gemms)))
        cases.append(Case(f"{tag}-conv", rows, cols, df, "conv", Workload.of("convs", convs)))
    if not quick:
        resnet = resnet50_layers()
        if resnet:
            rows, cols = RESNET_ARRAY
            for df in DATAFLOWS:
                picked = pick_resnet_layers(resnet, rows, cols, df)
                if picked:
                    cases.append(Case(f"{rows}x{cols}-{df}-resnet50", rows, cols, df, "conv",
                                      Workload.of("resnet50", picked)))
    return cases


# --- SCALE-Sim side -------------------------------------------------------------------------

def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed_scalesim(python: Path) -> str | None:
    probe = "import importlib.metadata as m; print(m.version('scalesim'))"
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_scalesim(python: Path | None, err: Console) -> Path:
    """The interpreter to run SCALE-Sim with; creates benchmarks/.venv-scalesim if needed."""
    if python is None:
        python = venv_python(VENV)
        if not python.exists():
            err.print(f"creating {VENV.relative_to(REPO)} ...")
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        if installed_scalesim(python) != SCALESIM_VERSION:
            err.print(f"installing {' '.join(SCALESIM_REQUIREMENTS)} into {VENV.name} ...")
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *SCALESIM_REQUIREMENTS],
                check=True,
            )
    version = installed_scalesim(python)
    if version != SCALESIM_VERSION:
        raise RuntimeError(f"{python} has scalesim {version!r}, need {SCALESIM_VERSION}")
    return python


def run_scalesim(python: Path, cases: list[Case], err: Console) -> dict:
    """Run all cases in one SCALE-Sim subprocess; fills ``case.ss_layers``; returns versions."""
    by_id = {case.id: case for case in cases}
    versions: dict = {}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump({"cases": [case.spec() for case in cases]}, spec)
    try:
        proc = subprocess.Popen(
            [str(python), str(DRIVER), spec.name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            record = json.loads(line)
            kind = record.pop("type")
            if kind == "version":
                versions = record
            elif kind == "layer":
                by_id[record.pop("case")].ss_layers.append(record)
            elif kind == "case":
                case = by_id[record["case"]]
                case.ss_wall_s = record["wall_s"]
                err.print(f"  SCALE-Sim {case.id}: {len(case.ss_layers)} layers, "
                          f"{case.ss_wall_s:.2f} s")
        stderr = proc.stderr.read()
        if proc.wait() != 0:
            raise RuntimeError(f"SCALE-Sim driver failed:\n{stderr[-4000:]}")
    finally:
        os.unlink(spec.name)
    return versions


# --- hwsim side and comparison --------------------------------------------------------------

def time_hwsim(model: SystolicModel, workload: Workload, min_time: float) -> float:
    """Seconds per ``model.evaluate(workload)`` call: best of 3 batches of >= min_time/3 s."""
    reps, best = 1, float("inf")
    while True:  # calibrate the batch size
        start = time.perf_counter()
        for _ in range(reps):
            model.evaluate(workload)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 3:
            break
        reps *= 4
    best = elapsed / reps
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(reps):
            model.evaluate(workload)
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def group_ss_layers(case: Case) -> list[dict]:
    """SCALE-Sim's layers regrouped per topology row (depthwise channels summed)."""
    rows, pos = [], 0
    for layer in case.workload.layers:
        depthwise = isinstance(layer, ConvLayer) and layer.depthwise
        count = layer.channels if depthwise else 1
        chunk = case.ss_layers[pos:pos + count]
        pos += count
        expected = ([f"{layer.name}Channel_{i}" for i in range(count)] if depthwise
                    else [layer.name])
        names = [c["name"] for c in chunk]
        if names != expected:
            raise RuntimeError(f"{case.id}: SCALE-Sim layers {names} do not match {expected}")
        utils = {key: {c[key] for c in chunk} for key in UTIL_KEYS}
        for key, values in utils.items():
            if len(values) != 1:
                raise RuntimeError(f"{case.id} {layer.name}: per-channel {key} differs: {values}")
        rows.append({
            "name": layer.name,
            "ss_layers": count,
            "cycles": sum(c["cycles"] for c in chunk),
            "stalls": sum(c["stalls"] for c in chunk),
            "total_incl_prefetch": sum(c["total_incl_prefetch"] for c in chunk),
            **{key: values.pop() for key, values in utils.items()},
            "wall_s": sum(c["wall_s"] for c in chunk),
        })
    if pos != len(case.ss_layers):
        raise RuntimeError(f"{case.id}: SCALE-Sim produced {len(case.ss_layers)} layers, "
                           f"expected {pos}")
    return rows


def compare(case: Case, min_time: float) -> list[dict]:
    model = SystolicModel(case.config(), convention="scalesim")
    workload = load_topology(f"{case.id}.csv", case.kind, text=case.topology, name=case.id)
    table = model.run(workload)
    per_layer_s = time_hwsim(model, workload, min_time) / len(workload.layers)
    out = []
    for i, ss in enumerate(group_ss_layers(case)):
        hw = {
            "cycles": int(table["total_cycles"][i]),
            "compute_cycles": int(table["compute_cycles"][i]),
            "stalls": int(table["stall_cycles"][i]),
            "overall_util": 100 * float(table["utilization"][i]),
            "mapping_eff": 100 * float(table["mapping_efficiency"][i]),
            "compute_util": 100 * float(table["compute_utilization"][i]),
        }
        out.append({
            "ss": ss, "hw": hw, "hw_s": per_layer_s,
            "cycle_diff": hw["cycles"] - ss["cycles"],
            "stall_diff": hw["stalls"] - ss["stalls"],
            "util_diff_pp": max(abs(hw[k] - ss[k]) for k in UTIL_KEYS),
            "speed_ratio": ss["wall_s"] / per_layer_s,
        })
    return out


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


def print_case(console: Console, case: Case, rows: list[dict]) -> None:
    table = Table(
        title=f"{case.id}  ({case.rows}x{case.cols} {case.dataflow.upper()}, {case.kind})",
        title_justify="left",
    )
    for name, justify in [
        ("layer", "left"), ("SS cycles", "right"), ("hwsim cycles", "right"), ("diff", "right"),
        ("util % SS | hwsim", "right"), ("map eff % SS | hwsim", "right"),
        ("comp util % SS | hwsim", "right"), ("SS time", "right"), ("hwsim /layer", "right"),
        ("speed ratio", "right"),
    ]:
        table.add_column(name, justify=justify)
    for row in rows:
        ss, hw = row["ss"], row["hw"]
        name = ss["name"] + (f" (x{ss['ss_layers']} ch)" if ss["ss_layers"] > 1 else "")
        diff = row["cycle_diff"]
        table.add_row(
            name, f"{ss['cycles']:,}", f"{hw['cycles']:,}",
            "[green]0[/]" if diff == 0 else f"[bold red]{diff:+,}[/]",
            *(f"{ss[k]:.4f} | {hw[k]:.4f}" for k in UTIL_KEYS),
            fmt_time(ss["wall_s"]), fmt_time(row["hw_s"]), f"{row['speed_ratio']:,.0f}x",
        )
    console.print(table)


def record(path: Path, cases: list[Case], results: dict[str, list[dict]], versions: dict,
           argv: list[str]) -> None:
    script = Path(__file__).resolve()
    try:
        script_arg = str(script.relative_to(Path.cwd()))
    except ValueError:
        script_arg = str(script)
    data = {
        "description": (
            "SCALE-Sim v3.0.0 compute report per topology row, recorded by running SCALE-Sim "
            "itself (CALC interface bandwidth, 1024 kB SRAMs, API with save_disk_space=True). "
            "cycles = its 'Total Cycles'; *_pct are its percentages. A depthwise (DP) row is "
            "the sum of SCALE-Sim's per-channel layers; its utils are the per-channel values "
            "(identical for every channel)."
        ),
        "command": shlex.join(["python", script_arg, *argv]),
        "scalesim_version": versions.get("scalesim"),
        "numpy_version": versions.get("numpy"),
        "python_version": versions.get("python"),
        "recorded_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cases": [],
    }
    for case in cases:
        data["cases"].append({
            "id": case.id,
            "config": {"rows": case.rows, "cols": case.cols, "dataflow": case.dataflow,
                       "sram_kb": SRAM_KB, "interface_bandwidth": "CALC"},
            "kind": case.kind,
            "topology": case.topology,
            "layers": [
                {
                    **{k: r["ss"][k] for k in ("name", "ss_layers", "cycles", "stalls",
                                                "total_incl_prefetch")},
                    **{f"{k}_pct": r["ss"][k] for k in UTIL_KEYS},
                }
                for r in results[case.id]
            ],
        })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a subset of the cases (< 1 min)")
    parser.add_argument("--record", type=Path, metavar="PATH",
                        help="write SCALE-Sim's figures, command line and version to PATH")
    parser.add_argument("--scalesim-python", type=Path, metavar="PYTHON",
                        help="an interpreter that has scalesim==3.0.0 (default: "
                             "benchmarks/.venv-scalesim, created if missing)")
    parser.add_argument("--min-time", type=float, default=0.3, metavar="S",
                        help="seconds spent timing hwsim per case (default 0.3)")
    args = parser.parse_args(argv)

    console = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True)
    cases = build_cases(args.quick)
    try:
        python = ensure_scalesim(args.scalesim_python, err)
        err.print(f"running SCALE-Sim on {len(cases)} cases with {python} ...")
        start = time.perf_counter()
        versions = run_scalesim(python, cases, err)
        ss_total = time.perf_counter() - start
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2

    results: dict[str, list[dict]] = {}
    for case in cases:
        results[case.id] = compare(case, args.min_time)
        print_case(console, case, results[case.id])

    rows = [row for case_rows in results.values() for row in case_rows]
    max_cycle = max(abs(r["cycle_diff"]) for r in rows)
    max_stall = max(abs(r["stall_diff"]) for r in rows)
    max_util = max(r["util_diff_pp"] for r in rows)
    ratios = [r["speed_ratio"] for r in rows]
    console.print(
        f"[bold]summary[/]: SCALE-Sim {versions.get('scalesim')}, {len(cases)} cases, "
        f"{len(rows)} layers ({sum(len(c.ss_layers) for c in cases)} SCALE-Sim layers); "
        f"max |cycle diff| = {max_cycle}, max |stall diff| = {max_stall}, "
        f"max |util diff| = {max_util:.3g} pp; "
        f"speed ratio SCALE-Sim/hwsim per layer: min {min(ratios):,.0f}x, "
        f"median {statistics.median(ratios):,.0f}x; "
        f"SCALE-Sim wall {ss_total:.1f} s"
    )
    console.print(
        "hwsim per-layer time = one vectorised evaluate(workload) call / layers in the case; "
        "SCALE-Sim time = its per-layer run() (compute + memory simulation, summed over the "
        "channels of a DP row)."
    )
    if args.record:
        record(args.record, cases, results, versions, argv)
        console.print(f"recorded SCALE-Sim figures to {args.record}")
    failed = max_cycle != 0 or max_stall != 0 or max_util > UTIL_TOLERANCE_PP
    if failed:
        console.print("[bold red]FAIL[/]: hwsim's scalesim convention differs from SCALE-Sim")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
