"""Matplotlib set-up shared by every command that writes a PNG (headless Agg backend)."""
from __future__ import annotations

from pathlib import Path


def pyplot():
    """pyplot with the Agg backend, imported lazily (CLI start-up stays fast)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def integer_ticks(axis) -> None:
    """Ticks at whole numbers only (epochs, counts): no 'epoch 1.5'."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def save(fig, path: str | Path) -> Path:
    from .fileio import save_figure
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=110)
    finally:
        pyplot().close(fig)
    return path
