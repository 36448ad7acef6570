"""Reading SCALE-Sim v3 configuration files, so its users can bring their ``.cfg`` files."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwsim.config import ConfigError

from .config import DATAFLOWS

__all__ = ["ScaleSimCfg", "read_scalesim_cfg"]


@dataclass(frozen=True)
class ScaleSimCfg:
    """What hwsim takes from a SCALE-Sim config: systolic fields and notes on what it ignores."""

    fields: dict[str, Any]
    run_name: str
    interface_bandwidth: str
    notes: tuple[str, ...]


def _get(parser: configparser.ConfigParser, section: str, key: str, where: str) -> str:
    if not parser.has_section(section):
        raise ConfigError(f"{where}: missing section [{section}]")
    if not parser.has_option(section, key):
        raise ConfigError(f"{where}: [{section}] lacks {key}")
    return parser.get(section, key).strip()


def _positive_int(text: str, label: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{where}: {label} must be an integer >= 1, got '{text}'")
    return value


def read_scalesim_cfg(path: str | Path) -> ScaleSimCfg:
    """Map a SCALE-Sim ``.cfg`` onto :class:`SystolicConfig` fields.

    ``ArrayHeight`` -> ``rows``, ``ArrayWidth`` -> ``cols``, ``Dataflow`` -> ``dataflow``,
    ``{Ifmap,Filter,Ofmap}SramSzkB`` -> ``*_sram_kib`` (SCALE-Sim words are one byte, so a
    kB is 1024 words = 1024 bytes of 8-bit operands); ``in_width_bits`` is 8. Sparsity,
    custom layouts and Ramulator traces are not modelled: the returned notes say so when the
    file turns them on.
    """
    path = Path(path)
    where = str(path)
    parser = configparser.ConfigParser()
    try:
        with path.open() as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read SCALE-Sim config ({exc.strerror})") from None
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not a SCALE-Sim config: {first}") from None
    arch = "architecture_presets"
    dataflow = _get(parser, arch, "Dataflow", where).lower()
    if dataflow not in DATAFLOWS:
        raise ConfigError(
            f"{where}: [{arch}] Dataflow must be one of {', '.join(DATAFLOWS)}, got '{dataflow}'"
        )
    fields: dict[str, Any] = {
        "rows": _positive_int(
            _get(parser, arch, "ArrayHeight", where), f"[{arch}] ArrayHeight", where
        ),
        "cols": _positive_int(
            _get(parser, arch, "ArrayWidth", where), f"[{arch}] ArrayWidth", where
        ),
        "dataflow": dataflow,
        "in_width_bits": 8,
    }
    for operand, key in (
        ("ifmap", "IfmapSramSzkB"),
        ("filter", "FilterSramSzkB"),
        ("ofmap", "OfmapSramSzkB"),
    ):
        fields[f"{operand}_sram_kib"] = float(
            _positive_int(_get(parser, arch, key, where), f"[{arch}] {key}", where)
        )
    notes = []
    bandwidth_mode = "CALC"
    if parser.has_option("run_presets", "InterfaceBandwidth"):
        bandwidth_mode = parser.get("run_presets", "InterfaceBandwidth").strip().upper()
    if bandwidth_mode == "USER":
        notes.append(
            "InterfaceBandwidth USER: SCALE-Sim's USER-mode stalls are not reproduced; the "
            "scalesim convention reports CALC-mode (stall-free) cycles"
        )
    if (
        parser.has_option("sparsity", "SparsitySupport")
        and parser.get("sparsity", "SparsitySupport").strip().lower() == "true"
    ):
        notes.append("SparsitySupport true: hwsim models dense layers only")
    for key in ("IfmapCustomLayout", "FilterCustomLayout"):
        if parser.has_option("layout", key) and parser.get("layout", key).strip().lower() == "true":
            notes.append(f"{key} true: custom SRAM layouts are not modelled")
    if (
        parser.has_option("run_presets", "UseRamulatorTrace")
        and parser.get("run_presets", "UseRamulatorTrace").strip().lower() == "true"
    ):
        notes.append("UseRamulatorTrace true: Ramulator traces are not read")
    run_name = parser.get("general", "run_name", fallback=path.stem).strip()
    return ScaleSimCfg(
        fields=fields, run_name=run_name, interface_bandwidth=bandwidth_mode, notes=tuple(notes)
    )
