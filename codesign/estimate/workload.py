"""What the estimator runs: a plain workload of matrix layers.

The estimator needs, per weight layer, the MVM shape (rows driven, columns read), how
many MVMs one inference runs, the multiply-accumulates it does, and how many tiles hold
the layer; plus the on-chip network events of one inference. ``workload_from_network``
builds that from codesign.network (and codesign.mapping when present); ``peak_workload``
is the spec's own tiles each doing one full MVM; tests build workloads by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import UserError
from ..events import Events
from ..spec import Spec


# Largest count a workload field takes: 2**40 (~1.1e12) is far above any layer of the
# zoo (VGG's 25,088-row layers, ResNet's ~1e9 MACs) and keeps every product of counts
# (rows x cols x mvms, tiles x area) a finite float.
MAX_COUNT = 2 ** 40


@dataclass(frozen=True)
class WorkloadLayer:
    name: str
    rows: int                 # rows one MVM drives
    cols: int                 # columns one MVM reads
    mvms: int                 # MVMs per inference
    tiles: int                # tiles that hold the layer
    macs: int | None = None   # useful multiply-accumulates per inference (rows*cols*mvms)
    copies: int = 1           # replicas of the layer sharing its MVMs (mapping replication)

    def __post_init__(self):
        for key in ("rows", "cols", "mvms", "tiles", "copies"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or \
                    not 1 <= value <= MAX_COUNT:
                raise UserError(f"workload layer {self.name!r}: {key}: value {value!r} is "
                                f"not allowed; allowed: an integer from 1 to {MAX_COUNT:,}")
        most = self.rows * self.cols * self.mvms
        if self.macs is not None and (isinstance(self.macs, bool) or
                                      not isinstance(self.macs, int) or
                                      not 0 <= self.macs <= most):
            raise UserError(f"workload layer {self.name!r}: macs: value {self.macs!r} is not "
                            f"allowed; allowed: an integer from 0 to rows x cols x mvms "
                            f"({most:,})")

    @property
    def useful_macs(self) -> int:
        return self.macs if self.macs is not None else self.rows * self.cols * self.mvms

    def active_tiles(self, spec: Spec) -> int:
        """Tiles one MVM drives: the blocks its rows x cols cover, at most one copy's."""
        blocks = math.ceil(self.rows / spec.array.rows) * math.ceil(self.cols / spec.weight_cols)
        return max(1, min(self.tiles // self.copies, blocks))

    @property
    def mvms_per_copy(self) -> int:
        """MVMs each copy runs one after another per inference."""
        return math.ceil(self.mvms / self.copies)


@dataclass(frozen=True)
class Workload:
    name: str
    layers: tuple[WorkloadLayer, ...]
    noc_events: Events = field(default_factory=Events)   # per inference
    parallel: bool = False   # True: layers are independent (peak), False: a pipeline

    @property
    def total_tiles(self) -> int:
        return sum(l.tiles for l in self.layers)


def tiles_for(rows: int, cols: int, spec: Spec) -> int:
    """Tiles a rows x cols weight matrix needs when cut into array-sized blocks (a tile
    holds spec.weight_cols weights per row: sliced or differential weights take several
    physical columns)."""
    return math.ceil(rows / spec.array.rows) * math.ceil(cols / spec.weight_cols)


def peak_workload(spec: Spec) -> Workload:
    """Every core of the chip (spec.chip.cores, else the spec's grid, else one) doing one
    full MVM over all its rows and weights."""
    n = spec.chip.cores or max(1, spec.noc.grid_rows * spec.noc.grid_cols)
    r, c = spec.array.rows, spec.weight_cols
    # n copies of one full MVM, each on its own tile, all at once
    layers = (WorkloadLayer("peak", r, c, n, n, r * c * n, n),)
    return Workload(f"peak ({n} tile{'s' if n > 1 else ''})", layers, parallel=True)


def workload_from_network(net, spec: Spec, mapping=None) -> Workload:
    """Adapter from codesign.network.Network (and an optional codesign.mapping Mapping:
    ``.layers[i].name/.tiles``, ``.noc_events``) to a Workload. Without a mapping, tiles
    come from cutting each layer's matrix into array-sized blocks and the network events
    are empty (the mapping's router model supplies them)."""
    tiles_by_name, copies_by_name, noc = {}, {}, Events()
    if mapping is not None:
        tiles_by_name = {ml.name: int(ml.tiles) for ml in mapping.layers}
        copies_by_name = {ml.name: int(getattr(ml, "replicas", 1)) for ml in mapping.layers}
        noc = getattr(mapping, "noc_events", None) or Events()
    layers = []
    for layer in net.layers:
        shape = layer.matrix_shape
        if shape is None:
            continue
        rows, cols = getattr(layer, "mvm_shape", None) or shape
        tiles = tiles_by_name.get(layer.name, tiles_for(shape[0], shape[1], spec))
        layers.append(WorkloadLayer(layer.name, int(rows), int(cols),
                                    int(layer.mvms_per_inference), max(1, tiles),
                                    int(layer.macs), copies_by_name.get(layer.name, 1)))
    if not layers:
        raise UserError(f"network {net.name!r}: no weight layers to place on tiles")
    return Workload(net.name, tuple(layers), noc)


def workload_from_dict(data: dict, spec: Spec, source: str = "<workload>") -> Workload:
    """A hand-written workload: ``{name, layers: [{name, rows, cols, mvms, tiles?}]}``
    (tiles default to the blocks the matrix needs)."""
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        raise UserError(f"{source}: a workload needs 'layers': a list of {{name, rows, cols, "
                        "mvms, tiles}}")
    layers = []
    for i, item in enumerate(data["layers"]):
        if not isinstance(item, dict):
            raise UserError(f"{source}: layers[{i}]: value {item!r} must be a mapping")
        unknown = sorted(set(item) - {"name", "rows", "cols", "mvms", "tiles", "macs",
                                      "copies"})
        if unknown:
            raise UserError(f"{source}: layers[{i}].{unknown[0]}: unknown key; allowed: "
                            "name, rows, cols, mvms, tiles, macs, copies")
        missing = [k for k in ("rows", "cols") if k not in item]
        if missing:
            raise UserError(f"{source}: layers[{i}]: missing {missing[0]}")
        rows, cols = item["rows"], item["cols"]
        tiles = item.get("tiles")
        if tiles is None and isinstance(rows, int) and isinstance(cols, int):
            tiles = tiles_for(rows, cols, spec)
        copies = item.get("copies", 1)
        if tiles is not None and isinstance(copies, int) and "tiles" not in item:
            tiles *= copies
        layers.append(WorkloadLayer(str(item.get("name", f"layer{i}")), rows, cols,
                                    item.get("mvms", 1), tiles, item.get("macs"), copies))
    if not layers:
        raise UserError(f"{source}: layers: the list is empty; allowed: at least one layer")
    return Workload(str(data.get("name", source)), tuple(layers))
