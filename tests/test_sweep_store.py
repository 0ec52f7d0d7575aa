"""The sweep database (schema, atomic upserts, bad files) and the Pareto front, without a
cluster."""
from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import UserError
from codesign.sweep import SCHEMA_VERSION, SweepStore, front, pareto_mask
from codesign.sweep.store import POINT_COLUMNS

EXPECTED = {
    "meta": ["key", "value"],
    "sweeps": ["id", "started", "finished", "status", "base", "vary", "options", "version",
               "host", "scheduler", "n_points", "skipped", "computed", "failed"],
    "points": list(POINT_COLUMNS),
    "sweep_points": ["sweep_id", "key", "position"],
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
