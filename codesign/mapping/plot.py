"""PNG of a mapping: the tile grid coloured by layer, links drawn by load."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plotting import pyplot, save


def plot_mapping(mapping, path: str | Path) -> Path:
    """Tiles coloured by layer (grey: idle), each mesh link as a line whose width and
    colour give its flits per inference (both directions summed), the I/O link west of
    tile (0, 0)."""
    plt = pyplot()
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch, Rectangle

    rows, cols = mapping.grid
    owner = mapping.tile_layer()
    n_layers = len(mapping.layers)
    cmap_layers = plt.get_cmap("tab20" if n_layers <= 20 else "turbo")
    colour = (lambda k: cmap_layers(k)) if n_layers <= 20 else \
        (lambda k: cmap_layers(0.05 + 0.9 * k / max(n_layers - 1, 1)))
    width = min(3.0 + 0.6 * cols, 16)
    height = min(1.5 + 0.6 * rows, 14)
    fig, (ax, lax) = plt.subplots(1, 2, figsize=(width + 3.2, max(height, 3.5)),
                                  gridspec_kw={"width_ratios": [width, 3.2]})
    for (r, c), k in np.ndenumerate(owner):
        idle = k < 0
        ax.add_patch(Rectangle((c - 0.3, r - 0.3), 0.6, 0.6, zorder=2, lw=0.6,
                               facecolor="white" if idle else colour(k),
                               edgecolor="#999999" if idle else "#333333",
                               ls="--" if idle else "-"))
        if not idle and rows * cols <= 400:
            ax.text(c, r, str(k + 1), ha="center", va="center", fontsize=6, zorder=3)
    rt = mapping.routing
    lines = [((c, r), (c + 1, r), rt.east[r, c] + rt.west[r, c])
             for r, c in np.ndindex(rt.east.shape)]
    lines += [((c, r), (c, r + 1), rt.south[r, c] + rt.north[r, c])
              for r, c in np.ndindex(rt.south.shape)]
    lines.append(((-1.0, 0), (0, 0), rt.io_in + rt.io_out))
    peak = max([load for _, _, load in lines] + [1.0])
    cmap, norm = plt.get_cmap("viridis"), Normalize(0, peak)
    for (x0, y0), (x1, y1), load in lines:
        ax.plot([x0, x1], [y0, y1], color=cmap(norm(load)) if load else "#dddddd",
                lw=0.6 + 7.0 * load / peak, solid_capstyle="butt", zorder=1)
    ax.text(-1.05, 0, "I/O", ha="right", va="center", fontsize=8)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm)
    fig.colorbar(sm, ax=ax, fraction=0.04, pad=0.02, label="link load (flits per inference)")
    handles = [Patch(facecolor=colour(k), edgecolor="#333333", label=f"{k + 1} {lm.name}")
               for k, lm in enumerate(mapping.layers)]
    lax.axis("off")
    if handles:
        lax.legend(handles=handles[:60], loc="upper left", fontsize=7, frameon=False,
                   ncol=1 + (min(len(handles), 60) - 1) // 30,
                   title="layers" + (" (first 60)" if len(handles) > 60 else ""))
    ax.set_xlim(-1.7, cols - 0.4)
    ax.set_ylim(rows - 0.4, -0.6)
    ax.set_aspect("equal")
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    # a figure title, not an axes title: the grid axes of a small mesh is narrower than
    # the text and the colour bar would cover it
    fig.suptitle(f"{mapping.network} on {mapping.spec}: {mapping.total_tiles} tiles on "
                 f"{rows}x{cols}, {mapping.routing.algorithm} routing", fontsize=10)
    return save(fig, path)
