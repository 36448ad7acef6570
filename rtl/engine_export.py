"""Reproducible Verilog export of any tensor engine: Verilog and JSON sidecar.

:func:`emit_engine` writes two files named ``<top>`` = ``engine_<engine>_<mac>_<fp>``, where
``<fp>`` is :meth:`EngineConfig.fingerprint` (12 hex digits of the SHA-256 of the canonical
config JSON):

``<top>.v``
    ``amaranth.back.verilog.convert(build_engine(config), emit_src=False)`` behind a header
    comment holding the config JSON, the fingerprint and the tool versions. The same config
    gives byte-identical files with the same tool versions.
``<top>.json``
    The sidecar: config, fingerprint, ``top``, the generator module, the port map (name,
    direction, width in bits; stream payloads add their bit layout and what a beat carries),
    the per-fold cycle contract of :func:`hwsim.accelerators.engines.model.fold_cycles` and
    the tool versions.

The port map is read from the built component's Amaranth signature, not re-derived from the
config, so it states what the Verilog has. No FuseSoC core is written:
:func:`hwsim.rtl.export.emit`'s core writer describes a systolic array only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.model import EXTRA_STAGES, fold_cycles, tree_levels
from hwsim.config import ConfigError

from .engine_common import ENGINE_RTL, build_engine, rtl_module
from .export import _write_if_changed, check_out_dir, tool_versions

__all__ = ["emit_engine", "engine_top_name", "engine_port_map", "engine_verilog_text",
           "cycle_contract", "check_engine_rtl_config"]

#: Per engine: the fold-cycle formula (docs/engines.md), the name of its beat variable and
#: what that variable counts.
_CONTRACTS: dict[str, tuple[str, str, str]] = {
    "systolic": ("2*rows + cols + T - 2 + X", "T",
                 "os: T = K beat pairs; ws: T = M i_a beats (after the rows weight beats)"),
    "cube": ("T + 2*rows + cols + depth - 2 + X", "T",
             "T = ceil(K / depth) beat pairs (k-chunks)"),
    "matrix2d": ("T + L + rows + 1 + X", "T", "T = ceil(K / depth) beat pairs (k-chunks)"),
    "tree": ("depth + T + cols + L - 1 + X", "T",
             "T = i_a beats (A rows per replica, ceil(M / rows)), after depth weight beats"),
    "bitslice": ("t + rows + 3", "t",
                 "t = the fold's digit-issue cycles (data-dependent: per k-group and bit "
                 "weight, the most non-zero radix-4 digits of any row, at least 1)"),
}

#: What one beat of each stream carries, per engine (from the generators' docstrings);
#: ``e`` is the element index of ``X__payload[e*W +: W]``.
_BEATS: dict[str, dict[str, str]] = {
    "systolic-os": {
        "i_a": "beat k (k = 0..K-1): element r = A[r, k]; last on beat K-1",
        "i_b": "beat k (k = 0..K-1): element c = B[k, c]; last on beat K-1",
        "o_c": "rows beats: beat r, element c = C[r, c]; last on beat rows-1",
    },
    "systolic-ws": {
        "i_a": "beat m (m = 0..M-1): element r = A[m, r]; last on beat M-1; present it "
               "without waiting for i_b to finish",
        "i_b": "rows weight beats first: beat r, element c = B[r, c]; last on beat rows-1",
        "o_c": "M beats: beat m, element c = C[m, c]; last on beat M-1",
    },
    "cube": {
        "i_a": "beat t: element i*depth + y = A[i, t*depth + y]",
        "i_b": "beat t: element y*cols + j = B[t*depth + y, j]",
        "o_c": "rows beats: beat r, element j = C[r, j]; last on beat rows-1",
    },
    "matrix2d": {
        "i_a": "beat t: element i*depth + d = A[i, t*depth + d]",
        "i_b": "beat t: element d*cols + j = B[t*depth + d, j]",
        "o_c": "rows beats: beat r, element j = C[r, j]; last on beat rows-1",
    },
    "tree": {
        "i_a": "beat t: element r*depth + d = A[t*rows + r, d]; last on beat T-1; present it "
               "without waiting for i_b to finish",
        "i_b": "depth weight beats first: beat d, element j = B[d, j]; last on beat depth-1",
        "o_c": "T beats: beat t, element r*cols + j = C[t*rows + r, j] (the fold's partial "
               "sum over its depth k-rows); last on beat T-1",
    },
    "bitslice": {
        "i_a": "beat g (k-group): element r*depth + k = A[r, g*depth + k]",
        "i_b": "beat g (k-group): element k*cols + c = B[g*depth + k, c]",
        "o_c": "rows beats: beat r, element c = C[r, c]; last on beat rows-1",
    },
}


def check_engine_rtl_config(config: EngineConfig) -> None:
    """Raise a one-line :class:`ConfigError` if no generator builds ``config``."""
    if not isinstance(config, EngineConfig):
        raise ConfigError(f"expected an EngineConfig, got {type(config).__name__}")
    rtl_module(config)  # runs the engine's own check_rtl_config


def engine_top_name(config: EngineConfig) -> str:
    """The Verilog module name of ``config``'s engine: ``engine_<engine>_<mac>_<fingerprint>``."""
    return f"engine_{config.engine}_{config.mac}_{config.fingerprint()}"


def _build(config: EngineConfig):  # noqa: ANN202 - a wiring.Component
    check_engine_rtl_config(config)
    return build_engine(config)


def engine_port_map(config: EngineConfig, component: Any = None) -> list[dict[str, Any]]:
    """The module's ports in Verilog terms, in a fixed order (clk, rst, then per stream
    ``payload``, ``valid``, ``ready`` in the signature's order: i_a, i_b, o_c).

    Each entry: ``name``, ``direction`` (``input``/``output``), ``width`` (bits). Stream
    payloads add ``layout`` as :func:`hwsim.rtl.export.port_map` does (``data``: ``offset``,
    ``elements``, ``element_width`` bits, ``signed``; element ``e`` at bits
    ``[e*element_width +: element_width]``; ``last``: ``offset``, ``width``) and ``beats``
    (what one beat carries). ``component`` is the built engine (built from ``config`` if
    None); the widths are read from its signature.
    """
    from amaranth.hdl import Shape
    from amaranth.lib import data, wiring

    engine = component
    if engine is None:
        engine = _build(config)
        engine._MustUse__silence = True  # built for its signature only: never elaborated
    beats = _BEATS[f"systolic-{config.dataflow}" if config.engine == "systolic"
                   else config.engine]
    ports: list[dict[str, Any]] = [
        {"name": "clk", "direction": "input", "width": 1, "role": "clock (rising edge)"},
        {"name": "rst", "direction": "input", "width": 1, "role": "synchronous reset, high"},
    ]
    for path, member, _ in engine.signature.flatten(engine):
        entry: dict[str, Any] = {
            "name": "__".join(str(p) for p in path),
            "direction": "input" if member.flow == wiring.In else "output",
            "width": Shape.cast(member.shape).width,
        }
        layout = member.shape
        if isinstance(layout, data.StructLayout) and set(dict(layout)) == {"data", "last"}:
            array = layout["data"].shape
            elem = Shape.cast(array.elem_shape)
            entry["layout"] = {
                "data": {
                    "offset": layout["data"].offset,
                    "elements": array.length,
                    "element_width": elem.width,
                    "signed": elem.signed,
                },
                "last": {"offset": layout["last"].offset,
                         "width": Shape.cast(layout["last"].shape).width},
            }
            entry["beats"] = beats.get(str(path[0]), "")
        ports.append(entry)
    return ports


def cycle_contract(config: EngineConfig) -> dict[str, Any]:
    """The per-fold cycle contract of ``config`` (cycles; from the engines model).

    ``fold_cycles`` is the engine's formula, ``this_config`` the same with this config's
    numbers (``T + c``), ``X``/``L`` the variant's extra stages and the adder-tree levels.
    """
    formula, var, meaning = _CONTRACTS[config.engine]
    base = int(fold_cycles(config, 0))
    contract: dict[str, Any] = {
        "fold_cycles": formula,
        var: meaning,
    }
    if config.engine != "bitslice":
        contract["X"] = EXTRA_STAGES[config.mac]
    if config.engine in ("matrix2d", "tree"):
        contract["L"] = tree_levels(config.depth)
    if int(fold_cycles(config, 1)) - base == 1:  # every contract is one cycle per beat
        contract["this_config"] = f"{var} + {base}"
    contract["counted"] = (
        "from the cycle the fold's first input beat is accepted to the cycle of its last o_c "
        "beat, inclusive, every valid and o_c.ready held high; folds run back to back"
    )
    contract["source"] = f"hwsim.accelerators.engines.model.fold_cycles_{config.engine}"
    return contract


def engine_verilog_text(config: EngineConfig, component: Any = None) -> str:
    """The generated Verilog (without the header comment) for ``config``."""
    from amaranth.back import verilog

    engine = component if component is not None else _build(config)
    return verilog.convert(engine, name=engine_top_name(config), emit_src=False)


def _header(config: EngineConfig, versions: dict[str, str]) -> str:
    lines = [
        f"// {engine_top_name(config)}: hwsim {config.engine} tensor engine, mac "
        f"{config.mac}, generated by hwsim.rtl.engine_export.emit_engine",
        f"// fingerprint: {config.fingerprint()}",
        "// tool versions: " + json.dumps(versions, sort_keys=True),
        "// config:",
    ]
    lines += [f"//   {line}" for line in config.to_json().splitlines()]
    lines.append("// Do not edit: regenerate with `hwsim rtl emit engine` and this config.")
    return "\n".join(lines) + "\n"


def emit_engine(config: EngineConfig, out_dir: str | Path) -> dict[str, Any]:
    """Write the Verilog and JSON sidecar of ``config``'s engine into ``out_dir``.

    Parameters
    ----------
    config : EngineConfig
        The engine to generate (any engine/mac pair its generator builds).
    out_dir : str or Path
        Folder for the files; created if missing.

    Returns
    -------
    dict
        ``verilog``, ``sidecar`` (paths as strings), ``top`` (module name), ``fingerprint``
        and ``verilog_bytes`` (size of the Verilog file, bytes).

    Raises
    ------
    ConfigError
        If the generator cannot build ``config``, or ``out_dir`` is not a folder that can be
        created or written (nothing is created then).
    """
    check_engine_rtl_config(config)
    out = check_out_dir(out_dir, "out_dir")
    fp = config.fingerprint()
    top = engine_top_name(config)
    versions = tool_versions()
    v_path = out / f"{top}.v"
    j_path = out / f"{top}.json"
    for path in (v_path, j_path):
        if path.exists() and not path.is_file():
            raise ConfigError(f"out_dir '{out}' holds '{path.name}', which is not a file; "
                              "remove it or give another folder")
    component = _build(config)
    ports = engine_port_map(config, component)  # before convert: the signature, untouched
    # Convert first: the folder is created only once there is something to write into it.
    text = _header(config, versions) + engine_verilog_text(config, component)
    out.mkdir(parents=True, exist_ok=True)
    _write_if_changed(v_path, text)
    sidecar = {
        "unit": config.unit_name,
        "top": top,
        "top_naming": "engine_<engine>_<mac>_<fingerprint>",
        "fingerprint": fp,
        "config": config.to_dict(),
        "generator": ENGINE_RTL[config.engine],
        "verilog": v_path.name,
        "clock": "clk",
        "reset": {"name": "rst", "kind": "synchronous", "active": "high"},
        "ports": ports,
        "cycle_contract": cycle_contract(config),
        "tool_versions": versions,
    }
    _write_if_changed(j_path, json.dumps(sidecar, indent=2) + "\n")
    return {
        "verilog": str(v_path),
        "sidecar": str(j_path),
        "top": top,
        "fingerprint": fp,
        "verilog_bytes": len(text.encode()),
    }
