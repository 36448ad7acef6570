"""The same sweep on a Dask LocalCluster (loopback) stores exactly the local run's rows."""

from __future__ import annotations

import dask.distributed as distributed  # the dist extra; missing it fails, never skips

from hwsim import store
from hwsim.cli import main
from hwsim.sweep import parse_spec, run_sweep

SPEC = """\
unit: systolic
axes:
  rows: [4, 8, 16, 32]
  cols: [8, 32]
  dataflow: [os, ws, is]
  acc_width_bits: [8, 32]
workloads:
  - network: resnet50
  - gemm: [300, 200, 100]
constraints: ['area_mm2 <= 4']
batch: 5
"""


def test_dask_local_cluster_equals_local_pool(tmp_path, capsys):
    spec_path = tmp_path / "d.yaml"
    spec_path.write_text(SPEC)
    local = tmp_path / "local.db"
    remote = tmp_path / "dask.db"
    import yaml

    run_sweep(parse_spec(yaml.safe_load(SPEC), name="d"), local, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        code = main(["sweep", str(spec_path), "--out", str(remote), "--dask",
                     cluster.scheduler_address])
    assert code == 0, capsys.readouterr().err
    a = store.open_existing(local).rows()
    b = store.open_existing(remote).rows()
    assert len(a) == 4 * 2 * 3 * 2 * 2
    assert {r["status"] for r in a} == {"ok", "infeasible"}  # acc 8 < 2 x 8 bits, area cap
    assert a == b


def test_unreachable_scheduler_is_one_line_error_and_creates_no_db(tmp_path, capsys,
                                                                   monkeypatch):
    import time

    from hwsim import sweep

    monkeypatch.setattr(sweep, "DASK_CONNECT_TIMEOUT_S", 1.0)
    spec_path = tmp_path / "d.yaml"
    spec_path.write_text(SPEC)
    db = tmp_path / "out" / "d.db"
    start = time.monotonic()
    code = main(["sweep", str(spec_path), "--out", str(db), "--dask", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("hwsim: error: --dask: cannot connect") and "127.0.0.1:1" in err
    assert time.monotonic() - start < 30
    assert not db.exists() and not db.parent.exists()
