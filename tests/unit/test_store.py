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


# ---- output paths are checked before any work; nothing half-written ----------------------
@pytest.mark.parametrize("argv, needle", [
    (["results", "export", "{db}", "--csv", "-o", "{tmp}"], "-o: {tmp} is a directory"),
    (["results", "export", "{db}", "--csv", "-o", "{tmp}/x.parquet"], "must end in .csv"),
    (["results", "export", "{db}", "--parquet", "-o", "{db}/x.parquet"], "is not a directory"),
    (["report", "{db}", "-o", "{tmp}"], "-o: {tmp} is a directory"),
    (["report", "{db}", "-o", "{tmp}/r.txt"], "must end in .html"),
    (["plot", "pareto", "{db}", "-o", "{tmp}/x.txt"], "-o: {tmp}/x.txt must end in .png"),
    (["plot", "pareto", "{db}", "-o", "{tmp}"], "-o: {tmp} is a directory"),
    (["plot", "heatmap", "{db}", "-o", "{tmp}"], "-o: {tmp} is a directory"),
])
def test_bad_output_path_is_one_line_error_naming_o(db, tmp_path, capsys, argv, needle):
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.format(db=db, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert needle.format(db=db, tmp=tmp_path) in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_plot_without_suffix_gets_png_and_prints_the_real_path(db, tmp_path, capsys):
    assert main(["plot", "pareto", str(db), "-o", str(tmp_path / "front")]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'front.png'}"
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "front").exists()


# ---- reading never modifies the file -------------------------------------------------------
def test_reading_commands_leave_the_study_file_unchanged(db, tmp_path):
    import hashlib

    def digest():
        return hashlib.sha256(db.read_bytes()).hexdigest()

    before = digest()
    assert main(["results", "export", str(db), "--csv", "-o", str(tmp_path / "a.csv")]) == 0
    store.load(db)
    store.load_meta(db)
    assert main(["plot", "pareto", str(db), "-o", str(tmp_path / "a.png")]) == 0
    assert digest() == before
    study = store.open_existing(db)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        study.set_meta("finished", "no")
    study.close()


def test_empty_file_is_not_a_study_and_stays_empty(tmp_path, capsys):
    empty = tmp_path / "empty0.db"
    empty.write_bytes(b"")
    assert main(["results", "export", str(empty), "--csv"]) == 2
    err = capsys.readouterr().err
    assert "not a hwsim results database" in err and len(err.strip().splitlines()) == 1
    assert empty.read_bytes() == b""
    assert not (tmp_path / "empty0.csv").exists()
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(ConfigError, match="no meta/results table"):
        store.open_existing(other)


# ---- a study without finished rows ---------------------------------------------------------
@pytest.mark.parametrize("argv", [["results", "export", "{db}", "--csv"],
                                  ["plot", "pareto", "{db}"], ["plot", "heatmap", "{db}"],
                                  ["report", "{db}"]])
def test_study_without_rows_is_one_line_error(tmp_path, capsys, argv):
    path = tmp_path / "e.db"
    store.open_study(path, parse_spec(SPEC)).close()  # created, never run
    assert main([a.format(db=path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"hwsim: error: study {path} has no finished rows; run hwsim sweep " \
        "first", err
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".csv", ".png",
                                                                     ".html")) == []


def test_all_infeasible_study_cannot_be_plotted_but_exports(tmp_path, capsys):
    path = tmp_path / "bad.db"
    run_sweep(parse_spec({**SPEC, "constraints": ["area_mm2 <= 0"]}), path)
    assert main(["plot", "pareto", str(path)]) == 2
    assert "no finished rows (16 rows, all infeasible)" in capsys.readouterr().err
    assert main(["results", "export", str(path), "--csv", "-o", str(tmp_path / "b.csv")]) == 0


# ---- resume refuses stale inputs -------------------------------------------------------------
def test_resume_refuses_an_edited_topology_file(tmp_path, capsys):
    topo = tmp_path / "net.csv"
    topo.write_text("Layer name, M, N, K,\nfc1, 64, 32, 16,\n")
    spec_path = tmp_path / "t.yaml"
    spec_path.write_text("unit: systolic\naxes: {rows: [4, 8]}\n"
                         "workloads: [{topology: net.csv, format: gemm}]\n")
    db = tmp_path / "t.db"
    assert main(["sweep", str(spec_path), "--out", str(db), "--workers", "1"]) == 0
    rows = store.open_existing(db).rows()
    assert main(["sweep", str(spec_path), "--out", str(db), "--workers", "1"]) == 0  # same: ok
    topo.write_text("Layer name, M, N, K,\nfc1, 64, 32, 999,\n")  # same path, new contents
    capsys.readouterr()
    assert main(["sweep", str(spec_path), "--out", str(db), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "different spec" in err and len(err.strip().splitlines()) == 1
    assert store.open_existing(db).rows() == rows


def test_resume_refuses_an_edited_energy_table(tmp_path):
    from importlib import resources

    shipped = resources.files("hwsim") / "data" / "tables" / "default-45nm.yaml"
    table = tmp_path / "mine.yaml"
    table.write_text(shipped.read_text())
    data = {**SPEC, "base": {"energy_table": str(table)}}
    first = parse_spec(data)
    assert parse_spec(data).spec_hash == first.spec_hash
    table.write_text(shipped.read_text() + "\n# edited\n")
    assert parse_spec(data).spec_hash != first.spec_hash
    db = tmp_path / "e.db"
    store.open_study(db, first).close()
    with pytest.raises(ConfigError, match="different spec"):
        store.open_study(db, parse_spec(data))


def test_resume_refuses_a_study_written_by_another_hwsim_version(db, capsys):
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '0.0.0-old' WHERE key = 'hwsim_version'")
    con.commit()
    con.close()
    with pytest.raises(ConfigError) as info:
        run_sweep(parse_spec(SPEC), db)
    message = str(info.value)
    assert "written by hwsim 0.0.0-old" in message and "new --out" in message
    assert "\n" not in message


def test_sweep_out_and_report_paths_are_checked_before_any_point_runs(tmp_path, capsys):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text("unit: systolic\naxes: {rows: [4]}\nworkloads: [{gemm: [8, 8, 8]}]\n")
    assert main(["sweep", str(spec_path), "--out", str(tmp_path)]) == 2
    assert f"--out: {tmp_path} is a directory" in capsys.readouterr().err
    db = tmp_path / "s.db"
    assert main(["sweep", str(spec_path), "--out", str(db), "--report",
                 str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert "--report: " in err and "must end in .html" in err and len(err.splitlines()) == 1
    assert not db.exists()
