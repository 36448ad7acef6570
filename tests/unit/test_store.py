"""The results store: schema, meta, WAL, export and the pandas loader."""

from __future__ import annotations

import sqlite3

import pytest

from hwsim import store
from hwsim.cli import main
from hwsim.config import ConfigError
from hwsim.sweep import parse_spec, run_sweep

SPEC = {
    "name": "st",
    "unit": "systolic",
    "axes": {"rows": [4, 8], "dataflow": ["os", "ws"], "dram_bytes_per_cycle": [4, 16.5]},
    "workloads": [{"gemm": [32, 16, 64]}, {"network": "bert-base"}],
    "metrics": ["total_cycles", "utilization"],
    "constraints": ["area_mm2 <= 100"],
}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "st.db"
    run_sweep(parse_spec(SPEC), path)
    return path


def test_schema_meta_and_wal(db):
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = [r[1] for r in con.execute("PRAGMA table_info(results)")]
    # constraint metric kept even though not listed; units in metric names
    assert cols == ["fingerprint", "workload", "rows", "dataflow", "dram_bytes_per_cycle",
                    "status", "reason", "total_cycles", "utilization", "area_mm2"]
    meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["name"] == "st" and meta["unit"] == "systolic" and meta["finished"] == "yes"
    assert len(meta["spec_hash"]) == 16
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO results(fingerprint, workload, status) "
                    "SELECT fingerprint, workload, status FROM results LIMIT 1")
    con.close()


def test_load_gives_a_dataframe_with_meta(db):
    df = store.load(db)
    assert len(df) == 2 * 2 * 2 * 2
    assert df.attrs["axes"] == ["rows", "dataflow", "dram_bytes_per_cycle"]
    assert df.attrs["metrics"]["area_mm2"]["agg"] == "same"
    assert df["total_cycles"].dtype.kind == "i"
    assert sorted(set(df["dram_bytes_per_cycle"])) == [4.0, 16.5]
    assert (df["status"] == "ok").all() and df["reason"].isna().all()


def test_export_csv_and_parquet(db, tmp_path, capsys):
    import pandas as pd

    assert main(["results", "export", str(db), "--csv", "-o", str(tmp_path / "x.csv")]) == 0
    assert main(["results", "export", str(db), "--parquet"]) == 0
    ref = store.load(db)
    csv = pd.read_csv(tmp_path / "x.csv")
    parquet = pd.read_parquet(db.with_suffix(".parquet"))
    for frame in (csv, parquet):
        assert list(frame.columns) == list(ref.columns)
        assert frame["total_cycles"].tolist() == ref["total_cycles"].tolist()
        assert frame["utilization"].tolist() == pytest.approx(ref["utilization"].tolist())


def test_missing_or_foreign_db_is_one_line_error(tmp_path, capsys):
    assert main(["results", "export", str(tmp_path / "none.db"), "--csv"]) == 2
    assert "no such results database" in capsys.readouterr().err
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    with pytest.raises(ConfigError):
        store.load(junk)


def test_default_db_path():
    assert str(store.default_db_path("examples/sweep_systolic.yaml")) == \
        "results/sweep_systolic.db"
