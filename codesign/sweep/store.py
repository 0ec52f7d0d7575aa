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
- A sweep claims the points it is about to compute (``claims``), so two sweeps of one
  grid on one file share the work instead of doing it twice; a claim of a sweep whose
  process is gone is taken over.
- A sweep records its process (host, pid): a ``running`` sweep whose process no longer
  exists reads back as ``stale`` (killed with SIGKILL, or its machine went down).
- A file is written only when it is a sweep database (``PRAGMA application_id``, or the
  schema of version 1 files) or empty: another program's SQLite file is refused before
  anything in it changes.
- A lock held by another process is waited for (``notify`` says so once), up to
  ``wait_s``; then a one-line error. A read-only file (or folder) is opened read-only,
  as an immutable file when SQLite cannot create its WAL index there.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import UserError

SCHEMA_VERSION = 1
#: How long a writer waits for another process's lock before giving up.
BUSY_TIMEOUT_S = 60.0
#: The lock is retried in steps of this many seconds, so the wait can be announced.
LOCK_POLL_S = 0.5
#: PRAGMA application_id of a sweep database ("cdsw"): tells it from other SQLite files.
APPLICATION_ID = 0x63647377

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
    failed    INTEGER NOT NULL DEFAULT 0,
    pid       INTEGER                   -- client process, with host: is it still alive?
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
CREATE TABLE IF NOT EXISTS claims (
    key      TEXT PRIMARY KEY,          -- a point some sweep is computing right now
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
    claimed  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS points_status ON points(status);
"""
#: Columns added to version-1 files after their first release (ALTER TABLE on open).
ADDED_COLUMNS = {"sweeps": {"pid": "INTEGER"}}


POINT_COLUMNS = ("key", "spec_digest", "base", "overrides", "options", "spec", "status",
                 "metrics", "timings", "error", "traceback", "version", "sweep_id",
                 "attempts", "started", "finished", "elapsed_s", "worker")
_JSON_COLUMNS = ("overrides", "options", "spec", "metrics", "timings")


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc))


def _cannot_open_rw(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, sqlite3.OperationalError) and (
        "readonly" in text or "read-only" in text or "unable to open" in text)


def process_alive(host: str | None, pid: int | None, started: float) -> bool | None:
    """Is the process that started a sweep still there? None when that cannot be told
    (another host, or a row written before pids were recorded). A pid reused by a
    newer process does not count (it was created after the sweep started)."""
    if pid is None or host != socket.gethostname():
        return None
    import psutil
    try:
        proc = psutil.Process(int(pid))
        return proc.status() != psutil.STATUS_ZOMBIE and proc.create_time() <= started + 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _loads(row: sqlite3.Row) -> dict:
    out = dict(row)
    for col in _JSON_COLUMNS:
        if col in out and out[col] is not None:
            out[col] = json.loads(out[col])
    return out


class JSONText(str):
    """A column value already encoded as JSON (keys sorted, numpy values plain, as
    _dumps encodes), stored as it is: the workers encode their points' metrics and the
    client each spec once (codesign.sweep.evaluate.run_batch, Spec.to_json), so the
    client does not encode every result again."""


def encode_json(value: Any) -> JSONText:
    return JSONText(json.dumps(value, sort_keys=True, default=_plain))


def _dumps(value: Any) -> str:
    return value if isinstance(value, JSONText) else encode_json(value)


def _plain(obj: Any) -> Any:
    """numpy scalars and arrays (from an evaluator) as plain JSON values."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


class SweepStore:
    """A sweep database. ``SweepStore(path)`` creates the file and schema if needed;
    ``readonly=True`` opens an existing file (reports)."""

    def __init__(self, path: str | Path, readonly: bool = False,
                 wait_s: float = BUSY_TIMEOUT_S, notify: Callable[[str], None] = _stderr):
        self.path = Path(path)
        self.readonly = readonly
        self.wait_s, self.notify = float(wait_s), notify
        if self.path.exists() and (not self.path.is_file() or (
                self.path.stat().st_size and not _is_sqlite(self.path))):
            raise UserError(f"{self.path}: not a sweep database (not an SQLite file)")
        if readonly and not self.path.is_file():
            raise UserError(f"{self.path}: no such sweep database")
        if not readonly and not self.path.parent.is_dir():
            raise UserError(f"{self.path}: directory {self.path.parent} does not exist")
        try:
            if readonly:
                self._open_readonly()
            else:
                self.db = self._connect(str(self.path))
                self._waiting(self._check_own)
                self._waiting(lambda: self.db.execute("PRAGMA journal_mode = WAL"))
                # WAL + NORMAL: a committed point survives the process being killed
                # (only a power cut can lose the last commits) and commits stay cheap.
                self.db.execute("PRAGMA synchronous = NORMAL")
                self.db.execute("PRAGMA foreign_keys = ON")
                self._create_schema()
            self._waiting(self._check_schema)
        except sqlite3.DatabaseError as exc:
            if _cannot_open_rw(exc) and not readonly:
                raise UserError(f"{self.path}: cannot write the sweep database ({exc}); "
                                "allowed: a file in a writable folder") from None
            raise UserError(f"{self.path}: not a sweep database ({exc})") from None

    def _connect(self, target: str, uri: bool = False) -> sqlite3.Connection:
        # short busy timeout: _waiting retries it and tells the user it is waiting
        db = sqlite3.connect(target, timeout=LOCK_POLL_S, isolation_level=None, uri=uri)
        db.row_factory = sqlite3.Row
        return db

    def _open_readonly(self) -> None:
        """Read-only, so a report works on a file the user cannot write; in a folder
        where SQLite cannot create the WAL index either, as an immutable file."""
        base = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        self.db = self._connect(base, uri=True)
        try:
            self._waiting(lambda: self.db.execute("SELECT COUNT(*) FROM sqlite_master"
                                                  ).fetchone())
        except sqlite3.OperationalError as exc:
            if not _cannot_open_rw(exc):
                raise
            self.db.close()
            self.db = self._connect(base + "&immutable=1", uri=True)
        self.db.execute("PRAGMA query_only = ON")

    def _waiting(self, action: Callable[[], Any]) -> Any:
        """Run `action`, retrying while another process holds the lock: announced once,
        for at most wait_s seconds, then a one-line error."""
        deadline = time.monotonic() + self.wait_s
        announced = False
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise UserError(f"{self.path}: the database is locked by another process "
                                    f"(waited {self.wait_s:.0f} s); allowed: retry when that "
                                    "process has finished") from None
                if not announced:
                    self.notify(f"{self.path}: the database is locked by another process; "
                                f"waiting up to {self.wait_s:.0f} s ...")
                    announced = True

    def _check_own(self) -> None:
        """Refuse to write into another program's SQLite file (before changing it)."""
        app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
        if app_id == APPLICATION_ID:
            return
        tables = sorted(r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        if not tables and app_id == 0:
            return                                    # a new or empty database
        if app_id == 0 and {"meta", "sweeps", "points"} <= set(tables):
            return                                    # written before application_id
        what = f"application id {app_id:#x}" if app_id else \
            "tables " + ", ".join(tables[:6]) + (", ..." if len(tables) > 6 else "")
        raise UserError(f"{self.path}: an SQLite database of another program ({what}), not "
                        "a sweep database; a sweep writes only into its own file: allowed: a "
                        "new file name or an existing sweep database")

    # ---- plumbing --------------------------------------------------------------------
    def transaction(self):
        """``with store.transaction():`` one atomic write (BEGIN IMMEDIATE takes the write
        lock up front, so two writers queue on the busy timeout instead of deadlocking)."""
        return _Transaction(self)

    def _create_schema(self) -> None:
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            for table, columns in ADDED_COLUMNS.items():
                have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
                for name, decl in columns.items():
                    if name not in have:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION),))
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

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
                "scheduler, n_points, pid) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), base, _dumps(vary), _dumps(options), version,
                 socket.gethostname(), scheduler, len(keys), os.getpid()))
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
            self.db.execute("DELETE FROM claims WHERE sweep_id = ?", (sweep_id,))

    def sweeps(self) -> list[dict]:
        """Every run, oldest first. ``status`` is 'stale' for a run stored as 'running'
        whose process is gone (killed: nothing could close it); ``stored_status`` is
        the column as written."""
        rows = self.db.execute("SELECT * FROM sweeps ORDER BY id").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d.setdefault("pid", None)
            d["vary"], d["options"] = json.loads(d["vary"]), json.loads(d["options"])
            d["stored_status"] = d["status"]
            if d["status"] == "running" and \
                    process_alive(d["host"], d["pid"], d["started"]) is False:
                d["status"] = "stale"
            out.append(d)
        return out

    def _live_sweeps(self, ids: Iterable[int]) -> set[int]:
        """Of these sweep ids, those still running (process alive or not checkable)."""
        live = set()
        for sid in set(ids):
            row = self.db.execute("SELECT status, host, pid, started FROM sweeps WHERE id = ?",
                                  (sid,)).fetchone()
            if row is not None and row["status"] == "running" and \
                    process_alive(row["host"], row["pid"], row["started"]) is not False:
                live.add(sid)
        return live

    # ---- claims: who computes which point ---------------------------------------------
    def claim(self, sweep_id: int, keys: list[str]) -> set[str]:
        """Claim the points of `keys` for `sweep_id` in one transaction; returns the keys
        now ours. A point already done or claimed by another running sweep is not (a
        failed one is: this run retries it); a claim of a finished, interrupted or dead
        sweep is taken over."""
        with self.transaction():
            stored = self.done_keys(keys)
            held = {}
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                held.update((r[0], r[1]) for r in self.db.execute(
                    f"SELECT key, sweep_id FROM claims WHERE key IN ({marks})", chunk))
            live = self._live_sweeps(sid for sid in held.values() if sid != sweep_id)
            mine = [k for k in keys if k not in stored and held.get(k) not in live]
            now = time.time()
            self.db.executemany("INSERT INTO claims VALUES (?, ?, ?) ON CONFLICT(key) DO "
                                "UPDATE SET sweep_id = excluded.sweep_id, "
                                "claimed = excluded.claimed", [(k, sweep_id, now) for k in mine])
        return set(mine)

    def _stored(self, keys: list[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            out.update(r[0] for r in self.db.execute(
                f"SELECT key FROM points WHERE key IN ({marks})", chunk))
        return out

    def stored_keys(self, keys: Iterable[str]) -> set[str]:
        """Of `keys`, those with a stored result (done or failed)."""
        return self._stored(list(keys))

    # ---- points ----------------------------------------------------------------------
    def done_keys(self, keys: Iterable[str]) -> set[str]:
        done: set[str] = set()
        for chunk in _chunks(list(keys)):
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
            self.db.executemany("DELETE FROM claims WHERE key = ?", [(r["key"],) for r in rows])
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


def _chunks(keys: list[str], size: int = 500):
    """Stay under SQLite's bound-variable limit."""
    for i in range(0, len(keys), size):
        yield keys[i:i + size]


class _Transaction:
    def __init__(self, store: SweepStore):
        self.store, self.db = store, store.db

    def __enter__(self):
        self.store._waiting(lambda: self.db.execute("BEGIN IMMEDIATE"))
        return self.db

    def __exit__(self, exc_type, *_):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
