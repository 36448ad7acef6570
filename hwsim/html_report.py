"""A self-contained HTML page for a study: summary, Pareto plots, heat map, Pareto table.

Plots are embedded as base64 PNG, so the page is one file that opens anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["write_report"]


def _png(fig: Figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_report(db: str | Path, out: str | Path) -> Path:
    """Write the study report for the results database ``db`` to ``out`` (HTML).

    The page shows the spec, point counts, a Pareto plot of the first two objectives for all
    workloads combined and for each workload, the per-layer utilisation heat map of the first
    workload's Pareto set, and the Pareto table (``<table id="pareto-table">``).
    """
    from hwsim.plot import axis_label, pareto_table, plot_heatmap, plot_pareto
    from hwsim.store import atomic_output, check_output, load, require_rows

    out = check_output(out, (".html", ".htm"))
    require_rows(db)
    df = load(db)
    meta = df.attrs
    info = meta.get("metrics", {})
    objectives = meta.get("objectives") or [["total_cycles", "minimize"], ["area_mm2", "minimize"]]
    y = objectives[0][0]
    x = objectives[1][0] if len(objectives) > 1 else "area_mm2"
    axes = list(meta.get("axes", []))
    color = next((a for a in axes if df[a].dtype == object or str(df[a].dtype) == "str"), None)
    figures = [("all workloads combined", _png(plot_pareto(df, x, y, color=color)))]
    for name in meta.get("workloads", []):
        figures.append((name, _png(plot_pareto(df, x, y, color=color, workload=name))))
    heat = _png(plot_heatmap(df)) if meta.get("workloads") else None
    front = pareto_table(df, objectives)
    n_points = df["fingerprint"].nunique()
    n_bad = int((df["status"] != "ok").sum())
    cols = ["fingerprint", *axes, *[m for m in info if m in front.columns]]
    head = "".join(f"<th>{html.escape(axis_label(c, info) if c in info else c)}</th>"
                   for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(row[c]))}</td>" for c in cols) + "</tr>"
        for row in front.to_dict("records")
    )
    plots = "".join(
        f'<figure><img alt="Pareto plot, {html.escape(t)}" src="data:image/png;base64,{p}">'
        f"<figcaption>{html.escape(t)}</figcaption></figure>"
        for t, p in figures
    )
    heat_html = (f'<figure><img alt="utilization heat map" src="data:image/png;base64,{heat}">'
                 "</figure>" if heat else "")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hwsim study {html.escape(str(meta.get('name', '')))}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
th, td {{ border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #eee; }}
figure {{ display: inline-block; margin: 0.5em; }}
img {{ max-width: 100%; }}
pre {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; }}
</style></head><body>
<h1>Study {html.escape(str(meta.get('name', '')))} ({html.escape(str(meta.get('unit', '')))})</h1>
<p>{n_points} design points x {len(meta.get('workloads', []))} workloads;
{n_bad} infeasible rows; method {html.escape(str(meta.get('method', '')))};
convention {html.escape(str(meta.get('convention', '')))}; objectives
{html.escape(', '.join(f'{o[1]} {o[0]}' for o in objectives))}.</p>
<h2>Pareto fronts</h2>
{plots}
<h2>Per-layer utilization of the Pareto set</h2>
{heat_html}
<h2>Pareto table ({len(front)} points, all workloads combined)</h2>
<table id="pareto-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Spec</h2>
<pre>{html.escape(json.dumps(meta.get('spec', {}), indent=2))}</pre>
</body></html>
"""
    with atomic_output(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out
