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
    maxed = pareto_mask(values, [False, True, False])
    flipped = values * np.array([1, -1, 1])
    assert (maxed == pareto_mask(flipped)).all()


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
