"""Runner glue of the generic engine bench: emit an engine's Verilog, plan, build, simulate.

:func:`run_engine_bench` is what ``hwsim verify engine`` and ``tests/cosim/test_engine_cosim.py``
call. It converts the engine's Amaranth component
(:func:`hwsim.rtl.engine_common.build_engine`) to Verilog under the build root, plans the
stimulus on the host (:func:`hwsim.verification.tb_engine.make_plan`, handed to the bench as a
JSON file), and builds/runs :mod:`hwsim.verification.tb_engine` through
:func:`hwsim.verification.runner.build_and_run` -- so builds are cached per
``(top, simulator, config fingerprint)`` exactly as for the systolic bench, and a Verilator
build is reused by every later run of the same config.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hwsim.config import ConfigError

from .runner import (
    CLOCK_PERIOD_NS,
    SimulatorMissing,
    _locked,
    build_and_run,
    check_build_root,
    check_simulator,
)

__all__ = ["engine_top", "emit_engine", "run_engine_bench"]

#: C++ optimisation of the engine benches' Verilator models: a bench runs a few hundred
#: cycles, so compile time dominates and ``-O0`` roughly halves it.
VERILATOR_CXX_OPT = "-O0"
#: Verilog already emitted by this process: top name -> file (conversion takes seconds).
_EMITTED: dict[str, Path] = {}


def _generator(config: Any, rtl_module: Any | None) -> Any:
    """The generator module of ``config`` (one-line ConfigError if not built / not accepted)."""
    try:
        from hwsim.rtl.engine_common import rtl_module as registry_module
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the RTL generators are not available ({exc}): pip install -e '.[rtl]'"
        ) from None
    if rtl_module is None:
        return registry_module(config)
    rtl_module.check_rtl_config(config)
    return rtl_module


def engine_top(config: Any, rtl_module: Any | None = None) -> str:
    """Top module name: ``engine_<engine>_<mac>_<fingerprint>``.

    A generator module from outside :mod:`hwsim.rtl` (a stand-in with a planted fault, passed
    as ``rtl_module`` or put into the registry) puts its own name in front, so its Verilog and
    builds never take the place of the real generator's.
    """
    tag = f"engine_{config.engine}_{config.mac}"
    name = getattr(rtl_module, "__name__", "hwsim.rtl.") if rtl_module is not None else ""
    if rtl_module is not None and not name.startswith("hwsim.rtl."):
        tag = (name.rsplit(".", 1)[-1] or "custom") + "_" + tag
    return f"{tag}_{config.fingerprint()}"


def emit_engine(config: Any, rtl_module: Any | None = None) -> tuple[Path, str]:
    """Convert ``config``'s engine to Verilog under ``<build root>/verilog``; (file, top).

    ``amaranth.back.verilog.convert(component, name=top, emit_src=False)``; converted once per
    process and top name (the file is rewritten only when its text changes, so the
    simulators' build stamps stay valid).
    """
    module = _generator(config, rtl_module)
    top = engine_top(config, module)
    cached = _EMITTED.get(top)
    if cached is not None and cached.is_file():
        return cached, top
    from amaranth.back import verilog

    out_dir = check_build_root() / "verilog"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{top}.v"
    text = verilog.convert(module.ENGINE_CLASS(config), name=top, emit_src=False)
    with _locked(out_dir / f".{top}.lock"):
        if not (path.is_file() and path.read_text() == text):
            path.write_text(text)
    _EMITTED[top] = path
    return path, top


def run_engine_bench(
    config: Any,
    simulator: str = "icarus",
    seed: int = 1,
    folds: int = 4,
    throttle: float = 0.3,
    *,
    max_t: int = 4,
    extremes: bool = True,
    waves: bool = False,
    rtl_module: Any | None = None,
) -> dict[str, Any]:
    """Co-simulate ``config``'s engine RTL with :mod:`hwsim.verification.tb_engine`.

    Parameters
    ----------
    config
        An :class:`~hwsim.accelerators.engines.EngineConfig`.
    simulator
        ``icarus`` or ``verilator``.
    seed
        Seed of every random choice (GEMM sizes, data, throttling).
    folds
        Least number of random folds per phase (extremes come on top).
    throttle
        Chance per cycle that a source withholds ``valid`` / the sink drops ``ready`` in the
        throttled phase, in ``[0, 1)``.
    max_t
        Largest streamed length of a random fold, beats.
    extremes
        Add the extreme GEMMs (all ``-2**(w-1)``, zeros, all-zero digit groups).
    waves
        Record a waveform (path in ``"waves"``).
    rtl_module
        A stand-in for the registry's generator module (``ENGINE_CLASS``,
        ``check_rtl_config``, ``fold_stimulus``), e.g. a wrapper with a planted fault.

    Returns
    -------
    dict
        ``passed``, ``outputs_match`` (``beats_match``: every ``o_c`` beat equals the expected
        beat; ``gemm_match``: every GEMM rebuilt from the DUT's beats equals
        ``engine_product``), ``cycles_match`` (each unthrottled fold's cycles equal its
        ``contract_cycles`` and the model's ``fold_cycles``), ``cycles_rtl`` /
        ``cycles_contract`` / ``cycles_model`` and ``folds`` (per fold), ``mismatches``,
        ``error`` and where things are (``top``, ``verilog``, ``build_dir``, seconds).

    Raises
    ------
    ConfigError
        Bad input (one line): a bad parameter, an engine without a generator yet, a variant
        its generator does not build, a missing simulator, an unusable build folder.
    RuntimeError
        The simulator failed to build the Verilog, or the simulation wrote no results.
    """
    if not 0.0 <= throttle < 1.0:
        raise ConfigError(f"throttle must be a probability in [0, 1), got {throttle}")
    if folds < 1:
        raise ConfigError(f"folds must be >= 1, got {folds}")
    if max_t < 1:
        raise ConfigError(f"max_t must be >= 1, got {max_t}")
    module = _generator(config, rtl_module)
    root = check_build_root()
    check_simulator(simulator)
    if importlib.util.find_spec("cocotb") is None:
        raise SimulatorMissing("co-simulation needs cocotb 2: pip install -e '.[sim]'")
    from .tb_engine import make_plan

    verilog, top = emit_engine(config, rtl_module)
    plan = make_plan(config, module, seed=seed, folds=folds, max_t=max_t, extremes=extremes)
    plans = root / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    handle, plan_name = tempfile.mkstemp(prefix=f"{top}.seed{seed}.", suffix=".json", dir=plans)
    with os.fdopen(handle, "w") as out:
        json.dump(plan, out)
    params = {
        "seed": seed,
        "throttle": throttle,
        "plan": plan_name,
        "clock_period_ns": CLOCK_PERIOD_NS,
    }
    try:
        run = build_and_run(
            verilog=verilog,
            top=top,
            sim=simulator,
            fingerprint=config.fingerprint(),
            test_module="hwsim.verification.tb_engine",
            config=config.to_dict(),
            params=params,
            waves=waves,
            seed=seed,
            cxx_opt=VERILATOR_CXX_OPT,
        )
    finally:
        Path(plan_name).unlink(missing_ok=True)
    r = run.results
    result: dict[str, Any] = {
        "passed": False,
        "outputs_match": bool(r.get("outputs_match", False)),
        "beats_match": bool(r.get("beats_match", False)),
        "gemm_match": bool(r.get("gemm_match", False)),
        "cycles_match": bool(r.get("cycles_match", False)),
        "cycles_rtl": list(r.get("cycles_rtl", [])),
        "cycles_contract": list(r.get("cycles_contract", [])),
        "cycles_model": list(r.get("cycles_model", [])),
        "seed": seed,
        "simulator": simulator,
        "engine": config.engine,
        "mac": config.mac,
        "fingerprint": config.fingerprint(),
        "error": r.get("error"),
        "mismatch_count": int(r.get("mismatch_count", 0)),
        "mismatches": list(r.get("mismatches", [])),
        "cycle_mismatches": list(r.get("cycle_mismatches", [])),
        "beats_checked": int(r.get("beats_checked", 0)),
        "fold_count": int(r.get("fold_count", 0)),
        "gemms": int(r.get("gemms", 0)),
        "folds": list(r.get("folds", [])),
        "throttle": throttle,
        "throttled_cycles": r.get("throttled_cycles"),
        "throttled_contract_cycles": r.get("throttled_contract_cycles"),
        "sim_cycles": int(r.get("sim_cycles", 0)),
        "top": top,
        "verilog": str(verilog),
        "build_dir": str(run.build_dir),
        "built": run.built,
        "waves": str(run.waves) if run.waves else None,
        "build_seconds": round(run.build_seconds, 3),
        "run_seconds": round(run.run_seconds, 3),
    }
    if r.get("traceback"):
        result["traceback"] = r["traceback"]
    result["passed"] = result["outputs_match"] and result["cycles_match"] and not result["error"]
    return result
