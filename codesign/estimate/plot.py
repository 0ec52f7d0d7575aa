"""Breakdown chart of an Estimate: area and energy by component (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..fileio import save_figure


def plot_breakdown(est, path: str | Path) -> None:
    """Two horizontal bar charts, area (mm^2) and energy per inference (nJ), by component.
    The file is written only when drawing succeeded."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise UserError(f"path: {str(path)!r}: folder {str(path.parent)!r} does not exist; "
                        "allowed: a file in an existing folder", field="path")
    d = est.to_dict()
    area = sorted(d["area_breakdown"].items(), key=lambda kv: kv[1])
    energy = sorted(((k, v * 1e9) for k, v in d["energy_breakdown"].items()),
                    key=lambda kv: kv[1])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, items, title, unit in ((axes[0], area, f"area, total {d['area_mm2']:.4g} mm²",
                                    "mm²"),
                                   (axes[1], energy, "energy per inference, total "
                                    f"{d['energy_per_inference_j'] * 1e9:.4g} nJ", "nJ")):
        names = [k for k, _ in items]
        values = [v for _, v in items]
        ax.barh(names, values, color="#4c72b0")
        ax.set_xlabel(unit)
        ax.set_title(title, fontsize=10)
        total = sum(values) or 1.0
        for i, v in enumerate(values):
            ax.text(v, i, f" {100 * v / total:.0f}%", va="center", fontsize=8)
        ax.margins(x=0.2)
    fig.suptitle(f"{d['spec']} running {d['workload']}: {d['tops_per_w']:.3g} TOPS/W, "
                 f"{d['tops_per_mm2']:.3g} TOPS/mm² ({d['node_nm']} nm)", fontsize=11)
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)
