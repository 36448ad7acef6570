"""Result records: per-layer figures as numpy columns, with units in every key.

A model returns a :class:`LayerTable` (one numpy array per figure, one entry per layer), and the
CLI and the results store turn it into plain records. Keys must state their unit (see
:func:`hwsim.units.has_unit`) so nobody has to guess whether a number is bytes or words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwsim.units import has_unit

__all__ = ["LayerTable", "Result"]

_TEXT_COLUMNS = ("layer",)


@dataclass
class LayerTable:
    """Per-layer figures as columns of equal length.

    ``columns`` maps a figure name (with its unit) to a numpy array; ``layer`` holds names.
    """

    layer: list[str]
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.layer)
        for key, values in self.columns.items():
            if not has_unit(key):
                raise ValueError(f"figure '{key}' does not state its unit in its name")
            if np.shape(values) != (n,):
                raise ValueError(f"column '{key}' has shape {np.shape(values)}, expected ({n},)")

    def __len__(self) -> int:
        return len(self.layer)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.columns[key]

    def records(self) -> list[dict[str, Any]]:
        """One dict per layer with Python scalars (ints stay ints)."""
        cols = {k: v.tolist() for k, v in self.columns.items()}
        return [
            {"layer": name, **{k: cols[k][i] for k in cols}} for i, name in enumerate(self.layer)
        ]

    def sum(self, keys: Iterable[str]) -> dict[str, Any]:
        """Column sums as Python scalars."""
        return {k: self.columns[k].sum().item() for k in keys}


@dataclass
class Result:
    """What one model run produces: the config, how it was run, per-layer figures and totals."""

    unit: str
    config: Mapping[str, Any]
    fingerprint: str
    settings: Mapping[str, Any]
    workload: str
    layers: list[dict[str, Any]]
    totals: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "unit": self.unit,
            "fingerprint": self.fingerprint,
            "config": dict(self.config),
            **dict(self.settings),
            "workload": self.workload,
            "layers": self.layers,
            "totals": self.totals,
        }
