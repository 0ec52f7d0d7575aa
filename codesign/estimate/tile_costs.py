"""Per-tile costs of one spec: area by component, energy per event, energy per controller
cycle, and the counts of each tile operation. Energy is always event counts x per-event
energy (plus controller cycles x energy per cycle); the physics core never computes it."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .. import commands
from .. import cycles as cyc
from ..events import Events
from ..hdl.synth import gate_equivalents
from ..hdl.tile import COUNTERS
from ..spec import Spec
from . import components as comp
from .components import Library

# Which component each event's energy belongs to (the event names are the energy keys).
COMPONENT_OF_EVENT = {
    "dac_settings": "dacs", "integrations": "integrators", "adc_conversions": "adcs",
    "cell_reads": "cells", "update_pulses": "update", "set_pulses": "programming",
    "reset_pulses": "programming", "verify_reads": "programming",
    "buffer_reads": "buffers", "buffer_writes": "buffers", "flits": "noc", "hops": "noc",
    "router_traversals": "noc",
}
# The output lines' own wire (components.output_line_energy), charged per integration
# event; the input lines' wire is in their drivers' figure ("dacs").
LINES = "lines"
N_EVENT_COUNTERS = len(COUNTERS)  # the RTL's performance counters (codesign.hdl.tile)


def control_gate_equivalents(lib: Library, spec: Spec, synth: Mapping | None = None) \
        -> tuple[float, str]:
    """Gate equivalents of the tile controller and where the number comes from.

    With ``synth`` (codesign.hdl.synth.synth_counts(spec), or the JSON of `codesign synth
    tile --json`): its NAND2 equivalents (``nand2_eq``, or recomputed from ``by_type``;
    codesign.hdl.synth.gate_equivalents checks them). Without it, the count of the
    controller the RTL builds for this spec, from its structure (codesign.hdl.gatemodel:
    the units tile_ctrl.v replicates for the spec's array, update generators and ADC kind,
    each priced by saved yosys runs)."""
    if synth is not None:
        ge = gate_equivalents(synth, spec)
        tool = synth.get("yosys") or "yosys"
        return ge, f"yosys synthesis counts ({str(tool).split(' (')[0]}, NAND2 equivalents)"
    from ..hdl.gatemodel import controller_ge
    return controller_ge(spec), ("structural fallback (no synthesis counts): the RTL's units "
                                 "for this spec priced by saved yosys runs "
                                 "(codesign.hdl.gatemodel)")


@dataclass(frozen=True)
class TileCosts:
    spec: Spec
    lib: Library
    area: dict                # component -> m^2 per tile
    event_energy: dict        # event name -> J
    cycle_energy: float       # J per controller cycle (control logic and tile extras)
    update_line_energy: float  # J of pulse-line driving per UPDATE command
    control_ge: float
    control_source: str
    extra_event_energy: dict  # extra component -> {event: J}
    leak_power: float = 0.0   # W of one tile while it exists (ADC, buffer, logic leakage)
    models: tuple = ()        # (component, model that priced it)

    @property
    def tile_area(self) -> float:
        return sum(self.area.values())

    @property
    def tile_pitch(self) -> float:
        return math.sqrt(self.tile_area)

    def energy(self, counts: Mapping[str, float], cycles: float = 0.0) -> dict:
        """Energy by component (J) of event counts (Events or a dict, expected values may
        be fractional) plus controller cycles."""
        if isinstance(counts, Events):
            counts = counts.as_dict()
        out: dict[str, float] = {}
        for ev, n in counts.items():
            if n:
                c = COMPONENT_OF_EVENT[ev]
                out[c] = out.get(c, 0.0) + n * self.event_energy[ev]
                for name, per in self.extra_event_energy.items():
                    if ev in per:
                        out[name] = out.get(name, 0.0) + n * per[ev]
        if cycles:
            out["control"] = out.get("control", 0.0) + cycles * self.cycle_energy
        return out


def digital_units(spec: Spec, lib: Library) -> dict:
    """Per-core digital units of spec.core, one per ADC (they process its words as they
    come): {unit: (gate equivalents, event it runs on)}. Shift-and-add runs on every
    conversion when inputs are bit-serial or weights are sliced over cells; scaling,
    activation and accumulation run on every output word."""
    units: dict[str, tuple[float, str]] = {}
    core, per_bit = spec.core, lib["digital.adder_ge_per_bit"]
    word = spec.adc.bits + max(0, cyc.input_phases(spec) - 1) + \
        (spec.weights.cells_per_weight - 1) * max(1, spec.weights.bits_per_cell)
    sliced = cyc.input_phases(spec) > 1 or (spec.weights.cells_per_weight > 1 and
                                             spec.weights.slices == "digital")
    if core.shift_add and sliced and spec.adc_kind.quantizes:
        # an adder and a register of the accumulated word (flip-flops in dff_ge)
        units["shift_add"] = (word * (per_bit + lib["gates.dff_ge"]), "adc_conversions")
    if core.scale:
        units["scale"] = (lib["digital.multiplier_ge_per_bit2"] * word * spec.adc.bits,
                          "buffer_reads")
    if core.activation != "none":
        units["activation"] = (lib["digital.activation_ge"], "buffer_reads")
    if core.accumulate_bits:
        units["accumulate"] = (core.accumulate_bits * (per_bit + lib["gates.dff_ge"]),
                               "buffer_reads")
    return units


def tile_costs(spec: Spec, lib: Library, synth: Mapping | None = None) -> TileCosts:
    from . import parts
    node = spec.technology.node_nm
    rows, cols = spec.array.rows, spec.array.cols
    both_sides = spec.cell_kind.both_edges
    lines_in = rows + cols if both_sides else rows
    lines_out = rows + cols if both_sides else cols
    ge, ge_source = control_gate_equivalents(lib, spec, synth)
    gate = parts.gate(lib, node)
    e_adc, a_adc, leak_adc = comp.adc_cost(lib, spec)
    buf, width = comp.buffer_figure(lib, spec)
    n_adc = spec.adc.count if spec.adc_kind.quantizes else 0
    # the integrators sense each output line for its ADC, by the spec's integrator kind
    # (codesign.integratorkinds: an OTA, a sampling capacitor, a read-voltage regulator,
    # or none for charge-domain cells, whose compute capacitors are the integrator)
    area = {
        "cells": comp.array_area(lib, spec),
        "dacs": lines_in * comp.dac_area(lib, spec),
        "integrators": lines_out * comp.integrator_area(lib, spec),
        "adcs": n_adc * a_adc,
        "buffers": buf.area,
        "control": ge * gate.area,
    }
    event_energy = {
        "dac_settings": comp.dac_energy(lib, spec),
        "integrations": comp.integrator_energy(lib, spec),
        "adc_conversions": e_adc,
        "cell_reads": comp.cell_read_energy(lib, spec),
        "update_pulses": comp.update_pulse_energy(lib, spec),
        "set_pulses": comp.pcm_pulse_energy(lib, "pcm.set_energy", node),
        "reset_pulses": comp.pcm_pulse_energy(lib, "pcm.reset_energy", node),
        "verify_reads": comp.verify_energy(lib, spec),
        # READ_OUTPUT: the macro reads a row as the read enters it (rtl/tile_obuf.v) and
        # serves its ADC-count words from the read register
        "buffer_reads": buf.energy / max(spec.adc.count, 1),
        # LOAD_INPUT: a DAC code into the controller's input registers (flip-flops,
        # counted in its gates), not into the macro
        "buffer_writes": spec.dac.bits * parts.flop(lib, node).energy,
        "flits": 0.0,  # injection costs are in router_traversals and hops
        "router_traversals": comp.router_traversal_energy(lib, spec),
        "hops": 0.0,   # set below from the tile pitch
    }
    cycle_energy = ge * lib["gates.activity"] * gate.energy
    extra_events = {}
    if width:
        # each conversion's word goes into the macro: one row write per group of ADC-count
        # conversions, and for bit-serial inputs the row read ahead of it (accumulation)
        n_acc = 1 if spec.dac.encoding == "bit_serial" else 0
        extra_events["buffers"] = {"adc_conversions": (buf.write + n_acc * buf.energy) /
                                   max(spec.adc.count, 1)}
    units = digital_units(spec, lib)
    if units:
        area["digital"] = sum(g for g, _ in units.values()) * n_adc * gate.area
        per: dict[str, float] = {}
        for g, event in units.values():
            per[event] = per.get(event, 0.0) + g * lib["digital.toggle_fraction"] * gate.energy
        extra_events["digital"] = per
    for x in lib.extras:
        if x.scope != "tile":
            continue
        scale_a = 1.0 if x.node_nm is None else (node / x.node_nm) ** 2
        scale_e = 1.0 if x.node_nm is None else lib.energy_scale(node, x.node_nm)
        area[x.name] = x.area * scale_a
        cycle_energy += x.per_cycle * scale_e
        extra_events[x.name] = {k: v * scale_e for k, v in x.per_event.items()}
    logic_ge = ge + (sum(g for g, _ in units.values()) * n_adc if units else 0.0)
    leak = n_adc * leak_adc + buf.leak + logic_ge * gate.leak
    models = (("adcs", f"{spec.adc.kind}: " + (spec.adc_kind.cost_note or parts.survey_adc(
                  lib, spec.adc.bits, max(comp.adc_sample_rate(spec), 1.0), node).source)),
              ("integrators", f"{spec.integrator_kind.name}: {spec.integrator_kind.doc}"),
              ("buffers", buf.source), ("logic", gate.source))
    costs = TileCosts(spec, lib, area, event_energy, cycle_energy,
                      comp.update_line_energy(lib, spec) * (rows + cols) * spec.update.bl *
                      lib["activity.update_line_activity"], ge, ge_source, extra_events,
                      leak, models)
    event_energy["hops"] = comp.link_hop_energy(lib, spec, costs.tile_pitch)
    # an operating point below (or above) the node's nominal supply: CMOS switching
    # energies scale as V^2 and leakage about as V; cell reads (v_read), capacitor steps
    # and PCM pulses are set by their own voltages and stay
    # the line currents a regulator passes and a current-input converter copies are
    # drawn from the operating supply and priced at it already: not rescaled
    linear = {"integrations": comp.integrator_supply_energy(lib, spec),
              "adc_conversions": comp.adc_input_energy(lib, spec) if n_adc else 0.0}
    v = supply_ratio(lib, spec)
    if v != 1.0:
        for ev in CMOS_EVENTS:
            fixed = linear.get(ev, 0.0)
            event_energy[ev] = (event_energy[ev] - fixed) * v * v + fixed
        extra = {k: {e: x * v * v for e, x in per.items()} for k, per in extra_events.items()}
        costs = dataclasses.replace(costs, cycle_energy=costs.cycle_energy * v * v,
                                    update_line_energy=costs.update_line_energy * v * v,
                                    extra_event_energy=extra, leak_power=leak * v)
    # charged from the read voltage or the compute capacitors (their own voltages): added
    # after the supply scaling, as the cell reads
    e_line = comp.output_line_energy(lib, spec)
    if e_line:
        per = costs.extra_event_energy.setdefault(LINES, {})   # (a user extra of that name)
        per["integrations"] = per.get("integrations", 0.0) + e_line
    return costs


# events priced by CMOS circuits (scaled with the supply), as opposed to device physics
CMOS_EVENTS = ("dac_settings", "integrations", "adc_conversions", "buffer_reads",
               "buffer_writes", "router_traversals", "hops")


def supply(lib: Library, spec: Spec) -> float:
    """The operating supply (V): the spec's technology.vdd, else the node's nominal one."""
    return comp.operating_supply(lib, spec)


def supply_ratio(lib: Library, spec: Spec) -> float:
    """The operating supply over the node's nominal one (1 when the spec states none)."""
    return supply(lib, spec) / lib.vdd(spec.technology.node_nm)


# ---- operations of one tile: counts and controller cycles from codesign.commands ------
@dataclass(frozen=True)
class OpCost:
    counts: dict      # event -> count (expected counts may be fractional)
    cycles: float     # controller cycles including buffer I/O
    compute_cycles: float  # cycles without buffer I/O (when I/O overlaps)


def _op(sequence: commands.CommandCost, compute: commands.CommandCost) -> OpCost:
    return OpCost(sequence.counts, sequence.cycles, compute.cycles)


def forward_op(spec: Spec, transpose: bool = False) -> OpCost:
    """One FORWARD (BACKWARD with transpose) with its LOAD_INPUT and READ_OUTPUT
    (codesign.commands.mvm_sequence, as codesign.tile.AnalogTile runs it)."""
    return _op(commands.mvm_sequence(spec, transpose),
               (commands.backward if transpose else commands.forward)(spec))


def update_op(spec: Spec, lib: Library, coincidences: float | None = None) -> OpCost:
    """One UPDATE with its x and d loads (codesign.commands.update_sequence).
    coincidences: the update pulses it sends; default the expected rows x cols x BL x
    activity.update_coincidence (p q per slot, assumed)."""
    if coincidences is None:
        coincidences = float(spec.array.rows * spec.array.cols * spec.update.bl *
                             lib["activity.update_coincidence"])
    return _op(commands.update_sequence(spec, coincidences),
               commands.update(spec, coincidences))


def transfer_op(spec: Spec, lib: Library, observed: Mapping | None = None) -> OpCost:
    """One TRANSFER of the whole tile (codesign.commands.transfer). observed: the counts
    of a real one (verifies_per_row, pulses_per_row: AnalogTile.transfer's codes;
    verify_reads, set_pulses, reset_pulses: its events). Default: expected counts from
    the activity section, assumed: per cell transfer_verifies_per_cell verify reads,
    transfer_sets_per_cell SETs and transfer_resets_per_cell RESETs, and per row as many
    verify and pulse cycles as a cell's verifies and SETs. Cells without PCM to program
    (ideal) take none (codesign.devices.cell)."""
    if observed is None:
        rows = spec.array.rows if spec.cell_kind.transfers else 0
        cells = rows * spec.array.cols
        v = float(lib["activity.transfer_verifies_per_cell"])
        s = float(lib["activity.transfer_sets_per_cell"])
        observed = dict(verifies_per_row=np.full(rows, v), pulses_per_row=np.full(rows, s),
                        verify_reads=cells * v, set_pulses=cells * s,
                        reset_pulses=cells * float(lib["activity.transfer_resets_per_cell"]))
    cost = commands.transfer(spec, observed["verifies_per_row"], observed["pulses_per_row"],
                             observed["verify_reads"], observed["set_pulses"],
                             observed["reset_pulses"])
    return _op(cost, cost)
