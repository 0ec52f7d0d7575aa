"""Sweep points as tables (headers, rows) in friendly units: shared by the terminal
output of ``codesign sweep`` and the HTML report of a sweep database."""
from __future__ import annotations

from typing import Any

# (metric key, column header with its unit, factor from the stored value) in display
# order; absent metrics are skipped. Accuracy is stored as a fraction and shown in %, as
# everywhere else in codesign (training, demo, reproduction tables).
METRIC_COLUMNS = (("accuracy", "test accuracy [%]", 100.0),
                  ("tiles", "tiles", 1),
                  ("utilization", "utilization [%]", 100.0),
                  ("area_mm2", "area [mm²]", 1.0),
                  ("energy_per_inference_j", "energy/inference [nJ]", 1e9),
                  ("latency_s", "latency [µs]", 1e6),
                  ("tops_per_w", "TOPS/W", 1.0),
                  ("tops_per_mm2", "TOPS/mm²", 1.0))


def varied_keys(points: list[dict]) -> list[str]:
    """Every overridden key of the points, in order of first appearance."""
    keys: dict[str, None] = {}
    for p in points:
        keys.update(dict.fromkeys(p.get("overrides") or {}))
    return list(keys)


def _metric_columns(points: list[dict]) -> list[tuple[str, str, float]]:
    return [c for c in METRIC_COLUMNS
            if any((p.get("metrics") or {}).get(c[0]) is not None for p in points)]


def _scaled(value: Any, factor: float) -> Any:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return value * factor if factor != 1 else value


def points_table(points: list[dict], status: bool = True) -> tuple[list[str], list[list]]:
    """One row per point: varied values, the headline metrics, status and time."""
    keys = varied_keys(points)
    cols = _metric_columns(points)
    headers = keys + [h for _, h, _ in cols]
    if status:
        headers += ["status", "time [s]"]
    rows = []
    for p in points:
        m = p.get("metrics") or {}
        row = [(p.get("overrides") or {}).get(k) for k in keys]
        row += [_scaled(m.get(k), f) for k, _, f in cols]
        if status:
            row += [p["status"], p.get("elapsed_s")]
        rows.append(row)
    return headers, rows


def failures_table(points: list[dict]) -> tuple[list[str], list[list]]:
    headers = ["point", "error", "attempts", "worker", "key"]
    rows = [[", ".join(f"{k}={v}" for k, v in (p.get("overrides") or {}).items()) or "(base)",
             p.get("error"), p.get("attempts"), p.get("worker"), p["key"]]
            for p in points if p["status"] == "failed"]
    return headers, rows
