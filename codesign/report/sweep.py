"""A sweep database as a run (sections for codesign.report.write_report): overview of
the sweeps, every point, the Pareto front (table and PNG) and the failures."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..sweep.pareto import caption, front, plot_png
from ..sweep.store import SweepStore
from ..sweep.tables import failures_table, points_table


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def _table(title: str, headers_rows: tuple[list, list]) -> dict:
    headers, rows = headers_rows
    return {"title": title, "headers": headers, "rows": rows}


def sweep_run(db: str | Path) -> dict:
    """The run dict of a sweep database (read-only)."""
    with SweepStore(db, readonly=True) as store:
        sweeps = store.sweeps()
        points = store.points()
        pending = {s["id"]: store.pending(s["id"]) for s in sweeps}
        waiting = store.pending()
    done = [p for p in points if p["status"] == "done"]
    failed = [p for p in points if p["status"] == "failed"]
    return {"title": f"codesign sweep: {Path(db).name}",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "version": __version__, "database": str(db),
            "sections": [_overview(sweeps, points, done, failed, waiting, pending),
                         _points(points), _pareto(done), _failures(failed)]}


def _overview(sweeps, points, done, failed, waiting, pending) -> dict:
    versions = Counter(p["version"] for p in points)
    compute = sum(p.get("elapsed_s") or 0.0 for p in points)
    running = [s["id"] for s in sweeps if s["status"] == "running"]
    if not waiting:
        rest = "every grid point has a result"
    elif running:
        rest = (f"{waiting:,} grid point{'s' if waiting != 1 else ''} not computed yet; "
                f"sweep {', '.join(map(str, running))} is still running")
    else:
        rest = (f"{waiting:,} grid point{'s' if waiting != 1 else ''} not computed yet: "
                "interrupted; run the same sweep again to finish")
    summary = (f"{len(points):,} points stored: {len(done):,} done, {len(failed):,} failed; "
               f"{rest}. {len(sweeps)} sweep run{'s' if len(sweeps) != 1 else ''} wrote "
               f"this database; points took {compute:.3g} s of worker time in all.")
    stale = [s["id"] for s in sweeps if s["status"] == "stale"]
    if stale:
        summary += (f"\n\nStale: run {', '.join(map(str, stale))} is recorded as running but "
                    "its process is gone (killed before it could close its record).")
    rows = [[s["id"], _iso(s["started"]), _status(s, pending[s["id"]]), s["base"],
             "; ".join(f"{k}={','.join(map(str, v))}" for k, v in s["vary"].items()),
             ", ".join(f"{k}={v}" for k, v in s["options"].items()),
             s["n_points"], s["skipped"], s["computed"], s["failed"], pending[s["id"]],
             s["scheduler"], s["version"],
             None if s["finished"] is None else s["finished"] - s["started"]]
            for s in sweeps]
    table = {"title": "Sweep runs: one row per run of codesign sweep on this database",
             "headers": [
        "id", "started (UTC)", "status", "base spec", "varied", "options", "points",
        "skipped", "computed", "failed", "pending", "scheduler", "version", "wall [s]"],
        "rows": rows}
    return {"id": "overview", "title": "Overview", "summary": summary, "tables": [table],
            "images": [], "data": {"versions": dict(versions)}}


def _status(sweep: dict, pending: int) -> str:
    """A run's status as the reader needs it: 'interrupted' only while points of its grid
    are still missing; 'stale' for a 'running' run whose process is gone."""
    status = sweep["status"]
    if status == "interrupted" and not pending:
        return "interrupted, completed by a later run"
    if status == "stale":
        return "stale (process gone)"
    return status


def _points(points) -> dict:
    return {"id": "points", "title": "Points",
            "summary": "Every stored point: the varied spec values, the headline metrics "
                       "(the estimator's area and energy per inference on the network, "
                       "accuracy when trained) and the worker time it took.",
            "tables": [_table("All points: varied values, metrics, status and worker time",
                              points_table(points))], "images": [],
            "data": {}}


def _pareto(done) -> dict:
    best, objectives = front(done)
    if not best:
        return {"id": "pareto", "title": "Pareto front", "summary":
                "No done point reports the objectives (energy per inference, area), so "
                "there is no front to show.", "tables": [], "images": [], "data": {}}
    names = ", ".join(f"{'max' if s > 0 else 'min'} {label}" for _, s, label in objectives)
    png = plot_png(done, best, title="Pareto front")
    summary = (f"{len(best)} of {len(done)} done points are Pareto-optimal over: "
               f"{names}. No other point is at least as good in every "
               "objective and better in one.")
    return {"id": "pareto", "title": "Pareto front", "summary": summary,
            "tables": [_table("Pareto-optimal points, smallest area first",
                              points_table(best, status=False))],
            "images": [{"png": png, "caption": caption(done, best)}],
            "data": {"objectives": [k for k, _, _ in objectives],
                     "keys": [p["key"] for p in best]}}


def _failures(failed) -> dict:
    summary = ("No point failed." if not failed else
               f"{len(failed)} point{'s' if len(failed) != 1 else ''} failed; the next run "
               "of the sweep retries them. Full tracebacks are in the database "
               "(points.traceback).")
    tables = [_table("Failed points: the error of the last attempt",
                     failures_table(failed))] if failed else []
    return {"id": "failures", "title": "Failures", "summary": summary, "tables": tables,
            "images": [], "data": {}}
