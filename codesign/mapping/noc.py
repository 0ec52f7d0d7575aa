"""Cycle model of the on-chip mesh network (rtl/noc_router.v, rtl/noc_mesh.v).

It predicts, for a given injection schedule and ejection back-pressure, the exact cycle
each packet enters and leaves the mesh; the cocotb bench sims/noc_bench.py checks it
against the RTL packet by packet. All routers advance together: one step of
:func:`simulate` is one clock cycle over numpy arrays of shape (routers, ports).

Micro-architecture (the RTL implements exactly this):
- packets are single flits: ``dst_x`` in the low ``x_bits`` bits, ``dst_y`` above it,
  payload above that (header_bits); x is the column, y the row (south = y + 1);
- ports 0..4 = local, north, east, south, west; each input has a FIFO of ``depth`` flits
  whose ``ready`` is ``count < depth`` from the registered count (a flit popped in the
  same cycle does not free its slot until the next), so no combinational path crosses a
  link and every handshake is decided by state at the start of the cycle;
- XY routing on the FIFO head: east/west until the column matches, then north/south,
  then local;
- each output has a round-robin arbiter over the five inputs: the first requester at or
  after its pointer wins, the pointer moves past the winner when the flit is accepted.
  An offered flit that is refused (valid without ready) is locked: the output keeps the
  same winner until it is accepted (valid/ready stability);
- the transfer cycle of a flit is the cycle whose rising edge sees valid and ready; a
  flit written into a FIFO is at its head one cycle later, so an unblocked hop costs
  one cycle, and a packet injected in cycle t with h hops leaves in cycle t + h + 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UserError

PORTS = ("local", "north", "east", "south", "west")
L, N, E, S, W = range(5)
OPPOSITE = np.array([L, S, W, N, E])


def coord_bits(n: int) -> int:
    """Bits for a coordinate 0..n-1 (at least 1, as the RTL's localparams)."""
    return max(1, math.ceil(math.log2(n))) if n > 1 else 1


def header_bits(rows: int, cols: int) -> int:
    """Destination header of a flit: x (column) bits plus y (row) bits."""
    return coord_bits(cols) + coord_bits(rows)


def payload_bits(flit_bits: int, rows: int, cols: int) -> int:
    """Data bits a flit carries on a rows x cols mesh."""
    payload = flit_bits - header_bits(rows, cols)
    if payload < 1:
        raise UserError(f"noc.flit_bits: value {flit_bits} leaves no payload on a {rows}x{cols}"
                        f" grid; allowed: > {header_bits(rows, cols)} (the destination header)")
    return payload


@dataclass(frozen=True)
class Traffic:
    """An injection schedule. Packet k goes from router src[k] to dst[k] (router index =
    row * cols + col); each source offers its packets in index order, packet k no earlier
    than cycle release[k]. eject_ready[t, r] is the local output's ready in cycle t
    (always ready after the last row)."""
    rows: int
    cols: int
    src: np.ndarray
    dst: np.ndarray
    release: np.ndarray
    eject_ready: np.ndarray


@dataclass(frozen=True)
class NocRun:
    """Cycle of each packet's injection and ejection handshake; cycles simulated."""
    inject: np.ndarray
    arrive: np.ndarray
    cycles: int

    @property
    def latency(self) -> np.ndarray:
        return self.arrive - self.inject


def random_traffic(rng: np.random.Generator, rows: int, cols: int, packets: int,
                   hotspot_fraction: float = 0.3, hotspots: int = 1, mean_gap: float = 2.0,
                   stall: float = 0.25, hotspot_stall: float = 0.6) -> Traffic:
    """Random traffic with hot spots and back-pressure, drawn from `rng`: a fraction of
    packets goes to `hotspots` fixed routers whose local outputs are stalled more often;
    each source offers packets after geometric gaps (bursts when the gap is 0)."""
    n = rows * cols
    src = rng.integers(0, n, packets)
    hot = rng.choice(n, size=min(hotspots, n), replace=False)
    dst = np.where(rng.random(packets) < hotspot_fraction, rng.choice(hot, packets),
                   rng.integers(0, n, packets))
    gaps = rng.geometric(1.0 / (1.0 + mean_gap), packets) - 1
    order = np.argsort(src, kind="stable")     # each source's packets, in offer order
    g = gaps[order]
    cum = np.cumsum(g)
    first = np.searchsorted(src[order], src[order], side="left")
    release = np.empty(packets, dtype=np.int64)
    release[order] = cum - (cum[first] - g[first])
    horizon = int(release.max(initial=0)) + 4 * packets // max(n, 1) + 64
    p_stall = np.full(n, stall)
    p_stall[hot] = hotspot_stall
    eject_ready = rng.random((horizon, n)) >= p_stall[None, :]
    return Traffic(rows, cols, src, dst, release, eject_ready)


def fifo_ready(count, depth: int):
    """An input FIFO takes a flit iff its registered count is below its depth (a pop in
    the same cycle frees the slot one cycle later: codesign/rtl/noc_fifo.v)."""
    return count < depth


def xy_route(fx, fy, x, y):
    """Output port of a flit for (fx, fy) at router (x, y), dimension order: east/west
    until the column matches, then south/north, then local. Arrays broadcast."""
    return np.where(fx > x, E, np.where(fx < x, W, np.where(fy > y, S,
                    np.where(fy < y, N, L))))


_PORTS = np.arange(5)


def arbitrate(req: np.ndarray, rr: np.ndarray, lock_valid: np.ndarray,
              lock_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round-robin arbitration of every output: req (..., input, output) -> (winner,
    offered), each (..., output). The first requester at or after the output's pointer
    rr wins; a locked output (its offer refused last cycle) keeps lock_in."""
    rank = (_PORTS[:, None] - rr[..., None, :]) % 5
    winner = np.argmin(np.where(req, rank, 9), axis=-2)
    return np.where(lock_valid, lock_in, winner), req.any(axis=-2)


class FifoModel:
    """One input FIFO (codesign/rtl/noc_fifo.v), cycle by cycle: the reference the block bench
    codesign/sims/blocks/noc_fifo checks the RTL against. Flits are Python ints."""

    def __init__(self, depth: int):
        self.depth = depth
        self.slots: list[int] = []

    @property
    def ready(self) -> bool:
        return bool(fifo_ready(len(self.slots), self.depth))

    @property
    def valid(self) -> bool:
        return bool(self.slots)

    @property
    def head(self) -> int | None:
        return self.slots[0] if self.slots else None

    def step(self, push: bool, din: int, pop: bool) -> tuple[bool, bool]:
        """One clock edge; returns (pushed, popped). ready/valid are those of the state
        before the edge (both come from the registered count)."""
        pushed, popped = bool(push and self.ready), bool(pop and self.valid)
        if popped:
            self.slots.pop(0)
        if pushed:
            self.slots.append(int(din))
        return pushed, popped


class RouterModel:
    """One 5-port router (codesign/rtl/noc_router.v) at (x, y), cycle by cycle, with any stimulus on
    its ports: the reference of the block bench codesign/sims/blocks/noc_router. It uses the same
    routing, arbitration and FIFO rules as :func:`simulate` (tests/test_noc.py runs a mesh
    of these against it). A flit is an int: dst_x in its low x_bits, dst_y above."""

    def __init__(self, depth: int, x: int, y: int, x_bits: int, y_bits: int):
        self.x, self.y, self.x_bits, self.y_bits = x, y, x_bits, y_bits
        self.fifos = [FifoModel(depth) for _ in range(5)]
        self.rr = np.zeros(5, dtype=np.int64)
        self.lock_valid = np.zeros(5, dtype=bool)
        self.lock_in = np.zeros(5, dtype=np.int64)

    @property
    def in_ready(self) -> np.ndarray:
        return np.array([f.ready for f in self.fifos])

    def offers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(out_valid, winner, out_flit) per output, from the state before the edge."""
        valid = np.array([f.valid for f in self.fifos])
        heads = np.array([f.head if f.valid else 0 for f in self.fifos], dtype=np.int64)
        fx = heads & ((1 << self.x_bits) - 1)
        fy = (heads >> self.x_bits) & ((1 << self.y_bits) - 1)
        route = xy_route(fx, fy, self.x, self.y)
        req = valid[:, None] & (route[:, None] == _PORTS[None, :])          # in, out
        winner, offered = arbitrate(req, self.rr, self.lock_valid, self.lock_in)
        return offered, winner, heads[winner]

    def step(self, in_valid, in_flit, out_ready) -> dict:
        """One clock edge with these port inputs; returns what the ports did: in_ready,
        out_valid, out_flit (the offers of this cycle), pushed and xfer (handshakes)."""
        in_ready = self.in_ready
        offered, winner, flit = self.offers()
        xfer = offered & np.asarray(out_ready, dtype=bool)
        popped = np.zeros(5, dtype=bool)
        popped[winner[xfer]] = True
        pushed = np.array([f.step(bool(v), int(d), bool(p)) for f, v, d, p in
                           zip(self.fifos, in_valid, in_flit, popped)])[:, 0]
        self.lock_valid = offered & ~xfer
        self.lock_in = winner
        self.rr = np.where(xfer, (winner + 1) % 5, self.rr)
        return dict(in_ready=in_ready, out_valid=offered, out_flit=flit, pushed=pushed,
                    xfer=xfer)


def _neighbours(rows: int, cols: int) -> np.ndarray:
    """nb[r, p] = router beyond output port p of router r, or -1 at the mesh edge."""
    y, x = np.divmod(np.arange(rows * cols), cols)
    nb = np.full((rows * cols, 5), -1)
    nb[:, L] = np.arange(rows * cols)
    nb[:, N] = np.where(y > 0, (y - 1) * cols + x, -1)
    nb[:, S] = np.where(y < rows - 1, (y + 1) * cols + x, -1)
    nb[:, E] = np.where(x < cols - 1, y * cols + x + 1, -1)
    nb[:, W] = np.where(x > 0, y * cols + x - 1, -1)
    return nb


def simulate(traffic: Traffic, depth: int, max_cycles: int | None = None) -> NocRun:
    """Run the mesh cycle by cycle until every packet has left (see module doc)."""
    rows, cols = traffic.rows, traffic.cols
    n, packets = rows * cols, len(traffic.src)
    y, x = np.divmod(np.arange(n), cols)
    dy, dx = np.divmod(np.asarray(traffic.dst), cols)
    nb = _neighbours(rows, cols)
    fifo = np.zeros((n, 5, depth), dtype=np.int64)
    head = np.zeros((n, 5), dtype=np.int64)
    count = np.zeros((n, 5), dtype=np.int64)
    rr = np.zeros((n, 5), dtype=np.int64)
    lock_valid = np.zeros((n, 5), dtype=bool)
    lock_in = np.zeros((n, 5), dtype=np.int64)
    order = np.argsort(traffic.src, kind="stable")
    queue_end = np.searchsorted(traffic.src[order], np.arange(n), side="right")
    queue_pos = np.searchsorted(traffic.src[order], np.arange(n), side="left")
    inject = np.full(packets, -1, dtype=np.int64)
    arrive = np.full(packets, -1, dtype=np.int64)
    rows_idx = np.arange(n)[:, None]
    ports = np.arange(5)
    limit = max_cycles or int(traffic.release.max(initial=0)) + 64 * (packets + n) + 1000
    done, t = 0, 0
    while done < packets:
        if t >= limit:
            raise RuntimeError(f"noc model: {packets - done} packets still in flight after "
                               f"{limit} cycles (deadlock?)")
        has = queue_pos < queue_end
        pkt = order[np.minimum(queue_pos, packets - 1)]
        if not count.any():
            # an empty mesh with no offer due: nothing changes until the next release
            # (locks are clear, pointers only move on transfers), so jump there
            t = max(t, int(traffic.release[pkt[has]].min()))
        valid_in = count > 0
        flit = fifo[rows_idx, ports[None, :], head]
        fx, fy = dx[flit], dy[flit]
        route = xy_route(fx, fy, x[:, None], y[:, None])
        req = valid_in[:, :, None] & (route[:, :, None] == ports[None, None, :])  # r, in, out
        winner, offered = arbitrate(req, rr, lock_valid, lock_in)               # r, out
        t_ready = traffic.eject_ready[t] if t < len(traffic.eject_ready) else np.ones(n, bool)
        nb_count = np.where(nb >= 0, count[np.maximum(nb, 0), OPPOSITE[None, :]], depth)
        ready = np.where(ports[None, :] == L, t_ready[:, None], fifo_ready(nb_count, depth))
        xfer = offered & ready
        # injections offered by the sources this cycle
        inj = has & (traffic.release[pkt] <= t) & fifo_ready(count[:, L], depth)
        # moves: pop winners, push into neighbours (slots from start-of-cycle state)
        r_idx, o_idx = np.nonzero(xfer)
        i_idx = winner[r_idx, o_idx]
        moving = fifo[r_idx, i_idx, head[r_idx, i_idx]]
        eject = o_idx == L
        arrive[moving[eject]] = t
        done += int(eject.sum())
        tr, tp = nb[r_idx[~eject], o_idx[~eject]], OPPOSITE[o_idx[~eject]]
        fifo[tr, tp, (head[tr, tp] + count[tr, tp]) % depth] = moving[~eject]
        ir = np.flatnonzero(inj)
        fifo[ir, L, (head[ir, L] + count[ir, L]) % depth] = pkt[ir]
        inject[pkt[ir]] = t
        queue_pos[ir] += 1
        head[r_idx, i_idx] = (head[r_idx, i_idx] + 1) % depth
        count[r_idx, i_idx] -= 1
        np.add.at(count, (tr, tp), 1)
        count[ir, L] += 1
        lock_valid = offered & ~ready
        lock_in = winner
        rr = np.where(xfer, (winner + 1) % 5, rr)
        t += 1
    return NocRun(inject, arrive, t)


def zero_load_latency(rows: int, cols: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Cycles from injection to ejection of a packet alone in the mesh: hops + 1."""
    sy, sx = np.divmod(np.asarray(src), cols)
    ty, tx = np.divmod(np.asarray(dst), cols)
    return np.abs(sx - tx) + np.abs(sy - ty) + 1
