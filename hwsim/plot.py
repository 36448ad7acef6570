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
           "plot_heatmap", "metric_direction", "MAXIMIZED_METRICS"]

#: Metrics where larger is better when the study does not name them as objectives.
MAXIMIZED_METRICS = ("utilization", "mapping_efficiency", "compute_utilization", "fmax_mhz")

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


def metric_direction(metric: str, objectives: Sequence[Sequence[str]] | None = None,
                     given: str | None = None, flag: str = "direction") -> str:
    """``"min"`` or ``"max"``: ``given`` if set, else the study's objective direction for
    ``metric``, else ``max`` for :data:`MAXIMIZED_METRICS` and ``min`` otherwise."""
    if given is not None:
        norm = {"min": "min", "minimize": "min", "max": "max", "maximize": "max"}.get(given)
        if norm is None:
            raise ConfigError(f"{flag} must be min or max, got {given!r}")
        return norm
    for name, direction in objectives or ():
        if name == metric:
            return "max" if direction == "maximize" else "min"
    return "max" if metric in MAXIMIZED_METRICS else "min"


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
    x_direction: str | None = None,
    y_direction: str | None = None,
) -> Figure:
    """Scatter of every feasible point with the (x, y) Pareto front highlighted.

    ``color`` names an axis field (e.g. ``dataflow``) to colour points by; ``workload`` picks
    one workload (default: all workloads combined). ``x_direction``/``y_direction`` (``min``
    or ``max``) say which way is better; by default the study's objective direction when the
    metric is an objective, else :func:`metric_direction`'s per-metric default (larger
    utilisation is better, smaller cycles/area/energy). Axes are labelled with units and use
    log scales where the data spans 1.5 decades (30x) or more. Writes a PNG to ``out`` when
    given.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwsim.store import check_output, load, require_rows

    if out is not None:
        check_output(out, (".png",))
    if isinstance(db, str | Path):
        require_rows(db)
    df = db if not isinstance(db, str | Path) else load(db)
    info = df.attrs.get("metrics", {})
    axes = list(df.attrs.get("axes", []))
    for name, what in ((x, "--x"), (y, "--y")):
        if name not in info:
            raise ConfigError(f"{what} must be one of {', '.join(info)}, got '{name}'")
    objectives = df.attrs.get("objectives") or []
    x_dir = metric_direction(x, objectives, x_direction, "--x-direction")
    y_dir = metric_direction(y, objectives, y_direction, "--y-direction")
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
        mask = pareto_mask(np.column_stack([xs, ys]), [x_dir == "max", y_dir == "max"])
        order = np.argsort(xs[mask])
        # the step follows the attained region's edge: it turns at the next point when a
        # smaller x is better, at the previous one when a larger x is better
        ax.plot(xs[mask][order], ys[mask][order], "-o", color="black", ms=5, mfc="none",
                lw=1.2, label=f"Pareto front ({x_dir} x, {y_dir} y)",
                drawstyle="steps-post" if x_dir == "min" else "steps-pre")
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
    _save(fig, out)
    return fig


def _save(fig: Figure, out: str | Path | None) -> None:
    """Write ``fig`` as PNG to ``out`` (validated: ``.png`` or no suffix); never half-written."""
    if out is None:
        return
    from hwsim.store import atomic_output, check_output

    path = check_output(out, (".png",))
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png")


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

    from hwsim.store import check_output, load, require_rows
    from hwsim.sweep import get_adapter, parse_spec

    if out is not None:
        check_output(out, (".png",))
    if isinstance(db, str | Path):
        require_rows(db)
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
    _save(fig, out)
    return fig


def _py(value: Any) -> Any:
    """numpy scalar -> Python scalar (configs want int/float/str)."""
    return value.item() if hasattr(value, "item") else value
