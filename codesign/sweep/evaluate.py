"""Evaluating one sweep point, on a Dask worker: the one place that calls the mapping,
the estimator and training, and turns their results into flat sweep metrics.

An evaluator is any importable function ``fn(spec, net, options) -> dict`` of metrics
(JSON values); :func:`evaluate_point` is the default. Keys the sweep reads:
``area_mm2`` and ``energy_per_inference_j`` (always, for the Pareto front), ``accuracy``
(when trained). A ``_timings`` entry ({stage: seconds}) is taken out and stored apart
from the metrics, so that two runs of one grid compare equal on their metrics.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import socket
import time
import traceback
from typing import Any, Callable

from ..errors import UserError
from ..spec import Spec, spec_from_dict
from .store import encode_json

Evaluator = Callable[[Spec, Any, dict], dict]

# metrics copied from the estimator's to_dict() (codesign.estimate.Estimate) to the top
# level of a point's metrics; the whole estimate is kept under "estimate"
ESTIMATE_METRICS = ("tiles", "area_mm2", "energy_per_inference_j", "tops", "tops_per_w",
                    "tops_per_mm2", "latency_s", "inference_interval_s", "power_w")


def evaluate_point(spec: Spec, net, options: dict) -> dict:
    """Mapping, estimate and (``train_epochs`` > 0) a short training run of one point."""
    from ..estimate import estimate
    from ..mapping import map_network
    timings: dict[str, float] = {}
    t = time.perf_counter()
    mapping = map_network(net, spec)
    timings["mapping"] = time.perf_counter() - t
    t = time.perf_counter()
    est = estimate(spec, net=net, mapping=mapping).to_dict()
    timings["estimate"] = time.perf_counter() - t
    metrics = {k: est[k] for k in ESTIMATE_METRICS}
    metrics["training_energy_per_example_j"] = est["training"]["energy_per_example_j"]
    metrics["utilization"] = float(mapping.utilization)   # weights / occupied crosspoints
    if options.get("train_epochs", 0) > 0:
        t = time.perf_counter()
        metrics.update(train_accuracy(spec, net, options))
        timings["training"] = time.perf_counter() - t
    metrics["estimate"] = est
    metrics["mapping"] = mapping.to_dict()
    metrics["_timings"] = timings
    return metrics


def train_config(spec: Spec, options: dict):
    """The codesign.nn training run of a point: the spec's own cell, the options' network
    (its name, size string or file), dataset, epochs, images per epoch, seed and further
    training options (``train``: lr, hidden, batch, ..., as `codesign train` takes them)."""
    from ..nn.train import TrainConfig
    extra = dict(options.get("train") or {})
    if isinstance(extra.get("range_factor"), list):       # JSON has no tuples
        extra["range_factor"] = tuple(extra["range_factor"])
    return TrainConfig(net=options["net"], spec=spec, dataset=options["dataset"],
                       cell=spec.array.cell, epochs=options["train_epochs"],
                       seed=options["seed"], limit=options.get("train_limit"), **extra)


def train_accuracy(spec: Spec, net, options: dict) -> dict:
    """Test accuracy after a short training run on the point's hardware."""
    from ..nn.train import train
    result = train(train_config(spec, options), progress=False)
    return {"accuracy": float(result.test_accuracy[-1]),
            "train_accuracy": float(result.train_accuracy[-1]),
            "train_images": int(result.images)}


def load_evaluator(text: str | None) -> Evaluator:
    """``None`` -> the default; ``"package.module:function"`` -> that function."""
    if not text:
        return evaluate_point
    module, sep, name = text.partition(":")
    if not sep or not module or not name:
        raise UserError(f"evaluator {text!r}: expected MODULE:FUNCTION, e.g. "
                        "mypkg.metrics:evaluate", field="evaluator")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"evaluator {text}: cannot import ({exc})", field="evaluator") \
            from None
    if not callable(fn):
        raise UserError(f"evaluator {text}: not a function", field="evaluator")
    return fn


def evaluator_name(fn: Evaluator) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def run_point(evaluator: Evaluator, spec_dict: dict, net, options: dict) -> dict:
    """The Dask task: evaluate one point and never raise, so a failing point becomes a
    stored error instead of stopping the sweep (a worker that dies is Dask's to report)."""
    started = time.time()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"started": started,
                           "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        spec = spec_from_dict(spec_dict, "sweep point")
        metrics = dict(evaluator(spec, net, options))
        out["timings"] = metrics.pop("_timings", None)
        out.update(status="done", metrics=metrics)
    except Exception as exc:   # noqa: BLE001 - any failure of a point is data, not a crash
        out.update(status="failed", error=one_line(exc), traceback=traceback.format_exc())
    out["elapsed_s"] = time.perf_counter() - t0
    out["finished"] = time.time()
    return out


def run_batch(evaluator: Evaluator, specs: list[str], net, options: dict) -> list[dict]:
    """The Dask task of a batch of short points: run_point on each, in order. ``specs``:
    the points' specs as JSON text (Spec.to_json: a string travels to the worker without
    Dask walking a nested dict for futures). Each result's metrics and timings come back
    as JSON text (store.JSONText), so the workers encode them in parallel and the client
    stores them as they are; a point whose metrics are not JSON values fails with that
    error."""
    out = []
    for spec in specs:
        r = run_point(evaluator, json.loads(spec), net, options)
        try:
            r.update({col: encode_json(r[col]) for col in ("metrics", "timings")
                      if r.get(col) is not None})
        except (TypeError, ValueError) as exc:   # not JSON: a failed point, not a crash
            r.update(status="failed", error=f"metrics: {one_line(exc)}",
                     traceback=traceback.format_exc(), metrics=None, timings=None)
        out.append(r)
    return out


def warm_modules(evaluator: Evaluator, options: dict) -> tuple[str, ...]:
    """Modules a point imports on its worker: the evaluator's, and for the default one
    those it imports lazily (mapping, estimate, training)."""
    modules = (evaluator.__module__,)
    if evaluator is evaluate_point:
        modules += ("codesign.mapping", "codesign.estimate")
        if options.get("train_epochs", 0) > 0:
            modules += ("codesign.nn.train",)
    return modules


def warm_up(modules: tuple[str, ...], evaluator: Evaluator | None = None,
            spec_json: str | None = None, net=None, options: dict | None = None,
            freeze: bool = False) -> float | None:
    """Prepare a worker as the cluster starts, so that what a process does once counts
    as start-up and not as its first point: import `modules`; with the default
    evaluator, evaluate ``spec_json`` (the sweep's base, Spec.to_json) without training
    and drop the result: the first time fills the caches a process fills on its first
    point (the gate model's fit of the synthesized controllers, the component library,
    hwcomponents' answers, the modules the estimator imports lazily: a first point took
    70-120 ms against 13-30 ms for later ones, mlp-2018 on the 2-core machine), the
    second time is a point's time. ``freeze`` (the sweep's own local cluster only): then
    collect and gc.freeze() what is alive, the worker's and codesign's long-lived
    objects (about 95,000), so that Python's full collections no longer scan them: one
    took 31-57 ms in the middle of a short sweep on each worker (measured with
    gc.callbacks). Returns the seconds of the base's second evaluation (None: not
    evaluated), which the sweep sizes its first tasks by (the first evaluation's time,
    twice a point's or more, made them too short, and each task's cost then showed in
    the sweep's speed). Nothing here raises: a module that does not import, or a base
    that does not evaluate, is left to fail in the points, with their error."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:   # noqa: BLE001 - reported by the points themselves
            pass
    seconds = None
    if evaluator is evaluate_point and spec_json is not None:
        try:
            base = json.loads(spec_json)
            no_training = {**(options or {}), "train_epochs": 0}
            for _ in range(2):    # the first fills the caches, the second is timed
                t0 = time.perf_counter()
                evaluate_point(spec_from_dict(base, "sweep base"), net, no_training)
                seconds = time.perf_counter() - t0
        except Exception:   # noqa: BLE001 - reported by the points themselves
            seconds = None
    if freeze:
        gc.collect()
        gc.freeze()
    return seconds


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text}"
