"""Pareto masks, PNG plots with unit labels, and the HTML report rendered by headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hwsim import store
from hwsim.cli import main
from hwsim.sweep import parse_spec, run_sweep

SPEC = {
    "name": "pl",
    "unit": "systolic",
    "axes": {"rows": [4, 16, 64, 256], "cols": [4, 16, 64], "dataflow": ["os", "ws", "is"]},
    "workloads": [{"network": "resnet50"}, {"gemm": [512, 512, 512]}],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "pl.db"
    run_sweep(parse_spec(SPEC), path)
    return path


def test_pareto_mask_against_naive_loop(seed):
    from hwsim.plot import pareto_mask

    rng = np.random.default_rng(seed)
    values = rng.integers(0, 20, size=(200, 3)).astype(float)
    mask = pareto_mask(values)
    for i, v in enumerate(values):
        dominated = any(np.all(w <= v) and np.any(w < v) for w in values)
        assert mask[i] == (not dominated), (seed, i)
    # maximising objective 1: w dominates v when w is no worse everywhere (<= on 0 and 2,
    # >= on 1) and strictly better somewhere; a naive loop, independent of pareto_mask
    maxed = pareto_mask(values, [False, True, False])
    for i, v in enumerate(values):
        dominated = False
        for w in values:
            no_worse = w[0] <= v[0] and w[1] >= v[1] and w[2] <= v[2]
            better = w[0] < v[0] or w[1] > v[1] or w[2] < v[2]
            if no_worse and better:
                dominated = True
                break
        assert maxed[i] == (not dominated), (seed, i)
    assert maxed.sum() >= 1 and not (maxed == mask).all(), seed


def test_axis_labels_carry_units():
    from hwsim.plot import axis_label

    assert axis_label("area_mm2") == "area (mm²)"
    assert axis_label("energy_pj") == "energy (pJ)"
    assert axis_label("total_cycles") == "total cycles"


def test_pareto_png_opens_and_labels_units(db, tmp_path, capsys):
    import matplotlib.image as mpimg

    from hwsim.plot import plot_pareto

    fig = plot_pareto(db, "area_mm2", "total_cycles", color="dataflow")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "area (mm²)"
    assert ax.get_ylabel() == "total cycles"
    assert ax.get_yscale() == "log"  # 4x4 to 256x64 arrays span decades of cycles
    out = tmp_path / "p.png"
    assert main(["plot", "pareto", str(db), "--x", "area_mm2", "--y", "energy_pj",
                 "--workload", "resnet50", "-o", str(out)]) == 0
    image = mpimg.imread(out)
    assert image.shape[0] >= 300 and image.shape[1] >= 500
    assert image[..., :3].std() > 0.01  # not blank
    fig = plot_pareto(db, "area_mm2", "energy_pj", workload="resnet50")
    assert fig.axes[0].get_ylabel() == "energy (pJ)"


def test_plot_bad_metric_is_one_line_error(db, capsys):
    assert main(["plot", "pareto", str(db), "--x", "speed"]) == 2
    err = capsys.readouterr().err
    assert "--x must be one of" in err and len(err.strip().splitlines()) == 1


def test_heatmap_png(db, tmp_path):
    import matplotlib.image as mpimg

    from hwsim.plot import pareto_table, plot_heatmap

    out = tmp_path / "h.png"
    fig = plot_heatmap(db, workload="resnet50", out=out)
    image = fig.axes[0].get_images()[0].get_array()
    front = pareto_table(store.load(db), workload="resnet50")
    assert image.shape == (len(front), 54)  # Pareto points x ResNet-50 layers
    assert 0 <= float(image.min()) and float(image.max()) <= 1
    assert mpimg.imread(out).shape[0] > 100


def test_html_report_renders_in_headless_chromium(db, tmp_path):
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    assert chromium, "chromium is missing: apt-get install chromium (make test does it)"
    report = tmp_path / "report.html"
    assert main(["report", str(db), "-o", str(report)]) == 0
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1200,900",
                    f"file://{report}"], capture_output=True, timeout=120, check=True)
    import matplotlib.image as mpimg

    image = mpimg.imread(shot)
    assert image.shape[:2] == (900, 1200)
    assert image[..., :3].std() > 0.02  # something drawn, not a blank page
    dom = subprocess.run([*flags, "--dump-dom", f"file://{report}"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert 'id="pareto-table"' in dom
    front = __import__("hwsim.plot", fromlist=["pareto_table"]).pareto_table(store.load(db))
    table = dom[dom.index('id="pareto-table"'):]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == len(front) + 1  # header + one row per Pareto point
    assert "area (mm²)" in table and "data:image/png;base64," in dom


def _naive_front(xs, ys, x_max, y_max):
    """Indices of the non-dominated (x, y) points by a plain double loop."""
    sx, sy = (-1 if x_max else 1), (-1 if y_max else 1)
    keep = []
    for i in range(len(xs)):
        a = (sx * xs[i], sy * ys[i])
        if not any((sx * xs[j] <= a[0] and sy * ys[j] <= a[1])
                   and (sx * xs[j] < a[0] or sy * ys[j] < a[1]) for j in range(len(xs))):
            keep.append(i)
    return keep


def test_pareto_plot_maximises_utilization_and_honours_direction_flags(db, tmp_path):
    from hwsim.plot import metric_direction, plot_pareto, point_table

    points = point_table(store.load(db))
    xs = points["area_mm2"].to_numpy(dtype=float)
    ys = points["utilization"].to_numpy(dtype=float)

    def front_of(fig):
        line = next(ln for ln in fig.axes[0].lines if "Pareto front" in ln.get_label())
        return sorted(zip(line.get_xdata(), line.get_ydata(), strict=True)), line.get_label()

    for y_dir, y_max in ((None, True), ("min", False)):
        got, label = front_of(plot_pareto(db, "area_mm2", "utilization", y_direction=y_dir))
        want = sorted((xs[i], ys[i]) for i in _naive_front(xs, ys, False, y_max))
        assert got == want
        assert label == f"Pareto front (min x, {'max' if y_max else 'min'} y)"
    best = max(ys)
    got, _ = front_of(plot_pareto(db, "area_mm2", "utilization"))
    assert any(y == best for _, y in got)  # the highest-utilisation point is on the front
    assert metric_direction("utilization") == "max"
    assert metric_direction("area_mm2") == "min"
    assert metric_direction("utilization", [["utilization", "minimize"]]) == "min"
    assert metric_direction("total_cycles", [["total_cycles", "maximize"]]) == "max"
    out = tmp_path / "u.png"
    assert main(["plot", "pareto", str(db), "--x", "area_mm2", "--y", "total_cycles",
                 "--x-direction", "max", "-o", str(out)]) == 0
    assert out.exists()


def test_heatmap_utilization_equals_hand_worked_value(tmp_path):
    from hwsim.plot import plot_heatmap

    # One GEMM M=8, N=8, K=16 on an output-stationary array, hwsim convention, no stalls
    # (DRAM traffic is ~320 bytes at 1024 bytes/cycle). Sr=M=8, Sc=N=8, T=K=16;
    # cycles per fold = 2*rows + cols + T - 2; folds = ceil(8/rows) * ceil(8/cols);
    # utilization = M*N*K / (total_cycles * rows * cols), M*N*K = 1024.
    #   4x4: folds = 2*2 = 4, per fold = 8+4+16-2 = 26, total 104: 1024/(104*16) = 8/13
    #   8x4: folds = 1*2 = 2, per fold = 16+4+16-2 = 34, total 68: 1024/(68*32) = 8/17
    # 8x4 is faster but larger, so both are on the (total_cycles, area) Pareto front.
    spec = parse_spec({
        "name": "hand", "unit": "systolic",
        "base": {"dataflow": "os", "dram_bytes_per_cycle": 1024},
        "axes": {"rows": [4, 8], "cols": [4]},
        "workloads": [{"gemm": [8, 8, 16], "name": "g"}],
    })
    path = tmp_path / "hand.db"
    run_sweep(spec, path)
    df = store.load(path)
    assert sorted(df["total_cycles"]) == [68, 104]
    fig = plot_heatmap(path, workload="g")
    image = np.asarray(fig.axes[0].get_images()[0].get_array())
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert image.shape == (2, 1)
    by_label = dict(zip(labels, image[:, 0], strict=True))
    assert by_label["rows=4 cols=4"] == pytest.approx(8 / 13, rel=1e-12)
    assert by_label["rows=8 cols=4"] == pytest.approx(8 / 17, rel=1e-12)
