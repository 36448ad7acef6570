"""The hwsim command: outputs, config precedence and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *argv: str) -> dict:
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_gemm_json_has_the_promised_keys(capsys):
    data = _json(
        capsys,
        "model",
        "systolic",
        "--rows",
        "4",
        "--cols",
        "4",
        "--dataflow",
        "ws",
        "--gemm",
        "10,6,9",
    )
    layer = data["layers"][0]
    for key in (
        "compute_cycles",
        "stall_cycles",
        "total_cycles",
        "utilization",
        "mapping_efficiency",
        "sram_reads",
        "sram_writes",
        "dram_bytes",
        "energy_pj",
    ):
        assert key in layer
    assert set(layer["sram_reads"]) == {"ifmap", "filter", "ofmap"}
    assert layer["compute_cycles"] == 120  # hand-worked in test_systolic_model
    assert data["totals"]["area_mm2"] > 0
    assert data["convention"] == "hwsim" and data["fidelity"] == "analytical"


def test_gemm_order_is_m_n_k(capsys):
    # OS maps M on rows and N on columns: a 1-row array folds over M only.
    data = _json(capsys, "model", "systolic", "--rows", "1", "--cols", "64", "--gemm", "5,64,3")
    # 5 row folds x 1 col fold, each 2*1 + 64 + 3 - 2 = 67 cycles
    assert data["layers"][0]["compute_cycles"] == 5 * 67


def test_flags_override_config_file(capsys, tmp_path):
    cfg = tmp_path / "a.yaml"
    cfg.write_text("rows: 4\ncols: 4\ndataflow: ws\n")
    data = _json(
        capsys, "model", "systolic", "--config", str(cfg), "--cols", "8", "--gemm", "8,8,8"
    )
    assert (data["config"]["rows"], data["config"]["cols"], data["config"]["dataflow"]) == (
        4,
        8,
        "ws",
    )


def test_scalesim_cfg_and_gemm_topology(capsys):
    data = _json(
        capsys,
        "model",
        "systolic",
        "--scalesim-cfg",
        str(EXAMPLES / "scalesim_google.cfg"),
        "--topology",
        str(EXAMPLES / "gemm_topology.csv"),
    )
    assert data["convention"] == "scalesim"
    assert data["config"]["rows"] == 32 and data["config"]["dataflow"] == "ws"
    assert data["config"]["ifmap_sram_kib"] == 1024
    odd = next(x for x in data["layers"] if x["layer"] == "odd_shape")
    # SCALE-Sim WS rule: Sr=K=53 -> 2 folds, Sc=N=37 -> 2; per fold 64+32+100-2 = 194; minus 1
    assert odd["compute_cycles"] == 4 * 194 - 1


def test_network_and_table_output(capsys):
    code, out, _ = _run(
        capsys, "model", "systolic", "--network", "resnet50", "--rows", "32", "--cols", "32"
    )
    assert code == 0
    assert "conv1" in out and "fc1000" in out and "total" in out


def test_cycle_fidelity_via_cli(capsys):
    a = _json(
        capsys,
        "model",
        "systolic",
        "--rows",
        "3",
        "--cols",
        "5",
        "--gemm",
        "7,4,6",
        "--fidelity",
        "cycle",
    )
    b = _json(capsys, "model", "systolic", "--rows", "3", "--cols", "5", "--gemm", "7,4,6")
    assert a["fidelity"] == "cycle"
    assert a["layers"][0]["compute_cycles"] == b["layers"][0]["compute_cycles"]


BAD_INPUTS = [
    (
        ["model", "systolic", "--rows", "0", "--gemm", "1,2,3"],
        "rows must be an integer in [1, 4096]",
    ),
    (["model", "systolic", "--in-width-bits", "1", "--gemm", "1,2,3"], "in_width_bits"),
    (
        ["model", "systolic", "--in-width-bits", "16", "--acc-width-bits", "24", "--gemm", "1,2,3"],
        "acc_width_bits must be >= 2 * in_width_bits = 32",
    ),
    (
        ["model", "systolic", "--dataflow", "rs", "--gemm", "1,2,3"],
        "dataflow must be one of os, ws, is, got 'rs'",
    ),
    (["model", "systolic", "--rows", "four", "--gemm", "1,2,3"], "invalid int value: 'four'"),
    (["model", "systolic", "--gemm", "1,2"], "gemm must be M,N,K"),
    (["model", "systolic", "--gemm", "0,2,3"], "gemm must be M,N,K"),
    (["model", "systolic", "--network", "vgg"], "network must be one of resnet50"),
    (["model", "systolic"], "one of the arguments --gemm --topology --network is required"),
    (["model", "systolic", "--gemm", "1,2,3", "--network", "resnet50"], "not allowed with"),
    (["model", "systolic", "--gemm", "1,2,3", "--convention", "x"], "invalid choice: 'x'"),
    (["model", "systolic", "--topology", "/no/such.csv"], "cannot read topology file"),
    (
        ["model", "systolic", "--config", "/no/such.yaml", "--gemm", "1,2,3"],
        "cannot read config file",
    ),
    (["model", "rocket", "--gemm", "1,2,3"], "invalid choice: 'rocket'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("argv", "needle"), BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("rows: 4\nrows: 8\n", "duplicate key 'rows'"),
        ("rows: 4\ncolumns: 8\n", "unknown field 'columns'"),
        ("rows: 4\nacc_width_bits: 8\n", "acc_width_bits must be >= 2 * in_width_bits = 16"),
    ],
)
def test_bad_config_file(capsys, tmp_path, content, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(content)
    code, out, err = _run(capsys, "model", "systolic", "--config", str(cfg), "--gemm", "1,2,3")
    assert code == 2 and out == ""
    assert needle in err and str(cfg) in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("c1, 8, 8, 3, 3, x, 4, 1,", "line 2: Channels must be an integer"),
        ("c1, 8, 8, 9, 3, 2, 4, 1,", "filter 9x3 must fit in the ifmap 8x8"),
        ("c1, 8, 8, 3, 3, 2, 4,", "a conv row needs"),
        ("c1, 8, 8, 3, 3, 2, 4, 1, 2:4,", "sparsity ratio '2:4' is not supported"),
    ],
)
def test_bad_topology_rows(capsys, tmp_path, row, needle):
    topo = tmp_path / "t.csv"
    topo.write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
        f"Channels, Num Filter, Strides,\n{row}\n"
    )
    code, _, err = _run(capsys, "model", "systolic", "--topology", str(topo))
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (("ArrayHeight:    32", "ArrayHeight:    zero"), "ArrayHeight must be an integer >= 1"),
        (("Dataflow : ws", "Dataflow : rs"), "Dataflow must be one of os, ws, is"),
        (("ArrayWidth:     32\n", ""), "lacks ArrayWidth"),
        (("[architecture_presets]", "architecture_presets]"), "not a SCALE-Sim config"),
    ],
)
def test_bad_scalesim_cfg(capsys, tmp_path, edit, needle):
    text = (EXAMPLES / "scalesim_google.cfg").read_text()
    assert edit[0] in text
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(text.replace(edit[0], edit[1]))
    code, _, err = _run(capsys, "model", "systolic", "--scalesim-cfg", str(cfg), "--gemm", "8,8,8")
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_scalesim_user_bandwidth_is_noted(capsys, tmp_path):
    text = (EXAMPLES / "scalesim_google.cfg").read_text()
    cfg = tmp_path / "user.cfg"
    cfg.write_text(text.replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER"))
    data = _json(capsys, "model", "systolic", "--scalesim-cfg", str(cfg), "--gemm", "8,8,8")
    assert any("USER" in note for note in data["notes"])


def test_installed_entry_point_exit_codes(tmp_path):
    exe = shutil.which("hwsim", path=os.path.dirname(sys.executable)) or shutil.which("hwsim")
    assert exe, "the hwsim console script is not installed"
    ok = subprocess.run(
        [exe, "model", "systolic", "--gemm", "4,4,4", "--json"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["layers"]
    bad = subprocess.run(
        [exe, "model", "systolic", "--rows", "-1", "--gemm", "4,4,4"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_demo_writes_results(tmp_path, capsys):
    import sqlite3

    code, out, _ = _run(capsys, "demo", "--out", str(tmp_path / "res"))
    assert code == 0
    res = tmp_path / "res"
    con = sqlite3.connect(res / "demo.db")
    rows = con.execute("SELECT dataflow, workload, rows, cols, status FROM results").fetchall()
    con.close()
    # 5 x 5 array shapes x 3 dataflows x 2 SRAM sizes, on 2 networks
    assert len(rows) == 5 * 5 * 3 * 2 * 2
    assert {r[0] for r in rows} == {"os", "ws", "is"}
    assert {r[1] for r in rows} == {"resnet50", "bert-base"}
    assert {(r[2], r[3]) for r in rows} >= {(8, 8), (128, 128), (8, 128)}
    assert {r[4] for r in rows} == {"ok"}
    for name in ("demo.csv", "demo_pareto.png", "demo_heatmap.png", "demo_report.html"):
        assert (res / name).stat().st_size > 0
    flat = out.replace("\n", "")
    assert str(res / "demo.db") in flat and str(res / "demo_report.html") in flat
    assert "Pareto" in out
