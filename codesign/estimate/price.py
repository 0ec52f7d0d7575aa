"""Price one tile operation in joules: the events and cycles it returned (codesign.tile
OpResult) times the per-event energies of the component library, as the estimator prices
whole workloads (energy = events x energy per event + cycles x energy per cycle)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec import Spec, load_spec
from .components import Library, load_components
from .tile_costs import tile_costs


def price(result: Any, spec: Spec | str | Path, components: Library | str | Path | dict |
          None = None) -> dict:
    """Energy of an operation's result (anything with ``events`` and ``cycles``, e.g.
    ``AnalogTile(...).forward(x)``) on `spec`: {component: J, ..., "total": J}."""
    spec = load_spec(spec)
    lib = components if isinstance(components, Library) else load_components(components)
    parts = tile_costs(spec, lib).energy(result.events, result.cycles)
    parts["total"] = sum(parts.values())
    return parts
