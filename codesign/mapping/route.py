"""Route flows on the mesh: link loads, busiest link, hop histogram, network events.

Links are directed. ``east[r, c]`` carries flits from tile (r, c) to (r, c+1),
``west[r, c]`` from (r, c+1) to (r, c), ``south[r, c]`` from (r, c) to (r+1, c),
``north[r, c]`` from (r+1, c) to (r, c); ``io_in``/``io_out`` is the link between the
chip I/O and tile (0, 0). Two algorithms:

- ``xy``: dimension-order routing (the RTL router's): along the source row to the
  destination column, then along that column. Loads are computed for all flows at once
  with difference arrays and cumulative sums.
- ``shortest``: minimal routing chosen offline: flows, largest first, each take the
  least-loaded of their shortest paths (the smallest sum of the flits already on its
  links; a dynamic program over the rectangle between source and destination, ties to the
  path that goes along the row first), which spreads load over the minimal quadrant
  instead of one row.

A flow of b bits becomes ceil(b / payload) single-flit packets, payload = flit_bits
minus the destination header (codesign.mapping.noc.header_bits), as in rtl/noc_router.v.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..events import Events

ROUTINGS = ("xy", "shortest")
IO_NODE = "io"


@dataclass(frozen=True)
class Routing:
    """Flits per directed link for one inference, and per-flow hop counts."""
    grid: tuple[int, int]
    east: np.ndarray
    west: np.ndarray
    south: np.ndarray
    north: np.ndarray
    io_in: float
    io_out: float
    flits: np.ndarray     # per flow
    hops: np.ndarray      # per flow (links crossed, the I/O link included)
    routers: np.ndarray   # per flow (routers passed, source and destination included)
    algorithm: str

    def links(self) -> list[tuple[tuple, tuple, float]]:
        """Every directed link with its load: ((r, c) or "io", (r, c) or "io", flits)."""
        out = []
        for name, (dr, dc) in (("east", (0, 1)), ("west", (0, 1)), ("south", (1, 0)),
                               ("north", (1, 0))):
            load = getattr(self, name)
            for r, c in zip(*np.nonzero(np.ones_like(load, dtype=bool))):
                a, b = (int(r), int(c)), (int(r + dr), int(c + dc))
                out.append((a, b, float(load[r, c])) if name in ("east", "south")
                           else (b, a, float(load[r, c])))
        out += [(IO_NODE, (0, 0), float(self.io_in)), ((0, 0), IO_NODE, float(self.io_out))]
        return out

    def busiest(self) -> tuple[tuple, tuple, float]:
        return max(self.links(), key=lambda link: link[2])

    def hop_histogram(self) -> np.ndarray:
        """Flits per hop count: entry h = flits that crossed h links."""
        if not len(self.hops):
            return np.zeros(1)
        return np.bincount(self.hops, weights=self.flits)

    def events(self) -> Events:
        return Events(flits=int(self.flits.sum()), hops=int(self.flits @ self.hops),
                      router_traversals=int(self.flits @ self.routers))


def _endpoints(src_pos: np.ndarray, dst_pos: np.ndarray, src_io: np.ndarray,
               dst_io: np.ndarray):
    """I/O flows enter and leave through tile (0, 0)."""
    s = np.where(src_io[:, None], 0, src_pos)
    d = np.where(dst_io[:, None], 0, dst_pos)
    return s, d


def _segment_loads(shape: tuple[int, int], line: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, flits: np.ndarray, axis: int) -> np.ndarray:
    """Add flits to links lo..hi-1 of each flow's line (row if axis=1, column if 0)."""
    diff = np.zeros((shape[0] + 1, shape[1] + 1))
    if axis == 1:
        np.add.at(diff, (line, lo), flits)
        np.add.at(diff, (line, hi), -flits)
    else:
        np.add.at(diff, (lo, line), flits)
        np.add.at(diff, (hi, line), -flits)
    loads = np.cumsum(diff, axis=axis)
    return loads[:shape[0] - (axis == 0), :shape[1] - (axis == 1)]


def route_xy(grid, s: np.ndarray, d: np.ndarray, flits: np.ndarray):
    rows, cols = grid
    rs, cs, rd, cd = s[:, 0], s[:, 1], d[:, 0], d[:, 1]
    east_f, west_f = cd > cs, cd < cs
    south_f, north_f = rd > rs, rd < rs
    east = _segment_loads(grid, rs[east_f], cs[east_f], cd[east_f], flits[east_f], 1)
    west = _segment_loads(grid, rs[west_f], cd[west_f], cs[west_f], flits[west_f], 1)
    south = _segment_loads(grid, cd[south_f], rs[south_f], rd[south_f], flits[south_f], 0)
    north = _segment_loads(grid, cd[north_f], rd[north_f], rs[north_f], flits[north_f], 0)
    return east, west, south, north


def link_load(links, a: tuple[int, int], b: tuple[int, int]) -> float:
    """Load of the link from tile a to its neighbour b; links = (east, west, south, north)."""
    east, west, south, north = links
    (ra, ca), (rb, cb) = a, b
    if ra == rb:
        return east[ra, ca] if cb > ca else west[ra, cb]
    return south[ra, ca] if rb > ra else north[rb, ca]


def least_loaded_path(links, s: tuple[int, int], d: tuple[int, int]) -> list[tuple[int, int]]:
    """The minimal path from tile s to tile d whose links carry the least load so far
    (links = (east, west, south, north) arrays, as in Routing).

    Minimal paths only step towards d, so they stay in the rectangle spanned by s and d;
    a dynamic program over that rectangle, one row at a time (a running minimum over the
    row), finds the smallest sum of link loads. Ties go to the path that runs along the
    row first (as XY routing). Returns the tiles visited, s and d included."""
    east, west, south, north = links
    (r0, c0), (r1, c1) = s, d
    dr, dc = (1 if r1 >= r0 else -1), (1 if c1 >= c0 else -1)
    rows, cols = abs(r1 - r0) + 1, abs(c1 - c0) + 1
    lo, hi = min(c0, c1), max(c0, c1)
    best = np.empty((rows, cols))          # least load on the way to each tile
    h_prefix = np.zeros((rows, cols))      # loads along row i from column 0 to j
    down = np.zeros((rows, cols))          # load of the step into (i, j) from (i - 1, j)
    for i in range(rows):
        r = r0 + i * dr
        if cols > 1:                       # steps (r, c) -> (r, c + dc), c from c0
            h = east[r, lo:hi] if dc > 0 else west[r, lo:hi][::-1]
            h_prefix[i, 1:] = np.cumsum(h)
        if i == 0:
            best[0] = h_prefix[0]
            continue
        v = south[r - 1, lo:hi + 1] if dr > 0 else north[r, lo:hi + 1]
        down[i] = v if dc > 0 else v[::-1]
        # best[i, j] = min over k <= j of (best[i-1, k] + down[i, k] + row i from k to j)
        best[i] = h_prefix[i] + np.minimum.accumulate(best[i - 1] + down[i] - h_prefix[i])
    # walk back from d, taking the step down whenever it is a best way in: forwards, the
    # path runs along the row first (loads are whole flits, so the sums are exact)
    path, i, j = [], rows - 1, cols - 1
    while True:
        path.append((r0 + i * dr, c0 + j * dc))
        if i == 0 and j == 0:
            return path[::-1]
        if i > 0 and (j == 0 or best[i - 1, j] + down[i, j] <=
                      best[i, j - 1] + h_prefix[i, j] - h_prefix[i, j - 1]):
            i -= 1
        else:
            j -= 1


def route_shortest(grid, s: np.ndarray, d: np.ndarray, flits: np.ndarray):
    rows, cols = grid
    east, west = np.zeros((rows, max(cols - 1, 0))), np.zeros((rows, max(cols - 1, 0)))
    south, north = np.zeros((max(rows - 1, 0), cols)), np.zeros((max(rows - 1, 0), cols))
    links = (east, west, south, north)
    for k in np.argsort(-flits, kind="stable"):  # one routing decision per flow
        path = least_loaded_path(links, (int(s[k, 0]), int(s[k, 1])),
                                 (int(d[k, 0]), int(d[k, 1])))
        for (ra, ca), (rb, cb) in zip(path[:-1], path[1:]):
            if ra == rb:
                if cb > ca:
                    east[ra, ca] += flits[k]
                else:
                    west[ra, cb] += flits[k]
            elif rb > ra:
                south[ra, ca] += flits[k]
            else:
                north[rb, ca] += flits[k]
    return east, west, south, north


def route(grid: tuple[int, int], src_pos: np.ndarray, dst_pos: np.ndarray,
          src_io: np.ndarray, dst_io: np.ndarray, flits: np.ndarray,
          algorithm: str = "xy") -> Routing:
    """Route flows (positions as (row, col) arrays; *_io marks I/O endpoints)."""
    if algorithm not in ROUTINGS:
        raise UserError(f"routing: value {algorithm!r} is not allowed; allowed: "
                        + ", ".join(ROUTINGS), field="routing")
    flits = np.asarray(flits, dtype=float)
    s, d = _endpoints(np.asarray(src_pos), np.asarray(dst_pos), src_io, dst_io)
    fn = route_xy if algorithm == "xy" else route_shortest
    east, west, south, north = fn(grid, s, d, flits)
    mesh_hops = np.abs(s - d).sum(axis=1)
    io = src_io.astype(int) + dst_io.astype(int)
    return Routing(grid, east, west, south, north, float(flits[src_io].sum()),
                   float(flits[dst_io].sum()), flits, (mesh_hops + io).astype(int),
                   (mesh_hops + 1).astype(int), algorithm)
