"""Study plots: Pareto fronts and per-layer utilisation heat maps, as PNG (matplotlib, Agg).

matplotlib and pandas are imported inside the functions, so ``import hwsim`` stays light.

Per-layer figures are not stored in the results database (it would hold one row per layer per
point); :func:`plot_heatmap` recomputes them on demand for the Pareto set, from the stored
spec (base config + axis values) through the unit's adapter. That costs one model run per
plotted point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hwsim.config import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["axis_label", "pareto_mask", "point_table", "pareto_table", "plot_pareto",
           "plot_heatmap"]

_UNIT_WORDS = {
    "_mm2": "mm²",
    "_pj": "pJ",
    "_bytes": "bytes",
    "_kib": "KiB",
    "_bits": "bits",
    "_ns": "ns",
    "_s": "s",
    "_mhz": "MHz",
    "_gbps": "GB/s",
    "_count": "count",
}


def axis_label(name: str, metric_info: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """An axis label with the unit spelled out: ``area_mm2`` -> ``"area (mm²)"``.

    A metric's label from the study's meta wins; otherwise the name's unit suffix is turned
    into words (``total_cycles`` -> ``"total cycles"``, where the unit is the noun).
    """
    if metric_info and name in metric_info and metric_info[name].get("label"):
        return metric_info[name]["label"]
    for suffix, word in _UNIT_WORDS.items():
        if name.endswith(suffix):
            return f"{name[: -len(suffix)].replace('_', ' ')} ({word})"
    return name.replace("_", " ")


def pareto_mask(values: np.ndarray, maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n points x k objectives).

    Objectives are minimised unless ``maximize[j]``. A row is dominated when another row is no
    worse on every objective and better on one. Duplicated optimal rows are all kept.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-D array (points x objectives)")
    if maximize is not None:
        v = np.where(np.asarray(maximize, dtype=bool), -v, v)
    n = len(v)
    keep = np.ones(n, dtype=bool)
    order = np.lexsort(v.T[::-1])
    for i in order:
        if not keep[i]:
            continue
        dominated = np.all(v[i] <= v, axis=1) & np.any(v[i] < v, axis=1)
        keep &= ~dominated
    return keep


def point_table(df: pd.DataFrame, workload: str | None = None) -> pd.DataFrame:
    """One row per feasible design point.

    With ``workload`` the rows of that workload; otherwise each point's workloads combined by
    the metrics' aggregation (``sum``, ``mean``, ``max``/``same``), and only points feasible
    on every workload.
    """
    import pandas as pd

    axes = list(df.attrs.get("axes", []))
    info = df.attrs.get("metrics", {})
    metrics = [m for m in info if m in df.columns]
    if workload is not None:
        names = set(df["workload"])
        if workload not in names:
            raise ConfigError(f"workload must be one of {', '.join(sorted(names))}, "
                              f"got '{workload}'")
        out = df[(df["workload"] == workload) & (df["status"] == "ok")]
        return out[["fingerprint", *axes, *metrics]].reset_index(drop=True)
    n_workloads = df["workload"].nunique()
    ok = df[df["status"] == "ok"]
    counts = ok.groupby("fingerprint")["workload"].count()
    full = counts[counts == n_workloads].index
    ok = ok[ok["fingerprint"].isin(full)]
    aggs: dict[str, Any] = {a: "first" for a in axes}
    for m in metrics:
        agg = info[m]["agg"]
        aggs[m] = {"sum": "sum", "mean": "mean", "max": "max", "same": "max"}[agg]
    if ok.empty:
        return pd.DataFrame(columns=["fingerprint", *axes, *metrics])
    return ok.groupby("fingerprint", sort=True).agg(aggs).reset_index()


def pareto_table(
    df: pd.DataFrame, objectives: Sequence[Sequence[str]] | None = None,
    workload: str | None = None,
) -> pd.DataFrame:
    """The Pareto set of :func:`point_table` on ``objectives`` (``[[metric, direction]]``,
    default: the study's), sorted by the first objective."""
    objectives = objectives or df.attrs.get("objectives") or [["total_cycles", "minimize"],
                                                                ["area_mm2", "minimize"]]
    points = point_table(df, workload)
    if points.empty:
        return points
    names = [o[0] for o in objectives]
    maximize = [o[1] == "maximize" for o in objectives]
    mask = pareto_mask(points[names].to_numpy(dtype=float), maximize)
    return points[mask].sort_values(names).reset_index(drop=True)


def _spans_decades(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(len(values) and values.min() > 0 and values.max() / values.min() >= 30)


def plot_pareto(
    db: str | Path | pd.DataFrame,
    x: str = "area_mm2",
    y: str = "total_cycles",
    *,
    color: str | None = None,
    workload: str | None = None,
    out: str | Path | None = None,
) -> Figure:
    """Scatter of every feasible point with the (x, y) Pareto front highlighted (both minimised).

    ``color`` names an axis field (e.g. ``dataflow``) to colour points by; ``workload`` picks
    one workload (default: all workloads combined). Axes are labelled with units and use log
    scales where the data spans 1.5 decades (30x) or more. Writes a PNG to ``out`` when given.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwsim.store import load

    df = db if not isinstance(db, str | Path) else load(db)
    info = df.attrs.get("metrics", {})
    axes = list(df.attrs.get("axes", []))
    for name, what in ((x, "--x"), (y, "--y")):
        if name not in info:
            raise ConfigError(f"{what} must be one of {', '.join(info)}, got '{name}'")
    if color is not None and color not in axes and color not in info:
        raise ConfigError(f"--color must be one of {', '.join(axes + list(info))}, got '{color}'")
    points = point_table(df, workload)
    fig, ax = plt.subplots(figsize=(7.5, 5.0), dpi=110)
    if points.empty:
        ax.text(0.5, 0.5, "no feasible points", ha="center", va="center", transform=ax.transAxes)
    else:
        xs = points[x].to_numpy(dtype=float)
        ys = points[y].to_numpy(dtype=float)
        if color is None:
            ax.scatter(xs, ys, s=14, c="0.6", label="design points")
        else:
            groups = points[color].astype(str)
            for i, value in enumerate(sorted(set(groups))):
                sel = (groups == value).to_numpy()
                ax.scatter(xs[sel], ys[sel], s=14, color=f"C{i}", alpha=0.75,
                           label=f"{color} = {value}")
        mask = pareto_mask(np.column_stack([xs, ys]))
        order = np.argsort(xs[mask])
        ax.plot(xs[mask][order], ys[mask][order], "-o", color="black", ms=5, mfc="none",
                lw=1.2, label="Pareto front", drawstyle="steps-post")
        if _spans_decades(xs):
            ax.set_xscale("log")
        if _spans_decades(ys):
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    ax.set_xlabel(axis_label(x, info))
    ax.set_ylabel(axis_label(y, info))
    scope = workload or "all workloads (combined)"
    ax.set_title(f"{df.attrs.get('name', 'study')}: {scope}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig


def _point_label(row: Mapping[str, Any], axes: Sequence[str]) -> str:
    return " ".join(f"{a}={row[a]}" for a in axes)


def plot_heatmap(
    db: str | Path | pd.DataFrame,
    *,
    workload: str | None = None,
    out: str | Path | None = None,
    max_points: int = 30,
) -> Figure:
    """Per-layer utilisation (fraction) of the Pareto set's design points on one workload.

    Rows are design points (at most ``max_points``, by the first objective), columns layers.
    Per-layer figures are recomputed on demand through the unit's adapter (see the module
    docstring). ``workload`` defaults to the study's first.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwsim.store import load
    from hwsim.sweep import get_adapter, parse_spec

    df = db if not isinstance(db, str | Path) else load(db)
    spec = parse_spec(df.attrs["spec"], source="stored spec")
    names = [w.name for w in spec.workloads]
    workload = workload or names[0]
    if workload not in names:
        raise ConfigError(f"--workload must be one of {', '.join(names)}, got '{workload}'")
    wl = next(w for w in spec.workloads if w.name == workload).load()
    front = pareto_table(df, workload=workload).head(max_points)
    adapter = get_adapter(spec.unit)
    axes = list(df.attrs.get("axes", []))
    matrix = []
    labels = []
    layer_names: list[str] = []
    for _, row in front.iterrows():
        values = {**spec.base, **{a: _py(row[a]) for a in axes}}
        config = adapter.config_class.from_dict(values)
        layer_names, util = adapter.layers(config, wl, spec.convention)
        matrix.append(util)
        labels.append(_point_label(row, axes))
    height = 1.8 + 0.28 * max(len(labels), 1)
    width = min(4 + 0.16 * max(len(layer_names), 1), 18)
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    if matrix:
        image = ax.imshow(np.array(matrix), aspect="auto", vmin=0, vmax=1, cmap="viridis",
                          interpolation="nearest")
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        step = max(1, len(layer_names) // 40)
        ticks = list(range(0, len(layer_names), step))
        ax.set_xticks(ticks, [layer_names[i] for i in ticks], rotation=90, fontsize=6)
        fig.colorbar(image, ax=ax, label="utilization (fraction of PE cycles)")
    else:
        ax.text(0.5, 0.5, "no feasible points", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(f"layer of {workload}")
    ax.set_ylabel("Pareto design point")
    ax.set_title(f"per-layer utilization, Pareto set on {workload}", fontsize=10)
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig


def _py(value: Any) -> Any:
    """numpy scalar -> Python scalar (configs want int/float/str)."""
    return value.item() if hasattr(value, "item") else value
