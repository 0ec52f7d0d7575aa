"""Component library: per-unit area and per-event energy of every tile and chip component,
with technology scaling. Numbers live in components.yaml beside this file, each with its
source; users override or add entries from their own YAML (``--components FILE``).

Technology scaling (docs/estimate.md):
- areas given in F^2 scale with the square of the node (F = node);
- digital logic, SRAM/eDRAM and router areas scale as (node / node_ref)^2;
- ADC area scales as node^0.797 (regression over Murmann's ADC survey);
- switching energies scale as C V^2 with C ~ node: (node / node_ref) (Vdd(node) / Vdd(ref))^2,
  Vdd from the technology.vdd table (log-interpolated between listed nodes, clamped outside);
- PCM pulse energies scale linearly with the node (programming current ~ contact size).
"""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .. import cycles as cyc
from ..errors import UserError
from ..fileio import parse_yaml, read_text
from ..spec import Spec

EXTRA_SCOPES = ("tile", "chip")


@dataclass(frozen=True)
class ExtraComponent:
    """A user-added component: fixed area per tile or per chip, energy per event and/or
    per clock cycle, optionally scaled from its own node."""
    name: str
    scope: str
    area: float            # m^2 at node_nm
    node_nm: float | None  # None: no scaling
    per_event: dict        # event name -> J
    per_cycle: float       # J per controller cycle (per tile or per chip)


class Library:
    """Resolved component parameters (defaults merged with user overrides)."""

    def __init__(self, entries: dict, extras: tuple[ExtraComponent, ...] = (),
                 origin: str = "built-in", use_hwc: bool = True):
        self.entries = entries          # "section.key" -> {"value", "unit", "source", ...}
        self.extras = extras
        self.origin = origin
        self.use_hwc = use_hwc          # hwcomponents models where they run (parts.py)

    def overridden(self, section: str) -> bool:
        """True when a user file set a key of this section: the built-in model that reads
        it then prices the part (a user's own figure wins over the library's model)."""
        return any(k.startswith(section + ".") and e.get("user")
                   for k, e in self.entries.items())

    def __getitem__(self, key: str) -> Any:
        return self.entries[key]["value"]

    def node_of(self, key: str) -> float:
        return float(self.entries[key]["node_nm"])

    def source(self, key: str) -> str:
        return self.entries[key].get("source", "")

    # ---- technology scaling ---------------------------------------------------------
    def vdd(self, node_nm: float) -> float:
        table = sorted((float(k), float(v)) for k, v in self["technology.vdd"].items())
        nodes = [n for n, _ in table]
        if node_nm <= nodes[0]:
            return table[0][1]
        if node_nm >= nodes[-1]:
            return table[-1][1]
        for (n0, v0), (n1, v1) in zip(table, table[1:]):
            if n0 <= node_nm <= n1:
                t = math.log(node_nm / n0) / math.log(n1 / n0)
                return v0 + t * (v1 - v0)
        raise AssertionError("unreachable")

    def energy_scale(self, node_nm: float, node_ref: float) -> float:
        """C V^2 switching energy from node_ref to node_nm."""
        return (node_nm / node_ref) * (self.vdd(node_nm) / self.vdd(node_ref)) ** 2

    def scaled_energy(self, key: str, node_nm: float) -> float:
        return self[key] * self.energy_scale(node_nm, self.node_of(key))

    def scaled_area(self, key: str, node_nm: float, exponent: float = 2.0) -> float:
        return self[key] * (node_nm / self.node_of(key)) ** exponent


def f2(node_nm: float) -> float:
    """Area of one F^2 in m^2."""
    return (node_nm * 1e-9) ** 2


# ---- loading ---------------------------------------------------------------------------
def _read_yaml(text: str, source: str) -> Any:
    return parse_yaml(text, source, empty_ok=True)


@functools.cache
def _default_entries() -> dict:
    """components.yaml's entries, parsed once per process (an estimate asked for them
    each time: 4-7 ms of a 15-30 ms sweep point went to parsing it)."""
    text = resources.files("codesign.estimate").joinpath("components.yaml").read_text()
    data = _read_yaml(text, "components.yaml")
    return {f"{sec}.{key}": dict(entry) for sec, body in data.items()
            for key, entry in body.items()}


def _defaults() -> dict:
    """A fresh copy of the default entries, which load_components may change."""
    return copy.deepcopy(_default_entries())


def _check_override(key: str, old: Any, new: Any, source: str, positive: bool = False) -> Any:
    """``new`` in place of the default ``old``: the same kind of value, numbers finite and
    >= 0 (> 0 when ``positive``: node sizes and supplies divide); a table keyed by node
    (technology.vdd) keeps keys that are node sizes > 0 and supplies > 0."""
    if isinstance(old, bool):
        if not isinstance(new, bool):
            raise UserError(f"{source}: {key}: value {new!r} has the wrong type; allowed: "
                            "true or false")
        return new
    if isinstance(old, (int, float)):
        if isinstance(new, bool) or not isinstance(new, (int, float)) or new != new \
                or new < 0 or math.isinf(new) or (positive and new == 0):
            raise UserError(f"{source}: {key}: value {new!r} is not allowed; allowed: a "
                            f"finite number {'>' if positive else '>='} 0")
        return new
    if isinstance(old, dict):
        if not isinstance(new, dict):
            raise UserError(f"{source}: {key}: value {new!r} must be a mapping like the "
                            "default")
        merged = dict(old)
        for k, v in new.items():
            _check_override(f"{key} node", 1.0, k, source, positive=True)
            merged[k] = _check_override(f"{key}.{k}", old.get(k, next(iter(old.values()))),
                                        v, source, positive=True)
        return merged
    if isinstance(old, str):
        if not isinstance(new, str):
            raise UserError(f"{source}: {key}: value {new!r} must be text")
        return new
    raise AssertionError(f"unhandled default type for {key}")


def _parse_extra(name: str, body: Any, source: str) -> ExtraComponent:
    from ..events import FIELDS
    where = f"{source}: extra_components.{name}"
    if not isinstance(body, dict):
        raise UserError(f"{where}: value {body!r} must be a mapping with scope, area_um2, "
                        "energy_per_event, energy_per_cycle, node_nm")
    allowed = {"scope", "area_um2", "node_nm", "energy_per_event", "energy_per_cycle",
               "source"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise UserError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(sorted(allowed))}")
    scope = body.get("scope", "tile")
    if scope not in EXTRA_SCOPES:
        raise UserError(f"{where}.scope: value {scope!r} is not allowed; allowed: tile, chip")

    def num(key: str, value: Any, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                or not math.isfinite(value) or (positive and value == 0):
            raise UserError(f"{where}.{key}: value {value!r} is not allowed; allowed: a "
                            f"finite number {'>' if positive else '>='} 0")
        return float(value)

    per_event = body.get("energy_per_event", {}) or {}
    if not isinstance(per_event, dict):
        raise UserError(f"{where}.energy_per_event: value {per_event!r} must map event "
                        f"names to joules; events: {', '.join(FIELDS)}")
    for ev in per_event:
        if ev not in FIELDS:
            raise UserError(f"{where}.energy_per_event.{ev}: unknown event; allowed: "
                            + ", ".join(FIELDS))
    node = body.get("node_nm")
    return ExtraComponent(
        name=str(name), scope=scope, area=num("area_um2", body.get("area_um2", 0)) * 1e-12,
        node_nm=None if node is None else num("node_nm", node, positive=True),
        per_event={k: num(f"energy_per_event.{k}", v) for k, v in per_event.items()},
        per_cycle=num("energy_per_cycle", body.get("energy_per_cycle", 0)))


def load_components(path: str | Path | dict | None = None, hwc: bool = True) -> Library:
    """The built-in library, merged with the overrides of a YAML file (or dict).

    Layout of an override file: the sections and keys of components.yaml, each value a
    number (or ``{value: ..., source: ...}``), plus ``extra_components: {NAME: {scope:
    tile|chip, area_um2, node_nm, energy_per_event: {EVENT: J}, energy_per_cycle}}``.
    Bad files raise UserError with a one-line message."""
    entries = _defaults()
    if path is None:
        return Library(entries, use_hwc=hwc)
    if isinstance(path, dict):
        data, source = path, "<components>"
    else:
        p = Path(path)
        source = str(p)
        data = _read_yaml(read_text(p, "components"), source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{source}: top level must be a mapping of sections; allowed: "
                        + ", ".join(sorted({k.split('.')[0] for k in entries})))
    extras = []
    sections = sorted({k.split(".")[0] for k in entries})
    for sec, body in data.items():
        if sec == "extra_components":
            if not isinstance(body, dict):
                raise UserError(f"{source}: extra_components must map names to components")
            extras += [_parse_extra(n, b, source) for n, b in body.items()]
            continue
        if sec not in sections:
            raise UserError(f"{source}: {sec}: unknown section; allowed: "
                            + ", ".join(sections + ["extra_components"]))
        if not isinstance(body, dict):
            raise UserError(f"{source}: {sec}: value {body!r} must be a mapping of keys")
        for key, value in body.items():
            full = f"{sec}.{key}"
            if full not in entries:
                keys = sorted(k.split(".", 1)[1] for k in entries if k.startswith(sec + "."))
                raise UserError(f"{source}: {full}: unknown key; allowed: {', '.join(keys)}")
            entry = dict(entries[full])
            if isinstance(value, dict) and "value" in value:
                extra_keys = set(value) - {"value", "source", "unit", "node_nm"}
                if extra_keys:
                    raise UserError(f"{source}: {full}.{sorted(extra_keys)[0]}: unknown key; "
                                    "allowed: value, source, unit, node_nm")
                if "node_nm" in value:
                    entry["node_nm"] = _check_override(f"{full}.node_nm", 1.0,
                                                       value["node_nm"], source, positive=True)
                entry["source"] = str(value.get("source", f"user override ({source})"))
                value = value["value"]
            else:
                entry["source"] = f"user override ({source})"
            entry["value"] = _check_override(full, entry["value"], value, source)
            entry["user"] = True
            entries[full] = entry
    return Library(entries, tuple(extras), origin=source, use_hwc=hwc)


# ---- component models ------------------------------------------------------------------
def adc_sample_rate(spec: Spec) -> float:
    """Conversions per second of one ADC: the clock over the kind's cycles per conversion
    (codesign.adckinds: SAR bits, flash 1, ramp 2^bits - 1); 0 for no ADC."""
    n = spec.adc_kind.conversion_cycles(spec.adc.bits)
    return spec.clock.frequency / n if n else 0.0


def operating_supply(lib: Library, spec: Spec) -> float:
    """The operating supply (V): the spec's technology.vdd, else the node's nominal one."""
    return spec.technology.vdd or lib.vdd(spec.technology.node_nm)


def line_energy(lib: Library, spec: Spec) -> float:
    """J the cells of one output line dissipate in one read phase (V_read I t): the
    driven rows' cell reads (a forward read)."""
    return spec.rows_active * cell_read_energy(lib, spec)


def adc_input_energy(lib: Library, spec: Spec) -> float:
    """J one conversion of a current-input converter (adc.kind cco) draws from the
    operating supply: a mirrored copy of the line current over the window,
    VDD x gain x I t = VDD / V_read x gain x line_energy (integrator.mirror_gain); 0 for
    converters that take a voltage or charge."""
    if not spec.adc_kind.current_input or spec.dac.v_read <= 0:
        return 0.0
    return lib["integrator.mirror_gain"] * line_energy(lib, spec) * \
        operating_supply(lib, spec) / spec.dac.v_read


def adc_parts(lib: Library, spec: Spec):
    """The component figures an ADC kind's cost model takes (codesign.adckinds.Parts)."""
    from ..adckinds import Parts
    from . import parts
    node = spec.technology.node_nm

    def survey(bits: int, rate: float) -> tuple[float, float, float]:
        fig = parts.survey_adc(lib, bits, rate, node)
        return fig.energy, fig.area, fig.leak
    def column_flash(bits: int):
        fig = parts.column_flash(lib, bits, spec.array.cols, node, spec.cell_kind.technology)
        return None if fig is None else (fig.energy, fig.area, fig.leak)
    ff, g = parts.flop(lib, node), parts.gate(lib, node)
    return Parts(survey=survey, flop_energy=ff.energy, flop_area=ff.area, flop_leak=ff.leak,
                 gate_area=g.area, column_flash=column_flash,
                 input_energy=adc_input_energy(lib, spec),
                 cap_step=lib["integrator.capacitance"] * lib.vdd(node) ** 2)


def adc_cost(lib: Library, spec: Spec) -> tuple[float, float, float]:
    """(energy per conversion J, area m^2, leakage W) of one of the spec's ADCs, by kind
    (the kind's own cost model, codesign.adckinds); the area is the spec's adc.area
    when the published design states it."""
    e, a, leak = spec.adc_kind.cost(spec.adc.bits, adc_sample_rate(spec),
                                    adc_parts(lib, spec))
    return e, (spec.adc.area or a), leak


def adc_energy(lib: Library, bits: int, rate: float, node_nm: float) -> float:
    """Energy per conversion: Walden E = FoM 2^bits, FoM flat below the survey's rate
    corner and rising as rate^exponent above it, calibrated to ISAAC's ADC."""
    corner, expo = lib["adc.rate_corner"], lib["adc.rate_exponent"]

    def speed(f: float) -> float:
        return max(1.0, f / corner) ** expo
    base = lib["adc.walden_base"] ** (bits - lib["adc.bits_ref"])
    return lib.scaled_energy("adc.energy", node_nm) * base * speed(rate) / \
        speed(lib["adc.rate_ref"])


def adc_area(lib: Library, bits: int, rate: float, node_nm: float) -> float:
    """Murmann-survey regression area ~ E^0.424 rate^0.0667 node^0.797 exp(-0.134 bits),
    normalised to ISAAC's 1,200 um^2 (8 bit, 1.28 GS/s, 32 nm)."""
    ref_node = lib.node_of("adc.area")
    ref_bits, ref_rate = lib["adc.bits_ref"], lib["adc.rate_ref"]
    e = adc_energy(lib, bits, rate, node_nm)
    e_ref = adc_energy(lib, ref_bits, ref_rate, ref_node)
    return lib["adc.area"] * (e / e_ref) ** lib["adc.area_energy_exponent"] * \
        (rate / ref_rate) ** lib["adc.area_rate_exponent"] * \
        (node_nm / ref_node) ** lib["adc.area_node_exponent"] * \
        math.exp(lib["adc.area_bits_coefficient"] * (bits - ref_bits))


def ge_area(lib: Library, node_nm: float) -> float:
    """Area of one gate equivalent (NAND2) at the node."""
    return lib.scaled_area("gates.nand2_area", node_nm)


def ge_toggle_energy(lib: Library, node_nm: float) -> float:
    return lib.scaled_energy("gates.toggle_energy", node_nm)


def array_area(lib: Library, spec: Spec) -> float:
    """The array: its cells and, with sram.multiplier c2c, the weights' multipliers (built-in
    fallback: the ladder's 3 unit capacitors per bit at the capacitor density)."""
    area = spec.array.rows * spec.array.cols * cell_area(lib, spec)
    n = multipliers_per_tile(spec)
    if n:
        mult = multiplier_figure(lib, spec)
        w = spec.weights
        area += n * (mult.area if mult is not None else
                     3 * w.cells_per_weight * spec.sram.c_compute /
                     lib["integrator.cap_density"])
    return area


def cell_area(lib: Library, spec: Spec) -> float:
    """Area of one unit cell (m^2): the spec's own figure when it states one, else the
    cell kind's F^2 (components.yaml cells.area_*) at the node."""
    if spec.array.cell_area > 0:
        return spec.array.cell_area
    return lib[spec.cell_kind.cost_key] * f2(spec.technology.node_nm)


def cell_read_conductance(lib: Library, spec: Spec) -> float:
    """Mean conductance a cell draws from its line during a read (S)."""
    kind = spec.cell_kind
    if kind.technology == "rram":
        return lib["rram.mean_g_fraction"] * (spec.rram.g_on - spec.rram.g_off) + \
            spec.rram.g_off
    g = lib["pcm.mean_g_fraction"] * spec.pcm.g_max
    if kind.polarity:                       # the 3T1C read transistor beside the pair
        return 2 * g + spec.capacitor.g_span
    # 4pcm-diff: pcm.g_max is that of two devices together (HERMES); ideal: one device
    return 2 * g if kind.devices > 1 else g


def input_energy_factor(lib: Library, spec: Spec) -> float:
    """Mean fraction of the full-scale V^2 t a cell sees per phase: pulse length ~ |x|,
    amplitude V ~ x (so V^2 ~ x^2, taken as activity^2), a bit-serial plane's density."""
    a = lib["activity.input_activity"]
    return {"pulse_width": a, "amplitude": a * a,
            "bit_serial": lib["activity.bit_density"]}[spec.dac.encoding]


def multiplier_figure(lib: Library, spec: Spec):
    """A weight's C-2C ladder multiplier (sram.multiplier c2c), or None: one multiply's
    energy, area and leakage from hwcomponents-library, resolution the weight's stored bits,
    unit capacitor sram.c_compute at the swing sram.v_swing, the input at the mean |x|
    (activity.input_activity) on the DAC's magnitude levels, weight bits at
    activity.weight_bit_density. None without a multiplier or where the library does not
    run (the bit cells' own charge model prices the read then)."""
    if spec.sram.multiplier != "c2c":
        return None
    from . import parts
    w = spec.weights
    return parts.c2c_multiplier(lib, w.cells_per_weight * max(1, w.bits_per_cell),
                                spec.sram.v_swing, spec.sram.c_compute,
                                lib["activity.input_activity"], 2 ** (spec.dac.bits - 1),
                                lib["activity.weight_bit_density"], spec.technology.node_nm)


def multipliers_per_tile(spec: Spec) -> int:
    """C-2C multipliers of a tile: one per weight-wide group of columns of each row driven
    at once (Wang et al. 2022: every eight rows share one; 64 x 16 at 512 x 128 with 64
    rows active), as the cell reads count them."""
    if spec.sram.multiplier != "c2c":
        return 0
    return (spec.array.rows_active or spec.array.rows) * \
        -(-spec.array.cols // spec.columns_per_weight)


def cell_read_energy(lib: Library, spec: Spec) -> float:
    """One cell contributing to one integration phase: the spec's figure when it states
    one, a C-2C multiplier's multiply shared by the weight's cells, a charge-domain cell's
    C V^2 (its compute capacitor charged when its stored bit and the input bit are both
    one), or V_read^2 G t_phase; times the input factor (the multiplier's own model takes
    the input's level)."""
    factor = input_energy_factor(lib, spec)
    if spec.array.read_energy > 0:
        return spec.array.read_energy * factor
    mult = multiplier_figure(lib, spec)
    if mult is not None:
        return mult.energy / spec.columns_per_weight
    if spec.cell_kind.read == "charge":
        return spec.sram.c_compute * spec.sram.v_swing ** 2 * \
            lib["activity.weight_bit_density"] * factor
    return spec.dac.v_read ** 2 * cell_read_conductance(lib, spec) * read_time(spec) * factor


def cell_footprint(lib: Library, spec: Spec) -> tuple[float, float]:
    """(width, height) in m of one cell's place in the array: the array's area (its cells
    and, with C-2C multipliers, their ladders, which sit among them) over its cells, split
    by array.cell_aspect (width over height; 1, square, assumed where a paper gives none).
    A word line crosses the columns at the width, a bit line the rows at the height."""
    per_cell = array_area(lib, spec) / (spec.array.rows * spec.array.cols)
    aspect = spec.array.cell_aspect
    return math.sqrt(per_cell * aspect), math.sqrt(per_cell / aspect)


def input_line_pitch(lib: Library, spec: Spec) -> tuple[float, float]:
    """(along, across) in m: the length of a driven line per cell on it, and the cell's
    other side. A word line crosses the columns (forward); cells with periphery on both
    edges also drive the column lines (backward), so the mean of both, as line_cells."""
    w, h = cell_footprint(lib, spec)
    if spec.cell_kind.both_edges:
        r, c = spec.array.rows, spec.array.cols
        along = (c * w + r * h) / (r + c)
        return along, w * h / along
    return w, h


def output_line_capacitance(lib: Library, spec: Spec) -> float:
    """F of one output (bit or sum) line's wire: the rows it crosses x the cell height x
    wire.capacitance (cells with periphery on both edges: the mean of a column and a row
    line, as input_line_pitch). Its cells' junctions are not counted (no published
    size)."""
    w, h = cell_footprint(lib, spec)
    length = spec.array.rows * h
    if spec.cell_kind.both_edges:
        length = (length + spec.array.cols * w) / 2
    return lib["wire.capacitance"] * length


def output_line_energy(lib: Library, spec: Spec) -> float:
    """J one output line's wire takes in one integration event (one line over one phase),
    C_line x V_line x V_out, by how the integrator kind holds the line:
    held lines (ota, regulated: at virtual ground or V_read by feedback) are brought to
    V_read once per phase (V_out = V_read); a sampled line (sampling, voltage mode)
    settles to the input-weighted mean of the read pulses in every integration step
    (V_out = V_read x mean |x|, activity.input_activity); a charge-domain sum line (none)
    is reset and takes the shared charge of its capacitors (V_out = v_swing x the
    fraction charged: stored-bit density x the input factor). The line's charge comes
    from the read voltage, the cells or the capacitors' drivers, not from a CMOS supply
    the estimator rescales."""
    c = output_line_capacitance(lib, spec)
    kind = spec.integrator_kind.name
    if kind == "none":
        v = spec.sram.v_swing
        return c * v * v * lib["activity.weight_bit_density"] * input_energy_factor(lib, spec)
    v = spec.dac.v_read
    if kind == "sampling":
        return cyc.integration_cycles(spec) * c * v * v * lib["activity.input_activity"]
    return c * v * v


def read_time(spec: Spec) -> float:
    """How long a cell conducts in one integration phase: each integration cycle's read
    pulse (array.read_pulse) or, when the spec states none, the whole cycle."""
    per_cycle = min(spec.array.read_pulse or math.inf, 1.0 / spec.clock.frequency)
    return cyc.integration_cycles(spec) * per_cycle


def line_cells(spec: Spec) -> float:
    """Cells on a driven line: a word line crosses the columns (forward); cells with
    periphery on both edges also drive the column lines (backward), so the mean of both."""
    if spec.cell_kind.both_edges:
        return (spec.array.rows + spec.array.cols) / 2
    return spec.array.cols


def dac_figure(lib: Library, spec: Spec):
    """One input line's driver (codesign.estimate.parts.line_driver) for the spec's line
    length; amplitude inputs take a multi-level driver of dac.bits. Pulse-width and
    bit-serial drivers charge the line once per setting; their timing logic is in the
    controller."""
    from . import parts
    bits = spec.dac.bits if spec.dac.encoding == "amplitude" else 1
    along, across = input_line_pitch(lib, spec)
    return parts.line_driver(lib, line_cells(spec), spec.technology.node_nm, bits,
                             spec.cell_kind.technology, along, across)


def drives_per_setting(lib: Library, spec: Spec) -> float:
    """Expected charges of a word line per DAC setting (one dac_settings event): one for an
    amplitude level, a bit-serial plane or one pulse of the code's width; for a train of
    unit pulses (dac.pulse_train) one per pulse, i.e. the mean |x| (activity.input_activity)
    times the largest count, 2^(bits-1) - 1 (CV^2 of the line per pulse)."""
    if spec.dac.pulse_train:
        return lib["activity.input_activity"] * (2 ** (spec.dac.bits - 1) - 1)
    return 1.0


def dac_energy(lib: Library, spec: Spec) -> float:
    """One dac_settings event: one drive of the line (dac_figure) per expected charge."""
    return dac_figure(lib, spec).energy * drives_per_setting(lib, spec)


def dac_area(lib: Library, spec: Spec) -> float:
    """One input line's DAC and driver: the spec's dac.area when the design states it,
    else the line driver's model (dac_figure)."""
    return spec.dac.area or dac_figure(lib, spec).area


def integration_time(spec: Spec) -> float:
    return cyc.integration_cycles(spec) / spec.clock.frequency


def integrator_parts(lib: Library, spec: Spec):
    """The figures an integrator kind's cost model takes (codesign.integratorkinds)."""
    from ..integratorkinds import Parts
    node = spec.technology.node_nm
    return Parts(vdd=lib.vdd(node), v_supply=operating_supply(lib, spec),
                 v_read=spec.dac.v_read, window=integration_time(spec),
                 steps=cyc.integration_cycles(spec), line_energy=line_energy(lib, spec),
                 bias_current=lib["integrator.bias_current"],
                 capacitance=lib["integrator.capacitance"],
                 cap_density=lib["integrator.cap_density"],
                 ota_area=lib["integrator.ota_ge"] * ge_area(lib, node))


def integrator_energy(lib: Library, spec: Spec) -> float:
    """One line over one integration phase, by the spec's integrator kind (OTA bias over
    the window and a capacitor charge; a capacitor charge per step; a regulator's bias
    and the line current's drop from the supply; nothing for charge-domain cells)."""
    return spec.integrator_kind.energy(integrator_parts(lib, spec))


def integrator_supply_energy(lib: Library, spec: Spec) -> float:
    """The part of integrator_energy drawn by the line current from the operating supply."""
    return spec.integrator_kind.supply_energy(integrator_parts(lib, spec))


def integrator_area(lib: Library, spec: Spec) -> float:
    """One line's integrator: the spec's integrator.area when the design states it, else
    the kind's model."""
    return spec.integrator.area or spec.integrator_kind.area(integrator_parts(lib, spec))


def buffer_bits(spec: Spec) -> int:
    """The tile's output buffer, a memory macro (rtl/tile_obuf.v): one output word per
    line of the longer edge, in rows of one word per converter
    (codesign.cycles.output_buffer_macro); none for a bare macro (core.io_buffer). The
    input codes are not here: every line's DAC and comparator read its code in the same
    cycle, so they are the controller's registers (tile_ctrl.v rbuf, cbuf), counted in
    its gates."""
    rows, width, _ = cyc.output_buffer_macro(spec)
    return rows * width


def buffer_figure(lib: Library, spec: Spec):
    """The output buffer macro priced once (codesign.estimate.parts.sram: CACTI through
    hwcomponents, or the built-in fit) with the macro's row width and ports. Returns
    (figure, row bits): the figure's energy is one row access (read; write_energy a
    row write where CACTI gives it)."""
    from . import parts
    _, width, ports = cyc.output_buffer_macro(spec)
    return parts.sram(lib, buffer_bits(spec), max(width, 1), spec.technology.node_nm,
                      ports=max(ports, 1)), width


def pcm_pulse_energy(lib: Library, key: str, node_nm: float) -> float:
    return lib[key] * node_nm / lib.node_of(key)


def update_pulse_energy(lib: Library, spec: Spec) -> float:
    """One coincidence reaching one cell: a capacitor charge step (2PCM+3T1C, ideal) or a
    partial-SET pulse on one PCM device (PCM-only cells, Burr et al. 2015 scheme)."""
    if spec.cell_kind.polarity or spec.cell_kind.technology == "ideal":
        v = lib.vdd(spec.technology.node_nm)
        dv = spec.capacitor.step * lib["capacitor.voltage_swing"]
        return lib["capacitor.capacitance"] * v * dv
    return pcm_pulse_energy(lib, "pcm.set_energy", spec.technology.node_nm)


def update_line_energy(lib: Library, spec: Spec) -> float:
    """One row or column pulse line firing in one update slot: C_wire V^2 over the line
    (input_line_pitch: the cells' footprint)."""
    length = line_cells(spec) * input_line_pitch(lib, spec)[0]
    v = lib.vdd(spec.technology.node_nm)
    return lib["wire.capacitance"] * length * v * v


def verify_energy(lib: Library, spec: Spec) -> float:
    """One verify comparison: a full-input read of the cell over one integration plus one
    comparator decision (an ADC conversion divided by its bits)."""
    t = spec.integrator.cycles / spec.clock.frequency
    read = spec.dac.v_read ** 2 * cell_read_conductance(lib, spec) * t
    return read + adc_energy(lib, spec.adc.bits, adc_sample_rate(spec),
                             spec.technology.node_nm) / spec.adc.bits


def router_area(lib: Library, spec: Spec) -> float:
    scale = (lib["noc.router_ports"] / lib["noc.router_ports_ref"]) * \
        (spec.noc.flit_bits / lib["noc.router_flit_ref"])
    return lib.scaled_area("noc.router_area", spec.technology.node_nm) * scale


def router_traversal_energy(lib: Library, spec: Spec) -> float:
    """ISAAC router power at full load spread over its ports and cycles, per flit,
    scaled by flit width and node."""
    per_flit = lib["noc.router_power"] / (lib["noc.router_ports_ref"] *
                                          lib["noc.router_clock_ref"])
    return per_flit * lib.energy_scale(spec.technology.node_nm, lib.node_of("noc.router_power")) \
        * spec.noc.flit_bits / lib["noc.router_flit_ref"]


def link_hop_energy(lib: Library, spec: Spec, tile_pitch: float) -> float:
    """One flit over one tile-to-tile link: C_wire x pitch x V^2 x toggling wires."""
    v = lib.vdd(spec.technology.node_nm)
    return lib["wire.capacitance"] * tile_pitch * v * v * lib["noc.wire_activity"] * \
        spec.noc.flit_bits
