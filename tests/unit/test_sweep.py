"""Sweep specs, design points, search methods and results against direct model calls."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from hwsim import store
from hwsim.cli import main
from hwsim.config import ConfigError
from hwsim.sweep import (
    design_points,
    load_spec,
    parse_spec,
    raw_fingerprint,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _spec(**changes) -> dict:
    data = {
        "unit": "systolic",
        "base": {"dataflow": "os", "in_width_bits": 8, "acc_width_bits": 32},
        "axes": {"rows": [4, 8], "cols": [4, 8, 16], "dataflow": ["os", "ws", "is"]},
        "workloads": [{"gemm": [64, 48, 32]}, {"gemm": [100, 10, 300]}],
        "method": "grid",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# ---- the issue's example form and the shipped examples ------------------------------------
def test_issue_example_spec_parses_as_written(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "unit: systolic\n"
        "base: {dataflow: os, in_width_bits: 8, acc_width_bits: 32}\n"
        "axes:\n  rows: [8, 16, 32, 64]\n  cols: [8, 16, 32, 64]\n  dataflow: [os, ws, is]\n"
        "workloads:\n  - network: resnet50\n  - gemm: [512, 512, 512]\n"
        "method: grid\n"
    )
    spec = load_spec(path)
    assert spec.grid_size == 4 * 4 * 3
    assert [w.name for w in spec.workloads] == ["resnet50", "gemm_512x512x512"]
    assert spec.name == "s"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("sweep_*.yaml")), ids=lambda p: p.name)
def test_shipped_examples_validate(path):
    spec = load_spec(path)
    assert spec.unit == "systolic"


# ---- axes ---------------------------------------------------------------------------------
def test_range_forms():
    spec = parse_spec(_spec(axes={
        "rows": {"start": 4, "stop": 16, "step": 4},
        "cols": {"start": 8, "stop": 128, "num": 5, "log": True},
        "dram_bytes_per_cycle": {"start": 1, "stop": 2, "num": 3},
    }))
    assert spec.axes["rows"] == [4, 8, 12, 16]
    assert spec.axes["cols"] == [8, 16, 32, 64, 128]
    assert spec.axes["dram_bytes_per_cycle"] == [1.0, 1.5, 2.0]


def test_zipped_axis():
    spec = parse_spec(_spec(axes={"rows,cols": [[4, 4], [8, 16]], "dataflow": ["os", "ws"]}))
    points = list(design_points(spec))
    assert points == [
        {"rows": 4, "cols": 4, "dataflow": "os"}, {"rows": 4, "cols": 4, "dataflow": "ws"},
        {"rows": 8, "cols": 16, "dataflow": "os"}, {"rows": 8, "cols": 16, "dataflow": "ws"},
    ]


def test_grid_size_is_product_of_axes_times_workloads(tmp_path):
    spec = parse_spec(_spec())
    points = list(design_points(spec))
    assert len(points) == 2 * 3 * 3
    expected = {(r, c, d) for r, c, d in itertools.product([4, 8], [4, 8, 16], ["os", "ws", "is"])}
    assert {(p["rows"], p["cols"], p["dataflow"]) for p in points} == expected
    summary = run_sweep(spec, tmp_path / "g.db")
    assert summary.rows_written == 2 * 3 * 3 * 2
    df = store.load(tmp_path / "g.db")
    assert len(df) == 2 * 3 * 3 * 2
    assert not df.duplicated(["fingerprint", "workload"]).any()


def test_random_is_reproducible_by_seed_and_differs_across_seeds():
    axes = {"rows": {"start": 1, "stop": 64, "step": 1}, "cols": {"start": 1, "stop": 64,
                                                                  "step": 1}}
    def draw(seed):
        spec = parse_spec(_spec(axes=axes, method="random", samples=20, seed=seed))
        return [tuple(p.values()) for p in design_points(spec)]

    a, b, c = draw(1), draw(1), draw(2)
    assert a == b and a != c
    assert len(a) == 20 and len(set(a)) == 20  # distinct grid points
    assert all(1 <= r <= 64 and 1 <= col <= 64 for r, col in a)


# ---- results equal the model's public evaluate() -----------------------------------------
@pytest.mark.parametrize("convention", ["hwsim", "scalesim"])
def test_rows_equal_direct_model_evaluate(tmp_path, convention):
    from hwsim.accelerators.systolic import SystolicConfig, SystolicModel
    from hwsim.workloads import load_network

    spec = parse_spec(_spec(
        axes={"rows": [8, 32], "cols": [16], "dataflow": ["os", "ws", "is"],
              "ofmap_sram_kib": [1, 256]},
        workloads=[{"network": "resnet50"}, {"gemm": [100, 10, 300]}],
        convention=convention,
    ))
    run_sweep(spec, tmp_path / "m.db")
    df = store.load(tmp_path / "m.db")
    assert len(df) == 12 * 2
    nets = {"resnet50": load_network("resnet50")}
    from hwsim.workloads import Gemm, Workload

    nets["gemm_100x10x300"] = Workload.of("g", [Gemm("gemm_100x10x300", 100, 10, 300)])
    for row in df.to_dict("records"):
        cfg = SystolicConfig(rows=row["rows"], cols=row["cols"], dataflow=row["dataflow"],
                             ofmap_sram_kib=float(row["ofmap_sram_kib"]))
        totals = SystolicModel(cfg, convention=convention).evaluate(nets[row["workload"]]).totals
        assert row["fingerprint"] == cfg.fingerprint()
        assert row["total_cycles"] == totals["total_cycles"]
        assert row["stall_cycles"] == totals["stall_cycles"]
        assert row["macs"] == totals["macs"]
        assert row["utilization"] == totals["utilization"]
        assert row["mapping_efficiency"] == totals["mapping_efficiency"]
        assert row["energy_pj"] == pytest.approx(totals["energy_pj"], rel=1e-12)
        assert row["area_mm2"] == totals["area_mm2"]
        assert row["dram_bytes"] == pytest.approx(sum(totals["dram_bytes"].values()), rel=1e-12)


def test_raw_fingerprint_equals_config_fingerprint():
    from hwsim.accelerators.systolic import SystolicConfig

    for values in ({}, {"rows": 8, "ifmap_sram_kib": 64}, {"dram_bytes_per_cycle": 3,
                                                            "dataflow": "ws"}):
        assert raw_fingerprint(SystolicConfig, values) == SystolicConfig(**values).fingerprint()


# ---- infeasible points never crash the sweep ----------------------------------------------
def test_invalid_configs_and_failed_constraints_are_infeasible_rows(tmp_path):
    spec = parse_spec(_spec(
        base={"in_width_bits": 16},
        axes={"acc_width_bits": [16, 32, 48], "rows": [4, 64]},
        constraints=["area_mm2 <= 4.5"],
    ))
    run_sweep(spec, tmp_path / "i.db")
    df = store.load(tmp_path / "i.db")
    assert len(df) == 3 * 2 * 2
    bad = df[df["acc_width_bits"] == 16]
    assert set(bad["status"]) == {"infeasible"}
    assert bad["reason"].str.contains("acc_width_bits").all()
    ok = df[df["acc_width_bits"] > 16]
    too_big = ok["area_mm2"] > 4.5
    assert (ok[too_big]["status"] == "infeasible").all()
    assert ok[too_big]["reason"].str.contains("area_mm2 <= 4.5").all()
    assert (ok[~too_big]["status"] == "ok").all()
    assert too_big.any() and (~too_big).any()


# ---- optuna -------------------------------------------------------------------------------
def _dominates(a, b) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("sampler", ["nsga2", "tpe"])
def test_optuna_runs_trials_and_pareto_set_is_not_dominated(tmp_path, sampler):
    from hwsim.plot import pareto_table

    spec = parse_spec(_spec(
        axes={"rows": {"start": 2, "stop": 64, "step": 2}, "cols": {"start": 2, "stop": 64,
                                                                    "step": 2},
              "dataflow": ["os", "ws", "is"]},
        workloads=[{"gemm": [200, 64, 300]}],
        method="optuna", trials=40, seed=3, sampler=sampler, population=8,
        objectives={"total_cycles": "min", "area_mm2": "min"},
    ))
    summary = run_sweep(spec, tmp_path / "o.db")
    assert summary.points == 40
    df = store.load(tmp_path / "o.db")
    n_points = df["fingerprint"].nunique()
    assert 1 <= n_points <= 40  # repeated suggestions are evaluated once
    front = pareto_table(df)
    assert len(front) >= 1
    allpts = [(r["total_cycles"], r["area_mm2"]) for r in df.to_dict("records")]
    for f in front.to_dict("records"):
        mine = (f["total_cycles"], f["area_mm2"])
        assert not any(_dominates(o, mine) for o in allpts), mine
    # every non-front point is dominated by a front point
    front_pts = {(f["total_cycles"], f["area_mm2"]) for f in front.to_dict("records")}
    for p in allpts:
        if p not in front_pts:
            assert any(_dominates(q, p) for q in front_pts)


def test_optuna_is_reproducible_by_seed(tmp_path):
    data = _spec(axes={"rows": {"start": 2, "stop": 64, "step": 2}, "cols": [8, 16, 32]},
                 workloads=[{"gemm": [200, 64, 300]}], method="optuna", trials=16, seed=5,
                 population=4)
    run_sweep(parse_spec(data), tmp_path / "a.db")
    run_sweep(parse_spec(data), tmp_path / "b.db")
    assert store.open_existing(tmp_path / "a.db").rows() == store.open_existing(
        tmp_path / "b.db").rows()


# ---- resume and spec mismatch -------------------------------------------------------------
def test_rerun_resumes_and_a_different_spec_is_refused(tmp_path, capsys):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(
        "unit: systolic\naxes: {rows: [4, 8], cols: [4, 8]}\nworkloads: [{gemm: [16, 16, 16]}]\n")
    db = tmp_path / "r.db"
    assert main(["sweep", str(spec_path), "--out", str(db), "--workers", "1"]) == 0
    first = store.open_existing(db).rows()
    assert main(["sweep", str(spec_path), "--out", str(db), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "4 already stored" in out and "0 rows written" in out
    assert store.open_existing(db).rows() == first
    spec_path.write_text(
        "unit: systolic\naxes: {rows: [4, 16], cols: [4, 8]}\nworkloads: [{gemm: [16, 16, 16]}]\n")
    assert main(["sweep", str(spec_path), "--out", str(db)]) == 2
    err = capsys.readouterr().err
    assert "different spec" in err and len(err.strip().splitlines()) == 1
    assert store.open_existing(db).rows() == first


def test_partial_db_is_completed_without_duplicates(tmp_path):
    spec = parse_spec(_spec())
    run_sweep(spec, tmp_path / "full.db")
    run_sweep(spec, tmp_path / "part.db")
    con = sqlite3.connect(tmp_path / "part.db")
    con.execute("DELETE FROM results WHERE rows = 8 OR workload = 'gemm_64x48x32'")
    con.commit()
    con.close()
    summary = run_sweep(spec, tmp_path / "part.db", workers=2, batch=2)
    assert summary.rows_skipped == 9 and summary.rows_written == 36 - 9
    assert store.open_existing(tmp_path / "part.db").rows() == store.open_existing(
        tmp_path / "full.db").rows()


# ---- bad specs: one line, exit 2, nothing created ---------------------------------------
BAD_SPECS = {
    "unknown field": ("bogus: 1\n", "unknown field 'bogus'"),
    "empty axis": ("axes: {rows: [], cols: [4]}\n", "axes.rows: is empty"),
    "unknown axis field": ("axes: {rowz: [4]}\n", "unknown field 'rowz'"),
    "unknown constraint metric": (
        "constraints: ['speed_mm2 <= 4']\n", "unknown metric 'speed_mm2'"
    ),
    "bad constraint form": ("constraints: ['area_mm2 about 4']\n", "constraints[0]"),
    "bad method": ("method: exhaustive\n", "method: must be one of grid, random, optuna"),
    "bad workload key": ("workloads: [{netwrk: resnet50}]\n", "workloads[0]: unknown key"),
    "bad gemm": ("workloads: [{gemm: [1, 2]}]\n", "workloads[0]: gemm must be [M, N, K]"),
    "bad network": ("workloads: [{network: vgg99}]\n", "network must be one of"),
    "missing topology": ("workloads: [{topology: nope.csv}]\n", "cannot read topology"),
    "bad base value": ("base: {dataflow: xs}\n", "dataflow must be one of"),
    "random without samples": ("method: random\n", "samples"),
    "duplicate key": ("method: grid\nmethod: grid\n", "duplicate key 'method'"),
    "bad unit": ("unit: gpu\n", "unit: must be one of"),
    "bad range": ("axes: {rows: {start: 1, stop: 8}}\n", "exactly one of 'step' or 'num'"),
    # axis values are checked against the config field's type, choices and range
    "float for an int axis": ("axes: {rows: [4.0, 8]}\n",
                              "axes.rows: values must be integers in [1, 4096], got 4.0"),
    "text in an int axis": ("axes: {rows: [4, x]}\n",
                            "axes.rows: values must be integers in [1, 4096], got 'x'"),
    "int axis out of range": ("axes: {rows: [0, 8]}\n", "axes.rows: values must be integers"),
    "bad choice on an axis": ("axes: {rows: [4], dataflow: [OS, ws]}\n",
                              "axes.dataflow: values must be one of os, ws, is, got 'OS'"),
    "text in a float axis": ("axes: {rows: [4], dram_bytes_per_cycle: [4, fast]}\n",
                             "axes.dram_bytes_per_cycle: values must be numbers >= 1e-09"),
    "bad zipped value": ("axes: {'rows,cols': [[4, 4], [8, 5000]]}\n",
                         "axes.rows,cols.cols: values must be integers in [1, 4096], got 5000"),
    "range over a text field": ("axes: {dataflow: {start: 1, stop: 3, step: 1}}\n",
                                "axes.dataflow: values must be one of os, ws, is, got 1"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS), ids=list(BAD_SPECS))
def test_bad_spec_fails_in_one_line_before_anything_runs(tmp_path, capsys, case):
    override, expected = BAD_SPECS[case]
    lines = {
        "unit": "unit: systolic\n",
        "axes": "axes: {rows: [4, 8], cols: [4]}\n",
        "workloads": "workloads: [{gemm: [8, 8, 8]}]\n",
    }
    key = override.split(":")[0]
    if key in lines:
        lines[key] = override
        text = "".join(lines.values())
    else:
        text = "".join(lines.values()) + override
    spec_path = tmp_path / "bad.yaml"
    spec_path.write_text(text)
    db = tmp_path / "out" / "bad.db"
    code = main(["sweep", str(spec_path), "--out", str(db)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("hwsim: error: ") and expected in err, err
    assert not db.exists() and not db.parent.exists()


def test_bad_spec_mapping_errors_name_the_field():
    with pytest.raises(ConfigError, match="objectives.speed"):
        parse_spec(_spec(objectives={"speed": "min"}))
    with pytest.raises(ConfigError, match="trials"):
        parse_spec(_spec(trials=4))


def test_ints_on_float_axes_are_fine_and_cross_field_rules_stay_infeasible(tmp_path):
    spec = parse_spec(_spec(axes={"dram_bytes_per_cycle": [4, 16.5], "acc_width_bits": [8, 32]}))
    assert spec.axes["dram_bytes_per_cycle"] == [4, 16.5]
    run_sweep(spec, tmp_path / "x.db")
    df = store.load(tmp_path / "x.db")
    # acc_width_bits 8 < 2 x in_width_bits 8 is the config's cross-field rule: a row, not an error
    assert set(df[df["acc_width_bits"] == 8]["status"]) == {"infeasible"}
    assert set(df[df["acc_width_bits"] == 32]["status"]) == {"ok"}


# ---- optuna resume -------------------------------------------------------------------------
def _optuna_spec():
    return _spec(axes={"rows": {"start": 2, "stop": 32, "step": 2}, "cols": [4, 8, 16]},
                 workloads=[{"gemm": [64, 48, 32]}, {"gemm": [100, 10, 300]}],
                 method="optuna", trials=12, seed=2, population=4)


def test_optuna_rerun_reuses_everything_and_counts_it(tmp_path):
    spec = parse_spec(_optuna_spec())
    first = run_sweep(spec, tmp_path / "o.db")
    rows = store.open_existing(tmp_path / "o.db").rows()
    assert first.rows_written == len(rows) and first.rows_skipped == 0
    again = run_sweep(spec, tmp_path / "o.db")
    assert again.rows_written == 0  # repeated suggestions made trials > points: none re-asked
    assert again.rows_skipped == len(rows)
    assert store.open_existing(tmp_path / "o.db").rows() == rows


def test_optuna_resume_completes_points_missing_a_workload(tmp_path):
    spec = parse_spec(_optuna_spec())
    run_sweep(spec, tmp_path / "o.db")
    full = store.open_existing(tmp_path / "o.db").rows()
    con = sqlite3.connect(tmp_path / "o.db")
    # a killed run: some points lost one workload's row, and the trial count was not recorded
    victims = [r[0] for r in con.execute(
        "SELECT DISTINCT fingerprint FROM results ORDER BY fingerprint LIMIT 3")]
    con.executemany("DELETE FROM results WHERE fingerprint = ? AND workload = 'gemm_100x10x300'",
                    [(v,) for v in victims])
    con.execute("DELETE FROM meta WHERE key = 'optuna_trials_told'")
    con.commit()
    con.close()
    summary = run_sweep(spec, tmp_path / "o.db")
    assert summary.rows_skipped == len(full) - 3
    rows = store.open_existing(tmp_path / "o.db").rows()
    by_fp: dict[str, set[str]] = {}
    for r in rows:
        by_fp.setdefault(r["fingerprint"], set()).add(r["workload"])
    assert all(w == {"gemm_64x48x32", "gemm_100x10x300"} for w in by_fp.values())
    # the three damaged points got their missing row back, computed afresh and equal
    assert [r for r in rows if r["fingerprint"] in victims] == \
        [r for r in full if r["fingerprint"] in victims]
