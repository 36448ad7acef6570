"""Results store: one SQLite database per study, one row per (design point, workload).

Tables
------
``meta(key, value)``
    ``spec`` (the validated spec as JSON), ``spec_hash``, ``name``, ``unit``, ``axes`` (axis
    fields, JSON list), ``metrics`` (``{metric: {label, agg}}`` as JSON), ``workloads`` (JSON
    list of names), ``objectives`` (JSON list of ``[metric, direction]``), ``hwsim_version``,
    ``finished`` (``yes`` once a run completed).
``results``
    ``fingerprint`` (the config's :meth:`~hwsim.config.ConfigBase.fingerprint`), ``workload``,
    one column per axis field, ``status`` (``ok`` or ``infeasible``), ``reason`` (why a point
    is infeasible: the config error or the failed constraints), then one column per metric
    (units in the names). Primary key ``(fingerprint, workload)``: a pair is stored once.
``synthesis``
    The synthesis cache of a spec with ``synthesis:``: ``fingerprint``, ``target``, ``seeds``,
    ``nodsp`` (the key), ``status`` (``ok`` or ``failed``), ``reason``, ``metrics`` (JSON).
    Records arrive from the workers on the rows (key ``_synthesis``) and are written in the
    same transaction as the rows, so a resumed or repeated sweep never synthesises a point
    twice.

Batches are written with one transaction each (WAL journal), so a killed sweep loses at most
the batches in flight, and a rerun skips what is stored. pandas is imported only by
:func:`load`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwsim.config import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from hwsim.sweep import SweepSpec

__all__ = ["Study", "open_study", "open_existing", "load", "load_meta", "export", "default_db_path",
           "check_output", "require_rows", "atomic_output"]


def default_db_path(spec_path: str | Path) -> Path:
    """``results/<spec stem>.db``: where a sweep writes when no ``--out`` is given."""
    return Path("results") / f"{Path(spec_path).stem}.db"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_SYNTHESIS_TABLE = (
    "CREATE TABLE IF NOT EXISTS synthesis (fingerprint TEXT NOT NULL, target TEXT NOT NULL, "
    "seeds INTEGER NOT NULL, nodsp INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, "
    "metrics TEXT, PRIMARY KEY (fingerprint, target, seeds, nodsp))"
)


class Study:
    """An open study database (see the module docstring for the schema)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.con = connection
        self._has_synthesis: bool | None = None
        self.meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        self.axes: list[str] = json.loads(self.meta.get("axes", "[]"))
        self.metric_info: dict[str, dict[str, str]] = json.loads(self.meta.get("metrics", "{}"))
        self.columns = ["fingerprint", "workload", *self.axes, "status", "reason",
                        *self.metric_info]

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
        self.con.commit()
        self.meta[key] = value

    def done_keys(self) -> set[tuple[str, str]]:
        """Stored ``(fingerprint, workload)`` pairs."""
        return set(self.con.execute("SELECT fingerprint, workload FROM results").fetchall())

    def write_rows(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert rows (dicts keyed by column) in one transaction; stored pairs are kept.

        A row's ``_synthesis`` record (see :func:`hwsim.sweep.synthesise_point`) goes to the
        ``synthesis`` table in the same transaction when its ``cache`` flag is set.
        """
        rows = list(rows)
        cols = self.columns
        sql = (f"INSERT OR IGNORE INTO results ({', '.join(map(_q, cols))}) "
               f"VALUES ({', '.join('?' for _ in cols)})")
        records = [r["_synthesis"] for r in rows
                   if r.get("_synthesis") and r["_synthesis"].get("cache", True)]
        with self.con:
            if records:
                self._ensure_synthesis_table()
                self.con.executemany(
                    "INSERT OR REPLACE INTO synthesis (fingerprint, target, seeds, nodsp, "
                    "status, reason, metrics) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(r["fingerprint"], r["target"], int(r["seeds"]), int(bool(r["nodsp"])),
                      r["status"], r.get("reason"),
                      None if r.get("metrics") is None else json.dumps(r["metrics"]))
                     for r in records],
                )
            cur = self.con.executemany(sql, [tuple(r.get(c) for c in cols) for r in rows])
        return cur.rowcount

    def _ensure_synthesis_table(self) -> None:
        if not self._has_synthesis:
            self.con.execute(_SYNTHESIS_TABLE)
            self._has_synthesis = True

    def synthesis_records(self, target: str, seeds: int, nodsp: bool
                          ) -> dict[str, dict[str, Any]]:
        """Cached synthesis records for ``(target, seeds, nodsp)``, keyed by fingerprint."""
        found = self.con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='synthesis'"
        ).fetchone()
        if not found:
            return {}
        cur = self.con.execute(
            "SELECT fingerprint, status, reason, metrics FROM synthesis "
            "WHERE target = ? AND seeds = ? AND nodsp = ?", (target, int(seeds), int(bool(nodsp)))
        )
        return {
            fp: {"fingerprint": fp, "target": target, "seeds": seeds, "nodsp": nodsp,
                 "status": status, "reason": reason,
                 "metrics": None if metrics is None else json.loads(metrics), "cache": True}
            for fp, status, reason, metrics in cur.fetchall()
        }

    def synthesis_count(self) -> int:
        """Number of cached synthesis records (0 when the study never synthesised)."""
        found = self.con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='synthesis'"
        ).fetchone()
        if not found:
            return 0
        return int(self.con.execute("SELECT COUNT(*) FROM synthesis").fetchone()[0])

    def rows(self) -> list[dict[str, Any]]:
        """Every stored row as a dict, ordered by fingerprint and workload."""
        cur = self.con.execute(
            f"SELECT {', '.join(map(_q, self.columns))} FROM results "
            "ORDER BY fingerprint, workload"
        )
        return [dict(zip(self.columns, r, strict=True)) for r in cur.fetchall()]

    def rows_by_fingerprint(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows():
            out.setdefault(row["fingerprint"], []).append(row)
        return out

    def count(self) -> int:
        return int(self.con.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        self.con.close()


def _connect(path: Path) -> sqlite3.Connection:
    """A read-write connection in WAL mode (only for creating or resuming a study)."""
    con = sqlite3.connect(path, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def _connect_ro(path: Path) -> sqlite3.Connection:
    """A read-only connection: reading a study never changes the file (no WAL switch)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _check_study(path: Path, con: sqlite3.Connection) -> None:
    """:class:`ConfigError` unless ``con`` holds the hwsim study tables."""
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table'").fetchall()}
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: not a hwsim results database ({exc})") from None
    if not {"meta", "results"} <= tables:
        raise ConfigError(f"{path}: not a hwsim results database (no meta/results table); "
                          "give a database written by hwsim sweep")


def _sql_type(values: list[Any]) -> str:
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INTEGER"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "REAL"
    return "TEXT"


def open_study(path: str | Path, spec: SweepSpec) -> Study:
    """Create the study database for ``spec``, or reopen it to resume the same spec.

    Raises :class:`ConfigError` (one line) when ``path`` holds a study of a different spec,
    or is not a study database.
    """
    import hwsim

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"--out: {path} is a directory; give a results file such as "
                          f"{path / (spec.name + '.db')}")
    if path.exists():
        open_existing(path).close()  # read-only check: a foreign file is left untouched
        study = Study(path, _connect(path))
        old = study.meta.get("spec_hash")
        if old != spec.spec_hash:
            study.close()
            raise ConfigError(
                f"{path} holds the results of a different spec (hash {old}, this spec "
                f"{spec.spec_hash}; topology and energy-table contents count); pass another "
                "--out or delete the file"
            )
        old_version = study.meta.get("hwsim_version")
        if old_version != hwsim.__version__:
            study.close()
            raise ConfigError(
                f"{path} was written by hwsim {old_version}, this is hwsim {hwsim.__version__}; "
                "its rows may differ from this version's, so pass a new --out"
            )
        return study
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path)
    axis_types: dict[str, str] = {}
    for key, values in spec.axes.items():
        names = key.split(",")
        for i, name in enumerate(names):
            column = values if len(names) == 1 else [v[i] for v in values]
            axis_types[name] = _sql_type(column)
    metric_info = spec.metric_info()
    cols = ["fingerprint TEXT NOT NULL", "workload TEXT NOT NULL"]
    cols += [f"{_q(n)} {axis_types[n]}" for n in spec.axis_fields]
    cols += ["status TEXT NOT NULL", "reason TEXT"]
    cols += [_q(m) for m in metric_info]  # no affinity: values kept as written (int or float)
    cols.append("PRIMARY KEY (fingerprint, workload)")
    meta = {
        "spec": json.dumps(spec.raw, sort_keys=True),
        "spec_hash": spec.spec_hash,
        "name": spec.name,
        "unit": spec.unit,
        "method": spec.method,
        "convention": spec.convention,
        "axes": json.dumps(spec.axis_fields),
        "metrics": json.dumps(metric_info),
        "workloads": json.dumps([w.name for w in spec.workloads]),
        "objectives": json.dumps([list(o) for o in spec.objectives]),
        "hwsim_version": hwsim.__version__,
        "inputs": json.dumps(spec.input_hashes, sort_keys=True),
        "finished": "no",
    }
    with con:
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute(f"CREATE TABLE results ({', '.join(cols)})")
        if spec.synthesis is not None:
            con.execute(_SYNTHESIS_TABLE)
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
    return Study(path, con)


def open_existing(path: str | Path) -> Study:
    """Open a study database for reading; :class:`ConfigError` if missing or not a study."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such results database")
    try:
        con = _connect_ro(path)
    except sqlite3.Error as exc:
        raise ConfigError(f"{path}: cannot open the results database ({exc})") from None
    try:
        _check_study(path, con)
        return Study(path, con)
    except (ConfigError, sqlite3.DatabaseError) as exc:
        con.close()
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{path}: not a hwsim results database ({exc})") from None


def require_rows(path: str | Path, *, feasible: bool = True) -> None:
    """:class:`ConfigError` (one line) when the study has nothing to export, plot or report.

    A study with no rows at all (created, never run, or killed before its first batch) is
    refused; with ``feasible`` a study whose rows are all ``infeasible`` is refused too.
    """
    study = open_existing(path)
    try:
        total, ok = study.con.execute(
            "SELECT COUNT(*), COALESCE(SUM(status = 'ok'), 0) FROM results").fetchone()
    finally:
        study.close()
    if total == 0 or (feasible and ok == 0):
        extra = "" if total == 0 else f" ({total} rows, all infeasible)"
        raise ConfigError(f"study {path} has no finished rows{extra}; run hwsim sweep first"
                          + (" with a spec that has feasible points" if total else ""))


def check_output(out: str | Path, suffixes: tuple[str, ...], flag: str = "-o") -> Path:
    """Validate an output file path before any work is done; returns the path to write.

    A path without a suffix gets ``suffixes[0]`` appended; a directory, another suffix or a
    parent that is not a directory is a one-line :class:`ConfigError` naming ``flag``.
    """
    path = Path(out)
    if str(out).endswith(("/", "\\")) or path.is_dir():
        raise ConfigError(f"{flag}: {out} is a directory; give a file path ending in "
                          f"{' or '.join(suffixes)}")
    if not path.suffix:
        path = path.with_name(path.name + suffixes[0])
    elif path.suffix.lower() not in suffixes:
        raise ConfigError(f"{flag}: {out} must end in {' or '.join(suffixes)}, got "
                          f"'{path.suffix}'")
    if path.is_dir():
        raise ConfigError(f"{flag}: {path} is a directory; give a file path ending in "
                          f"{' or '.join(suffixes)}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{flag}: {parent} is not a directory, so {path} cannot be "
                                  "written")
            break
    return path


class atomic_output:  # noqa: N801 - used as a context manager like open()
    """``with atomic_output(path) as tmp:`` write ``tmp``; it replaces ``path`` on success.

    A failure leaves no half-written file behind (the temporary file is removed).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if exc_type is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def load_meta(path: str | Path) -> dict[str, Any]:
    """The study's meta table, JSON values decoded."""
    study = open_existing(path)
    try:
        out: dict[str, Any] = {}
        for key, value in study.meta.items():
            try:
                out[key] = json.loads(value)
            except (json.JSONDecodeError, TypeError):
                out[key] = value
        return out
    finally:
        study.close()


def load(path: str | Path) -> pd.DataFrame:
    """The ``results`` table as a pandas DataFrame (one row per point and workload).

    ``df.attrs`` holds the decoded meta table (spec, axes, metrics, objectives ...).
    """
    import pandas as pd

    study = open_existing(path)
    try:
        df = pd.DataFrame(study.rows(), columns=study.columns)
    finally:
        study.close()
    df.attrs.update(load_meta(path))
    return df


def export(path: str | Path, fmt: str, out: str | Path | None = None) -> Path:
    """Write the results table as ``csv`` or ``parquet``; returns the file written."""
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"export format must be csv or parquet, got {fmt!r}")
    suffixes = (".csv",) if fmt == "csv" else (".parquet", ".pq")
    out = check_output(out if out else Path(path).with_suffix(f".{fmt}"), suffixes)
    require_rows(path, feasible=False)
    df = load(path)
    df.attrs = {}
    with atomic_output(out) as tmp:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    return out
