"""Place tile blocks on an R x C mesh, minimizing traffic x hops.

The blocks form a networkx graph whose edge weights are the bits exchanged per
inference (both directions summed); the chip I/O is a fixed node beside tile (0, 0)
(one hop from it). The cost of a placement is sum over edges of bits x Manhattan
distance, which is exactly the bit-hops of dimension-order routing.

Heuristic (deterministic for a given seed):
1. greedy start: blocks in network order (layer by layer), each on the free tile that
   minimizes its cost to the blocks already placed (ties go to the tile nearest the
   previous block, so a layer's blocks stay together);
2. steepest-descent swaps: the cost change of moving every block to every tile
   (swapping with the occupant, or into an empty tile) is one vectorized N x P array;
   apply the best swap until none improves;
3. iterated local search: `restarts` times, kick the best placement with a few random
   swaps drawn from the seeded generator and descend again; keep the best.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np


#: Work budget (blocks x tiles summed over restarts) of the default number of restarts.
RESTART_WORK = 500_000


@dataclass(frozen=True)
class Placement:
    """pos[b] = (row, col) of block b; cost in bit-hops (I/O hops included)."""
    pos: np.ndarray
    grid: tuple[int, int]
    cost: float
    greedy_cost: float
    swaps: int

    def tile_of(self) -> np.ndarray:
        """Flat tile index (row * cols + col) of every block."""
        return self.pos[:, 0] * self.grid[1] + self.pos[:, 1]


def traffic_graph(n_blocks: int, src: np.ndarray, dst: np.ndarray, bits: np.ndarray,
                  io: int) -> nx.Graph:
    """Undirected networkx graph of blocks (and node `io`), weight = bits both ways."""
    g = nx.Graph()
    g.add_nodes_from(range(n_blocks + 1))
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    key, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=bits, minlength=len(key))
    g.add_weighted_edges_from((int(u), int(v), float(w)) for (u, v), w in zip(key, weight))
    return g


def _weighted_rows(w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """w @ rows for a sparse w, summed edge by edge: BLAS matrix products thrash when the
    machine is loaded (OpenBLAS threads spin), and w is mostly zeros anyway."""
    u, v = np.nonzero(w)
    out = np.zeros((w.shape[0], rows.shape[1]))
    if len(u):
        starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
        out[u[starts]] = np.add.reduceat(w[u, v][:, None] * rows[v], starts, axis=0)
    return out


class _State:
    """Positions, occupancy and the N x P cost table Cost[u, p] = sum_v W[u,v] d(p, pos_v)
    + w_io[u] d(p, io), kept up to date by rank-one corrections after each swap."""

    def __init__(self, w: np.ndarray, w_io: np.ndarray, dist: np.ndarray, d_io: np.ndarray,
                 tiles: np.ndarray):
        self.w, self.w_io, self.dist, self.d_io = w, w_io, dist, d_io
        self.tiles = tiles.copy()               # tile index of every block
        self.occ = np.full(dist.shape[0], -1)
        self.occ[self.tiles] = np.arange(len(tiles))
        self.cost_table = _weighted_rows(w, dist[self.tiles]) + w_io[:, None] * d_io[None, :]

    def total(self) -> float:
        own = self.cost_table[np.arange(len(self.tiles)), self.tiles]
        return float((own.sum() + (self.w_io * self.d_io[self.tiles]).sum()) / 2)

    def best_swap(self) -> tuple[float, int, int]:
        n = len(self.tiles)
        c, t = self.cost_table, self.tiles
        delta = c - c[np.arange(n), t][:, None]
        occ = self.occ
        has = occ >= 0
        v = np.where(has, occ, 0)
        # the occupant v of tile p moves to u's tile: + C[v, t_u] - C[v, p] + 2 W[u,v] d
        back = c[v[None, :], t[:, None]] - c[v, np.arange(len(occ))][None, :] + \
            2 * self.w[:, v] * self.dist[t]
        delta = delta + np.where(has[None, :], back, 0.0)
        delta[np.arange(n), t] = 0.0
        flat = int(np.argmin(delta))
        return float(delta.flat[flat]), flat // delta.shape[1], flat % delta.shape[1]

    def move(self, u: int, p: int) -> None:
        a = self.tiles[u]
        v = self.occ[p]
        self.cost_table += np.outer(self.w[:, u], self.dist[p] - self.dist[a])
        self.tiles[u], self.occ[p], self.occ[a] = p, u, v
        if v >= 0:
            self.cost_table += np.outer(self.w[:, v], self.dist[a] - self.dist[p])
            self.tiles[v] = a

    def descend(self, max_swaps: int) -> int:
        swaps = 0
        while swaps < max_swaps:
            delta, u, p = self.best_swap()
            if delta >= -1e-9 * max(1.0, self.total()):
                break
            self.move(u, p)
            swaps += 1
        return swaps


def _greedy(w: np.ndarray, w_io: np.ndarray, dist: np.ndarray, d_io: np.ndarray) -> np.ndarray:
    n, n_tiles = w.shape[0], dist.shape[0]
    tiles = np.full(n, -1)
    free = np.ones(n_tiles, dtype=bool)
    last = int(np.argmin(d_io))
    for u in range(n):  # one decision per block: an operation, not a data loop
        placed = np.flatnonzero((w[u] > 0) & (tiles >= 0))
        cost = (w[u, placed][:, None] * dist[tiles[placed]]).sum(axis=0) + w_io[u] * d_io
        scale = max(float(cost.max()), 1.0)
        cost = cost + 1e-6 * scale * dist[last]
        cost[~free] = np.inf
        tiles[u] = last = int(np.argmin(cost))
        free[last] = False
    return tiles


def place(n_blocks: int, src: np.ndarray, dst: np.ndarray, bits: np.ndarray, io: int,
          grid: tuple[int, int], seed: int = 0, restarts: int | None = None,
          max_swaps: int | None = None) -> Placement:
    """Place `n_blocks` blocks (flows src -> dst of `bits`, block `io` = the chip I/O).

    restarts: kicks of the iterated local search; default RESTART_WORK / (blocks x
    tiles), between 4 and 64, so small problems search longer and large ones stay fast.
    """
    rows, cols = grid
    r, c = np.divmod(np.arange(rows * cols), cols)
    dist = (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :])).astype(float)
    d_io = (r + c + 1).astype(float)          # I/O sits west of tile (0, 0)
    graph = traffic_graph(n_blocks, src, dst, bits, io)
    full = nx.to_numpy_array(graph, nodelist=list(range(n_blocks + 1)), weight="weight")
    w, w_io = full[:n_blocks, :n_blocks], full[:n_blocks, n_blocks]
    if n_blocks == 0:
        return Placement(np.zeros((0, 2), dtype=int), grid, 0.0, 0.0, 0)
    max_swaps = max_swaps if max_swaps is not None else 4 * n_blocks
    if restarts is None:
        restarts = int(np.clip(RESTART_WORK // (n_blocks * rows * cols), 4, 64))
    state = _State(w, w_io, dist, d_io, _greedy(w, w_io, dist, d_io))
    greedy_cost = state.total()
    swaps = state.descend(max_swaps)
    best_tiles, best_cost = state.tiles.copy(), state.total()
    rng = np.random.default_rng(seed)
    kick = max(2, n_blocks // 10)
    for _ in range(restarts):
        state = _State(w, w_io, dist, d_io, best_tiles)
        for u, p in zip(rng.integers(0, n_blocks, kick), rng.integers(0, rows * cols, kick)):
            state.move(int(u), int(p))
        swaps += state.descend(max_swaps)
        if state.total() < best_cost - 1e-9 * max(best_cost, 1.0):
            best_tiles, best_cost = state.tiles.copy(), state.total()
    pos = np.stack(np.divmod(best_tiles, cols), axis=1)
    return Placement(pos, grid, best_cost, greedy_cost, swaps)
