"""Running a sweep on Dask distributed and storing every result as it arrives.

The client (this process) expands and validates the grid, skips the points the database
already holds as done, submits the rest to a ``distributed.LocalCluster`` (n worker
processes, one thread each: the numpy core is single-threaded per point and Dask pins
BLAS threads to 1 in its workers) or to an existing scheduler, and writes each result in
its own transaction as soon as it completes. So a sweep that is killed keeps every point
it finished, and the next run computes only the rest; a point that raises is stored as
failed with its error and retried by the next run; a point whose worker dies is retried
by Dask on another worker (``distributed.scheduler.allowed-failures``) and, if it kills
that one too, stored as failed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UserError
from ..spec import Spec
from .evaluate import Evaluator, evaluate_point, evaluator_name, one_line, run_point
from .grid import Point, expand
from .store import SweepStore


def sweep_options(net, net_source: str | None = None, train_epochs: int = 0,
                  train_limit: int | None = None, dataset: str = "mnist5k", seed: int = 0,
                  evaluator: Evaluator | None = None) -> dict:
    """The evaluation options that, with the resolved spec, identify a point's result.
    Training options appear only when training is asked for, so an estimate-only point
    keeps its key whatever the training defaults are."""
    if train_epochs < 0:
        raise UserError(f"--train-epochs: value {train_epochs}; allowed: an integer >= 0")
    if train_limit is not None and train_limit < 1:
        raise UserError(f"--train-limit: value {train_limit}; allowed: an integer >= 1")
    options: dict[str, Any] = {"train_epochs": int(train_epochs), "seed": int(seed)}
    if net is not None:
        text = json.dumps(net.to_dict(), sort_keys=True, default=str)
        options["net"] = net_source or net.name
        options["net_digest"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    if train_epochs > 0:
        if net is None:
            raise UserError("--train-epochs: training needs a network (--net)")
        options.update(dataset=dataset, train_limit=train_limit)
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
            raise UserError(f"--workers: value {workers}; allowed: an integer >= 1")
        self.workers, self.scheduler = workers, scheduler
        self.client = self.cluster = None
        self.startup_s = 0.0
        if scheduler:
            self._start()

    def client_for(self, n_points: int):
        if self.client is None:
            self._start(min(self.workers, n_points))
        return self.client

    def _start(self, n_workers: int = 0) -> None:
        from distributed import Client, LocalCluster
        t0 = time.perf_counter()
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="15s")
            except (OSError, TimeoutError) as exc:
                raise UserError(f"--scheduler {self.scheduler}: cannot connect "
                                f"({one_line(exc)})") from None
        else:
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
              workers: int = 2, scheduler: str | None = None, progress: bool = True) -> dict:
    """Evaluate every point of ``grid`` (``{dotted key: [values]}``) around ``base`` on
    ``net`` (a codesign.network Network; ``net_source`` is how workers load it for
    training: its name, size string or file path).

    Invalid points are rejected before anything runs (the spec's SpecError). Returns a
    summary: database, sweep id, counts (points, skipped, computed, failed, lost),
    seconds (elapsed, startup of the cluster) and status ('finished', or 'interrupted'
    when the cluster lost points)."""
    evaluator = evaluator or evaluate_point
    options = sweep_options(net, net_source, train_epochs, train_limit, dataset, seed,
                            evaluator)
    points = expand(base, grid, options)
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
            counts, status = {"computed": 0, "failed": 0, "lost": 0}, "interrupted"
            try:
                if todo:
                    _execute(store, sweep_id, todo, base_name or base.name, options,
                             evaluator, net, dask.client_for(len(todo)), progress, counts)
                status = "interrupted" if counts["lost"] else "finished"
            finally:
                store.end_sweep(sweep_id, status, counts["computed"], counts["failed"])
    finally:
        dask.close()
    return {"db": str(store.path), "sweep_id": sweep_id, "status": status,
            "points": len(points), "skipped": len(done), **counts,
            "elapsed_s": time.perf_counter() - t0, "startup_s": dask.startup_s,
            "scheduler": where, "vary": grid, "options": options}


def _execute(store: SweepStore, sweep_id: int, todo: list[Point], base_name: str,
             options: dict, evaluator: Evaluator, net, client, progress: bool,
             counts: dict) -> None:
    """Run the points on the client's cluster, storing each result as it completes."""
    from distributed import as_completed
    from tqdm import tqdm
    if progress and client.dashboard_link:
        _say(True, f"Dask dashboard: {client.dashboard_link}")
    net_ref = client.scatter(net, broadcast=True) if net is not None else None
    run = uuid.uuid4().hex[:8]   # unique task keys: no clash with another client's
    futures = {client.submit(run_point, evaluator, p.spec.to_dict(), net_ref, options,
                             key=f"codesign-point-{p.key}-{run}", pure=False): p
               for p in todo}
    bar = tqdm(total=len(todo), desc=f"sweep {sweep_id}", unit="pt", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        # this client's loop: as_completed would otherwise take the process's default
        # client, and hang when that one (another sweep's, a notebook's) closes first
        for fut in as_completed(futures, loop=client.loop):
            point = futures.pop(fut)
            result = _result(fut)
            fut.release()
            if result is None:          # cancelled: the cluster went away
                counts["lost"] += 1
                continue
            row = {"key": point.key, "spec_digest": point.spec.digest(),
                   "base": base_name, "overrides": point.overrides, "options": options,
                   "spec": point.spec.to_dict(), "version": __version__,
                   "sweep_id": sweep_id, **result}
            store.put(row)
            counts["computed" if result["status"] == "done" else "failed"] += 1
            if result["status"] != "done" and progress:
                bar.write(f"point {point.label} failed: {result['error']}", file=sys.stderr)
            bar.update(1)
    finally:
        bar.close()


def _result(fut) -> dict | None:
    """A finished future's result; a task error (the worker died, unpicklable result)
    becomes a failed point; None for a cancelled future."""
    if fut.status == "finished":
        return fut.result()
    if fut.status in ("cancelled", "lost"):
        return None
    exc = fut.exception()
    now = time.time()
    return {"status": "failed", "error": one_line(exc), "traceback": "", "finished": now}


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(text, file=sys.stderr, flush=True)
