"""The estimator: spec (+ workload) -> area by component, energy per operation, per
inference and per training example, latency, throughput, TOPS/W, TOPS/mm^2, and a GPU
row doing the same work.

    from codesign.estimate import estimate
    est = estimate("ambrogio2018")                 # peak: each tile one full MVM
    est = estimate(spec, net="mlp-2018")           # a network from codesign.network
    est.to_dict()["tops_per_w"]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..spec import Spec, load_spec
from .components import Library, load_components, router_area
from .tile_costs import (TileCosts, forward_op, supply, supply_ratio, tile_costs,
                         transfer_op, update_op)
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
    leak_power: float = 0.0         # W of the whole chip (leakage of every part)
    models: tuple = ()              # (component, model that priced it)

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
            "leak_power_w": self.leak_power,
            "models": dict(self.models),
            "components": c.lib.origin,
            "gpu": dict(self.gpu),
        }


GPU_MODES = (("train", 1), ("train", 1024), ("infer", 1), ("infer", 8192))


def _gpu_row(lib: Library, ops: float, training_ops: float, tops_per_w: float,
             training_tops_per_w: float) -> dict:
    """The measured GPU (../shared/reference/gpu.md: NVIDIA H200, the 2018 network
    784-250-125-10 in float32, energy from the board's counter) doing the same ops: energy
    per op at batch 1 (the like-for-like comparison with in-situ training and
    one-at-a-time inference) and at the GPU's best measured batch."""
    # the measured network whose size matches this workload's (the 528-input network of
    # the 2018 paper or the 784-input one); other workloads take the 784 network's energy
    # per op (at batch 1 the GPU is launch-bound, so this understates its energy for
    # smaller networks and overstates it for larger ones: docs/estimate.md)
    prefix, net = "gpu.", "784-250-125-10"
    if abs(ops - lib["gpu.n528_ops_per_image"]) < 0.01 * ops:
        prefix, net = "gpu.n528_", "528-250-125-10"
    net_ops = lib[f"{prefix}ops_per_image"]
    rows = {}
    for mode, batch in GPU_MODES:
        key = f"{prefix}{mode}_b{batch}"
        e_img, ips = lib[f"{key}_energy"], lib[f"{key}_images_per_s"]
        ops_img = net_ops * (3 if mode == "train" else 1)
        rows[f"{mode}_batch{batch}"] = {
            "mode": mode, "batch": batch, "energy_per_image_j": e_img,
            "images_per_s": ips, "tops": ips * ops_img / 1e12,
            "tops_per_w": ops_img / e_img / 1e12, "energy_per_op_j": e_img / ops_img}
    b1_inf, b1_train = rows["infer_batch1"], rows["train_batch1"]
    return {
        "name": lib["gpu.name"], "source": lib.source("gpu.name"),
        "compared_batch": 1, "network": net, "dtype": "float32",
        "measured": rows,
        "tops": b1_inf["tops"], "tops_per_w": b1_inf["tops_per_w"],
        "energy_per_inference_j": ops * b1_inf["energy_per_op_j"],
        "energy_per_training_example_j": training_ops * b1_train["energy_per_op_j"],
        "tops_per_w_advantage": tops_per_w / b1_inf["tops_per_w"],
        "training_tops_per_w_advantage": training_tops_per_w / b1_train["tops_per_w"],
        "tops_per_w_advantage_best_batch":
            tops_per_w / rows["infer_batch8192"]["tops_per_w"],
        "training_tops_per_w_advantage_best_batch":
            training_tops_per_w / rows["train_batch1024"]["tops_per_w"],
    }


def _interconnect(spec: Spec, lib: Library, workload: Workload, tiles: int,
                  tile_pitch: float, chip_side: float) -> float:
    """Energy per inference of moving activations between cores over a bus, an H-tree or
    dedicated wires (mesh networks are priced from the router model's events instead):
    every MVM's input and output words travel once, over the chip side (bus, H-tree root
    to leaf) or one core pitch (dedicated wires between neighbours)."""
    kind = spec.chip.interconnect
    if kind == "mesh" or tiles <= 1:
        return 0.0
    bits = sum(l.mvms * l.active_tiles(spec) *
               (l.rows * spec.dac.bits + min(l.cols, spec.weight_cols) * spec.adc.bits)
               for l in workload.layers)
    length_mm = (tile_pitch if kind == "wires" else chip_side) * 1e3
    # the library figure is at 1 V; C V^2 at the operating supply
    e_bit = lib["chip.bus_energy_per_bit_mm"] * lib["chip.wire_activity"] * \
        supply(lib, spec) ** 2
    return bits * length_mm * e_bit


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
    leak = tiles * costs.leak_power
    models = list(costs.models)
    if tiles > 1 and spec.chip.interconnect == "mesh":
        area["routers"] = tiles * router_area(lib, spec)
    # chip level (spec.chip): activation buffer, I/O, interconnect other than a mesh
    if spec.chip.buffer_bytes:
        from . import parts
        width = max(spec.dac.bits, spec.adc.bits)
        buf = parts.sram(lib, spec.chip.buffer_bytes * 8, width, spec.technology.node_nm,
                         kind=spec.chip.buffer_kind)
        area["chip_buffer"] = buf.area
        leak += buf.leak * supply_ratio(lib, spec)
        models.append(("chip_buffer", buf.source))
        words = sum(l.mvms * l.active_tiles(spec) * (l.rows + min(l.cols, spec.weight_cols))
                    for l in workload.layers)
        e_word = buf.energy * supply_ratio(lib, spec) ** 2   # at the operating supply
        _add(infer_e, {"chip_buffer": words * e_word})
        _add(train_e, {"chip_buffer": 2 * words * e_word})
    first, last = workload.layers[0], workload.layers[-1]
    io_bits = 0
    if spec.chip.io_bits:
        io_bits = (first.mvms * first.rows * spec.dac.bits if not workload.parallel else
                   sum(l.mvms * l.rows * spec.dac.bits for l in workload.layers)) + \
            (last.mvms * last.cols * spec.adc.bits if not workload.parallel else
             sum(l.mvms * min(l.cols, spec.weight_cols) * spec.adc.bits
                 for l in workload.layers))
        _add(infer_e, {"io": io_bits * spec.chip.io_energy_per_bit})
        _add(train_e, {"io": io_bits * spec.chip.io_energy_per_bit})
        stage_inf.append(io_bits / spec.chip.io_bits)
        stage_train.append(io_bits / spec.chip.io_bits)
    chip_side = math.sqrt(sum(area.values()))
    wire_e = _interconnect(spec, lib, workload, tiles, costs.tile_pitch, chip_side)
    if wire_e:
        _add(infer_e, {"interconnect": wire_e})
        _add(train_e, {"interconnect": 2 * wire_e})
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
    # leakage flows for the whole interval between inferences (or training examples)
    if leak:
        _add(infer_e, {"leakage": leak * interval_inf})
        _add(train_e, {"leakage": leak * interval_train})
    op_energy = {k: sum(v.values()) for k, v in per_tile.items()}
    op_energy["load_word"] = costs.event_energy["buffer_writes"]
    op_energy["read_word"] = costs.event_energy["buffer_reads"]
    est = Estimate(spec, workload, costs, area, infer_e, train_e, ops_inf, interval_inf,
                   lat_inf / f, ops_train, interval_train, lat_train / f, op_energy, tiles)
    est.leak_power, est.models = leak, tuple(models)
    est.gpu = _gpu_row(lib, ops_inf, ops_train, est.tops_per_w, est.training_tops_per_w)
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

