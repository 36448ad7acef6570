"""``hwsim model engine``: JSON figures, precedence, table output, one-line errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hwsim.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *argv: str) -> dict:
    code, out, err = _run(capsys, "model", "engine", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_cube_json_hand_worked(capsys):
    # 4x4x4 cube, M=10 N=6 K=9: 3 x 2 folds of T = 3 beats, 3 + 8 + 4 + 4 - 2 = 17 cycles each
    data = _json(capsys, "--engine", "cube", "--rows", "4", "--cols", "4", "--depth", "4",
                 "--mac", "opt1", "--gemm", "10,6,9")
    layer = data["layers"][0]
    assert layer["compute_cycles"] == 6 * (17 + 1)  # opt1: one CPA stage per fold
    assert layer["macs"] == 540
    assert set(layer["sram_reads"]) == {"ifmap", "filter", "ofmap"}
    assert data["unit"] == "engine" and data["cycles"] == "exact"
    assert data["config"]["engine"] == "cube" and data["config"]["mac"] == "opt1"
    assert data["totals"]["pes"] == 64 and data["totals"]["peak_macs_per_cycle"] == 64
    assert data["totals"]["area_mm2"] > 0


def test_systolic_engine_matches_model_systolic(capsys):
    flags = ["--rows", "4", "--cols", "8", "--dataflow", "ws", "--gemm", "30,20,50"]
    ours = _json(capsys, "--engine", "systolic", *flags)
    code, out, err = _run(capsys, "model", "systolic", *flags, "--json")
    assert code == 0, err
    theirs = json.loads(out)
    for key in ("compute_cycles", "total_cycles", "sram_reads", "sram_writes", "dram_bytes"):
        assert ours["layers"][0][key] == theirs["layers"][0][key], key
    assert ours["layers"][0]["energy_pj"] == pytest.approx(theirs["layers"][0]["energy_pj"])


def test_sparse_engine_reports_expected_cycles(capsys):
    data = _json(capsys, "--engine", "bitslice", "--mac", "opt4c", "--rows", "1", "--cols",
                 "16", "--operand-sigma", "20", "--gemm", "8,16,64")
    assert data["cycles"] == "expected at operand_sigma=20"
    # one column group: 8 folds of 64 operands at ~2.34 cycles per operand (notes, sigma 20)
    per_fold = data["layers"][0]["compute_cycles"] / 8 - (1 + 3)
    assert per_fold == pytest.approx(2.34 * 64, rel=0.01)


def test_flags_override_config_file(capsys, tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("engine: tree\nmac: opt2\nrows: 2\ncols: 4\ndepth: 16\n")
    data = _json(capsys, "--config", str(path), "--cols", "8", "--gemm", "8,8,16")
    config = data["config"]
    assert (config["engine"], config["mac"], config["rows"], config["cols"],
            config["depth"]) == ("tree", "opt2", 2, 8, 16)


def test_network_table_output(capsys):
    code, out, err = _run(capsys, "model", "engine", "--engine", "matrix2d", "--mac", "opt2",
                          "--network", "bert-base")
    assert code == 0, err
    assert "engine matrix2d 8x8x4 mac opt2" in out and "total" in out and "area" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["--engine", "cube", "--mac", "opt3"],
     "engine: mac must be one of naive, booth, opt1 for engine cube, got 'opt3'"),
    (["--engine", "bitslice"],
     "engine: mac must be one of opt3, opt4c, laconic for engine bitslice, got 'naive'"),
    (["--engine", "tree", "--mac", "opt1"],
     "engine: mac must be one of naive, booth, opt2 for engine tree, got 'opt1'"),
    (["--engine", "matrix2d", "--dataflow", "ws"], "dataflow must be os for engine matrix2d"),
    (["--engine", "cube", "--depth", "8", "--acc-width-bits", "18"],
     "acc_width_bits must be >= 19"),
    (["--mac", "opt9"], "mac must be one of naive, booth, opt1, opt2, opt3, opt4c, laconic"),
    (["--rows", "many"], "rows"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, "model", "engine", *argv, "--gemm", "4,4,4")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err, err


def test_bad_pair_from_the_installed_command_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "hwsim.cli", "model", "engine", "--engine", "cube", "--mac",
         "laconic", "--gemm", "4,4,4"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "hwsim: error: engine: mac must be one of naive, booth, opt1 for engine cube, "
        "got 'laconic'"
    )
    assert "Traceback" not in proc.stderr and proc.stdout == ""
