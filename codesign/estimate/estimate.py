"""The estimator: spec (+ workload) -> area by component, energy per operation, per
inference and per training example, latency, throughput, TOPS/W, TOPS/mm^2, and a GPU
row doing the same work.

    from codesign.estimate import estimate
    est = estimate("ambrogio2018")                 # peak: each tile one full MVM
    est = estimate(spec, net="mlp-2018")           # a network from codesign.network
    est.to_dict()["tops_per_w"]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..spec import Spec, load_spec
from .components import Library, load_components, router_area
from .tile_costs import TileCosts, forward_op, tile_costs, transfer_op, update_op
from .workload import Workload, peak_workload, workload_from_network


def _add(into: dict, part: Mapping[str, float], times: float = 1.0) -> None:
    for k, v in part.items():
        into[k] = into.get(k, 0.0) + v * times


@dataclass
class Estimate:
    spec: Spec
    workload: Workload
    costs: TileCosts
    area_breakdown: dict            # component -> m^2 (chip)
    energy_breakdown: dict          # component -> J per inference
    training_energy_breakdown: dict  # component -> J per training example
    ops_per_inference: float
    inference_interval: float       # s between inferences (throughput-limiting stage)
    latency: float                  # s of one inference, layers in sequence
    training_ops: float
    training_interval: float
    training_latency: float
    op_energy: dict                 # operation -> J for one tile
    tiles: int
    gpu: dict = field(default_factory=dict)

    # ---- totals -------------------------------------------------------------------
    @property
    def area(self) -> float:
        return sum(self.area_breakdown.values())

    @property
    def energy_per_inference(self) -> float:
        return sum(self.energy_breakdown.values())

    @property
    def energy_per_training_example(self) -> float:
        return sum(self.training_energy_breakdown.values())

    @property
    def tops(self) -> float:
        return self.ops_per_inference / self.inference_interval / 1e12

    @property
    def tops_per_w(self) -> float:
        return self.ops_per_inference / self.energy_per_inference / 1e12

    @property
    def tops_per_mm2(self) -> float:
        return self.tops / (self.area * 1e6)

    @property
    def power(self) -> float:
        return self.energy_per_inference / self.inference_interval

    @property
    def training_tops(self) -> float:
        return self.training_ops / self.training_interval / 1e12

    @property
    def training_tops_per_w(self) -> float:
        return self.training_ops / self.energy_per_training_example / 1e12

    @property
    def training_tops_per_mm2(self) -> float:
        return self.training_tops / (self.area * 1e6)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict: areas in mm^2, energies in J, times in s."""
        spec, c = self.spec, self.costs
        return {
            "spec": spec.name, "workload": self.workload.name,
            "node_nm": spec.technology.node_nm, "clock_hz": spec.clock.frequency,
            "tiles": self.tiles,
            "tops": self.tops, "tops_per_w": self.tops_per_w,
            "tops_per_mm2": self.tops_per_mm2, "area_mm2": self.area * 1e6,
            "area_breakdown": {k: v * 1e6 for k, v in self.area_breakdown.items()},
            "tile_area_mm2": c.tile_area * 1e6,
            "energy_per_inference_j": self.energy_per_inference,
            "energy_breakdown": dict(self.energy_breakdown),
            "ops_per_inference": self.ops_per_inference,
            "latency_s": self.latency, "inference_interval_s": self.inference_interval,
            "power_w": self.power,
            "training": {
                "tops": self.training_tops, "tops_per_w": self.training_tops_per_w,
                "tops_per_mm2": self.training_tops_per_mm2,
                "energy_per_example_j": self.energy_per_training_example,
                "energy_breakdown": dict(self.training_energy_breakdown),
                "ops_per_example": self.training_ops, "latency_s": self.training_latency,
                "example_interval_s": self.training_interval,
            },
            "energy_per_op_j": dict(self.op_energy),
            "event_energy_j": dict(c.event_energy),
            "control": {"gate_equivalents": c.control_ge, "source": c.control_source},
            "components": c.lib.origin,
            "gpu": dict(self.gpu),
        }


def _gpu_row(lib: Library, ops: float, training_ops: float, tops_per_w: float) -> dict:
    rate = lib["gpu.peak_ops"] * lib["gpu.utilization"]
    power = lib["gpu.power"]
    return {
        "name": lib["gpu.name"], "peak_tops": lib["gpu.peak_ops"] / 1e12,
        "utilization": lib["gpu.utilization"], "power_w": power,
        "die_area_mm2": lib["gpu.die_area"] * 1e6,
        "tops": rate / 1e12, "tops_per_w": rate / power / 1e12,
        "tops_per_mm2": rate / 1e12 / (lib["gpu.die_area"] * 1e6),
        "energy_per_inference_j": ops / rate * power,
        "energy_per_training_example_j": training_ops / rate * power,
        "latency_s": ops / rate,
        "tops_per_w_advantage": tops_per_w / (rate / power / 1e12),
        "source": lib.source("gpu.peak_ops"),
    }


def estimate(spec: Spec | str | Path, net: Any = None, mapping: Any = None,
             components: Library | str | Path | dict | None = None,
             workload: Workload | None = None, synth: Mapping | None = None) -> Estimate:
    """Estimate a spec running a workload.

    net: a codesign.network Network or a name/file for load_network; mapping: a
    codesign.mapping Mapping (tiles per layer, network events per inference), made with
    map_network when absent and codesign.mapping exists; workload: a hand-made Workload
    (overrides net); none of them: peak numbers, every tile one full MVM. components: a
    Library, a YAML path or dict of overrides. synth: yosys counts of the tile controller
    (codesign.hdl.synth.synth_counts(spec)); without them a structural fallback."""
    spec = load_spec(spec)
    lib = components if isinstance(components, Library) else load_components(components)
    if workload is None:
        workload = _workload(spec, net, mapping)
    costs = tile_costs(spec, lib, synth)
    f = spec.clock.frequency
    overlap = bool(lib["activity.io_overlap"])

    fwd, bwd = forward_op(spec), forward_op(spec, transpose=True)
    upd, xfer = update_op(spec, lib), transfer_op(spec, lib)
    per_tile = {
        "forward": costs.energy(fwd.counts, fwd.cycles),
        "backward": costs.energy(bwd.counts, bwd.cycles),
        "update": costs.energy(upd.counts, upd.cycles),
        "transfer": costs.energy(xfer.counts, xfer.cycles),
    }
    _add(per_tile["update"], {"update": costs.update_line_energy})
    # a transfer every transfer_interval training examples, shared by them
    xfer_share = 1.0 / spec.cell.transfer_interval

    def busy(op) -> int:
        return op.compute_cycles if overlap else op.cycles

    infer_e: dict[str, float] = {}
    train_e: dict[str, float] = {}
    stage_inf, stage_train, lat_inf, lat_train = [], [], 0.0, 0.0
    ops_inf = ops_train = 0.0
    for layer in workload.layers:
        n = layer.mvms * layer.active_tiles(spec)
        _add(infer_e, per_tile["forward"], n)
        for op in ("forward", "backward", "update"):
            _add(train_e, per_tile[op], n)
        _add(train_e, per_tile["transfer"], layer.tiles * xfer_share)
        ops_inf += 2 * layer.useful_macs
        ops_train += 6 * layer.useful_macs   # forward, backward and update: 2 ops per MAC
        m = layer.mvms_per_copy
        stage_inf.append(m * busy(fwd))
        stage_train.append(m * (busy(fwd) + busy(bwd) + busy(upd)) + xfer.cycles * xfer_share)
        lat_inf = max(lat_inf, m * fwd.cycles) if workload.parallel else \
            lat_inf + m * fwd.cycles
        t_layer = m * (fwd.cycles + bwd.cycles + upd.cycles)
        lat_train = max(lat_train, t_layer) if workload.parallel else lat_train + t_layer

    tiles = workload.total_tiles
    # network events: activations forward, and errors back in training (assumed equal)
    noc = costs.energy(workload.noc_events)
    _add(infer_e, noc)
    _add(train_e, noc, 2.0)
    area = {k: v * tiles for k, v in costs.area.items()}
    if tiles > 1:
        area["routers"] = tiles * router_area(lib, spec)
    for x in lib.extras:
        if x.scope == "chip":
            node = spec.technology.node_nm
            area[x.name] = x.area * (1.0 if x.node_nm is None else (node / x.node_nm) ** 2)
            scale_e = 1.0 if x.node_nm is None else lib.energy_scale(node, x.node_nm)
            _add(infer_e, {x.name: x.per_cycle * scale_e * lat_inf})
            _add(train_e, {x.name: x.per_cycle * scale_e * lat_train})
            for ev, e in x.per_event.items():
                n = workload.noc_events.as_dict().get(ev, 0)
                _add(infer_e, {x.name: n * e * scale_e})
                _add(train_e, {x.name: 2 * n * e * scale_e})

    interval_inf = max(stage_inf) / f
    interval_train = max(stage_train) / f
    op_energy = {k: sum(v.values()) for k, v in per_tile.items()}
    op_energy["load_word"] = costs.event_energy["buffer_writes"]
    op_energy["read_word"] = costs.event_energy["buffer_reads"]
    est = Estimate(spec, workload, costs, area, infer_e, train_e, ops_inf, interval_inf,
                   lat_inf / f, ops_train, interval_train, lat_train / f, op_energy, tiles)
    est.gpu = _gpu_row(lib, ops_inf, ops_train, est.tops_per_w)
    return est


def _workload(spec: Spec, net: Any, mapping: Any) -> Workload:
    if net is None:
        return peak_workload(spec)
    from ..network import load_network
    network = load_network(net)
    if mapping is None:
        try:
            from ..mapping import map_network
        except ImportError:
            map_network = None
        if map_network is not None:
            mapping = map_network(network, spec)
    return workload_from_network(network, spec, mapping)

