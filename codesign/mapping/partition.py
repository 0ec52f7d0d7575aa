"""Partition weight matrices into tile-sized blocks.

A layer's crossbar matrix (codesign.network.ir: rows = unrolled fan-in + bias row,
cols = outputs) is cut into ``ceil(rows / array.rows) x ceil(cols / array.cols)``
blocks, one tile each. Every cell kind in the spec stores one signed weight per
crosspoint (the 2PCM+3T1C and 4-PCM cells are differential inside the unit cell), so a
tile holds ``array.rows x array.cols`` weights whatever the cell.

Row splits produce partial sums: block (i, j) with i >= 1 sends its column outputs to
block (0, j), the *reducer*, which adds them. Column splits simply concatenate.
Optional replication copies a whole layer so that each copy handles 1/k of the output
positions, balancing a layer pipeline (balance_replicas).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..network import Layer, Network
from ..spec import Spec


@dataclass(frozen=True)
class LayerPartition:
    """The blocks of one weight layer. Blocks are numbered globally: replica-major, then
    row block, then column block, starting at ``first_block``."""
    layer: Layer
    row_edges: tuple[int, ...]     # block boundaries in matrix rows (len row_blocks + 1)
    col_edges: tuple[int, ...]
    replicas: int
    first_block: int
    array_rows: int
    array_cols: int

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def row_blocks(self) -> int:
        return len(self.row_edges) - 1

    @property
    def col_blocks(self) -> int:
        return len(self.col_edges) - 1

    @property
    def blocks(self) -> int:
        """Blocks of one copy of the layer."""
        return self.row_blocks * self.col_blocks

    @property
    def tiles(self) -> int:
        return self.blocks * self.replicas

    @property
    def utilization(self) -> float:
        """Fraction of the layer's tile crosspoints that hold a weight."""
        return self.layer.weights / (self.blocks * self.array_rows * self.array_cols)

    def block_id(self, i, j, replica=0):
        """Global id(s) of block (i, j) of a replica (numpy broadcasting)."""
        return self.first_block + np.asarray(replica) * self.blocks + \
            np.asarray(i) * self.col_blocks + np.asarray(j)

    def col_block_of(self, channels: np.ndarray) -> np.ndarray:
        """Column block holding each output channel (a column is an output channel)."""
        return np.searchsorted(np.asarray(self.col_edges), channels, side="right") - 1


@dataclass(frozen=True)
class Partition:
    layers: tuple[LayerPartition, ...]
    n_blocks: int

    def __getitem__(self, name: str) -> LayerPartition:
        for lp in self.layers:
            if lp.name == name:
                return lp
        raise KeyError(name)

    def block_layer(self) -> np.ndarray:
        """Index into ``layers`` of every block."""
        return np.repeat(np.arange(len(self.layers)), [lp.tiles for lp in self.layers])


def _edges(size: int, step: int) -> tuple[int, ...]:
    return tuple(range(0, size, step)) + (size,)


def partition(net: Network, spec: Spec, replicas: dict[str, int] | None = None) -> Partition:
    """Cut every weight layer of `net` into blocks of spec.array.rows x spec.array.cols."""
    replicas = dict(replicas or {})
    names = {l.name for l in net.weight_layers}
    for name, k in replicas.items():
        if name not in names:
            raise UserError(f"replicas: {name!r}: unknown layer; allowed: weight layers "
                            f"({', '.join(sorted(names))})")
        if not isinstance(k, int) or k < 1:
            raise UserError(f"replicas: {name}: value {k!r} is not allowed; allowed: int >= 1")
    out, first = [], 0
    r_rows, r_cols = spec.array.rows, spec.array.cols
    for layer in net.weight_layers:
        rows, cols = layer.matrix_shape
        lp = LayerPartition(layer, _edges(rows, r_rows), _edges(cols, r_cols),
                            replicas.get(layer.name, 1), first, r_rows, r_cols)
        out.append(lp)
        first += lp.tiles
    return Partition(tuple(out), first)


def balance_replicas(net: Network, spec: Spec, tile_budget: int) -> dict[str, int]:
    """Replicate pipeline bottlenecks while tiles remain: repeatedly give one more copy to
    the layer with the most MVMs per copy (a layer's time per example is proportional to
    its MVMs per copy), stopping when that layer's next copy does not fit the budget or
    it has one copy per MVM."""
    base = partition(net, spec)
    reps = {lp.name: 1 for lp in base.layers}
    used = base.n_blocks
    if not base.layers:
        return reps
    mvms = {lp.name: lp.layer.mvms_per_inference for lp in base.layers}
    blocks = {lp.name: lp.blocks for lp in base.layers}
    while True:
        name = max(reps, key=lambda n: (mvms[n] / reps[n], -list(reps).index(n)))
        if reps[name] >= mvms[name] or used + blocks[name] > tile_budget:
            return reps
        reps[name] += 1
        used += blocks[name]
