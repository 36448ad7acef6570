"""Per-action energy and per-component area tables (YAML), Accelergy-style.

A table names its source and technology node and gives, for each action or component, a
reference point and a scaling exponent: ``value * (size / reference) ** exponent``. Models ask
for ``energy_pj(action, size)`` and ``area_um2(component, size)``; sizes are bit widths or
capacities in KiB as each entry's comment states.

Entries in :data:`OPTIONAL` (``area_um2.transistor``: the area per transistor that turns a
synthesis transistor count into um^2) may be left out; a table without them still loads, and
asking for a missing entry is a one-line :class:`~hwsim.config.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.config import ConfigError, load_mapping

__all__ = ["EnergyAreaTable", "load_table", "SHIPPED_TABLES", "OPTIONAL"]

SHIPPED_TABLES = ("default-45nm",)


@dataclass(frozen=True)
class EnergyAreaTable:
    """Energy (pJ) per action and area (um^2) per component, scaled from reference points."""

    name: str
    technology_nm: float
    source: str
    energy: dict[str, tuple[float, float, float]]
    area: dict[str, tuple[float, float, float]]

    @staticmethod
    def _scaled(entries: dict[str, tuple[float, float, float]], key: str, size: Any,
                section: str = "", table: str = "") -> Any:
        if key not in entries:
            raise ConfigError(
                f"energy table '{table}' has no {section}.{key} entry; add "
                f"'{key}: {{reference, value, exponent}}' under {section}"
            )
        reference, value, exponent = entries[key]
        return value * (np.asarray(size, dtype=float) / reference) ** exponent

    def energy_pj(self, action: str, size: Any = 1.0) -> Any:
        """Energy of one action of the given size (bits or KiB), in pJ."""
        return self._scaled(self.energy, action, size, "energy_pj", self.name)

    def area_um2(self, component: str, size: Any = 1.0) -> Any:
        """Area of one component of the given size (bits or KiB), in um^2."""
        return self._scaled(self.area, component, size, "area_um2", self.name)

    def has_area(self, component: str) -> bool:
        """True when the table has an ``area_um2`` entry for ``component``."""
        return component in self.area


_REQUIRED = {
    "energy_pj": ("multiply", "add", "sram_byte", "dram_byte"),
    "area_um2": ("multiply", "add", "register_bit", "sram_kib"),
}
#: Entries a table may leave out: ``transistor`` (um^2 per transistor, reference 1) is only
#: needed by sweeps whose area comes from generic-gate synthesis.
OPTIONAL = {
    "energy_pj": (),
    "area_um2": ("transistor",),
}


def _parse(data: dict[str, Any], where: str) -> EnergyAreaTable:
    for key in ("name", "technology_nm", "source", "energy_pj", "area_um2"):
        if key not in data:
            raise ConfigError(f"{where}: energy table needs field '{key}'")
    parsed: dict[str, dict[str, tuple[float, float, float]]] = {}
    for section, names in _REQUIRED.items():
        entries = data[section]
        if not isinstance(entries, dict):
            raise ConfigError(
                f"{where}: {section} must be a mapping of name: {{reference, value, exponent}}"
            )
        missing = [n for n in names if n not in entries]
        if missing:
            raise ConfigError(f"{where}: {section} lacks {', '.join(missing)}")
        parsed[section] = {}
        for entry_name, entry in entries.items():
            try:
                ref, value, exp = (float(entry[k]) for k in ("reference", "value", "exponent"))
            except (TypeError, KeyError, ValueError):
                raise ConfigError(
                    f"{where}: {section}.{entry_name} needs numeric reference, value, exponent"
                ) from None
            if ref <= 0 or value < 0:
                raise ConfigError(
                    f"{where}: {section}.{entry_name} needs reference > 0, value >= 0"
                )
            parsed[section][entry_name] = (ref, value, exp)
    return EnergyAreaTable(
        name=str(data["name"]),
        technology_nm=float(data["technology_nm"]),
        source=str(data["source"]),
        energy=parsed["energy_pj"],
        area=parsed["area_um2"],
    )


@lru_cache(maxsize=32)
def load_table(name_or_path: str) -> EnergyAreaTable:
    """A shipped table by name (see :data:`SHIPPED_TABLES`) or a YAML file by path."""
    if name_or_path in SHIPPED_TABLES:
        text_file = resources.files("hwsim") / "data" / "tables" / f"{name_or_path}.yaml"
        with resources.as_file(text_file) as path:
            return _parse(load_mapping(path), name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ConfigError(
            f"energy_table must be one of {', '.join(SHIPPED_TABLES)} or a .yaml file, "
            f"got '{name_or_path}'"
        )
    return _parse(load_mapping(path), str(path))
