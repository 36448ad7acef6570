"""A sweep killed with SIGKILL midway resumes to exactly the uninterrupted result."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from hwsim import store
from hwsim.sweep import load_spec, run_sweep

SPEC = """\
unit: systolic
axes:
  rows: {start: 1, stop: 40, step: 1}
  cols: {start: 1, stop: 40, step: 1}
  dataflow: [os, ws, is]
workloads:
  - network: resnet50
  - gemm: [300, 200, 100]
batch: 8
"""
TOTAL_ROWS = 40 * 40 * 3 * 2


def _count(db) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _sweep_cmd(spec, db) -> list[str]:
    return [sys.executable, "-m", "hwsim.cli", "sweep", str(spec), "--out", str(db),
            "--workers", "2"]


def test_sigkill_midway_then_rerun_gives_every_point_once(tmp_path):
    spec_path = tmp_path / "kill.yaml"
    spec_path.write_text(SPEC)
    db = tmp_path / "kill.db"
    proc = subprocess.Popen(_sweep_cmd(spec_path, db), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed_at = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            n = _count(db) if db.exists() else 0
            if 0 < n < TOTAL_ROWS // 3:
                os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers
                killed_at = n
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and killed_at is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert killed_at is not None, f"sweep finished before it could be killed: {proc.stderr.read()}"
    partial = _count(db)
    assert 0 < partial < TOTAL_ROWS, partial

    rerun = subprocess.run(_sweep_cmd(spec_path, db), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{partial} already stored" in rerun.stdout.replace("\n", " ")

    reference = tmp_path / "ref.db"
    run_sweep(load_spec(spec_path), reference, workers=1)
    resumed = store.open_existing(db).rows()
    expected = store.open_existing(reference).rows()
    assert len(resumed) == TOTAL_ROWS
    keys = [(r["fingerprint"], r["workload"]) for r in resumed]
    assert len(set(keys)) == len(keys)
    assert resumed == expected
