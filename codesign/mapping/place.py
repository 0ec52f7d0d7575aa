"""Place tile blocks on an R x C mesh, minimizing traffic x hops.

The blocks form an undirected traffic graph whose edge weights are the bits exchanged
per inference (both directions summed); the chip I/O is a fixed node beside tile (0, 0)
(one hop from it). The cost of a placement is sum over edges of bits x Manhattan
distance, which is exactly the bit-hops of dimension-order routing.

Two searches, both deterministic for a given seed:

*exhaustive* (blocks x tiles <= DENSE_WORK: up to about 100 blocks, every network of
the zoo on 512x512 tiles):

1. greedy start: blocks in network order (layer by layer), each on the free tile that
   minimizes its cost to the blocks already placed (ties go to the tile nearest the
   previous block, so a layer's blocks stay together);
2. steepest-descent swaps: the cost change of moving every block to every tile
   (swapping with the occupant, or into an empty tile) is one vectorized N x P array;
   apply the best swap until none improves;
3. iterated local search: `restarts` times, kick the best placement with a few random
   swaps drawn from the seeded generator and descend again; keep the best.

Each step of 2 costs N x P, and a descent takes O(N) steps, so this grows as N^3: a
fraction of a second for a hundred blocks, minutes for a thousand.

*windowed* (larger problems): the same greedy start, with each block's cost over the grid
computed as a row term plus a column term from its placed neighbours (Manhattan distance
is separable), then a local search whose work per round is linear in the edges:

2'. every (active) block considers the tiles of two (2r+1) x (2r+1) windows, one around
   its tile and one around its best spot alone (the weighted median of its neighbours,
   the I/O included); the exact cost change of moving there (swapping with the occupant,
   if any) is summed over the sparse edges of the two blocks;
3'. the improving moves are taken best first, skipping any move that touches a block
   next to (or one of) the blocks of a move already taken, so the chosen moves do not
   interact and their changes add up exactly; repeat with the blocks whose
   neighbourhood changed until a round over every block finds nothing;
4'. iterated local search as in 3, with local kicks (a few blocks swapped within a
   small window), the number of kicks rounds set by a work budget.

The cost falls strictly at every round, so both searches end.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .progress import QUIET, Progress

#: Work budget (blocks x tiles summed over restarts) of the default number of restarts.
RESTART_WORK = 500_000
#: Largest blocks x tiles searched with the exhaustive N x P swap table (above it the
#: windowed search is faster and, on the zoo on 256x256 tiles, finds cheaper placements).
DENSE_WORK = 10_000
#: Half-width of the candidate windows of the windowed search.
WINDOW = 2
#: Blocks kicked, summed over the restarts, of the windowed search's default number of
#: restarts (between 4 and 32).
WINDOWED_RESTART_WORK = 2_400
#: Blocks kicked per restart of the windowed search (fraction) and how far.
KICK_FRACTION = 0.1
KICK_RADIUS = 2


@dataclass(frozen=True)
class Placement:
    """pos[b] = (row, col) of block b; cost in bit-hops (I/O hops included); method
    "exhaustive" or "windowed"; seconds per stage in timings (not part of equality)."""
    pos: np.ndarray
    grid: tuple[int, int]
    cost: float
    greedy_cost: float
    swaps: int
    method: str = "exhaustive"
    timings: dict = field(default_factory=dict, compare=False)

    def tile_of(self) -> np.ndarray:
        """Flat tile index (row * cols + col) of every block."""
        return self.pos[:, 0] * self.grid[1] + self.pos[:, 1]


def _edge_list(n_blocks: int, src: np.ndarray, dst: np.ndarray, bits: np.ndarray,
               io: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges (a < b, sorted) with the bits of both directions summed; the I/O
    is node `io`. Flows of a block to itself carry nothing over the mesh and are dropped."""
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    bits = np.asarray(bits, dtype=float)
    keep = src != dst
    a = np.minimum(src, dst)[keep]
    b = np.maximum(src, dst)[keep]
    key, inverse = np.unique(a * (n_blocks + 1) + b, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=bits[keep], minlength=len(key))
    return key // (n_blocks + 1), key % (n_blocks + 1), weight


def traffic_graph(n_blocks: int, src: np.ndarray, dst: np.ndarray, bits: np.ndarray,
                  io: int) -> nx.Graph:
    """Undirected networkx graph of blocks (and node `io`), weight = bits both ways."""
    g = nx.Graph()
    g.add_nodes_from(range(n_blocks + 1))
    a, b, w = _edge_list(n_blocks, src, dst, bits, io)
    g.add_weighted_edges_from((int(u), int(v), float(x)) for u, v, x in zip(a, b, w))
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


class _Sparse:
    """The traffic graph in CSR form (each undirected edge stored both ways, neighbours
    sorted), the I/O weights and the grid geometry, for the windowed search."""

    def __init__(self, n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray,
                 grid: tuple[int, int]):
        io = b == n
        self.n, self.rows, self.cols = n, grid[0], grid[1]
        self.w_io = np.bincount(a[io], weights=w[io], minlength=n)
        a, b, w = a[~io], b[~io], w[~io]
        u = np.concatenate([a, b])
        v = np.concatenate([b, a])
        order = np.lexsort((v, u))
        self.eu, self.ev, self.ew = u[order], v[order], np.concatenate([w, w])[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(self.eu, minlength=n))])
        self.deg = np.diff(self.indptr)
        self.linked = np.flatnonzero(self.deg)
        self.key = self.eu * n + self.ev          # sorted: rows, then columns
        self.rr = np.arange(self.rows, dtype=float)
        self.cc = np.arange(self.cols, dtype=float)

    def total(self, tile_of: np.ndarray) -> float:
        """Bit-hops of a placement (each edge once, the I/O link included)."""
        r, c = np.divmod(tile_of, self.cols)
        half = self.eu < self.ev
        d = np.abs(r[self.eu[half]] - r[self.ev[half]]) + \
            np.abs(c[self.eu[half]] - c[self.ev[half]])
        return float(self.ew[half] @ d + self.w_io @ (r + c + 1))

    def weight(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Edge weight between block pairs (0 where there is no edge)."""
        if not len(self.key):
            return np.zeros(len(u))
        key = u * self.n + v
        at = np.minimum(np.searchsorted(self.key, key), len(self.key) - 1)
        return np.where(self.key[at] == key, self.ew[at], 0.0)

    def neighbours(self, blocks: np.ndarray) -> np.ndarray:
        """Every edge entry (index into eu/ev/ew) of the given blocks."""
        deg = self.deg[blocks]
        first = np.cumsum(deg) - deg
        return np.repeat(self.indptr[blocks] - first, deg) + np.arange(int(deg.sum()))

    def histograms(self, tile_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """hist_r[u, r]: bits between block u and its neighbours on row r; hist_c the
        same per column."""
        r, c = np.divmod(tile_of, self.cols)
        hist_r = np.bincount(self.eu * self.rows + r[self.ev], weights=self.ew,
                             minlength=self.n * self.rows).reshape(self.n, self.rows)
        hist_c = np.bincount(self.eu * self.cols + c[self.ev], weights=self.ew,
                             minlength=self.n * self.cols).reshape(self.n, self.cols)
        return hist_r, hist_c

    def row_table(self, hist_r: np.ndarray, blocks=slice(None)) -> np.ndarray:
        """Cost of blocks on every row: sum over neighbours of bits x row distance, plus
        the I/O's bits x (row + column + 1) split as row here, column + 1 in col_table."""
        return _distance_sums(hist_r, self.rr) + self.w_io[blocks, None] * self.rr[None, :]

    def col_table(self, hist_c: np.ndarray, blocks=slice(None)) -> np.ndarray:
        return _distance_sums(hist_c, self.cc) + \
            self.w_io[blocks, None] * (self.cc[None, :] + 1)


def _distance_sums(hist: np.ndarray, x: np.ndarray) -> np.ndarray:
    """out[u, i] = sum_j hist[u, j] |x_i - x_j| from prefix sums (O(rows x len(x)))."""
    w = np.cumsum(hist, axis=1)
    m = np.cumsum(hist * x[None, :], axis=1)
    w_all, m_all = w[:, -1:], m[:, -1:]
    return x[None, :] * (2 * w - w_all) + m_all - 2 * m


def _greedy_separable(g: _Sparse, progress: Progress) -> np.ndarray:
    """The greedy start of the exhaustive search, its cost over the grid computed as
    row term + column term from the placed neighbours (O(R + C + deg) per block, plus
    one pass over the grid for the argmin)."""
    n, rows, cols = g.n, g.rows, g.cols
    rr, cc = g.rr, g.cc
    tiles = np.full(n, -1)
    blocked = np.zeros((rows, cols))          # +inf on taken tiles
    last_r = last_c = 0                       # the tile nearest the I/O
    step = max(1, n // 20)
    for u in range(n):  # one decision per block: an operation, not a data loop
        nb = g.ev[g.indptr[u]:g.indptr[u + 1]]
        placed = tiles[nb] >= 0
        w = g.ew[g.indptr[u]:g.indptr[u + 1]][placed]
        pr, pc = np.divmod(tiles[nb[placed]], cols)
        row_term = (w[:, None] * np.abs(rr[None, :] - pr[:, None])).sum(axis=0) + \
            g.w_io[u] * rr
        col_term = (w[:, None] * np.abs(cc[None, :] - pc[:, None])).sum(axis=0) + \
            g.w_io[u] * (cc + 1)
        # ties go to the tile nearest the previous block (1e-6 of the largest cost);
        # exact ties of both, to the first tile in row-major order
        scale = 1e-6 * max(float(row_term.max() + col_term.max()), 1.0)
        cost = row_term[:, None] + col_term[None, :]
        cost += scale * (np.abs(rr - last_r)[:, None] + np.abs(cc - last_c)[None, :])
        cost += blocked
        last_r, last_c = divmod(int(np.argmin(cost)), cols)
        blocked[last_r, last_c] = np.inf
        tiles[u] = last_r * cols + last_c
        if u % step == 0:
            progress.stage(f"greedy start {u}/{n}")
    return tiles


def _window_offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.arange(-radius, radius + 1)
    dr, dc = np.meshgrid(d, d, indexing="ij")
    return dr.ravel(), dc.ravel()


class _Windowed:
    """The windowed local search (module doc, 2'-4') on one placement. row/col are the
    cost tables of _Sparse.tables, kept current as blocks move."""

    def __init__(self, g: _Sparse, tiles: np.ndarray, radius: int | None = None):
        self.g = g
        radius = WINDOW if radius is None else radius
        self.tiles = tiles.copy()
        self.occ = np.full(g.rows * g.cols, -1)
        self.occ[self.tiles] = np.arange(g.n)
        self.dr, self.dc = _window_offsets(radius)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the histograms and cost tables from the positions."""
        g = self.g
        self.hist_r, self.hist_c = g.histograms(self.tiles)
        self.row, self.col = g.row_table(self.hist_r), g.col_table(self.hist_c)

    def copy(self) -> "_Windowed":
        new = object.__new__(_Windowed)
        new.__dict__.update({k: (v.copy() if isinstance(v, np.ndarray) else v)
                             for k, v in self.__dict__.items()})
        return new

    def cost(self, blocks: np.ndarray, tiles: np.ndarray) -> np.ndarray:
        r, c = np.divmod(tiles, self.g.cols)
        return self.row[blocks, r] + self.col[blocks, c]

    def candidates(self, blocks: np.ndarray) -> np.ndarray:
        """Tiles of the two windows of each block (clipped at the grid's edges)."""
        g = self.g
        # best spot alone: the weighted median row and column (first minimum)
        centres = ((self.tiles[blocks] // g.cols, self.tiles[blocks] % g.cols),
                   (np.argmin(self.row[blocks], axis=1), np.argmin(self.col[blocks], axis=1)))
        parts = []
        for r, c in centres:
            cr = np.clip(r[:, None] + self.dr[None, :], 0, g.rows - 1)
            cc = np.clip(c[:, None] + self.dc[None, :], 0, g.cols - 1)
            parts.append(cr * g.cols + cc)
        return np.concatenate(parts, axis=1)

    def best_moves(self, blocks: np.ndarray):
        """Best candidate tile of each block and its exact cost change."""
        g = self.g
        cand = self.candidates(blocks)                       # blocks x K
        k = cand.shape[1]
        u = np.repeat(blocks, k)
        p = cand.ravel()
        a = self.tiles[u]
        own = self.cost(blocks, self.tiles[blocks])
        delta = self.cost(u, p) - np.repeat(own, k)
        v = self.occ[p]
        swap = (v >= 0) & (v != u)
        if swap.any():
            vs, us, ps, as_ = v[swap], u[swap], p[swap], a[swap]
            back = self.cost(vs, as_) - self.cost(vs, ps)
            ar, ac = np.divmod(as_, g.cols)
            pr, pc = np.divmod(ps, g.cols)
            back += 2 * g.weight(us, vs) * (np.abs(ar - pr) + np.abs(ac - pc))
            delta[swap] += back
        delta[p == a] = 0.0
        delta = delta.reshape(len(blocks), k)
        best = np.argmin(delta, axis=1)
        rows = np.arange(len(blocks))
        return cand[rows, best], delta[rows, best]

    def apply(self, us: np.ndarray, ps: np.ndarray) -> np.ndarray:
        """Move blocks us to tiles ps (swapping with the occupants, which must be
        distinct); update the tables; return every block moved."""
        a, v = self.tiles[us], self.occ[ps]
        self.tiles[us] = ps
        self.occ[ps] = us
        self.occ[a] = v
        back = v >= 0
        self.tiles[v[back]] = a[back]
        moved = np.concatenate([us, v[back]])
        self._shift(moved, np.concatenate([a, ps[back]]), np.concatenate([ps, a[back]]))
        return moved

    def _shift(self, moved: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Update the histograms and tables of the neighbours of blocks that moved."""
        g = self.g
        edge = g.neighbours(moved)
        if not len(edge):
            return
        counts = g.deg[moved]
        x, w = g.ev[edge], g.ew[edge]
        o_r, o_c = np.divmod(np.repeat(old, counts), g.cols)
        n_r, n_c = np.divmod(np.repeat(new, counts), g.cols)
        np.add.at(self.hist_r, (x, o_r), -w)
        np.add.at(self.hist_r, (x, n_r), w)
        np.add.at(self.hist_c, (x, o_c), -w)
        np.add.at(self.hist_c, (x, n_c), w)
        hit = np.unique(x)
        self.row[hit] = g.row_table(self.hist_r[hit], hit)
        self.col[hit] = g.col_table(self.hist_c[hit], hit)

    def round(self, blocks: np.ndarray, tol: float) -> tuple[int, np.ndarray]:
        """One round over `blocks`: take the non-interacting improving moves, best first.
        Returns the moves made and the blocks to look at next."""
        g = self.g
        target, delta = self.best_moves(blocks)
        good = np.flatnonzero(delta < -tol)
        if not len(good):
            return 0, np.zeros(0, dtype=np.int64)
        good = good[np.lexsort((blocks[good], delta[good]))]
        locked = np.zeros(g.n, dtype=bool)
        busy = np.zeros(g.rows * g.cols, dtype=bool)
        moved_u, moved_p, skipped = [], [], []
        indptr, ev, occ, tiles = g.indptr, g.ev, self.occ, self.tiles
        for i in good.tolist():  # one decision per candidate move, not a data loop
            u, p = int(blocks[i]), int(target[i])
            v, a = int(occ[p]), int(tiles[u])
            if locked[u] or busy[p] or busy[a] or (v >= 0 and locked[v]):
                skipped.append(u)
                continue
            locked[u] = busy[p] = busy[a] = True
            locked[ev[indptr[u]:indptr[u + 1]]] = True
            if v >= 0:
                locked[v] = True
                locked[ev[indptr[v]:indptr[v + 1]]] = True
            moved_u.append(u)
            moved_p.append(p)
        moved = self.apply(np.array(moved_u), np.array(moved_p))
        nxt = np.concatenate([moved, g.ev[g.neighbours(moved)],
                              np.array(skipped, dtype=np.int64)])
        return len(moved_u), np.unique(nxt)

    def descend(self, max_swaps: int, active: np.ndarray | None = None,
                progress: Progress = QUIET, confirm: bool = True) -> int:
        """Rounds until a round over every block finds no improving move (confirm=False:
        until the active blocks have none)."""
        g = self.g
        everyone = np.arange(g.n)
        blocks = everyone if active is None else active
        swaps = 0
        tol = 1e-9 * max(1.0, g.total(self.tiles))
        while swaps < max_swaps:
            made, nxt = self.round(blocks, tol)
            swaps += made
            if made:
                progress.stage(f"search: {swaps} moves")
                blocks = nxt
            elif confirm and len(blocks) < g.n:
                # the neighbourhoods settled: refresh the tables (no drift from the
                # updates) and check everyone
                self.refresh()
                blocks = everyone
            else:
                break
        return swaps

    def kick(self, rng: np.random.Generator, count: int, radius: int) -> np.ndarray:
        """Swap `count` random blocks, one after the other, with a random tile within
        `radius` rows and columns of theirs; return the blocks that moved."""
        g = self.g
        before = self.tiles.copy()
        tiles, occ = self.tiles, self.occ
        us = rng.integers(0, g.n, count)
        dr = rng.integers(-radius, radius + 1, count)
        dc = rng.integers(-radius, radius + 1, count)
        for u, r_off, c_off in zip(us.tolist(), dr.tolist(), dc.tolist()):
            a = int(tiles[u])
            r = min(max(a // g.cols + r_off, 0), g.rows - 1)
            c = min(max(a % g.cols + c_off, 0), g.cols - 1)
            p = r * g.cols + c
            v = int(occ[p])
            tiles[u], occ[p], occ[a] = p, u, v
            if v >= 0:
                tiles[v] = a
        moved = np.flatnonzero(tiles != before)
        self._shift(moved, before[moved], tiles[moved])
        return moved


def _place_windowed(n_blocks, a, b, w, grid, seed, restarts, max_swaps, progress):
    g = _Sparse(n_blocks, a, b, w, grid)
    timings = {}
    t0 = time.perf_counter()
    greedy = _greedy_separable(g, progress)
    greedy_cost = g.total(greedy)
    progress.advance()
    timings["greedy_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    search = _Windowed(g, greedy)
    max_swaps = max_swaps if max_swaps is not None else 50 * n_blocks
    swaps = search.descend(max_swaps, progress=progress)
    best, best_cost = search, g.total(search.tiles)
    progress.advance()
    timings["descent_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    kick = _kicked(n_blocks)
    for k in range(restarts):
        search = best.copy()
        touched = search.kick(rng, kick, KICK_RADIUS)
        active = np.unique(np.concatenate([touched, g.ev[g.neighbours(touched)]]))
        swaps += search.descend(max_swaps, active, confirm=False)
        cost = g.total(search.tiles)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = search, cost
        progress.stage(f"kick {k + 1}/{restarts}: {best_cost:.4g} bit-hops")
        progress.advance()
    timings["restarts_s"] = time.perf_counter() - t0
    pos = np.stack(np.divmod(best.tiles, grid[1]), axis=1)
    return Placement(pos, grid, best_cost, greedy_cost, swaps, "windowed", timings)


def default_restarts(n_blocks: int, grid: tuple[int, int], method: str) -> int:
    """Kick rounds of the iterated local search when none are asked for: RESTART_WORK /
    (blocks x tiles) between 4 and 64 for the exhaustive search, so small problems search
    longer; WINDOWED_RESTART_WORK / (blocks kicked per round) between 4 and 32 for the
    windowed one."""
    if method == "exhaustive":
        return int(np.clip(RESTART_WORK // max(n_blocks * grid[0] * grid[1], 1), 4, 64))
    return int(np.clip(WINDOWED_RESTART_WORK // _kicked(n_blocks), 4, 32))


def _kicked(n_blocks: int) -> int:
    return max(2, int(n_blocks * KICK_FRACTION))


def place(n_blocks: int, src: np.ndarray, dst: np.ndarray, bits: np.ndarray, io: int,
          grid: tuple[int, int], seed: int = 0, restarts: int | None = None,
          max_swaps: int | None = None, method: str | None = None,
          progress: Progress = QUIET) -> Placement:
    """Place `n_blocks` blocks (flows src -> dst of `bits`, block `io` = the chip I/O).

    method: "exhaustive", "windowed" or None (exhaustive up to DENSE_WORK blocks x
    tiles). restarts: kicks of the iterated local search (default: default_restarts).
    progress: a codesign.mapping.progress.Progress (one step for the
    greedy start, one per descent).
    """
    rows, cols = grid
    if n_blocks == 0:
        return Placement(np.zeros((0, 2), dtype=int), grid, 0.0, 0.0, 0)
    if method is None:
        method = "exhaustive" if n_blocks * rows * cols <= DENSE_WORK else "windowed"
    if method not in ("exhaustive", "windowed"):
        raise ValueError(f"placement method {method!r}; allowed: exhaustive, windowed")
    if restarts is None:
        restarts = default_restarts(n_blocks, grid, method)
    progress.add_total(2 + restarts)
    a, b, w = _edge_list(n_blocks, src, dst, bits, io)
    if method == "windowed":
        return _place_windowed(n_blocks, a, b, w, grid, seed, restarts, max_swaps, progress)
    t_start = time.perf_counter()
    r, c = np.divmod(np.arange(rows * cols), cols)
    dist = (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :])).astype(float)
    d_io = (r + c + 1).astype(float)          # I/O sits west of tile (0, 0)
    full = np.zeros((n_blocks + 1, n_blocks + 1))
    full[a, b] = w
    full[b, a] = w
    w, w_io = full[:n_blocks, :n_blocks], full[:n_blocks, n_blocks]
    max_swaps = max_swaps if max_swaps is not None else 4 * n_blocks
    state = _State(w, w_io, dist, d_io, _greedy(w, w_io, dist, d_io))
    greedy_cost = state.total()
    progress.advance()
    swaps = state.descend(max_swaps)
    best_tiles, best_cost = state.tiles.copy(), state.total()
    progress.advance()
    rng = np.random.default_rng(seed)
    kick = max(2, n_blocks // 10)
    for _ in range(restarts):
        state = _State(w, w_io, dist, d_io, best_tiles)
        for u, p in zip(rng.integers(0, n_blocks, kick), rng.integers(0, rows * cols, kick)):
            state.move(int(u), int(p))
        swaps += state.descend(max_swaps)
        if state.total() < best_cost - 1e-9 * max(best_cost, 1.0):
            best_tiles, best_cost = state.tiles.copy(), state.total()
        progress.advance()
    pos = np.stack(np.divmod(best_tiles, cols), axis=1)
    return Placement(pos, grid, best_cost, greedy_cost, swaps, "exhaustive",
                     {"search_s": time.perf_counter() - t_start})
