"""Sweep results in SQLite (stdlib sqlite3): one row per point, keyed by the point's hash.

Why this shape:
- WAL journal and a busy timeout, so readers (``codesign report``) never block the
  writer and two sweeps on one file wait for each other instead of failing.
- Only the client process writes (workers return results to it), the results of each
  finished task (one point, or a batch of short points) in one ``BEGIN IMMEDIATE``
  transaction: a killed sweep leaves every stored point complete and nothing
  half-written.
- A finished point is never overwritten (the upsert's ``WHERE points.status != 'done'``),
  so a concurrent sweep that computed the same point a second time changes nothing; a
  failed point is overwritten by its next attempt.
- Metrics (deterministic results) and timings live in separate JSON columns, so two runs
  of one grid compare equal on ``metrics``.
"""
from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from ..errors import UserError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweeps (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    started   REAL NOT NULL,            -- unix time
    finished  REAL,
    status    TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted')),
    base      TEXT NOT NULL,            -- base spec: preset name or file
    vary      TEXT NOT NULL,            -- JSON {key: [values]}
    options   TEXT NOT NULL,            -- JSON evaluation options
    version   TEXT NOT NULL,            -- codesign version of the client
    host      TEXT NOT NULL,
    scheduler TEXT NOT NULL,            -- 'local:N' or the scheduler address
    n_points  INTEGER NOT NULL,
    skipped   INTEGER NOT NULL DEFAULT 0,   -- already done when the sweep started
    computed  INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS points (
    key         TEXT PRIMARY KEY,       -- hash of Spec.digest() and options
    spec_digest TEXT NOT NULL,
    base        TEXT NOT NULL,
    overrides   TEXT NOT NULL,          -- JSON {key: value}: the varied values
    options     TEXT NOT NULL,          -- JSON
    spec        TEXT NOT NULL,          -- JSON resolved spec
    status      TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    metrics     TEXT,                   -- JSON, when done
    timings     TEXT,                   -- JSON seconds per stage
    error       TEXT,                   -- one line, when failed
    traceback   TEXT,
    version     TEXT NOT NULL,          -- codesign version that computed the row
    sweep_id    INTEGER NOT NULL REFERENCES sweeps(id),
    attempts    INTEGER NOT NULL DEFAULT 1,
    started     REAL,
    finished    REAL NOT NULL,
    elapsed_s   REAL,
    worker      TEXT
);
CREATE TABLE IF NOT EXISTS sweep_points (
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
    key      TEXT NOT NULL,
    position INTEGER NOT NULL,          -- order in the sweep's grid
    PRIMARY KEY (sweep_id, key)
);
CREATE INDEX IF NOT EXISTS points_status ON points(status);
"""

POINT_COLUMNS = ("key", "spec_digest", "base", "overrides", "options", "spec", "status",
                 "metrics", "timings", "error", "traceback", "version", "sweep_id",
                 "attempts", "started", "finished", "elapsed_s", "worker")
_JSON_COLUMNS = ("overrides", "options", "spec", "metrics", "timings")


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _loads(row: sqlite3.Row) -> dict:
    out = dict(row)
    for col in _JSON_COLUMNS:
        if col in out and out[col] is not None:
            out[col] = json.loads(out[col])
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_plain)


def _plain(obj: Any) -> Any:
    """numpy scalars and arrays (from an evaluator) as plain JSON values."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


class SweepStore:
    """A sweep database. ``SweepStore(path)`` creates the file and schema if needed;
    ``readonly=True`` opens an existing file (reports)."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if self.path.exists() and (not self.path.is_file() or (
                self.path.stat().st_size and not _is_sqlite(self.path))):
            raise UserError(f"{self.path}: not a sweep database (not an SQLite file)")
        if readonly and not self.path.is_file():
            raise UserError(f"{self.path}: no such sweep database")
        if not readonly and not self.path.parent.is_dir():
            raise UserError(f"--db {self.path}: directory {self.path.parent} does not exist")
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S,
                                      isolation_level=None)   # we BEGIN ourselves
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if readonly:
                self.db.execute("PRAGMA query_only = ON")
            else:
                self.db.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: a committed point survives the process being killed
                # (only a power cut can lose the last commits) and commits stay cheap.
                self.db.execute("PRAGMA synchronous = NORMAL")
                self.db.execute("PRAGMA foreign_keys = ON")
                self._create_schema()
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path}: not a sweep database ({exc})") from None

    # ---- plumbing --------------------------------------------------------------------
    def transaction(self):
        """``with store.transaction():`` one atomic write (BEGIN IMMEDIATE takes the write
        lock up front, so two writers queue on the busy timeout instead of deadlocking)."""
        return _Transaction(self.db)

    def _create_schema(self) -> None:
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION),))

    def _check_schema(self) -> None:
        try:
            row = self.db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None:
            raise UserError(f"{self.path}: not a sweep database (no codesign schema)")
        if int(row[0]) != SCHEMA_VERSION:
            raise UserError(f"{self.path}: sweep database schema version {row[0]}; this "
                            f"codesign reads version {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SweepStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- sweeps ----------------------------------------------------------------------
    def begin_sweep(self, base: str, vary: dict, options: dict, version: str,
                    scheduler: str, keys: list[str]) -> tuple[int, set[str]]:
        """Record a new sweep and its grid; return its id and the keys already done."""
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO sweeps (started, status, base, vary, options, version, host, "
                "scheduler, n_points) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), base, _dumps(vary), _dumps(options), version,
                 socket.gethostname(), scheduler, len(keys)))
            sweep_id = int(cur.lastrowid)
            self.db.executemany("INSERT INTO sweep_points VALUES (?, ?, ?)",
                                [(sweep_id, k, i) for i, k in enumerate(keys)])
            done = self.done_keys(keys)
            self.db.execute("UPDATE sweeps SET skipped = ? WHERE id = ?", (len(done), sweep_id))
        return sweep_id, done

    def end_sweep(self, sweep_id: int, status: str, computed: int, failed: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE sweeps SET finished = ?, status = ?, computed = ?, "
                            "failed = ? WHERE id = ?",
                            (time.time(), status, computed, failed, sweep_id))

    def sweeps(self) -> list[dict]:
        rows = self.db.execute("SELECT * FROM sweeps ORDER BY id").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["vary"], d["options"] = json.loads(d["vary"]), json.loads(d["options"])
            out.append(d)
        return out

    # ---- points ----------------------------------------------------------------------
    def done_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        done: set[str] = set()
        for i in range(0, len(keys), 500):   # stay under SQLite's bound-variable limit
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            done.update(r[0] for r in self.db.execute(
                f"SELECT key FROM points WHERE status = 'done' AND key IN ({marks})", chunk))
        return done

    def put(self, row: dict) -> bool:
        """Store one point's result atomically; a done row is never replaced. Returns
        whether the row was written."""
        return self.put_many([row]) == 1

    def put_many(self, rows: list[dict]) -> int:
        """Store several points' results in one transaction (all or none), each as
        :meth:`put` would; returns how many rows were written."""
        cols = [c for c in POINT_COLUMNS if c != "attempts"]
        update = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "key")
        sql = (f"INSERT INTO points ({', '.join(cols)}) VALUES "
               f"({', '.join('?' * len(cols))}) ON CONFLICT(key) DO UPDATE SET {update}, "
               "attempts = points.attempts + 1 WHERE points.status != 'done'")
        written = 0
        with self.transaction():
            for row in rows:
                values = {c: row.get(c) for c in cols}
                for col in _JSON_COLUMNS:
                    if values[col] is not None:
                        values[col] = _dumps(values[col])
                written += self.db.execute(sql, [values[c] for c in cols]).rowcount > 0
        return written

    def points(self, status: str | None = None, sweep_id: int | None = None) -> list[dict]:
        """Stored points (JSON columns decoded) in grid order: by the first sweep that
        listed them, then by position in its grid."""
        sql, where, args = "SELECT * FROM points", [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if sweep_id is not None:
            where.append("key IN (SELECT key FROM sweep_points WHERE sweep_id = ?)")
            args.append(sweep_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        order = {}
        for key, sid, pos in self.db.execute(
                "SELECT key, sweep_id, position FROM sweep_points ORDER BY sweep_id, position"):
            order.setdefault(key, (sid, pos))
        rows = [_loads(r) for r in self.db.execute(sql, args)]
        return sorted(rows, key=lambda r: (order.get(r["key"], (1 << 62, 0)), r["key"]))

    def pending(self, sweep_id: int | None = None) -> int:
        """Grid points (of one sweep, or of all) with no stored result yet."""
        sql = ("SELECT COUNT(DISTINCT s.key) FROM sweep_points s LEFT JOIN points p "
               "ON p.key = s.key WHERE p.key IS NULL")
        args: tuple = ()
        if sweep_id is not None:
            sql += " AND s.sweep_id = ?"
            args = (sweep_id,)
        return int(self.db.execute(sql, args).fetchone()[0])


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *_):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
