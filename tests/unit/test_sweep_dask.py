"""The same sweep on a Dask LocalCluster (loopback) stores exactly the local run's rows."""

from __future__ import annotations

import pytest

from hwsim import store
from hwsim.cli import main
from hwsim.sweep import parse_spec, run_sweep

distributed = pytest.importorskip("dask.distributed")

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
