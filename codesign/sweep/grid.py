"""The sweep grid: ``--vary KEY=V1,V2,...`` parsed to the spec field's type, expanded to
the cross product, every point validated by the spec itself before anything runs.

A point is the base spec with a few dotted-key overrides. Its key hashes the resolved
spec (``Spec.digest()``) together with the evaluation options (network, training
epochs, seed, evaluator), so the same hardware evaluated the same way maps to one
database row however the grid that produced it was written.
"""
from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from ..errors import UserError
from ..spec import Spec, iter_fields

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Point:
    """One grid point: its overrides (in --vary order), resolved spec and key."""
    key: str
    overrides: dict
    spec: Spec

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in self.overrides.items()) or "(base)"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "[" + ",".join(_show(v) for v in value) + "]"
    return str(value)


def field_types() -> dict[str, type]:
    """Dotted key -> Python type of every leaf spec field."""
    return {key: typ for key, typ, _default, _meta in iter_fields()}


def _split_values(text: str) -> list[str]:
    """Split at commas outside brackets, so a list field reads ``[1e-7,2e-6],[0,1e-6]``."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def parse_value(key: str, text: str, typ: type) -> Any:
    """One value of ``--vary KEY=...`` parsed to the field's type (range checks are the
    spec's job, in :func:`expand`)."""
    def bad(allowed: str) -> UserError:
        return UserError(f"vary {key}: value {text!r} has the wrong type; allowed: {allowed}",
                         field="vary")
    if text == "":
        raise UserError(f"vary {key}: an empty value; allowed: V1,V2,... all non-empty",
                        field="vary")
    if typ is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise bad("true or false")
    if typ is int:
        try:
            return int(text, 0)   # base 0 reads 0xB400 for the LFSR masks
        except ValueError:
            raise bad("an integer") from None
    if typ is float:
        try:
            return float(text)
        except ValueError:
            raise bad("a number") from None
    if typ is tuple:
        if not (text.startswith("[") and text.endswith("]")):
            raise bad("a bracketed list of numbers, e.g. [1e-7,2e-6]")
        return tuple(parse_value(key, t, float) for t in _split_values(text[1:-1]))
    return text


def parse_vary(items: list[str]) -> dict[str, list]:
    """``["adc.bits=4,6,8", "array.rows=64,128"]`` -> ``{"adc.bits": [4, 6, 8], ...}``."""
    types = field_types()
    grid: dict[str, list] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"vary {item!r}: expected KEY=V1,V2,...; e.g. adc.bits=4,6,8",
                            field="vary")
        if key not in types:
            near = difflib.get_close_matches(key, list(types), n=3)
            hint = f"did you mean {', '.join(near)}?" if near else \
                "see `codesign spec show PRESET` for the keys"
            raise UserError(f"vary {key}: unknown spec key; {hint}", field="vary")
        if key in grid:
            raise UserError(f"vary {key}: given twice; allowed: each key once", field="vary")
        parsed = [parse_value(key, v, types[key]) for v in _split_values(values)]
        dups = sorted({_show(v) for v in parsed if parsed.count(v) > 1})
        if dups:
            raise UserError(f"vary {key}: value {dups[0]} is repeated; allowed: distinct "
                            "values", field="vary")
        grid[key] = parsed
    return grid


#: Largest grid `codesign sweep` runs without --max-points or --force (max_points=None).
MAX_POINTS = 1000


def grid_size(grid: dict[str, list]) -> int:
    """Points of the cross product (before duplicates are merged)."""
    return math.prod(len(v) for v in grid.values())


def describe_size(grid: dict[str, list]) -> str:
    """'24 points (adc.bits 8 x array.rows 3)'."""
    n = grid_size(grid)
    parts = " x ".join(f"{k} {len(v)}" for k, v in grid.items())
    return f"{n:,} point{'s' if n != 1 else ''}" + (f" ({parts})" if len(grid) > 1 else "")


class GridTooLarge(UserError):
    """A grid above the point limit; `points` and `limit` let a caller say how its own
    options raise the limit (the CLI names --max-points and --force)."""

    def __init__(self, grid: dict[str, list], limit: int):
        self.points, self.limit, self.size = grid_size(grid), limit, describe_size(grid)
        super().__init__(f"vary: the grid has {self.size}, more than max_points {limit:,}; "
                         f"allowed: max_points >= {self.points}, no limit (max_points None), "
                         "or fewer values", field="vary")


def check_grid_size(grid: dict[str, list], max_points: int | None) -> None:
    """Refuse a grid of more than `max_points` points (None: any size), before a
    single point is built (GridTooLarge)."""
    if max_points is None:
        return
    if max_points < 1:
        raise UserError(f"max_points: value {max_points}; allowed: an integer >= 1",
                        field="max_points")
    if grid_size(grid) > max_points:
        raise GridTooLarge(grid, max_points)


def point_key(spec: Spec, options: dict) -> str:
    """Database key of a point: the resolved spec's digest plus the evaluation options."""
    text = json.dumps({"spec": spec.digest(), "options": options}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def expand(base: Spec, grid: dict[str, list], options: dict,
           progress: bool = False) -> list[Point]:
    """Every combination of the grid as a validated point, in grid order (last key
    fastest). Raises the spec's own one-line SpecError, prefixed with the combination,
    at the first invalid point, so nothing runs on a grid with a bad corner. progress: a
    bar on stderr when checking takes more than a second (tens of ms a point)."""
    import sys

    from tqdm import tqdm
    keys = list(grid)
    points, seen = [], set()
    bar = tqdm(total=grid_size(grid), desc="checking sweep points", unit="pt",
               file=sys.stderr, delay=1.0, leave=False, disable=not progress,
               dynamic_ncols=True)
    with bar:                      # closed (and cleared) on a bad point too
        for combo in itertools.product(*(grid[k] for k in keys)):
            bar.update(1)
            _add_point(base, keys, combo, options, points, seen)
    return points


def _add_point(base: Spec, keys: list[str], combo: tuple, options: dict,
               points: list[Point], seen: set[str]) -> None:
    """Validate one combination and append it, unless an equal spec is already in."""
    overrides = dict(zip(keys, combo))
    where = "sweep point " + (", ".join(f"{k}={_show(v)}" for k, v in overrides.items())
                              or "(base)")
    spec = base.with_overrides(overrides, source=where)   # SpecError: one line
    key = point_key(spec, options)
    if key in seen:      # e.g. 1e9 and 1000000000.0: the same spec twice
        return
    seen.add(key)
    points.append(Point(key, overrides, spec))
