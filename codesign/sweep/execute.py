"""Running a sweep on Dask distributed and storing every result as it arrives.

The client (this process) expands and validates the grid, skips the points the database
already holds as done, submits the rest to a ``distributed.LocalCluster`` (n worker
processes, one thread each: the numpy core is single-threaded per point and Dask pins
BLAS threads to 1 in its workers) or to an existing scheduler, and writes each finished
task's results in one transaction as soon as it completes. So a sweep that is killed
keeps every point it finished, and the next run computes only the rest; a point that
raises is stored as failed with its error and retried by the next run; a point whose
worker dies is retried by Dask on another worker (``distributed.scheduler.allowed-
failures``) and, if it kills that one too, stored as failed.

Short points are batched, and each task is pinned (loosely) to a worker the client
chooses (_Batcher): each worker's first task holds one point, unless the workers' warm-up
timed a point (a second evaluation of the base without training, after the first filled
the caches); from then on the client knows each worker's queue and when it should run
dry, and gives the worker that runs dry first a task of half the points that would make
all workers finish together (guided self-scheduling), of at least TASK_MIN_S and at most
TASK_TARGET_S of work, or, when that share is under twice TASK_MIN_S, the whole share.
Two tasks per worker are queued at a time (one until a point has been timed), so the
batch size follows the points' real cost. A batch whose worker dies is split and its
points rerun one per task, so one deadly point fails alone. Every worker imports the
evaluation's modules as the cluster starts (start-up time, not the first point's), and
with the default evaluator and at least WARM_POINTS points per worker each evaluates the
base spec twice, so the caches a process fills on its first point are filled then and a
point's time is known (evaluate.warm_up).

Two sweeps on one database share the work: before a task is submitted its points are
claimed in the database (codesign.sweep.store.SweepStore.claim); points another running
sweep has claimed are left to it, and once its own points are done the sweep waits for
those (saying so), taking over any whose sweep has gone (killed, interrupted).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UserError
from ..spec import Spec
from .evaluate import (Evaluator, evaluate_point, evaluator_name, one_line, run_batch,
                       warm_modules, warm_up)
from .grid import Point, check_grid_size, describe_size, expand
from .store import JSONText, SweepStore

#: Seconds of work a batched task aims at (points are batched up to this).
TASK_TARGET_S = 1.0
#: Seconds of work a batched task holds at least (unless its worker's share is smaller): a
#: task costs the client process (client, scheduler, nannies) 3-5 ms of CPU, taken from
#: the points when every core computes, and a round trip of about 11 ms (measured on the
#: 2-core machines: 24 one-point tasks of a 24-point sweep took 150-180 ms of the client
#: process's CPU on the Xeon, 99 ms on the EPYC, 2 tasks 13 ms there; one task submitted
#: and gathered at a time: 4.6 ms of CPU and 11 ms each), so a task of 50 ms keeps that
#: under about a tenth.
TASK_MIN_S = 0.05
#: Points per worker from which each worker evaluates the base twice as it starts
#: (evaluate.warm_up): that costs about two points per worker, at most a quarter of the
#: sweep's work then, in start-up; it saves each worker's first point the caches it fills
#: (50-80 ms of a first point of about 100 ms, mlp-2018 on the 2-core Xeon) and times a
#: point before the first task is sized, which matters only when points are short and
#: many.
WARM_POINTS = 8
#: Tasks queued per worker at any time.
TASKS_PER_WORKER = 2
#: Seconds between looks at points another sweep is computing.
WAIT_POLL_S = 0.5
#: Dask settings of the sweep's own local cluster: its event loops check for blocking
#: every 500 ms instead of 20 ms and sample CPU and memory for the dashboard every 2 s
#: instead of 0.5 s: the idle CPU of the scheduler (this process) fell from about 0.06 to
#: 0.03 s per s (measured on the 2-core machine, where that CPU is taken from the points).
#: Dask's statistical profiler (a thread in every worker, nanny and scheduler sampling the
#: stacks every 10 ms, for the dashboard's Profile page) is off: with it, py-spy found its
#: sampling thread in 27 % of the busy samples of the scheduler's process during a sweep.
LOCAL_CLUSTER_CONFIG = {"distributed.admin.tick.interval": "500ms",
                        "distributed.worker.profile.enabled": False,
                        "distributed.admin.system-monitor.interval": "2s"}


def sweep_options(net, net_source: str | None = None, train_epochs: int = 0,
                  train_limit: int | None = None, dataset: str = "mnist5k", seed: int = 0,
                  evaluator: Evaluator | None = None,
                  train_options: dict | None = None) -> dict:
    """The evaluation options that, with the resolved spec, identify a point's result.
    Training options appear only when training is asked for, so an estimate-only point
    keeps its key whatever the training defaults are. ``train_options``: further
    codesign.nn.train.TrainConfig fields of the training run (lr, hidden, batch, ...)."""
    if train_epochs < 0:
        raise UserError(f"train_epochs: value {train_epochs}; allowed: an integer >= 0",
                        field="train_epochs")
    if train_limit is not None and train_limit < 1:
        raise UserError(f"train_limit: value {train_limit}; allowed: an integer >= 1",
                        field="train_limit")
    options: dict[str, Any] = {"train_epochs": int(train_epochs), "seed": int(seed)}
    if net is not None:
        text = json.dumps(net.to_dict(), sort_keys=True, default=str)
        options["net"] = net_source or net.name
        options["net_digest"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    if train_epochs > 0:
        if net is None:
            raise UserError(f"train_epochs: value {train_epochs}: training needs a network; "
                            "allowed: 0 without a net", field="train_epochs")
        options.update(dataset=dataset, train_limit=train_limit)
        if train_options:
            options["train"] = dict(train_options)
    if evaluator is not None and evaluator is not evaluate_point:
        options["evaluator"] = evaluator_name(evaluator)
    return options


def check_training(base: Spec, options: dict) -> None:
    """Fail before the sweep when the network cannot be trained on the dataset."""
    if options.get("train_epochs", 0) > 0:
        from ..nn.train import prepare_data
        from .evaluate import train_config
        prepare_data(train_config(base, options))


class _Dask:
    """The sweep's Dask client. An external scheduler is connected at once, so that a wrong
    address fails before the database is touched; a local cluster starts only when there
    are points to run, with no more workers than points."""

    def __init__(self, workers: int, scheduler: str | None):
        if workers < 1:
            raise UserError(f"workers: value {workers}; allowed: an integer >= 1",
                            field="workers")
        self.workers, self.scheduler = workers, scheduler
        self.client = self.cluster = None
        self.startup_s = 0.0
        self.warm_s: list[float] = []     # each worker's warm-up evaluation (seconds)
        if scheduler:
            self._start()

    def client_for(self, n_points: int, modules: tuple[str, ...] = (), *warm: Any):
        """The client, its cluster started (local) and its workers warmed up
        (evaluate.warm_up: `modules` imported, then ``warm`` = (evaluator, base spec
        JSON, net, options) evaluated once when there are at least WARM_POINTS points
        per worker; counted in startup_s)."""
        if self.client is None:
            self._start(min(self.workers, n_points))
        if warm and n_points < WARM_POINTS * max(1, len(_workers(self.client))):
            warm = ()
        if modules or warm:
            t0 = time.perf_counter()
            done = self.client.run(warm_up, modules, *warm, freeze=self.cluster is not None)
            self.warm_s = [float(v) for v in done.values() if v is not None]
            self.startup_s += time.perf_counter() - t0
        return self.client

    def _start(self, n_workers: int = 0) -> None:
        from distributed import Client, LocalCluster
        t0 = time.perf_counter()
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="15s")
            except (OSError, TimeoutError) as exc:
                raise UserError(f"scheduler {self.scheduler}: cannot connect "
                                f"({one_line(exc)})", field="scheduler") from None
        else:
            import dask
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                            processes=True, dashboard_address=":0",
                                            silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self.startup_s = time.perf_counter() - t0

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def run_sweep(base: Spec, grid: dict[str, list], net=None, *, base_name: str | None = None,
              net_source: str | None = None, train_epochs: int = 0,
              train_limit: int | None = None, dataset: str = "mnist5k", seed: int = 0,
              evaluator: Evaluator | None = None, db: str | Path = "sweep.db",
              workers: int = 2, scheduler: str | None = None, progress: bool = True,
              max_points: int | None = None, batch: int | None = None,
              train_options: dict | None = None) -> dict:
    """Evaluate every point of ``grid`` (``{dotted key: [values]}``) around ``base`` on
    ``net`` (a codesign.network Network; ``net_source`` is how workers load it for
    training: its name, size string or file path; ``train_options``: further TrainConfig
    fields of the training, see sweep_options).

    A grid of more than ``max_points`` points (None: no limit) is refused before
    anything runs (codesign.sweep.grid.check_grid_size). Invalid points are rejected
    before anything runs (the spec's SpecError). ``batch``: points per Dask task (None:
    adapted to the points' measured time, module doc). Returns a
    summary: database, sweep id, counts (points, skipped, computed, failed, lost),
    seconds (elapsed; startup of the cluster and its workers' imports; compute, from
    the cluster being ready to the last result stored; the client's storing results;
    this process's CPU seconds during compute, client_cpu_s),
    Dask tasks run, and status ('finished', or 'interrupted' when the cluster lost
    points). ``elsewhere`` counts points another sweep on the same database computed
    while this one waited for them (module doc)."""
    evaluator = evaluator or evaluate_point
    options = sweep_options(net, net_source, train_epochs, train_limit, dataset, seed,
                            evaluator, train_options)
    check_grid_size(grid, max_points)
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise UserError(f"batch: value {batch!r}; allowed: an integer >= 1")
    # checking a big grid takes a while: a bar with its size shows after a second; a bad
    # point stops it with one line, before the size lines below
    points = expand(base, grid, options, progress=progress)
    _say(progress, f"sweep grid: {describe_size(grid)}" +
         (f"; max_points {max_points:,}" if max_points else ""))
    if net is not None:
        _say(progress, f"network {net.name}: {len(net.layers):,} layers, {net.weights:,} "
                       "weights, mapped and estimated once per point")
    check_training(base, options)
    where = scheduler or f"local:{workers}"
    t0 = time.perf_counter()
    dask = _Dask(workers, scheduler)
    try:
        with SweepStore(db) as store:
            sweep_id, done = store.begin_sweep(base_name or base.name, grid, options,
                                               __version__, where, [p.key for p in points])
            todo = [p for p in points if p.key not in done]
            _say(progress, f"sweep {sweep_id}: {len(points)} points, {len(done)} already "
                           f"done, {len(todo)} to run on {where} -> {store.path}")
            counts = {"computed": 0, "failed": 0, "lost": 0, "elsewhere": 0}
            status = "interrupted"
            stats = {"tasks": 0, "store_s": 0.0, "compute_s": 0.0, "client_cpu_s": 0.0}
            try:
                if todo:
                    client = dask.client_for(len(todo), warm_modules(evaluator, options),
                                             evaluator, base.to_json(), net, options)
                    # a point's time is about the workers' warm-up evaluation of the
                    # base when that is what a point does (no training)
                    guess = min(dask.warm_s) if dask.warm_s and \
                        not options.get("train_epochs") else None
                    _execute(store, sweep_id, todo, base_name or base.name, options,
                             evaluator, net, client, progress, counts, batch, stats, guess)
                status = "interrupted" if counts["lost"] else "finished"
            finally:
                store.end_sweep(sweep_id, status, counts["computed"], counts["failed"])
    finally:
        dask.close()
    return {"db": str(store.path), "sweep_id": sweep_id, "status": status,
            "points": len(points), "skipped": len(done), **counts,
            "elapsed_s": time.perf_counter() - t0, "startup_s": dask.startup_s, **stats,
            "scheduler": where, "vary": grid, "options": options}


class _Batcher:
    """Which worker gets the next task and how many points it holds (module doc).

    Tasks are pinned to a worker, loosely (Dask still runs a task elsewhere when its
    worker has gone), because Dask places a task without knowing how many points it
    holds: with two tasks queued per worker, the last task of a sweep could wait behind
    a long one on a busy worker while the other worker idled (measured: 40-70 ms of a
    200-ms sweep on the 2-core EPYC). Here the client keeps each worker's queue and when
    it is expected to run dry, and sizes each task so that the workers finish together:
    a worker's share is the points that bring it level with the others (level = (sum of
    the times the workers run dry + points left x point_s) / workers); a task takes half
    its worker's share (guided self-scheduling: later tasks, sized on better estimates,
    even out the rest) but at least TASK_MIN_S of points and at most TASK_TARGET_S;
    below twice TASK_MIN_S a worker takes its whole share. Before any point has been
    timed (and without a guess), each worker gets a one-point task at a time. Points of
    a batch whose worker died come back one per task (retry_alone).

    ``workers``: the workers' addresses (none listed: one queue, tasks not pinned)."""

    def __init__(self, todo: list[Point], workers: list[str],
                 batch: int | None = None, point_s: float | None = None):
        self.batch = batch
        self.pending = deque(todo)
        self.solo: deque[Point] = deque()
        # mean seconds per point so far; before any: `point_s`, a guess (the workers'
        # warm-up evaluation of the base) that the first timed point replaces
        self.point_s: float | None = point_s
        self.timed = 0
        self.queues: dict[Any, dict[str, int]] = {}   # worker -> {task key: points}
        self.since: dict[Any, float] = {}             # worker -> when its head task began
        self.where: dict[str, Any] = {}               # task key -> its worker
        self.workers: list = []
        self.set_workers(workers)

    def __len__(self) -> int:
        return len(self.pending) + len(self.solo)

    def set_workers(self, workers: list[str], now: float = 0.0) -> None:
        """The live workers (a worker that joined starts idle; one that left gets no
        more tasks, and its tasks, which Dask runs elsewhere, are still accounted)."""
        self.workers = list(workers) or [None]   # none listed: one queue, not pinned
        for w in self.workers:
            self.queues.setdefault(w, {})
            self.since.setdefault(w, now)

    def record(self, results: list[dict]) -> None:
        for r in results:
            if r.get("elapsed_s") is not None:
                self.timed += 1
                mean = self.point_s if self.timed > 1 else 0.0   # a guess is replaced
                self.point_s = mean + (float(r["elapsed_s"]) - mean) / self.timed

    def retry_alone(self, points: list[Point]) -> None:
        self.solo.extend(points)

    def put_back(self, points: list[Point]) -> None:
        """Points to run after all (their other sweep went away)."""
        self.pending.extendleft(reversed(points))

    def _timed(self) -> bool:
        return self.batch is not None or self.point_s is not None

    def slot(self, now: float) -> tuple[Any, int] | None:
        """The next task to submit now: (worker, points), or None (no worker has room,
        or the rest is better left to the workers that run dry first)."""
        if not len(self):
            return None
        depth = TASKS_PER_WORKER if self._timed() else 1
        room = [w for w in self.workers if len(self.queues[w]) < depth]
        if not room:
            return None
        ends = {w: self._end(w, now) for w in self.workers}
        # the first of them to run dry (of equals, the one with fewer points queued)
        w = min(room, key=lambda v: (ends[v], sum(self.queues[v].values())))
        if self.solo:
            return w, 1
        if self.batch is not None:
            return w, self.batch
        if self.point_s is None:
            return w, 1
        p = max(self.point_s, 1e-6)
        left = len(self.pending)
        level = (sum(ends.values()) + left * p) / len(self.workers)
        share = (level - ends[w]) / p                    # points to bring w level
        if share < 0.5 and any(self.queues.values()):
            return None           # others run dry first; a task finishing asks again
        least = math.ceil(TASK_MIN_S / p - 1e-9)
        size = math.ceil(share / 2 - 1e-9) if share >= 2 * least else round(share)
        return w, max(1, min(size, int(TASK_TARGET_S / p), left))

    def take(self, size: int) -> list[Point]:
        """The points of a task of `size` (a point to retry alone comes first, alone)."""
        if self.solo:
            return [self.solo.popleft()]
        return [self.pending.popleft() for _ in range(min(size, len(self.pending)))]

    def _end(self, worker: Any, now: float) -> float:
        """When the worker is expected to run dry: its queued points at the current
        point_s from when its head task began (not before now)."""
        queued = sum(self.queues[worker].values())
        return max(now, self.since[worker] + queued * (self.point_s or 0.0))

    def assigned(self, worker: Any, key: str, size: int, now: float) -> None:
        queue = self.queues.setdefault(worker, {})
        if not queue:
            self.since[worker] = now
        queue[key] = size
        self.where[key] = worker

    def finished(self, key: str, now: float) -> None:
        """A task came back (done, failed or lost): its worker's next queued task runs
        from now."""
        worker = self.where.pop(key, None)
        if worker in self.queues:
            self.queues[worker].pop(key, None)
            self.since[worker] = now


def _workers(client) -> list[str]:
    """The cluster's workers' addresses ([] when they cannot be listed)."""
    try:
        return list(client.scheduler_info().get("workers", {}))
    except Exception:   # noqa: BLE001 - for placing and sizing tasks only
        return []


def _execute(store: SweepStore, sweep_id: int, todo: list[Point], base_name: str,
             options: dict, evaluator: Evaluator, net, client, progress: bool,
             counts: dict, batch: int | None = None, stats: dict | None = None,
             point_s: float | None = None) -> None:
    """Run the points on the client's cluster in batches (module doc), storing each
    task's results in one transaction as it completes."""
    from distributed import as_completed
    from tqdm import tqdm
    if progress and client.dashboard_link:
        _say(True, f"Dask dashboard: {client.dashboard_link}")
    net_ref = client.scatter(net, broadcast=True) if net is not None else None
    run = uuid.uuid4().hex[:8]   # unique task keys: no clash with another client's
    workers = _workers(client)
    batcher = _Batcher(todo, workers, batch, point_s)
    futures: dict = {}
    serial = 0
    stats = stats if stats is not None else {}
    stats.setdefault("store_s", 0.0)
    t_start, cpu_start = time.perf_counter(), time.process_time()

    elsewhere: list[Point] = []       # claimed by another running sweep: theirs

    def submit():
        """Submit the next task of points this sweep could claim (None: nothing to
        submit now, or none left)."""
        nonlocal serial
        while True:
            slot = batcher.slot(time.perf_counter())
            if slot is None:
                return None
            worker, size = slot
            points = batcher.take(size)
            mine = store.claim(sweep_id, [p.key for p in points])
            elsewhere.extend(p for p in points if p.key not in mine)
            points = [p for p in points if p.key in mine]
            if points:
                break
        serial += 1
        specs = [JSONText(p.spec.to_json()) for p in points]   # sent, then stored
        pin = {"workers": [worker], "allow_other_workers": True} \
            if worker is not None else {}
        fut = client.submit(run_batch, evaluator, specs, net_ref, options, pure=False,
                            key=f"codesign-batch-{points[0].key}-{run}-{serial}", **pin)
        batcher.assigned(worker, fut.key, len(points), time.perf_counter())
        futures[fut] = points, specs
        return fut

    def fill(add) -> None:
        while feeding:
            fut = submit()
            if fut is None:
                return
            add(fut)

    bar = tqdm(total=len(todo), desc=f"sweep {sweep_id}", unit="pt", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    feeding, announced = True, False
    try:
        while True:
            first: list = []
            fill(first.append)
            # this client's loop: as_completed would otherwise take the process's default
            # client, and hang when that one (another sweep's, a notebook's) closes first
            done_iter = as_completed(first, loop=client.loop)
            for fut in done_iter:
                points, specs = futures.pop(fut)
                results, task_failed = _results(fut, len(points))
                batcher.finished(fut.key, time.perf_counter())
                fut.release()
                if results is None:          # cancelled: the cluster went away
                    counts["lost"] += len(points)
                    feeding = False
                    continue
                if task_failed:          # its worker may have died: ask who is left
                    batcher.set_workers(_workers(client), time.perf_counter())
                if task_failed and len(points) > 1:
                    batcher.retry_alone(points)   # find the point that kills its worker
                else:
                    batcher.record(results)
                    rows = [{"key": p.key, "spec_digest": p.spec.digest(), "base": base_name,
                             "overrides": p.overrides, "options": options,
                             "spec": spec, "version": __version__,
                             "sweep_id": sweep_id, **r}
                            for p, spec, r in zip(points, specs, results)]
                    t_store = time.perf_counter()
                    store.put_many(rows)
                    stats["store_s"] += time.perf_counter() - t_store
                    for p, r in zip(points, results):
                        counts["computed" if r["status"] == "done" else "failed"] += 1
                        if r["status"] != "done" and progress:
                            bar.write(f"point {p.label} failed: {r['error']}", file=sys.stderr)
                    bar.update(len(points))
                fill(done_iter.add)
            if not feeding or not (elsewhere or len(batcher)):
                break
            if not len(batcher):
                # only points another sweep is computing are left: wait for them, take
                # over those whose sweep has gone
                if not announced and progress:
                    bar.write(f"sweep {sweep_id}: waiting for {len(elsewhere)} point(s) "
                              "another sweep on this database is computing", file=sys.stderr)
                    announced = True
                time.sleep(WAIT_POLL_S)
                stored = store.stored_keys(p.key for p in elsewhere)
                counts["elsewhere"] += len(stored)
                bar.update(len(stored))
                rest = [p for p in elsewhere if p.key not in stored]
                elsewhere[:] = []
                batcher.put_back(rest)   # submit() claims them again, or defers them
        if not feeding:
            counts["lost"] += len(batcher) + len(elsewhere)
    finally:
        stats["tasks"] = serial
        stats["compute_s"] = time.perf_counter() - t_start
        # this process's CPU meanwhile: the client, and with a local cluster the Dask
        # scheduler and the workers' nannies, which share the machine with the workers
        stats["client_cpu_s"] = time.process_time() - cpu_start
        bar.close()


def _results(fut, n: int) -> tuple[list[dict] | None, bool]:
    """The results of a batch task's n points, and whether the task itself failed (its
    worker died, its result could not be sent or read back): then each point gets the
    task's error. (None, False) for a cancelled task."""
    if fut.status in ("cancelled", "lost"):
        return None, False
    try:
        value = fut.result() if fut.status == "finished" else None
        exc = None if fut.status == "finished" else fut.exception()
    except Exception as err:   # noqa: BLE001 - e.g. a result that does not unpickle
        value, exc = None, err
    if exc is None and isinstance(value, list) and len(value) == n:
        return value, False
    exc = exc or TypeError(f"a batch task returned {type(value).__name__}, not {n} results")
    now = time.time()
    return [{"status": "failed", "error": one_line(exc), "traceback": "", "finished": now}
            for _ in range(n)], True


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(text, file=sys.stderr, flush=True)
