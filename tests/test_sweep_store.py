"""The sweep database (schema, atomic upserts, bad files) and the Pareto front, without a
cluster."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import UserError
from codesign.sweep import SCHEMA_VERSION, SweepStore, front, pareto_mask
from codesign.sweep.store import APPLICATION_ID, POINT_COLUMNS

EXPECTED = {
    "meta": ["key", "value"],
    "sweeps": ["id", "started", "finished", "status", "base", "vary", "options", "version",
               "host", "scheduler", "n_points", "skipped", "computed", "failed", "pid"],
    "points": list(POINT_COLUMNS),
    "sweep_points": ["sweep_id", "key", "position"],
    "claims": ["key", "sweep_id", "claimed"],
}


def _row(key: str, sweep_id: int, status: str = "done", **metrics) -> dict:
    now = time.time()
    return {"key": key, "spec_digest": "d" + key, "base": "ambrogio2018",
            "overrides": {"adc.bits": 4}, "options": {"seed": 0}, "spec": {"name": "x"},
            "status": status, "metrics": metrics or None, "timings": {"estimate": 0.1},
            "error": None if status == "done" else "ValueError: no", "traceback": None,
            "version": "0.1.0", "sweep_id": sweep_id, "started": now, "finished": now,
            "elapsed_s": 0.0, "worker": "w"}


def test_schema_tables_columns_and_pragmas(tmp_path):
    db = tmp_path / "s.db"
    SweepStore(db).close()
    con = sqlite3.connect(db)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                        "AND name NOT LIKE 'sqlite_%'")}
    assert tables == set(EXPECTED)
    for table, columns in EXPECTED.items():
        assert [r[1] for r in con.execute(f"PRAGMA table_info({table})")] == columns
    pk = {r[1] for r in con.execute("PRAGMA table_info(points)") if r[5]}
    assert pk == {"key"}
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == \
        (str(SCHEMA_VERSION),)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    with pytest.raises(sqlite3.IntegrityError):   # status is checked by the schema
        con.execute("INSERT INTO points (key, spec_digest, base, overrides, options, spec, "
                    "status, version, sweep_id, finished) VALUES "
                    "('k', 'd', 'b', '{}', '{}', '{}', 'maybe', 'v', 1, 0)")
    con.close()


def test_done_rows_are_never_overwritten_failed_rows_are(tmp_path):
    with SweepStore(tmp_path / "s.db") as store:
        sid, done = store.begin_sweep("ambrogio2018", {"adc.bits": [4, 6]}, {"seed": 0},
                                      "0.1.0", "local:1", ["a", "b"])
        assert done == set()
        assert store.put(_row("a", sid, area_mm2=1.0))
        assert store.put(_row("b", sid, status="failed"))
        assert not store.put(_row("a", sid, area_mm2=2.0))     # done stays done
        assert store.put(_row("b", sid, area_mm2=3.0))         # failed is retried
        rows = {p["key"]: p for p in store.points()}
        assert rows["a"]["metrics"] == {"area_mm2": 1.0} and rows["a"]["attempts"] == 1
        assert rows["b"]["status"] == "done" and rows["b"]["attempts"] == 2
        assert rows["b"]["error"] is None
        sid2, done = store.begin_sweep("ambrogio2018", {}, {}, "0.1.0", "local:1",
                                       ["a", "b", "c"])
        assert done == {"a", "b"} and store.pending(sid2) == 1 and store.pending(sid) == 0
        store.end_sweep(sid2, "interrupted", 0, 0)
        assert [s["status"] for s in store.sweeps()] == ["running", "interrupted"]


def test_a_failed_write_leaves_nothing(tmp_path):
    with SweepStore(tmp_path / "s.db") as store:
        sid, _ = store.begin_sweep("b", {}, {}, "0.1.0", "local:1", ["a"])
        bad = _row("a", sid)
        bad["metrics"] = {"x": object()}            # not JSON: fails before the INSERT
        with pytest.raises(TypeError):
            store.put(bad)
        bad = _row("a", sid)
        bad["status"] = "half"                       # rejected by the CHECK: rolled back
        with pytest.raises(sqlite3.IntegrityError):
            store.put(bad)
        assert store.points() == []
        assert store.put(_row("a", sid, area_mm2=1.0))   # the connection is still usable


def test_bad_files_are_user_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(UserError, match="not a sweep database"):
        SweepStore(text)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(UserError, match="no codesign schema"):
        SweepStore(other, readonly=True)
    future = tmp_path / "future.db"
    SweepStore(future).close()
    con = sqlite3.connect(future)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(UserError, match="schema version 99"):
        SweepStore(future)
    with pytest.raises(UserError, match="no such sweep database"):
        SweepStore(tmp_path / "missing.db", readonly=True)
    with pytest.raises(UserError, match="does not exist"):
        SweepStore(tmp_path / "no" / "dir.db")


def _dominates(a, b):
    return bool(np.all(a <= b) and np.any(a < b))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 6)] * 3), min_size=1, max_size=30))
def test_pareto_mask_matches_the_definition(pts):
    values = np.array(pts, dtype=float)
    senses = [+1, -1, -1]                     # maximize the first, minimize the others
    mask = pareto_mask(values, senses)
    cost = values * -np.array(senses)
    for i in range(len(pts)):
        dominated = any(_dominates(cost[j], cost[i]) for j in range(len(pts)))
        assert mask[i] == (not dominated)
    # every dominated point is dominated by a point of the front
    for i in np.flatnonzero(~mask):
        assert any(_dominates(cost[j], cost[i]) for j in np.flatnonzero(mask))


def test_front_uses_accuracy_only_when_every_point_has_it():
    pts = [{"key": k, "metrics": m} for k, m in [
        ("a", {"area_mm2": 1.0, "energy_per_inference_j": 3.0, "accuracy": 0.9}),
        ("b", {"area_mm2": 2.0, "energy_per_inference_j": 3.0, "accuracy": 0.95}),
        ("c", {"area_mm2": 2.0, "energy_per_inference_j": 4.0, "accuracy": 0.95})]]
    best, objectives = front(pts)
    assert [o[0] for o in objectives] == ["accuracy", "energy_per_inference_j", "area_mm2"]
    assert [p["key"] for p in best] == ["a", "b"]
    del pts[0]["metrics"]["accuracy"]
    best, objectives = front(pts)
    assert [o[0] for o in objectives] == ["energy_per_inference_j", "area_mm2"]
    assert [p["key"] for p in best] == ["a"]


# ---- locks, read-only files, other programs' files, killed sweeps, claims ---------------
def _begin(store, keys=("a", "b")):
    return store.begin_sweep("ambrogio2018", {"adc.bits": [4, 6]}, {"seed": 0}, "0.1.0",
                             "local:1", list(keys))[0]


def _hold_lock(db, seconds: float, ready: threading.Event):
    """Another connection holds the write lock for `seconds` (in a thread)."""
    def hold():
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        ready.set()
        time.sleep(seconds)
        con.execute("COMMIT")
        con.close()
    thread = threading.Thread(target=hold)
    thread.start()
    assert ready.wait(10)
    return thread


def test_a_locked_database_is_waited_for_with_a_message(tmp_path):
    db = tmp_path / "s.db"
    messages = []
    with SweepStore(db, notify=messages.append) as store:
        sid = _begin(store)
        holder = _hold_lock(db, 1.5, threading.Event())
        t0 = time.monotonic()
        assert store.put(_row("a", sid, area_mm2=1.0))     # waits, then writes
        waited = time.monotonic() - t0
        holder.join()
    assert waited > 0.5
    assert len(messages) == 1 and "locked by another process; waiting up to 60 s" in messages[0]
    with SweepStore(db, readonly=True) as store:
        assert [p["key"] for p in store.points()] == ["a"]


def test_a_lock_held_too_long_is_one_line_error(tmp_path):
    db = tmp_path / "s.db"
    SweepStore(db).close()
    holder = _hold_lock(db, 3.0, threading.Event())
    try:
        with pytest.raises(UserError, match=r"locked by another process \(waited 1 s\)") as err:
            SweepStore(db, wait_s=1.0, notify=lambda _m: None)
        assert "\n" not in str(err.value)
    finally:
        holder.join()


def test_another_programs_sqlite_file_is_refused_and_left_unchanged(tmp_path):
    other = tmp_path / "app.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE customers (name TEXT)")
    con.execute("INSERT INTO customers VALUES ('ada')")
    con.commit()
    con.close()
    before = other.read_bytes()
    with pytest.raises(UserError, match="SQLite database of another program \\(tables "
                                        "customers\\), not a sweep database"):
        SweepStore(other)
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]   # no WAL either
    # an application id of another program, even with our table names
    con = sqlite3.connect(tmp_path / "tagged.db")
    con.execute("PRAGMA application_id = 1234")
    for t in ("meta", "sweeps", "points"):
        con.execute(f"CREATE TABLE {t} (x)")
    con.commit()
    con.close()
    with pytest.raises(UserError, match="application id 0x4d2"):
        SweepStore(tmp_path / "tagged.db")
    # an empty SQLite file becomes a sweep database
    sqlite3.connect(tmp_path / "empty.db").execute("VACUUM").connection.close()
    SweepStore(tmp_path / "empty.db").close()


def _read_only_copy(db: Path, tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    """Run `script` (python, argv[1] = the copy) on a copy of `db` in a read-only folder:
    chmod for a normal user; for root (whom permissions do not stop) a read-only tmpfs
    in a private mount namespace."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        shutil.copy2(db, ro / db.name)
        (ro / db.name).chmod(0o444)
        ro.chmod(0o555)
        try:
            return subprocess.run([sys.executable, "-c", script, str(ro / db.name)],
                                  capture_output=True, text=True, env=_env())
        finally:
            ro.chmod(0o755)
    if shutil.which("unshare") is None:
        pytest.skip("root without unshare: no way to make a read-only folder")
    ro = tmp_path / "ro"
    ro.mkdir()
    shell = (f"mount -t tmpfs none {ro} && cp {db} {ro}/ && chmod 444 {ro}/{db.name} && "
             f"mount -o remount,ro {ro} && exec {sys.executable} -c \"$0\" {ro}/{db.name}")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", shell, script], capture_output=True,
                          text=True, env=_env())
    if "mount" in proc.stderr and proc.returncode:
        pytest.skip(f"cannot mount a read-only tmpfs here: {proc.stderr.strip()}")
    return proc


def _env() -> dict:
    root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}


def test_a_read_only_database_can_still_be_reported(tmp_path):
    db = tmp_path / "s.db"
    with SweepStore(db) as store:
        sid = _begin(store)
        store.put(_row("a", sid, area_mm2=1.0, energy_per_inference_j=2e-9))
        store.end_sweep(sid, "finished", 1, 0)
    script = ("import sys, tempfile, os\n"
              "from codesign.sweep import SweepStore\n"
              "from codesign.report import write_report\n"
              "from codesign.report.sweep import sweep_run\n"
              "try:\n"
              "    SweepStore(sys.argv[1])\n"
              "except Exception as exc:\n"
              "    print('write refused:', exc)\n"
              "run = sweep_run(sys.argv[1])\n"
              "out = write_report(run, os.path.join(tempfile.mkdtemp(), 'r.html'))\n"
              "print('points', len(run['sections'][1]['tables'][0]['rows']))\n")
    proc = _read_only_copy(db, tmp_path, script)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "write refused:" in proc.stdout and "cannot write the sweep database" in proc.stdout
    assert "points 1" in proc.stdout


SLEEPER = """
import sys, time
from codesign.sweep import SweepStore
store = SweepStore(sys.argv[1])
sid = store.begin_sweep("ambrogio2018", {}, {}, "0.1.0", "local:1", ["a", "b"])[0]
store.claim(sid, ["a"])
print("ready", flush=True)
time.sleep(600)
"""


def test_a_sweep_killed_with_sigkill_reads_as_stale_and_its_claims_are_taken_over(tmp_path):
    db = tmp_path / "s.db"
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER, str(db)], stdout=subprocess.PIPE,
                            text=True, env=_env())
    try:
        assert proc.stdout.readline().strip() == "ready"
        with SweepStore(db) as store:
            assert [s["status"] for s in store.sweeps()] == ["running"]   # alive
            sid = _begin(store)
            assert store.claim(sid, ["a", "b"]) == {"b"}     # "a" is the live sweep's
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    with SweepStore(db, readonly=True) as store:
        first = store.sweeps()[0]
        assert first["status"] == "stale" and first["stored_status"] == "running"
    with SweepStore(db) as store:
        assert store.claim(sid, ["a"]) == {"a"}               # the dead sweep's claim
        assert store.sweeps()[1]["status"] == "running"       # this process: alive


def test_claims_share_points_between_sweeps_and_end_with_them(tmp_path):
    with SweepStore(tmp_path / "s.db") as store:
        one, two = _begin(store, "abc"), _begin(store, "abc")
        assert store.claim(one, ["a", "b"]) == {"a", "b"}
        assert store.claim(two, ["a", "b", "c"]) == {"c"}
        store.put(_row("a", one, area_mm2=1.0))               # stored: claim released
        assert store.claim(two, ["a"]) == set()               # done: nobody computes it
        store.end_sweep(one, "interrupted", 1, 0)             # its "b" is free again
        assert store.claim(two, ["b"]) == {"b"}
        assert store.stored_keys(["a", "b", "c"]) == {"a"}
