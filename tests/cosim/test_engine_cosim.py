"""Co-simulation of every tensor-engine generator with the generic bench (Icarus + Verilator).

The matrix is every (engine, mac) pair of ``COMPATIBILITY``. :data:`EXPECTED_BUILT` lists the
pairs whose generator exists; a test holds it equal to what the registry can build, so a
generator that lands (or disappears) without this file being updated fails. A pair outside
the list is a strict xfail that must raise the "not built" ConfigError (it turns into a
failure the moment it builds).

Each built pair runs on Icarus at 2x3 with depth 3 and on Verilator at the odd shape 3x2 with
depth 2 (one Verilator build per pair; its run-time library is compiled once and reused),
with the narrowest accumulator the config allows so the all ``-2**(w-1)`` GEMM wraps it.
The bench checks every ``o_c`` beat against the generator's expected beats, every GEMM
rebuilt from the DUT's beats against ``golden.engine_product``, and each unthrottled fold's
cycles against its contract; here the cycles are checked once more against the model's
``fold_cycles``, recomputed from the fold shapes (dense) or the reported issue cycles
(bitslice). Planted faults (a corrupted expected beat, a DUT with one flipped bit, a DUT one
cycle late) must be reported.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.config import COMPATIBILITY
from hwsim.accelerators.engines.golden import engine_product
from hwsim.accelerators.engines.model import engine_mapping, fold_cycles
from hwsim.cli import main
from hwsim.config import ConfigError

SIMS = ("icarus", "verilator")
#: The (engine, mac) pairs whose RTL generator exists. Update it when a generator lands.
EXPECTED_BUILT = frozenset({
    ("systolic", "naive"), ("systolic", "booth"), ("systolic", "opt1"),
    ("cube", "naive"), ("cube", "booth"), ("cube", "opt1"),
    ("tree", "naive"), ("tree", "booth"), ("tree", "opt2"),
    ("matrix2d", "naive"), ("matrix2d", "booth"), ("matrix2d", "opt1"), ("matrix2d", "opt2"),
    ("bitslice", "opt3"), ("bitslice", "opt4c"), ("bitslice", "laconic"),
})  # fmt: skip
ALL_PAIRS = [(engine, mac) for engine, macs in COMPATIBILITY.items() for mac in macs]
#: (rows, cols, depth) per simulator: every pair at both, one Verilator build per pair.
SHAPE = {"icarus": (2, 3, 3), "verilator": (3, 2, 2)}
FOLDS = 3
THROTTLE = 0.4


def require_simulator(sim: str) -> None:
    """Fail the calling test, with the install hint, when ``sim`` is missing."""
    from hwsim.verification.runner import check_simulator

    try:
        check_simulator(sim)
    except ConfigError as exc:
        pytest.fail(f"co-simulation needs {sim}: {exc}", pytrace=False)


def engine_config(engine: str, mac: str, shape: tuple[int, int, int], **extra) -> EngineConfig:
    """The pair at ``shape`` with the narrowest accumulator the config accepts."""
    rows, cols, depth = shape
    wide = EngineConfig(engine=engine, mac=mac, rows=rows, cols=cols, depth=depth,
                        acc_width_bits=64, **extra)  # fmt: skip
    return EngineConfig.from_dict({**wide.to_dict(), "acc_width_bits": wide.psum_width_bits})


def _built(engine: str, mac: str) -> bool:
    from hwsim.rtl.engine_common import rtl_module

    try:
        rtl_module(engine_config(engine, mac, SHAPE["icarus"]))
    except ConfigError:
        return False
    return True


def _pair_params() -> list:
    params = []
    for engine, mac in ALL_PAIRS:
        marks = []
        if (engine, mac) not in EXPECTED_BUILT:
            marks = [pytest.mark.xfail(strict=True, raises=ConfigError,
                                       reason="generator not built")]  # fmt: skip
        params.append(pytest.param(engine, mac, id=f"{engine}-{mac}", marks=marks))
    return params


def test_expected_pairs_are_exactly_what_the_registry_builds() -> None:
    built = {pair for pair in ALL_PAIRS if _built(*pair)}
    assert built == set(EXPECTED_BUILT), (
        f"update EXPECTED_BUILT: newly built {sorted(built - EXPECTED_BUILT)}, no longer "
        f"built {sorted(EXPECTED_BUILT - built)}"
    )


def _model_cycles(config: EngineConfig, fold: dict) -> int:
    """The model's contract for one reported fold, recomputed here."""
    if config.sparse:  # the bench reports the fold's digit-issue cycles as T
        return int(fold_cycles(config, fold["T"]))
    mt, kt, nt = fold["shape"]
    return int(fold_cycles(config, engine_mapping(config, mt, nt, kt)[2]))


def _why(result: dict) -> str:
    seed = result["seed"]
    summary = {k: v for k, v in result.items() if k not in ("folds", "traceback")}
    return f"seed {seed} (replay with HWSIM_TEST_SEED={seed}): {json.dumps(summary)[:3000]}"


def _check_passes(config: EngineConfig, result: dict) -> None:
    why = _why(result)
    assert result["error"] is None, why + result.get("traceback", "")
    assert result["beats_match"] and result["gemm_match"] and result["outputs_match"], why
    assert result["cycles_rtl"] == result["cycles_contract"], why
    assert result["cycles_rtl"] == [_model_cycles(config, f) for f in result["folds"]], why
    kinds = {f["gemm_kind"] for f in result["folds"]}
    assert {"random", "min*min", "min*max", "zeros"} <= kinds, why
    assert config.sparse == ("zero-digit-groups" in kinds), why
    assert result["passed"], why


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("engine, mac", _pair_params())
def test_engine_matches_golden_and_contract(engine: str, mac: str, sim: str, cosim_seed) -> None:
    from hwsim.verification.engine_runner import run_engine_bench

    config = engine_config(engine, mac, SHAPE[sim])
    if (engine, mac) not in EXPECTED_BUILT:
        run_engine_bench(config, sim, seed=cosim_seed, folds=FOLDS, throttle=THROTTLE)
        return
    require_simulator(sim)
    result = run_engine_bench(config, sim, seed=cosim_seed, folds=FOLDS, throttle=THROTTLE)
    _check_passes(config, result)


# ---- the bench must be able to fail -----------------------------------------------------------
FAULT_PAIR = ("systolic", "naive")


def _stand_in(name: str, engine_class=None, fold_stimulus=None) -> types.ModuleType:
    """A generator module standing in for the registry's, with a planted fault."""
    from hwsim.rtl.engine_common import rtl_module

    real = rtl_module(engine_config(*FAULT_PAIR, SHAPE["icarus"]))
    module = types.ModuleType(name)
    module.ENGINE_CLASS = engine_class or real.ENGINE_CLASS
    module.check_rtl_config = real.check_rtl_config
    module.fold_stimulus = fold_stimulus or real.fold_stimulus
    return module


def _wrapped(fault: str):
    """ENGINE_CLASS wrapping the real engine: ``bit`` flips the sign bit of element 0 of every
    ``last`` o_c beat; ``late`` adds one full-throughput register stage on o_c."""
    from amaranth import Module
    from amaranth.lib import wiring

    from hwsim.rtl.engine_common import rtl_module

    real = rtl_module(engine_config(*FAULT_PAIR, SHAPE["icarus"]))

    class Faulty(wiring.Component):
        def __init__(self, config: EngineConfig) -> None:
            self.inner = real.ENGINE_CLASS(config)
            self.acc = config.acc_width_bits
            super().__init__(dict(self.inner.signature.members))

        def elaborate(self, platform):  # noqa: ANN001, ANN202
            m = Module()
            m.submodules.inner = inner = self.inner
            wiring.connect(m, wiring.flipped(self.i_a), inner.i_a)
            wiring.connect(m, wiring.flipped(self.i_b), inner.i_b)
            if fault == "bit":
                m.d.comb += [
                    self.o_c.valid.eq(inner.o_c.valid),
                    inner.o_c.ready.eq(self.o_c.ready),
                    self.o_c.payload.eq(inner.o_c.payload),
                    self.o_c.payload.data[0].eq(
                        inner.o_c.payload.data[0] ^ (inner.o_c.payload.last << (self.acc - 1))
                    ),
                ]
            else:
                m.d.comb += inner.o_c.ready.eq(~self.o_c.valid | self.o_c.ready)
                with m.If(inner.o_c.ready):
                    m.d.sync += [
                        self.o_c.valid.eq(inner.o_c.valid),
                        self.o_c.payload.eq(inner.o_c.payload),
                    ]
            return m

    return Faulty


def test_corrupted_expected_beat_is_reported(cosim_seed) -> None:
    """One bit of the expected beats of the all -2**(w-1) A folds flipped: the DUT is right,
    so the GEMM check passes and exactly those beats mismatch."""
    from hwsim.verification.engine_runner import run_engine_bench

    require_simulator("icarus")
    config = engine_config(*FAULT_PAIR, SHAPE["icarus"])
    real = _stand_in("real")
    low = -(1 << (config.in_width_bits - 1))

    def corrupted(config, a_tile, b_tile):  # noqa: ANN001, ANN202
        stim = real.fold_stimulus(config, a_tile, b_tile)
        if (np.asarray(a_tile) == low).all():
            stim.c_beats[0][0] ^= 1
        return stim

    module = _stand_in("corrupted_expectation", fold_stimulus=corrupted)
    result = run_engine_bench(config, "icarus", seed=cosim_seed, folds=1, throttle=0.3,
                              rtl_module=module)  # fmt: skip
    why = _why(result)
    assert not result["passed"] and not result["outputs_match"], why
    assert not result["beats_match"] and result["gemm_match"] and result["cycles_match"], why
    # min*min and min*max are one fold each, in both phases: four beats, element 0 only.
    assert result["mismatch_count"] == 4, why
    assert {m["gemm_kind"] for m in result["mismatches"]} == {"min*min", "min*max"}, why
    assert all(m["differing_elements"] == [0] for m in result["mismatches"]), why


def test_dut_with_a_flipped_bit_is_reported(cosim_seed, capsys, monkeypatch) -> None:
    """Through the CLI: the sign bit of one element of each fold's last beat flipped gives a
    beat mismatch and a GEMM mismatch, exit code 1, with the seed to replay."""
    from hwsim.rtl import engine_common

    require_simulator("icarus")
    module = _stand_in("flipped_bit", engine_class=_wrapped("bit"))
    monkeypatch.setitem(sys.modules, "hwsim_test_flipped_bit_engine", module)
    monkeypatch.setitem(engine_common.ENGINE_RTL, "systolic", "hwsim_test_flipped_bit_engine")
    rows, cols, depth = SHAPE["icarus"]
    config = engine_config(*FAULT_PAIR, SHAPE["icarus"])
    code = main([
        "verify", "engine", "--engine", "systolic", "--mac", "naive", "--rows", str(rows),
        "--cols", str(cols), "--depth", str(depth), "--acc-width-bits",
        str(config.acc_width_bits), "--seed", str(cosim_seed), "--folds", "2", "--json",
    ])  # fmt: skip
    out, err = capsys.readouterr()
    result = json.loads(out)
    why = _why(result)
    assert code == 1, why + err
    assert not result["beats_match"] and not result["gemm_match"], why
    assert result["seed"] == cosim_seed
    # every fold's last beat is wrong, the others are right
    assert result["mismatch_count"] >= result["fold_count"], why
    assert all(m["kind"] == "data" and m["differing_elements"] == [0]
               for m in result["mismatches"] if m["kind"] != "gemm vs engine_product"), why


def test_dut_one_cycle_late_is_reported(cosim_seed) -> None:
    """Right data one cycle late: only the cycle check catches it, by exactly one per fold."""
    from hwsim.verification.engine_runner import run_engine_bench

    require_simulator("icarus")
    config = engine_config(*FAULT_PAIR, SHAPE["icarus"])
    module = _stand_in("one_cycle_late", engine_class=_wrapped("late"))
    result = run_engine_bench(config, "icarus", seed=cosim_seed, folds=2, throttle=0.3,
                              rtl_module=module)  # fmt: skip
    why = _why(result)
    assert result["outputs_match"] and not result["cycles_match"] and not result["passed"], why
    assert result["cycles_rtl"] == [c + 1 for c in result["cycles_contract"]], why


# ---- bad input: one line, exit 2 --------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--engine", "cube", "--mac", "opt3"], "mac must be one of naive, booth, opt1"),
        (["--engine", "tree", "--dataflow", "ws"], "dataflow must be os for engine tree"),
        (["--throttle", "1.5"], "throttle must be a probability"),
        (["--folds", "0"], "folds must be >= 1"),
        (["--engine", "cube", "--rows", "64", "--cols", "64"], "for the cube RTL generator"),
        (["--sim", "modelsim"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], fragment: str, capsys) -> None:
    code = main(["verify", "engine", *argv])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and fragment in err, err


def test_engine_without_generator_is_bad_input(monkeypatch, capsys) -> None:
    from hwsim.rtl import engine_common

    monkeypatch.setitem(engine_common.ENGINE_RTL, "tree", "hwsim.rtl.no_such_tree_generator")
    code = main(["verify", "engine", "--engine", "tree", "--mac", "naive"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == "hwsim: error: engine: the 'tree' RTL generator is not built yet\n", err


def test_missing_simulator_is_bad_input(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no iverilog / vvp on this PATH
    code = main(["verify", "engine", "--engine", "systolic", "--rows", "2", "--cols", "2"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "iverilog" in err and "install" in err, err


# ---- the plan, without a simulator ------------------------------------------------------------
@pytest.mark.parametrize("engine, mac", sorted(EXPECTED_BUILT))
def test_plan_folds_rebuild_the_golden_gemm(engine: str, mac: str, seed: int) -> None:
    """The expected beats of every planned fold, placed by the probed layout and summed over
    K folds, give ``engine_product`` of the whole GEMM; fold counts follow engine_mapping."""
    from hwsim.rtl.engine_common import rtl_module
    from hwsim.verification.tb_engine import _rebuild, make_plan

    config = engine_config(engine, mac, SHAPE["verilator"])
    plan = make_plan(config, rtl_module(config), seed=seed, folds=3, max_t=3)
    for phase, gemms in plan["phases"].items():
        for gemm in gemms:
            a, b = np.array(gemm["a"]), np.array(gemm["b"])
            why = f"seed {seed}: {engine}/{mac} {phase} {gemm['kind']} A{a.shape} B{b.shape}"
            beats = [beat for fold in gemm["folds"] for beat in fold["c_beats"]]
            rebuilt = _rebuild(gemm, beats, config.acc_width_bits).astype(np.int64)
            assert np.array_equal(rebuilt, engine_product(config, a, b)), why
            folds_r, folds_c, _ = engine_mapping(config, a.shape[0], b.shape[1], a.shape[1])
            assert len(gemm["folds"]) == folds_r * folds_c, why
