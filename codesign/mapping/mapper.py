"""map_network: partition -> traffic -> placement -> routing, one Mapping object.

    from codesign.mapping import map_network
    m = map_network("resnet18", "ambrogio2018", grid=None, seed=0)
    m.total_tiles, m.grid, m.noc_events
    for lm in m.layers:  # weight layers, network order
        lm.name, lm.tiles, lm.blocks, lm.utilization, lm.traffic_bits

Only weight layers (linear, conv2d) occupy tiles; the other layers run in the periphery
of their producer's tiles (see codesign.mapping.traffic).
"""
from __future__ import annotations

import dataclasses
import math
import re
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..events import Events
from ..network import Network, load_network
from ..spec import Spec, load_spec
from .noc import payload_bits
from .partition import LayerPartition, Partition, balance_replicas, partition
from .place import Placement, place
from .progress import Progress
from .route import Routing, route
from .traffic import FLOW_KINDS, Flows, network_flows


@dataclass(frozen=True)
class LayerMapping(LayerPartition):
    """Where one weight layer went: its partition (row/column blocks, replicas, tiles,
    utilization) plus traffic_bits, the bits its blocks receive per inference (input
    activations, partial sums, residual operands), and the (row, col) of its tiles."""
    traffic_bits: float
    positions: tuple[tuple[int, int], ...]

    @property
    def kind(self) -> str:
        return self.layer.kind

    @property
    def matrix_shape(self) -> tuple[int, int]:
        return self.layer.matrix_shape

    @property
    def mvms_per_inference(self) -> int:
        return self.layer.mvms_per_inference

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "matrix_shape": list(self.matrix_shape),
                "row_blocks": self.row_blocks, "col_blocks": self.col_blocks,
                "blocks": self.blocks, "replicas": self.replicas, "tiles": self.tiles,
                "utilization": self.utilization, "traffic_bits": self.traffic_bits,
                "mvms_per_inference": self.mvms_per_inference,
                "positions": [list(p) for p in self.positions]}


@dataclass(frozen=True)
class Mapping:
    network: str
    spec: str
    grid: tuple[int, int]
    layers: tuple[LayerMapping, ...]
    partition: Partition
    flows: Flows
    flits: np.ndarray          # per flow
    placement: Placement
    routing: Routing
    payload_bits: int
    seed: int
    #: seconds per stage (partition, traffic, placement stages, routing); not compared
    timings: dict = dataclasses.field(default_factory=dict, compare=False)

    @property
    def total_tiles(self) -> int:
        return self.partition.n_blocks

    @property
    def idle_tiles(self) -> int:
        return self.grid[0] * self.grid[1] - self.total_tiles

    @property
    def utilization(self) -> float:
        """Weights stored / crosspoints of the occupied tiles."""
        cells = sum(lp.tiles * lp.array_rows * lp.array_cols for lp in self.partition.layers)
        weights = sum(lp.layer.weights * lp.replicas for lp in self.partition.layers)
        return weights / cells if cells else 0.0

    @property
    def noc_events(self) -> Events:
        """Flits, hops and router traversals of one inference."""
        return self.routing.events()

    @property
    def cost_bit_hops(self) -> float:
        return self.placement.cost

    def tile_layer(self) -> np.ndarray:
        """grid-shaped array: index into ``layers`` of the layer on each tile, -1 if idle."""
        out = np.full(self.grid, -1)
        pos = self.placement.pos
        out[pos[:, 0], pos[:, 1]] = self.partition.block_layer()
        return out

    def to_dict(self) -> dict:
        a, b, load = self.routing.busiest()
        hist = self.routing.hop_histogram()
        kinds = {k: float(self.flows.bits[self.flows.kind == i].sum())
                 for i, k in enumerate(FLOW_KINDS)}
        return {"network": self.network, "spec": self.spec, "grid": list(self.grid),
                "total_tiles": self.total_tiles, "idle_tiles": self.idle_tiles,
                "utilization": self.utilization, "seed": self.seed,
                "routing": self.routing.algorithm, "payload_bits": self.payload_bits,
                "cost_bit_hops": self.cost_bit_hops,
                "greedy_cost_bit_hops": self.placement.greedy_cost,
                "traffic_bits": kinds,
                "noc_events": self.noc_events.as_dict(),
                "busiest_link": {"from": a if isinstance(a, str) else list(a),
                                 "to": b if isinstance(b, str) else list(b), "flits": load},
                "hop_histogram": [float(v) for v in hist],
                "layers": [lm.to_dict() for lm in self.layers]}


#: Networks with at least this many layers get a size line on stderr before mapping
#: (with progress on): their mapping takes seconds to minutes.
LARGE_NETWORK = 500
_GRID = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_grid(text: str) -> tuple[int, int]:
    """'4x6' -> (4, 6)."""
    m = _GRID.match(str(text))
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise UserError(f"grid: value {text!r} is not allowed; allowed: RxC with positive "
                        "integers, e.g. 8x8", field="grid")
    return int(m.group(1)), int(m.group(2))


def resolve_grid(spec: Spec, grid, tiles: int, net_name: str) -> tuple[int, int]:
    """The grid to use: `grid` ((R, C) or "RxC"), else spec.noc, else the smallest square
    that fits `tiles`; a grid too small is a UserError saying how many tiles are needed."""
    if grid is not None:
        rows, cols = parse_grid(grid) if isinstance(grid, str) else tuple(int(v) for v in grid)
        where = "grid"
    elif spec.noc.grid_rows:
        rows, cols, where = spec.noc.grid_rows, spec.noc.grid_cols, "noc.grid_rows/grid_cols"
    else:
        side = max(1, math.isqrt(max(tiles - 1, 0)) + 1) if tiles > 1 else 1
        return side, side
    field = "grid" if where == "grid" else None
    if rows < 1 or cols < 1:
        raise UserError(f"{where}: value {rows}x{cols} is not allowed; allowed: positive sizes",
                        field=field)
    if rows * cols < tiles:
        side = math.isqrt(tiles - 1) + 1
        raise UserError(f"{where}: value {rows}x{cols} has {rows * cols} tiles but {net_name} "
                        f"needs {tiles} tiles of {spec.array.rows}x{spec.array.cols}; allowed: "
                        f"a grid with >= {tiles} tiles, e.g. {side}x{side}", field=field)
    return rows, cols


def map_network(net: Network | str, spec: Spec | str, grid=None, seed: int = 0,
                routing: str = "xy", replicas: dict[str, int] | None = None,
                balance: bool = False, restarts: int | None = None,
                placement: str | None = None, progress: bool = False) -> Mapping:
    """Map `net` onto tiles of `spec`: partition, traffic, placement, routing.

    grid: (rows, cols) or "RxC"; default spec.noc.grid_rows x grid_cols, or the smallest
    square that fits (0 in the spec). seed drives the placement's random kicks.
    routing: "xy" or "shortest". replicas: copies per layer name; balance=True instead
    fills the grid's idle tiles with copies of the pipeline bottleneck layers.
    placement: "exhaustive", "windowed" or None (by problem size, codesign.mapping.place).
    progress: a progress bar on stderr when the run takes longer than a second.
    """
    net, spec = load_network(net), load_spec(spec)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise UserError(f"seed: value {seed!r} is not allowed; allowed: an integer",
                        field="seed")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    base = partition(net, spec, replicas)
    shape = resolve_grid(spec, grid, base.n_blocks, net.name)
    if balance:
        if replicas:
            raise UserError("replicas: give either explicit replicas or balance, not both")
        base = partition(net, spec, balance_replicas(net, spec, shape[0] * shape[1]))
    part = base
    timings["partition_s"] = time.perf_counter() - t0
    if progress and len(net.layers) >= LARGE_NETWORK:    # say how big before the wait
        print(f"map {net.name}: {len(net.layers):,} layers, {net.weights:,} weights, "
              f"{part.n_blocks:,} tile blocks on a {shape[0]}x{shape[1]} grid",
              file=sys.stderr, flush=True)
    with Progress(progress, f"map {net.name}", 2) as bar:
        bar.stage("traffic")
        t0 = time.perf_counter()
        flows = network_flows(net, spec, part)
        payload = payload_bits(spec.noc.flit_bits, *shape)
        flits = np.ceil(flows.bits / payload)
        timings["traffic_s"] = time.perf_counter() - t0
        bar.advance()
        bar.stage("placement")
        t0 = time.perf_counter()
        placed = place(part.n_blocks, flows.src, flows.dst, flows.bits, flows.io, shape,
                       seed=int(seed), restarts=restarts, method=placement, progress=bar)
        timings["placement_s"] = time.perf_counter() - t0
        timings.update({f"placement_{k}": v for k, v in placed.timings.items()})
        bar.stage(f"{routing} routing")
        t0 = time.perf_counter()
        pos = np.vstack([placed.pos, [[0, 0]]])   # the I/O enters at tile (0, 0)
        routed = route(shape, pos[flows.src], pos[flows.dst], flows.src == flows.io,
                       flows.dst == flows.io, flits, routing)
        timings["routing_s"] = time.perf_counter() - t0
        bar.advance()
    block_layer = part.block_layer()
    dst_layer = np.append(block_layer, -1)[flows.dst]
    incoming = np.bincount(dst_layer[dst_layer >= 0], weights=flows.bits[dst_layer >= 0],
                           minlength=len(part.layers))
    layers = []
    for k, lp in enumerate(part.layers):
        mine = placed.pos[lp.first_block:lp.first_block + lp.tiles]
        layers.append(LayerMapping(
            **{f.name: getattr(lp, f.name) for f in dataclasses.fields(lp)},
            traffic_bits=float(incoming[k]), positions=tuple((int(r), int(c)) for r, c in mine)))
    return Mapping(net.name, spec.name, shape, tuple(layers), part, flows, flits, placed,
                   routed, payload, int(seed), timings)
