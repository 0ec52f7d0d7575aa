"""Mapping networks onto tile grids: partition (partition.py), traffic (traffic.py),
placement (place.py), routing (route.py), the on-chip network cycle model (noc.py) and
the plot (plot.py). The entry point is :func:`map_network`; docs/mapping.md explains the
model and its assumptions."""
from __future__ import annotations

from .mapper import LayerMapping, Mapping, map_network, parse_grid, resolve_grid

__all__ = ["LayerMapping", "Mapping", "map_network", "parse_grid", "resolve_grid"]
