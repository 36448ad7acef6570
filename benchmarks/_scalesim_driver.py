"""Run SCALE-Sim v3.0.0 on a list of cases and print its per-layer compute report as JSON.

This module runs inside the SCALE-Sim venv (``benchmarks/.venv-scalesim``), not in hwsim's: it
imports only the standard library and ``scalesim``. ``scalesim_parity.py`` calls it as::

    <venv>/bin/python benchmarks/_scalesim_driver.py SPEC.json

``SPEC.json`` is ``{"cases": [{"id", "rows", "cols", "dataflow", "sram_kb", "kind",
"topology"}, ...]}`` where ``kind`` is ``gemm`` or ``conv`` and ``topology`` is the text of a
SCALE-Sim topology CSV (header row, every data row ending in a comma).

Output on stdout, one JSON object per line (SCALE-Sim's own prints go to stderr):

* ``{"type": "version", "scalesim": "3.0.0", "numpy": ..., "python": ...}`` first;
* ``{"type": "layer", "case", "index", "name", "total_incl_prefetch", "cycles", "stalls",
  "overall_util", "mapping_eff", "compute_util", "wall_s"}`` per SCALE-Sim layer, where
  ``cycles`` is its "Total Cycles" and the three utilisations are its percentages (a ``DP``
  row gives one layer per channel, named ``<name>Channel_<i>``);
* ``{"type": "case", "case", "wall_s"}`` after each case (whole SCALE-Sim run, setup included).

Per-layer wall time is measured around each layer's ``run()`` (compute and memory
simulation), by a subclass of SCALE-Sim's layer simulator that only adds a timer.
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

CONFIG_TEMPLATE = """\
[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {sram_kb}
FilterSramSzkB = {sram_kb}
OfmapSramSzkB = {sram_kb}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = 10
Dataflow = {dataflow}
MemoryBanks = 1
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
"""

# SCALE-Sim always parses a layout CSV (header row skipped, then one row per layer), but only
# reads its rows when IfmapCustomLayout/FilterCustomLayout are on. They are off here, so a
# header alone is a valid, minimal layout file.
LAYOUT_HEADER = "Layer name,IFMAP Height Intraline Factor,IFMAP Width Intraline Factor,\n"


def _emit(record: dict) -> None:
    sys.__stdout__.write(json.dumps(record) + "\n")
    sys.__stdout__.flush()


def _timed_layer_sim_class():
    from scalesim import simulator
    from scalesim.single_layer_sim import single_layer_sim

    class TimedLayerSim(single_layer_sim):
        wall_s = 0.0

        def run(self):  # noqa: D102 - same as the parent, plus a timer
            start = time.perf_counter()
            super().run()
            self.wall_s = time.perf_counter() - start

    simulator.layer_sim = TimedLayerSim  # the name simulator.run() instantiates per layer
    return TimedLayerSim


def run_case(case: dict, workdir: Path) -> None:
    from scalesim.scale_sim import scalesim

    run_name = "run"
    case_dir = workdir / str(case["id"]).replace("/", "_")
    case_dir.mkdir(parents=True, exist_ok=True)
    cfg = case_dir / "config.cfg"
    topo = case_dir / "topology.csv"
    layout = case_dir / "layout.csv"
    cfg.write_text(
        CONFIG_TEMPLATE.format(
            run_name=run_name,
            rows=case["rows"],
            cols=case["cols"],
            dataflow=case["dataflow"],
            sram_kb=case.get("sram_kb", 1024),
        )
    )
    topo.write_text(case["topology"])
    layout.write_text(LAYOUT_HEADER)
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        sim = scalesim(
            save_disk_space=True,
            verbose=False,
            config=str(cfg),
            topology=str(topo),
            layout=str(layout),
            input_type_gemm=case["kind"] == "gemm",
        )
        sim.run_scale(top_path=str(case_dir / "out"))
    wall = time.perf_counter() - start
    for index, layer in enumerate(sim.runner.single_layer_sim_object_list):
        total_incl, cycles, stalls, util, mapping, compute = layer.get_compute_report_items()
        _emit(
            {
                "type": "layer",
                "case": case["id"],
                "index": index,
                "name": sim.topo.get_layer_name(index),
                "total_incl_prefetch": int(total_incl),
                "cycles": int(cycles),
                "stalls": int(stalls),
                "overall_util": float(util),
                "mapping_eff": float(mapping),
                "compute_util": float(compute),
                "wall_s": float(layer.wall_s),
            }
        )
    _emit({"type": "case", "case": case["id"], "wall_s": wall})


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: _scalesim_driver.py SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    import numpy

    _emit(
        {
            "type": "version",
            "scalesim": metadata.version("scalesim"),
            "numpy": numpy.__version__,
            "python": platform.python_version(),
        }
    )
    _timed_layer_sim_class()
    with tempfile.TemporaryDirectory(prefix="scalesim_parity_") as tmp:
        for case in spec["cases"]:
            run_case(case, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
