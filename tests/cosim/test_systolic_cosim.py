"""Co-simulation of the generated systolic array on Icarus and Verilator.

Hardware parameters are pytest parameters (one build per config and simulator, cached under
build/cosim); the stimulus varies inside the simulation: random tiles without backpressure
(latency checked against ``model.cycles_per_fold``), then random tiles with random
valid/ready throttling on every port, plus the all ``-2**(w-1)`` extreme tiles that wrap the
accumulator. Outputs are checked by the bench against ``golden.gemm``; here the latencies are
checked once more against the model, from the tile shapes the bench reports.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from hwsim.accelerators.systolic.config import SystolicConfig
from hwsim.accelerators.systolic.model import cycles_per_fold
from hwsim.cli import main
from hwsim.config import ConfigError
from hwsim.verification.runner import emit_systolic, verify_systolic, verilator_fst_available
from hwsim.verification.scoreboard import Expected, Scoreboard
from hwsim.verification.streams import PayloadLayout

SIMS = ("icarus", "verilator")
#: (rows, cols, dataflow, in_width_bits, acc_width_bits): every shape in both dataflows and
#: both operand widths across the set; acc = 2w + 2 / 2w + 4 so the extreme tiles wrap (os).
CONFIGS = [
    (2, 2, "os", 5, 12),
    (2, 2, "ws", 8, 20),
    (4, 4, "os", 8, 20),
    (4, 4, "ws", 5, 12),
    (3, 5, "os", 5, 12),
    (3, 5, "ws", 8, 20),
]
TILES = 3
THROTTLE = 0.4


def require_simulator(sim: str) -> None:
    """Fail the calling test, with the install hint, when ``sim`` is missing."""
    from hwsim.verification.runner import check_simulator

    try:
        check_simulator(sim)
    except ConfigError as exc:
        pytest.fail(f"co-simulation needs {sim}: {exc}", pytrace=False)


def require_generator() -> None:
    """Fail the calling test when the RTL generator / exporter is not importable."""
    try:
        import hwsim.rtl.export  # noqa: F401
        import hwsim.rtl.systolic  # noqa: F401
    except ModuleNotFoundError as exc:
        pytest.fail(f"co-simulation needs the RTL generator: {exc}", pytrace=False)


def _config(shape: tuple[int, int, str, int, int]) -> SystolicConfig:
    rows, cols, dataflow, w, acc = shape
    return SystolicConfig(
        rows=rows, cols=cols, dataflow=dataflow, in_width_bits=w, acc_width_bits=acc
    )


def _id(shape: tuple[int, int, str, int, int]) -> str:
    rows, cols, dataflow, w, acc = shape
    return f"{rows}x{cols}-{dataflow}-w{w}a{acc}"


@pytest.mark.parametrize("shape", CONFIGS, ids=_id)
@pytest.mark.parametrize("sim", SIMS)
def test_systolic_matches_golden_and_model(sim: str, shape: tuple, cosim_seed: int) -> None:
    require_simulator(sim)
    require_generator()
    config = _config(shape)
    verdict = verify_systolic(
        config, sim=sim, seed=cosim_seed, tiles=TILES, throttle=THROTTLE, extremes=True
    )
    summary = {k: v for k, v in verdict.to_dict().items() if k != "details"}
    why = f"seed {cosim_seed} (replay with HWSIM_TEST_SEED={cosim_seed}): {json.dumps(summary)}"
    assert verdict.error is None, why
    assert verdict.outputs_match, why
    shapes = verdict.details["tile_shapes"]
    latency = [s for s in shapes if s["phase"] == "latency"]
    throttled = [s for s in shapes if s["phase"] == "throttled"]
    # Both phases ran, each with the random tiles and the two extreme tiles.
    assert len(latency) == len(throttled) == TILES + 2, why
    assert sum(s["kind"].startswith("extreme") for s in throttled) == 2, why
    # The measured latencies against the model, computed here from the reported shapes (the
    # bench's own cycles_model comes from the same call, so comparing it would prove nothing).
    expected = [int(cycles_per_fold(config, s["T"], "hwsim")) for s in latency]
    assert verdict.cycles_rtl == expected, why
    # The throttled tiles run back to back. The array takes a tile's first input only after
    # the previous tile's last output, and throttling can only delay beats, so the phase
    # lasts at least the sum of the model latencies of its tiles (exactly that sum with no
    # backpressure: test_back_to_back_tiles_leave_no_bubbles) -- fewer cycles would mean
    # overlapping tiles or beats that skipped the pipeline. THROTTLE > 0 with a fixed seed
    # withholds some valid/ready, so the phase must take strictly longer than that sum.
    throttled_model = sum(int(cycles_per_fold(config, s["T"], "hwsim")) for s in throttled)
    assert THROTTLE > 0
    assert verdict.details["throttled_cycles"] > throttled_model, why


@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_back_to_back_tiles_leave_no_bubbles(dataflow: str, cosim_seed: int) -> None:
    """With throttle 0 the "throttled" phase is full throughput: its tiles follow each other
    without a bubble, so it takes exactly the sum of the model latencies of its tiles."""
    require_simulator("icarus")
    require_generator()
    config = _config((3, 5, dataflow, 5, 12))
    verdict = verify_systolic(
        config, sim="icarus", seed=cosim_seed, tiles=TILES, throttle=0.0, extremes=True
    )
    assert verdict.passed, f"seed {cosim_seed}: {verdict.to_dict()}"
    throttled = [s for s in verdict.details["tile_shapes"] if s["phase"] == "throttled"]
    total = sum(int(cycles_per_fold(config, s["T"], "hwsim")) for s in throttled)
    assert verdict.details["throttled_cycles"] == total, f"seed {cosim_seed}: {verdict.details}"


def _plant_fault(text: str) -> str:
    """Flip the last accumulate adder (``acc + product``) of the netlist into a subtraction."""
    lines = text.splitlines(keepends=True)
    pattern = re.compile(r"^\s*assign .*\$signed\([^)]*\)\s\+\s\$signed")
    hits = [i for i, line in enumerate(lines) if pattern.search(line)]
    assert hits, "no signed adder found in the generated Verilog to plant a fault in"
    i = hits[-1]
    lines[i] = lines[i].replace(" + ", " - ", 1)
    return "".join(lines)


@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_planted_fault_is_reported(dataflow: str, tmp_path: Path, capsys, cosim_seed) -> None:
    require_simulator("icarus")
    require_generator()
    shape = (3, 5, dataflow, 5, 12)
    config = _config(shape)
    verilog, top = emit_systolic(config)
    flags = [
        "verify", "systolic", "--rows", "3", "--cols", "5", "--dataflow", dataflow,
        "--in-width-bits", "5", "--acc-width-bits", "12", "--sim", "icarus",
        "--seed", str(cosim_seed), "--tiles", "2", "--throttle", "0.2",
    ]  # fmt: skip
    # The untouched netlist, through --verilog and its sidecar, passes.
    clean = tmp_path / "clean" / verilog.name
    clean.parent.mkdir()
    shutil.copyfile(verilog, clean)
    shutil.copyfile(verilog.with_suffix(".json"), clean.with_suffix(".json"))
    code = main([*flags, "--verilog", str(clean)])
    out, err = capsys.readouterr()
    assert code == 0, f"seed {cosim_seed}: clean copy failed: {out} {err}"
    # One adder flipped to a subtraction: a mismatch, exit code 1 (top from --top).
    edited = tmp_path / "edited.v"
    edited.write_text(_plant_fault(verilog.read_text()))
    code = main([*flags, "--verilog", str(edited), "--top", top])
    out, err = capsys.readouterr()
    verdict = json.loads(out)
    assert code == 1, f"seed {cosim_seed}: planted fault not reported: {out} {err}"
    assert verdict["outputs_match"] is False
    assert verdict["mismatch_count"] > 0 and verdict["mismatches"]
    assert verdict["seed"] == cosim_seed and verdict["simulator"] == "icarus"


def _output_register_slice(top: str, rows: int, cols: int, in_bits: int, acc_bits: int) -> str:
    """A wrapper adding one full-throughput register stage on ``o_c``: data unchanged,
    latency one cycle longer. Correct under backpressure (ready = !valid || downstream ready)."""
    a_bits, b_bits, c_bits = rows * in_bits + 1, cols * in_bits + 1, cols * acc_bits + 1
    return f"""
module slow_top(input clk, input rst,
  input [{a_bits - 1}:0] i_a__payload, input i_a__valid, output i_a__ready,
  input [{b_bits - 1}:0] i_b__payload, input i_b__valid, output i_b__ready,
  output reg [{c_bits - 1}:0] o_c__payload, output reg o_c__valid, input o_c__ready);
  wire [{c_bits - 1}:0] c_payload; wire c_valid; wire c_ready;
  assign c_ready = !o_c__valid || o_c__ready;
  {top} dut(.clk(clk), .rst(rst),
    .i_a__payload(i_a__payload), .i_a__valid(i_a__valid), .i_a__ready(i_a__ready),
    .i_b__payload(i_b__payload), .i_b__valid(i_b__valid), .i_b__ready(i_b__ready),
    .o_c__payload(c_payload), .o_c__valid(c_valid), .o_c__ready(c_ready));
  always @(posedge clk)
    if (rst) o_c__valid <= 1'b0;
    else if (c_ready) begin o_c__valid <= c_valid; o_c__payload <= c_payload; end
endmodule
"""


@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_planted_latency_fault_is_reported(
    dataflow: str, tmp_path: Path, capsys, cosim_seed
) -> None:
    """Right outputs, one cycle late: the latency check alone must catch it."""
    require_simulator("icarus")
    require_generator()
    config = _config((2, 3, dataflow, 5, 12))
    verilog, top = emit_systolic(config)
    slowed = tmp_path / "slowed.v"
    slowed.write_text(verilog.read_text() + _output_register_slice(top, 2, 3, 5, 12))
    code = main([
        "verify", "systolic", "--rows", "2", "--cols", "3", "--dataflow", dataflow,
        "--in-width-bits", "5", "--acc-width-bits", "12", "--sim", "icarus",
        "--seed", str(cosim_seed), "--tiles", "2", "--throttle", "0.3",
        "--verilog", str(slowed), "--top", "slow_top",
    ])  # fmt: skip
    out, err = capsys.readouterr()
    verdict = json.loads(out)
    assert code == 1, f"seed {cosim_seed}: late outputs not reported: {out} {err}"
    assert verdict["outputs_match"] is True, f"seed {cosim_seed}: the slice must not alter data"
    assert verdict["cycles_match"] is False
    assert all(
        rtl == model + 1
        for rtl, model in zip(verdict["cycles_rtl"], verdict["cycles_model"], strict=True)
    ), verdict


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--rows", "0"], "rows must be"),
        (["--dataflow", "is"], "dataflow must be os or ws"),
        (["--verilog", "/nonexistent/design.v"], "not found"),
        (["--throttle", "1.5", "--verilog", __file__, "--top", "x"], "throttle"),
        (["--rows", "65", "--cols", "64"], "rows*cols must be <= 4096"),
        (["--top", "systolic_x"], "--top only applies with --verilog"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], fragment: str, capsys) -> None:
    code = main(["verify", "systolic", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hwsim: error:") and fragment in err, err


def _two_modules(tmp_path: Path) -> Path:
    path = tmp_path / "two.v"
    path.write_text(
        "// module commented_out(\n"
        "(* keep *) module first(input clk);\nendmodule\n"
        "module \\second (input clk);\nendmodule\n"
    )
    return path


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("folder", "is not a file"),
        ("binary", "is not a text file"),
        ("no-module", "declares no module"),
        ("top-missing", "--top 'nope' is not a module of two.v; it declares: first, second"),
        ("top-commented", "--top 'commented_out' is not a module"),
        ("sidecar-top-missing", "sidecar two.json top 'ghost' is not a module of two.v"),
        ("sidecar-bad-json", "cannot read sidecar"),
        ("no-top", "pass --top or keep the JSON sidecar"),
    ],
)
def test_bad_verilog_or_top_exits_2_with_one_line(
    case: str, fragment: str, tmp_path: Path, capsys
) -> None:
    """Every bad --verilog / --top is one line and exit 2, before any simulator runs."""
    verilog = _two_modules(tmp_path)
    top: list[str] = []
    if case == "folder":
        verilog = tmp_path
    elif case == "binary":
        verilog = tmp_path / "netlist.v"
        verilog.write_bytes(b"\xff\xfe\x00module")
    elif case == "no-module":
        verilog = tmp_path / "empty.v"
        verilog.write_text("// nothing here\n`define X 1\n")
    elif case == "top-missing":
        top = ["--top", "nope"]
    elif case == "top-commented":
        top = ["--top", "commented_out"]
    elif case == "sidecar-top-missing":
        verilog.with_suffix(".json").write_text('{"top": "ghost"}')
    elif case == "sidecar-bad-json":
        verilog.with_suffix(".json").write_text("{not json")
    code = main(["verify", "systolic", "--rows", "2", "--cols", "2", "--verilog", str(verilog),
                 *top])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hwsim: error:") and fragment in err, err


def test_top_found_in_the_file_is_accepted(tmp_path: Path) -> None:
    """The module scan accepts attributes before ``module`` and escaped names."""
    from hwsim.verification.runner import check_verilog

    verilog = _two_modules(tmp_path)
    assert check_verilog(verilog, "first") == "first"
    assert check_verilog(verilog, "second") == "second"
    assert check_verilog(verilog, "\\second") == "second"


def test_build_dir_that_is_a_file_is_bad_input(monkeypatch, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "cosim"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HWSIM_BUILD_DIR", str(blocker))
    code = main(["verify", "systolic", "--rows", "2", "--cols", "2", "--sim", "icarus"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "HWSIM_BUILD_DIR" in err and "is a file" in err, err
    assert blocker.read_text() == "not a folder"


def test_missing_simulator_is_bad_input(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no iverilog / vvp on this PATH
    code = main(["verify", "systolic", "--rows", "2", "--cols", "2", "--sim", "icarus"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "iverilog" in err and "install" in err, err


@pytest.mark.parametrize("sim", SIMS)
def test_waves_are_recorded(sim: str, cosim_seed: int) -> None:
    require_simulator(sim)
    require_generator()
    config = _config((2, 2, "os", 5, 12))
    verdict = verify_systolic(
        config, sim=sim, seed=cosim_seed, tiles=1, throttle=0.2, extremes=False, waves=True
    )
    assert verdict.passed, f"seed {cosim_seed}: {verdict.to_dict()}"
    assert verdict.waves is not None
    # Verilator's FST writer needs the lz4 headers; without them the runner records VCD.
    fst_ok = sim == "icarus" or verilator_fst_available()
    assert verdict.waves.endswith(".fst" if fst_ok else ".vcd"), verdict.waves
    assert Path(verdict.waves).stat().st_size > 0


# Plain-Python parts of the bench (no simulator).


def test_payload_pack_unpack_round_trip() -> None:
    layout = PayloadLayout(5, 3)
    word = layout.pack([-16, 15, -1], last=True)
    # element e at bits [5e +: 5], two's complement; last at bit 15
    assert word == (0b10000) | (0b01111 << 5) | (0b11111 << 10) | (1 << 15)
    assert layout.unpack(word) == ([-16, 15, -1], True)
    with pytest.raises(ValueError):
        layout.pack([16, 0, 0], last=False)


def test_scoreboard_reports_data_last_extra_and_missing() -> None:
    sb = Scoreboard("o_c")
    sb.expect([Expected([1, 2], False, {"tile": 0}), Expected([3, 4], True, {"tile": 0})])
    assert sb.observe([1, 2], False, 10)
    assert not sb.observe([3, 5], False, 11)
    assert sb.mismatches[0]["kind"] == "data+last"
    assert sb.mismatches[0]["differing_elements"] == [1]
    assert not sb.observe([0, 0], True, 12)
    assert sb.mismatches[-1]["kind"] == "extra beat" and not sb.ok
    sb2 = Scoreboard("o_c")
    sb2.expect([Expected([1], True, {"tile": 3})])
    assert sb2.pending == 1 and sb2.missing() == [{"tile": 3}] and not sb2.ok
