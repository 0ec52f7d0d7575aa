"""Pareto fronts of a sweep: accuracy (when trained), energy per inference and area.

A point is on the front when no other point is at least as good in every objective and
strictly better in one. Dominance is computed for all pairs at once with numpy (in row
chunks, so a large sweep stays within memory).
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from ..fileio import write_bytes

# (metric key, +1 = maximize / -1 = minimize, name in text)
OBJECTIVES = (("accuracy", +1, "test accuracy"),
              ("energy_per_inference_j", -1, "energy per inference"),
              ("area_mm2", -1, "area"))
# plot axes in friendly units: (factor from the metric's unit, label); accuracy in % as
# in every other codesign table and plot
AXES = {"accuracy": (100.0, "test accuracy [%]"),
        "energy_per_inference_j": (1e9, "energy per inference [nJ]"),
        "area_mm2": (1.0, "area [mm²]")}
#: Front points labelled with their varied values in a plot (more would overlap).
MAX_LABELS = 12
_PAIRS_PER_CHUNK = 2 ** 22   # candidate x point comparisons held at once


def objectives_for(points: list[dict]) -> list[tuple[str, int, str]]:
    """The objectives every done point reports (accuracy only when all were trained)."""
    return [o for o in OBJECTIVES
            if points and all(_finite(p["metrics"].get(o[0])) for p in points)]


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def pareto_mask(values: np.ndarray, senses) -> np.ndarray:
    """values (n, k), senses (k,) of +1 (maximize) / -1 (minimize) -> bool (n,) front."""
    cost = -np.asarray(values, dtype=float) * np.asarray(senses, dtype=float)  # minimize
    n = cost.shape[0]
    on_front = np.ones(n, dtype=bool)
    chunk = max(1, _PAIRS_PER_CHUNK // max(n, 1))
    for start in range(0, n, chunk):
        c = cost[start:start + chunk, None, :]            # candidates (m, 1, k)
        no_worse = (cost[None, :, :] <= c).all(axis=2)    # (m, n): j no worse than i
        better = (cost[None, :, :] < c).any(axis=2)
        on_front[start:start + chunk] = ~(no_worse & better).any(axis=1)
    return on_front


def front(points: list[dict]) -> tuple[list[dict], list[tuple[str, int, str]]]:
    """Done points on the Pareto front (sorted by energy) and the objectives used."""
    objectives = objectives_for(points)
    if not objectives:
        return [], objectives
    values = np.array([[p["metrics"][key] for key, _, _ in objectives] for p in points])
    mask = pareto_mask(values, [s for _, s, _ in objectives])
    chosen = [p for p, m in zip(points, mask) if m]
    chosen.sort(key=lambda p: tuple(-s * p["metrics"][k] for k, s, _ in objectives[::-1]))
    return chosen, objectives


def caption(points: list[dict], on_front: list[dict]) -> str:
    """What :func:`plot_png` shows, in words (the figure caption)."""
    objectives = [k for k, _, _ in objectives_for(points)]
    panels = "energy per inference against area"
    if "accuracy" in objectives:
        panels += " (left) and test accuracy against energy per inference (right)"
    keys = label_keys(on_front)
    what = f"its {', '.join(keys)}" if keys else "its configuration"
    labelled = (f"each labelled with {what}" if len(on_front) <= MAX_LABELS else
                f"the {MAX_LABELS} of smallest area labelled with {what}")
    return (f"Every done point of the sweep ({len(points)}): {panels}. Red: the "
            f"{len(on_front)} Pareto-optimal points, {labelled}; grey: dominated points. "
            "Lower energy and area are better" +
            (", higher accuracy is better." if "accuracy" in objectives else "."))


def label_keys(points: list[dict]) -> list[str]:
    """The varied keys of the points, in order (the legend names them once)."""
    keys: dict[str, None] = {}
    for p in points:
        keys.update(dict.fromkeys(p.get("overrides") or {}))
    return list(keys)


def point_label(point: dict, keys: list[str]) -> str:
    """A point's configuration as its values of `keys`, e.g. '6, 256'."""
    over = point.get("overrides") or {}
    return ", ".join(str(over.get(k, "-")) for k in keys) or "(base)"


def plot_png(points: list[dict], on_front: list[dict], title: str = "",
             path: str | Path | None = None) -> bytes:
    """Scatter of every done point, the front highlighted and its points labelled with
    their configuration: energy vs area, and accuracy vs energy when trained. Returns
    the PNG bytes (and writes them to ``path``)."""
    from ..plotting import pyplot
    plt = pyplot()
    objectives = [k for k, _, _ in objectives_for(points)]
    pairs = [("energy_per_inference_j", "area_mm2")]
    if "accuracy" in objectives:
        pairs.append(("energy_per_inference_j", "accuracy"))
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.0 * len(pairs), 4.6), squeeze=False)
    keys = {p["key"] for p in on_front}
    labelled = {p["key"] for p in on_front[:MAX_LABELS]}
    names = label_keys(on_front)
    for ax, (xk, yk) in zip(axes[0], pairs):
        x = np.array([p["metrics"][xk] for p in points], dtype=float) * AXES[xk][0]
        y = np.array([p["metrics"][yk] for p in points], dtype=float) * AXES[yk][0]
        best = np.array([p["key"] in keys for p in points])
        ax.scatter(x[~best], y[~best], s=22, c="0.7", label="dominated")
        ax.scatter(x[best], y[best], s=40, c="tab:red", edgecolors="k", linewidths=0.5,
                   label="Pareto front", zorder=3)
        for axis, v in (("x", x), ("y", y)):
            if v.size and v.min() > 0 and v.max() / v.min() > 20:
                getattr(ax, f"set_{axis}scale")("log")
        # neighbours along x take turns above and below, so close labels do not collide
        marked = sorted((i for i, p in enumerate(points) if p["key"] in labelled),
                        key=lambda i: x[i])
        for n, i in enumerate(marked):
            ax.annotate(point_label(points[i], names), (x[i], y[i]),
                        xytext=(6, 5 if n % 2 == 0 else -11), textcoords="offset points",
                        fontsize=7, color="tab:red")
        ax.set_xlabel(AXES[xk][1])
        ax.set_ylabel(AXES[yk][1])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, title_fontsize=8,
                  title=f"labels: {', '.join(names)}" if names else None)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    data = buf.getvalue()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, data, "path")
    return data
