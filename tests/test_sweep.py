"""`codesign sweep`: a grid on a two-worker local Dask cluster, results in SQLite, resume
after failing points, a killed sweep process and a dying worker, concurrent sweeps on one
file, and up-front rejection of bad grids.

One LocalCluster (two worker processes) is shared by the module; the test evaluators
below are imported by its workers (this folder is put on their PYTHONPATH).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codesign.cli import main
from codesign.errors import UserError
from codesign.network import load_network
from codesign.spec import SpecError, load_spec, spec_from_dict
from codesign.sweep import SweepStore, parse_vary, run_sweep

HERE = Path(__file__).resolve().parent
MARKERS = "CODESIGN_TEST_SWEEP_MARKERS"
BASE = load_spec("ambrogio2018")


# ---- evaluators run on the workers ---------------------------------------------------
def fake_eval(spec, net, options):
    """Cheap metrics that depend on the point, so fronts and comparisons mean something."""
    cells = spec.array.rows * spec.array.cols
    return {"area_mm2": cells * 2e-6 + spec.adc.count * 2 ** spec.adc.bits * 1e-5,
            "energy_per_inference_j": 1e-12 * 2 ** spec.adc.bits * 512 / spec.array.rows,
            "tiles": 1, "_timings": {"fake": 0.0}}


def counting_eval(spec, net, options):
    """slow_eval that leaves one marker line per evaluation (who computed what)."""
    with open(Path(os.environ[MARKERS]) / "evaluations.log", "a") as fh:
        fh.write(f"{spec.adc.bits} {spec.array.rows}\n")
    return slow_eval(spec, net, options)


def slow_eval(spec, net, options):
    time.sleep(0.25)
    return fake_eval(spec, net, options)


def flaky_eval(spec, net, options):
    """Fails while a marker file names the point's ADC resolution."""
    if (Path(os.environ[MARKERS]) / f"fail-adc{spec.adc.bits}").exists():
        raise RuntimeError(f"injected failure at adc.bits={spec.adc.bits}")
    return fake_eval(spec, net, options)


def deadly_eval(spec, net, options):
    """Kills its worker process at adc.bits=3 (a segfault or out-of-memory kill)."""
    if spec.adc.bits == 3:
        os._exit(1)
    return fake_eval(spec, net, options)


def _unreadable():
    raise RuntimeError("this result cannot be read back")


class Unreadable:
    """Not a JSON value (and would not unpickle on the client)."""

    def __reduce__(self):
        return (_unreadable, ())


def unreadable_eval(spec, net, options):
    """At adc.bits=3 the point's metrics hold a value that is not JSON."""
    out = fake_eval(spec, net, options)
    if spec.adc.bits == 3:
        out["poison"] = Unreadable()
    return out


class TaskFailure(BaseException):
    """Not an Exception: run_point lets it through, so the Dask task itself fails (Dask
    reports a BaseException other than SystemExit/KeyboardInterrupt as the task's error
    and keeps the worker)."""


def task_failing_eval(spec, net, options):
    """At adc.bits=3 the whole batch task fails."""
    if spec.adc.bits == 3:
        raise TaskFailure("the whole task fails")
    return fake_eval(spec, net, options)


# ---- the shared cluster ----------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import dask
    from distributed import LocalCluster
    markers = tmp_path_factory.mktemp("markers")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", MARKERS)}
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(HERE)] + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
    os.environ[MARKERS] = str(markers)
    # one retry for a task whose worker died (Dask's default is 3): keeps the dying-worker
    # test to two worker restarts
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=40)
    try:
        yield {"address": lc.scheduler_address, "markers": markers, "cluster": lc}
    finally:
        lc.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _sweep(cluster, db, vary, evaluator=fake_eval, net=None, **kw):
    return run_sweep(BASE, parse_vary(vary), net, base_name="ambrogio2018",
                     evaluator=evaluator, db=db, scheduler=cluster["address"],
                     progress=False, **kw)


def _rows(db) -> dict:
    with SweepStore(db, readonly=True) as store:
        return {p["key"]: p for p in store.points()}


GRID = ["adc.bits=4,6,8", "array.rows=128,256"]


# ---- tests -------------------------------------------------------------------------------
def test_small_sweep_on_two_workers(cluster, tmp_path):
    db = tmp_path / "s.db"
    s = _sweep(cluster, db, GRID)
    assert (s["points"], s["computed"], s["failed"], s["skipped"]) == (6, 6, 0, 0)
    assert s["status"] == "finished"
    rows = _rows(db)
    assert len(rows) == 6
    seen = set()
    for p in rows.values():
        assert p["status"] == "done" and p["error"] is None and p["attempts"] == 1
        spec = BASE.with_overrides(p["overrides"])
        assert p["spec_digest"] == spec.digest() and p["spec"] == spec.to_dict()
        assert p["metrics"] == {k: v for k, v in fake_eval(spec, None, {}).items()
                                if k != "_timings"}
        assert p["timings"] == {"fake": 0.0}
        assert p["version"] and p["finished"] >= p["started"]
        seen.add(tuple(p["overrides"].items()))
    assert seen == {(("adc.bits", b), ("array.rows", r)) for b in (4, 6, 8) for r in (128, 256)}
    workers = {p["worker"] for p in rows.values()}
    assert len(workers) >= 1
    # a second run finds everything done and computes nothing
    again = _sweep(cluster, db, GRID)
    assert (again["skipped"], again["computed"], again["failed"]) == (6, 0, 0)
    assert _rows(db) == rows


def test_each_task_runs_on_the_worker_the_client_chose(cluster, tmp_path, monkeypatch):
    """Tasks are pinned (loosely) to the worker the batcher sized them for: every point
    ran in the process of the worker its task was given to, and both workers got tasks."""
    from distributed import Client
    real, pinned = Client.submit, []

    def spy(self, fn, *args, **kw):
        pinned.append(([json.loads(t) for t in args[1]], kw.get("workers"),
                       kw.get("allow_other_workers")))
        return real(self, fn, *args, **kw)
    monkeypatch.setattr(Client, "submit", spy)
    db = tmp_path / "pin.db"
    s = _sweep(cluster, db, ["adc.bits=4,5,6,7,8,9", "array.rows=128,256"], batch=2)
    assert s["computed"] == 12 and s["tasks"] == 6
    with Client(cluster["address"]) as client:
        pids = client.run(os.getpid)
    ran = {p["spec_digest"]: int(p["worker"].rsplit(":", 1)[1]) for p in _rows(db).values()}
    assert {w[0] for _, w, _ in pinned} == set(pids)          # both workers were given tasks
    for specs, workers, loose in pinned:
        assert loose is True and len(workers) == 1
        for spec in specs:
            assert ran[spec_from_dict(spec, "t").digest()] == pids[workers[0]]


def test_failing_point_is_stored_and_retried_on_resume(cluster, tmp_path):
    db = tmp_path / "f.db"
    marker = cluster["markers"] / "fail-adc6"
    marker.touch()
    try:
        first = _sweep(cluster, db, GRID, evaluator=flaky_eval)
    finally:
        marker.unlink()
    assert (first["computed"], first["failed"]) == (4, 2)
    rows = _rows(db)
    failed = {k for k, p in rows.items() if p["status"] == "failed"}
    assert {rows[k]["overrides"]["adc.bits"] for k in failed} == {6}
    for k in failed:
        assert rows[k]["error"] == "RuntimeError: injected failure at adc.bits=6"
        assert "Traceback" in rows[k]["traceback"] and rows[k]["metrics"] is None
    second = _sweep(cluster, db, GRID, evaluator=flaky_eval)
    assert (second["skipped"], second["computed"], second["failed"]) == (4, 2, 0)
    after = _rows(db)
    for k, p in after.items():
        assert p["status"] == "done"
        if k in failed:
            assert p["attempts"] == 2 and p["error"] is None
            assert p["sweep_id"] == second["sweep_id"]
        else:                                   # not recomputed: the same row
            assert p == rows[k]


def _batches_with_one_bad_point(cluster, db, evaluator) -> tuple[dict, dict]:
    """8 points in tasks of 4, adc.bits=3 going wrong with `evaluator`: every point
    computed once, only that one failed. Returns the rows and the failed row."""
    s = _sweep(cluster, db, ["adc.bits=4,5,6,3,7,8,9,10"], evaluator=evaluator, batch=4)
    assert (s["points"], s["computed"], s["failed"], s["status"]) == (8, 7, 1, "finished")
    rows = _rows(db)
    bad = [p for p in rows.values() if p["status"] == "failed"]
    assert [p["overrides"]["adc.bits"] for p in bad] == [3]
    assert all(p["attempts"] == 1 for p in rows.values())
    return rows, bad[0]


def test_a_failed_batch_is_rerun_point_by_point(cluster, tmp_path):
    """Points go to Dask in batches; when a batch task itself fails (here: a
    BaseException that run_point does not catch; in use, its worker died), each of its
    points runs again alone, so only the guilty point is stored as failed."""
    rows, bad = _batches_with_one_bad_point(cluster, tmp_path / "b.db", task_failing_eval)
    assert bad["error"] == "TaskFailure: the whole task fails" and bad["attempts"] == 1


def test_metrics_that_are_not_json_fail_their_point_alone(cluster, tmp_path):
    """The workers encode each point's metrics as JSON (the client stores the text): a
    value that is not JSON fails that point with the error, the batch's other points are
    stored, and nothing is rerun."""
    rows, bad = _batches_with_one_bad_point(cluster, tmp_path / "j.db", unreadable_eval)
    assert bad["error"] == "metrics: TypeError: not JSON serialisable: Unreadable"
    assert bad["metrics"] is None and "Traceback" in bad["traceback"]
    good = [p for p in rows.values() if p["status"] == "done"]
    assert all(p["metrics"] == {k: v for k, v in fake_eval(BASE.with_overrides(
        p["overrides"]), None, {}).items() if k != "_timings"} for p in good)
    assert all(p["timings"] == {"fake": 0.0} for p in good)


def _plan(b, now=0.0):
    """Every task a batcher would submit now: [(worker, points)], assigned as the sweep
    does (keys t0, t1, ...)."""
    out = []
    while (slot := b.slot(now)) is not None:
        worker, size = slot
        points = b.take(size)
        b.submitted = getattr(b, "submitted", 0) + 1
        b.assigned(worker, f"t{b.submitted - 1}", len(points), now)
        out.append((worker, len(points)))
    return out


def test_batches_follow_the_measured_point_time():
    from codesign.sweep.execute import TASK_TARGET_S, _Batcher
    b = _Batcher(list(range(200)), ["a", "b"])
    assert _plan(b) == [("a", 1), ("b", 1)]             # not timed: one point per worker
    assert b.slot(0.0) is None                          # one task each until timed
    b.finished("t0", 0.05)
    b.record([{"elapsed_s": TASK_TARGET_S / 20}])
    # timed: about TASK_TARGET_S a task, two tasks queued per worker (b's first counts)
    assert _plan(b, 0.05) == [("a", 20), ("b", 20), ("a", 20)]
    b = _Batcher(list(range(10)), ["a"])
    b.retry_alone(["x", "y"])
    assert b.take(5) == ["x"] and b.take(5) == ["y"] and b.take(2) == [0, 1]
    b = _Batcher(list(range(10)), ["a", "b"], batch=3)
    assert _plan(b) == [("a", 3), ("b", 3), ("a", 3), ("b", 1)]   # fixed size, two each


def test_batches_even_out_the_workers_finishing_times():
    """The client sizes each worker's tasks so that the workers run dry together: half a
    worker's share at a time, its whole share below twice TASK_MIN_S; the tail goes to
    whichever worker runs dry first."""
    from codesign.sweep.execute import TASK_MIN_S, _Batcher
    p = TASK_MIN_S / 4                                   # 4 points make a shortest task
    b = _Batcher(list(range(48)), ["a", "b"], point_s=p)   # a guess from the warm-up
    assert _plan(b) == [("a", 12), ("b", 12), ("a", 6), ("b", 6)]
    assert len(b) == 12 and b.slot(0.0) is None          # both queues full
    # a ran faster than guessed: its first task is back at 8 points' time and its second
    # (6) runs from then: a runs dry at 14, b (12 + 6 from 0) at 18; with the 12 points
    # left the level is (14 + 18 + 12) / 2 = 22: a's share is 8, half of it now
    b.finished("t0", 8 * p)
    assert _plan(b, 8 * p) == [("a", 4)]
    b.finished("t1", 12 * p)       # b as guessed: dry at 18, a at 18; level 22, share 4
    assert _plan(b, 12 * p) == [("b", 4)]                 # under 2 x 4: the whole share
    b.finished("t2", 14 * p)       # a dry at 18, b at 22: a takes the 4 left
    assert _plan(b, 14 * p) == [("a", 4)] and not len(b)  # both run dry at 22
    b = _Batcher(list(range(5)), ["a", "b", "c"], point_s=p)   # few points, many workers
    assert _plan(b) == [("a", 2), ("b", 2), ("c", 1)]


def test_batches_keep_going_when_workers_come_and_go():
    """A worker that leaves gets no more tasks (those it had run elsewhere, and still
    count when they come back); one that joins starts idle; every point goes out once."""
    from codesign.sweep.execute import TASK_MIN_S, _Batcher
    b = _Batcher(list(range(40)), ["a", "b"], point_s=TASK_MIN_S)
    given = _plan(b)
    assert {w for w, _ in given} == {"a", "b"}
    b.set_workers(["b", "c"], 0.01)                      # a died, c joined
    later = _plan(b, 0.01)
    assert [w for w, _ in later] == ["c", "c"]           # b's queue is full, a is gone
    assert _plan(b, 0.01) == []                          # every live queue is full
    sent = sum(n for _, n in given + later)
    while len(b):                                        # every task comes back in turn
        for key in list(b.where):
            b.finished(key, 1.0)
        plan = _plan(b, 1.0)
        assert plan and {w for w, _ in plan} <= {"b", "c"}
        sent += sum(n for _, n in plan)
    assert sent == 40
    b = _Batcher(list(range(3)), [])                     # no worker listed: not pinned
    assert _plan(b) == [(None, 1)]


def test_grid_size_is_printed_first_and_force_runs_a_grid_over_the_limit(cluster, tmp_path,
                                                                         capsys):
    db = tmp_path / "g.db"
    argv = ["sweep", "--vary", "adc.bits=4,6,8", "--vary", "array.rows=128,256",
            "--scheduler", cluster["address"], "--evaluator", "test_sweep:fake_eval",
            "--db", str(db), "--json", "--max-points", "5"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == ("codesign: error: --vary: the grid has 6 points (adc.bits 3 x "
                   "array.rows 2), more than the limit of 5; allowed: --max-points 6 or "
                   "--force to run it, or fewer values\n")
    assert not db.exists()
    assert main(argv + ["--force"]) == 0
    cap = capsys.readouterr()
    assert cap.err.splitlines()[0] == "sweep grid: 6 points (adc.bits 3 x array.rows 2)"
    assert json.loads(cap.out)["computed"] == 6
    assert main(argv[:-2] + ["--max-points", "6"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == \
        "sweep grid: 6 points (adc.bits 3 x array.rows 2); max_points 6"


def _done(db: Path) -> dict:
    if not db.exists():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {k: f for k, f in con.execute(
            "SELECT key, finished FROM points WHERE status = 'done'")}
    except sqlite3.OperationalError:   # schema not created yet
        return {}
    finally:
        con.close()


def _cli_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return env


KILL_GRID = ["--vary", "adc.bits=4,5,6,7", "--vary", "array.rows=64,128,256"]


def _cli_sweep(cluster, db, evaluator, grid=KILL_GRID):
    return [sys.executable, "-m", "codesign", "sweep", "--spec", "ambrogio2018", *grid,
            "--scheduler", cluster["address"], "--db", str(db), "--evaluator",
            f"test_sweep:{evaluator}", "--json", "--quiet"]


def test_killed_sweep_resumes_to_clean_results(cluster, tmp_path, capsys):
    """`codesign sweep` on its own local cluster, killed (SIGKILL) after a few points:
    its workers go with it, and the rerun computes only the rest and ends with the same
    results as an uninterrupted run."""
    import psutil
    db = tmp_path / "k.db"
    argv = _cli_sweep(cluster, db, "slow_eval")
    local = argv[:argv.index("--scheduler")] + ["--workers", "2"] + \
        argv[argv.index("--scheduler") + 2:]
    proc = subprocess.Popen(local, env=_cli_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    try:
        while len(_done(db)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no points stored in 90 s"
            time.sleep(0.05)
        children = psutil.Process(proc.pid).children(recursive=True)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    before = _done(db)
    assert 3 <= len(before) < 12
    _, alive = psutil.wait_procs(children, timeout=30)
    for p in alive:                       # clean up before failing
        p.kill()
    assert not alive, f"workers left behind by the killed sweep: {alive}"
    with SweepStore(db, readonly=True) as store:
        killed = store.sweeps()[0]          # never closed, and its process is gone
        assert (killed["stored_status"], killed["status"]) == ("running", "stale")
    # resume (on the shared cluster: the scheduler is not part of a point's key)
    code = main(argv[3:])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["status"] == "finished"
    assert out["skipped"] == len(before) and out["computed"] == 12 - len(before)
    after = _rows(db)
    assert len(after) == 12 and all(p["status"] == "done" for p in after.values())
    for key, finished in before.items():                 # not recomputed
        assert after[key]["finished"] == finished and after[key]["attempts"] == 1
    # the same results as a clean, uninterrupted run of the same grid (the CLI's default
    # network is part of the options, so of the keys)
    clean = tmp_path / "clean.db"
    _sweep(cluster, clean, ["adc.bits=4,5,6,7", "array.rows=64,128,256"], evaluator=slow_eval,
           net=load_network("mlp-2018"))
    ref = _rows(clean)
    assert set(ref) == set(after)
    assert {k: (p["metrics"], p["spec"], p["overrides"]) for k, p in ref.items()} == \
        {k: (p["metrics"], p["spec"], p["overrides"]) for k, p in after.items()}


def test_concurrent_sweeps_share_one_file(cluster, tmp_path):
    """Two `codesign sweep` processes with overlapping grids write one file at once."""
    db = tmp_path / "c.db"
    grids = [["--vary", "adc.bits=4,6", "--vary", "array.rows=64,128,256"],
             ["--vary", "adc.bits=6,8", "--vary", "array.rows=64,128,256"]]
    procs = [subprocess.Popen(_cli_sweep(cluster, db, "slow_eval", g), env=_cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for g in grids]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
        assert json.loads(out)["failed"] == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    rows = _rows(db)
    bits = sorted(p["overrides"]["adc.bits"] for p in rows.values())
    assert bits == [4] * 3 + [6] * 3 + [8] * 3          # the shared points stored once
    assert all(p["status"] == "done" and p["attempts"] == 1 for p in rows.values())
    with SweepStore(db, readonly=True) as store:
        assert [s["status"] for s in store.sweeps()] == ["finished", "finished"]


def test_identical_sweeps_started_together_compute_each_point_once(cluster, tmp_path):
    """Two identical `codesign sweep` processes on one file claim points in the database:
    every point is evaluated once, both end 'finished' and report all points."""
    db = tmp_path / "same.db"
    log = cluster["markers"] / "evaluations.log"
    log.unlink(missing_ok=True)
    grid = ["--vary", "adc.bits=4,5,6", "--vary", "array.rows=64,128,256"]
    procs = [subprocess.Popen(_cli_sweep(cluster, db, "counting_eval", grid), env=_cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
    summaries = [json.loads(out) for out, _ in outs]
    evaluated = log.read_text().splitlines()
    assert len(evaluated) == 9 and len(set(evaluated)) == 9        # nothing twice
    assert sum(s["computed"] for s in summaries) == 9
    for s in summaries:   # each saw every point: its own, the other's, or already done
        assert s["computed"] + s["elsewhere"] + s["skipped"] == 9 and s["failed"] == 0
        assert len(s["results"]) == 9
    with SweepStore(db, readonly=True) as store:
        assert [s["status"] for s in store.sweeps()] == ["finished", "finished"]
        assert all(p["attempts"] == 1 for p in store.points())


def test_two_sweeps_in_threads_of_one_process(cluster, tmp_path):
    """Each sweep waits on its own client: with two clients in one process, the second
    must not hang when the first closes (Dask's as_completed defaults to the process's
    default client)."""
    from concurrent.futures import ThreadPoolExecutor
    db = tmp_path / "t.db"
    grids = [["adc.bits=4,6", "array.rows=64,128"], ["adc.bits=6,8", "array.rows=64,128"]]
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(_sweep, cluster, db, g, slow_eval) for g in grids]
        runs = [f.result(timeout=120) for f in futures]
    assert [r["status"] for r in runs] == ["finished", "finished"]
    assert sorted(p["overrides"]["adc.bits"] for p in _rows(db).values()) == [4, 4, 6, 6, 8, 8]


def test_dying_worker_fails_its_point_and_the_sweep_goes_on(cluster, tmp_path):
    from distributed import Client
    db = tmp_path / "d.db"
    _sweep(cluster, db, ["adc.bits=4"], evaluator=deadly_eval)
    s = _sweep(cluster, db, ["adc.bits=4,3"], evaluator=deadly_eval)
    assert (s["skipped"], s["computed"], s["failed"]) == (1, 0, 1)
    rows = _rows(db)
    dead = [p for p in rows.values() if p["overrides"]["adc.bits"] == 3][0]
    assert dead["status"] == "failed" and dead["error"].startswith("KilledWorker")
    with Client(cluster["address"]) as client:        # the nannies restart the workers
        client.wait_for_workers(2, timeout=60)


def test_cli_sweep_runs_mapping_estimate_and_training(tmp_path, capsys):
    """The real evaluation on the default local cluster (two workers): every point's
    metrics are those of codesign.mapping, codesign.estimate and codesign.nn directly."""
    from codesign.estimate import estimate
    from codesign.mapping import map_network
    from codesign.nn.train import TrainConfig, train
    db, png = tmp_path / "real.db", tmp_path / "pareto.png"
    # ideal and PCM-pair cells train fast; 2PCM+3T1C training is tested in codesign.nn
    argv = ["sweep", "--spec", "ambrogio2018", "--vary", "array.cell=ideal,pcm-pair",
            "--net", "64-32-10",
            "--dataset", "digits", "--train-epochs", "1", "--train-limit", "100",
            "--workers", "2", "--db", str(db), "--png", str(png), "--json", "--quiet"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["points"], out["computed"], out["failed"]) == (2, 2, 0)
    assert out["scheduler"] == "local:2" and png.read_bytes().startswith(b"\x89PNG")
    assert out["options"] == {"train_epochs": 1, "seed": 0, "net": "64-32-10",
                              "net_digest": out["options"]["net_digest"],
                              "dataset": "digits", "train_limit": 100,
                              "train": {"lr": 0.01, "batch": 1, "update_mode": "exact",
                                        "range_factor": None, "transfer_interval": None,
                                        "polarity_inversion": None, "hidden": None,
                                        "conv_update": "kernel"}}
    assert out["pareto"]["objectives"] == ["accuracy", "energy_per_inference_j", "area_mm2"]
    net = load_network_any("64-32-10")
    rows = _rows(db)
    for p in rows.values():
        spec = BASE.with_overrides(p["overrides"])
        mapping = map_network(net, spec)
        est = estimate(spec, net=net, mapping=mapping).to_dict()
        m = p["metrics"]
        assert m["estimate"] == json.loads(json.dumps(est))
        assert m["mapping"] == json.loads(json.dumps(mapping.to_dict()))
        assert (m["area_mm2"], m["energy_per_inference_j"], m["tiles"]) == \
            (est["area_mm2"], est["energy_per_inference_j"], est["tiles"])
        assert set(p["timings"]) == {"mapping", "estimate", "training"}
    assert len({p["metrics"]["area_mm2"] for p in rows.values()}) == 2   # cells differ
    pair = next(p for p in rows.values() if p["overrides"]["array.cell"] == "pcm-pair")
    ref = train(TrainConfig(net="64-32-10", spec=BASE.with_overrides(pair["overrides"]),
                            cell="pcm-pair", dataset="digits", epochs=1, limit=100),
                progress=False)
    assert pair["metrics"]["accuracy"] == ref.test_accuracy[-1]


def load_network_any(name):
    from codesign.nn.build import resolve_network
    return resolve_network(name)


# ---- the grid, before anything runs ------------------------------------------------------
def test_vary_values_parse_to_the_field_type():
    grid = parse_vary(["adc.bits=4,6", "clock.frequency=5e8,1e9", "update.lfsr_taps=0xB400",
                       "cell.polarity_inversion=true,no", "array.cell=ideal,pcm-pair",
                       "pcm.prog_noise=[1e-7,2e-6],[0,1e-6,0]"])
    assert grid == {"adc.bits": [4, 6], "clock.frequency": [5e8, 1e9],
                    "update.lfsr_taps": [0xB400], "cell.polarity_inversion": [True, False],
                    "array.cell": ["ideal", "pcm-pair"],
                    "pcm.prog_noise": [(1e-7, 2e-6), (0.0, 1e-6, 0.0)]}


@pytest.mark.parametrize("vary, message", [
    ("adc.bitz=4,6", "--vary adc.bitz: unknown spec key; did you mean adc.bits"),
    ("adc.bits=4,x", "--vary adc.bits: value 'x' has the wrong type; allowed: an integer"),
    ("adc.bits", "--vary 'adc.bits': expected KEY=V1,V2,..."),
    ("adc.bits=4,,6", "--vary adc.bits: an empty value"),
    ("adc.bits=4,4", "--vary adc.bits: value 4 is repeated"),
    ("adc.bits=1,8", "sweep point adc.bits=1: adc.bits: value 1 is out of range; allowed: "
                     "int in [2, 16]"),
])
def test_bad_vary_exits_2_with_one_line(vary, message, tmp_path, capsys):
    db = tmp_path / "bad.db"
    assert main(["sweep", "--vary", vary, "--db", str(db), "--workers", "1"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.startswith(f"codesign: error: {message}")
    assert cap.err.count("\n") == 1
    assert not db.exists()                 # rejected before the database or cluster


def test_grids_over_the_default_limit_are_refused_before_any_point_is_built(tmp_path,
                                                                          capsys):
    from codesign.cli import sweep_cmd
    from codesign.sweep.grid import MAX_POINTS, check_grid_size, grid_size
    assert sweep_cmd.MAX_POINTS == MAX_POINTS == 1000
    vary = ["adc.bits=" + ",".join(map(str, range(2, 17))),            # 15
            "array.rows=" + ",".join(str(2 ** k) for k in range(4, 12)),   # 8
            "clock.frequency=" + ",".join(f"{f}e8" for f in range(1, 11))]  # 10
    grid = parse_vary(vary)
    assert grid_size(grid) == 1200
    db = tmp_path / "big.db"
    argv = ["sweep", *[a for v in vary for a in ("--vary", v)], "--db", str(db)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the grid has 1,200 points" in err
    assert "limit of 1,000" in err and not db.exists()
    check_grid_size(grid, None)                   # no limit
    with pytest.raises(UserError, match="^max_points: value 0"):
        check_grid_size(grid, 0)
    with pytest.raises(UserError, match="the grid has 1,200 points"):
        run_sweep(BASE, grid, None, evaluator=fake_eval, db=db, workers=1, progress=False,
                  max_points=1000)
    assert not db.exists()


def test_invalid_combination_is_rejected_up_front(tmp_path):
    # each value is valid alone; 128 ADCs do not divide 64 columns
    with pytest.raises(SpecError, match=r"^sweep point adc.count=128, array.cols=64: "
                                        r"adc.count: value 128 is inconsistent"):
        run_sweep(BASE, parse_vary(["adc.count=64,128", "array.cols=64,512"]), None,
                  evaluator=fake_eval, db=tmp_path / "x.db", workers=1, progress=False)
    assert not (tmp_path / "x.db").exists()


def test_checking_a_grid_shows_its_size_and_a_bad_point_ends_it_in_one_line(
        tmp_path, capsys, monkeypatch):
    """Checking every point of a big grid takes a while: its bar (after a delay, here
    none) shows the grid's size; a bad point ends it with the one-line error, before any
    size line or database."""
    import tqdm as tqdm_module
    from tqdm import tqdm
    monkeypatch.setattr(tqdm_module, "tqdm",     # no delay: a 4-point grid shows its bar
                        lambda *a, **kw: tqdm(*a, **{**kw, "delay": 0, "mininterval": 0}))
    with pytest.raises(SpecError):
        run_sweep(BASE, parse_vary(["adc.count=64,128", "array.cols=64,512"]),
                  load_network("mlp-2018"), evaluator=fake_eval, db=tmp_path / "x.db",
                  workers=1, progress=True)
    err = capsys.readouterr().err
    assert "checking sweep points" in err and "/4 " in err
    assert "sweep grid" not in err
    assert not (tmp_path / "x.db").exists()


def test_duplicate_key_and_bad_evaluator_are_user_errors(tmp_path, capsys):
    with pytest.raises(UserError, match="given twice"):
        parse_vary(["adc.bits=4", "adc.bits=6"])
    assert main(["sweep", "--vary", "adc.bits=4", "--evaluator", "nope", "--db",
                 str(tmp_path / "e.db")]) == 2
    assert "expected MODULE:FUNCTION" in capsys.readouterr().err


def test_bench_sweep_reports_throughput_tasks_and_load():
    import argparse
    from codesign.bench import sweep as bench_sweep
    out = bench_sweep.run(argparse.Namespace(vary=["adc.bits=4,6,8"], net="mlp-2018",
                                             train_epochs=0, workers="1", repeat=1))
    assert out["points"] == 3 and out["failed_1w"] == 0 and out["points_per_s_1w"] > 0
    assert 1 <= out["tasks_1w"] <= 3 and out["point_s_1w"] > 0
    assert 0 < out["client_cpu_s_1w"] < 60
    assert "load_avg_1m_before" in out and "speedup_2w" not in out


def test_warm_up_fills_a_workers_caches_before_its_first_point(monkeypatch):
    """A worker's warm-up imports the modules, evaluates the base twice with the default
    evaluator (mapping and estimate, never training; the second is timed), and freezes the garbage collector's
    view of what is alive only when asked (the sweep's own cluster); nothing raises."""
    import gc
    import codesign.estimate
    from codesign.sweep.evaluate import evaluate_point, warm_up
    net = load_network("mlp-2018")
    seen, calls = [], []
    real = codesign.estimate.estimate

    def spy(spec, **kw):
        seen.append((spec.digest(), kw["net"].name))
        return real(spec, **kw)
    monkeypatch.setattr(codesign.estimate, "estimate", spy)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    options = {"train_epochs": 3, "seed": 0, "net": "mlp-2018", "dataset": "mnist5k"}
    seconds = warm_up(("codesign.mapping", "no.such.module"), evaluate_point,
                      BASE.to_json(), net, options)
    assert seen == [(BASE.digest(), net.name)] * 2 and calls == []   # no training
    assert 0 < seconds < 5
    assert warm_up((), fake_eval, BASE.to_json(), net, options, freeze=True) is None
    assert len(seen) == 2 and calls == ["collect", "freeze"]      # not another evaluator's
    monkeypatch.setattr(codesign.estimate, "estimate", lambda *a, **k: 1 / 0)
    assert warm_up((), evaluate_point, BASE.to_json(), net, options) is None   # the points


def test_the_base_is_evaluated_in_warm_up_only_with_enough_points_per_worker():
    from codesign.sweep.execute import WARM_POINTS, _Dask

    class Client:            # a stand-in: two workers, records what the warm-up is given
        def __init__(self):
            self.calls = []

        def scheduler_info(self):
            return {"workers": {"a": {}, "b": {}}}

        def run(self, fn, *args, **kw):
            self.calls.append((args, kw))
            return {"a": 0.25 if len(args) > 1 else None, "b": 0.5 if len(args) > 1 else None}
    d = _Dask(2, None)
    d.client = Client()
    warm = ("evaluator", "{\"spec\": 1}", "net", {"seed": 0})
    d.client_for(2 * WARM_POINTS - 1, ("codesign.mapping",), *warm)
    assert d.client.calls[-1] == ((("codesign.mapping",),), {"freeze": False})
    assert d.warm_s == []                     # nothing evaluated: no guess of a point's time
    d.client_for(2 * WARM_POINTS, ("codesign.mapping",), *warm)
    assert d.client.calls[-1][0] == (("codesign.mapping",), *warm)
    assert d.warm_s == [0.25, 0.5]
