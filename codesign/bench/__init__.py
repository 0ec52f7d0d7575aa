"""Benchmarks (`codesign bench NAME`). Each module here defines
``NAME``, ``HELP``, optional ``add_arguments(parser)`` and ``run(args) -> dict``;
the result dict is printed as JSON with --json, else as a table.
Speed targets live here, never in timed tests."""
from __future__ import annotations

import importlib
import pkgutil


def discover() -> dict:
    mods = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        m = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(m, "run") and hasattr(m, "NAME"):
            mods[m.NAME] = m
    return dict(sorted(mods.items()))
