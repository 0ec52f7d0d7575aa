"""The one adapter between codesign and hwcomponents (the Accelergy project's component
library) and its plug-ins; docs/components-library.md says which run here and why.

SI units in and out: m, m^2, J, W, Hz, s. Every function returns numbers from a plug-in or
raises ``Unavailable(plugin, why)``: it never substitutes numbers of its own, so the caller
(the estimator) decides on its sourced fallback.

    adc_survey(bits, rate, node_m)                 hwcomponents-adc: ADC (Murmann-survey fit)
    sram(bits_total, width_bits, node_m)           hwcomponents-cacti: SRAM (CACTI 7)
    logic(node_m)                                  hwcomponents-neurosim: NAND2, DFF, adder
    adder(bits, node_m, clock_hz)                  hwcomponents-neurosim: Adder
    shift_add(bits, node_m, clock_hz)              hwcomponents-neurosim: ShiftAdd
    mux(inputs, bits, node_m, clock_hz)            hwcomponents-neurosim: Mux
    column_adc(bits, cols, node_m)                 hwcomponents-neurosim: ArrayADC (flash)
    row_driver(cells, node_m, voltage_bits, ...)   hwcomponents-neurosim: RowDrivers (over a stated cell)
    published(name, **attrs)                       hwcomponents-library: published designs
    status()                                       which plug-ins run here

Results are cached in this process and on disk (JSON, one file per query, written
atomically) under ``$CODESIGN_CACHE/hwc`` (default ``~/.cache/codesign/hwc``), keyed by the
function, its arguments and the versions of hwcomponents and the plug-in. Importing this
module imports no hwcomponents package; their log records and prints go to the
``codesign.estimate.hwc`` logger at DEBUG level, never to stdout.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.util
import io
import json
import logging
import math
import os
import subprocess
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from ..errors import UserError
from ..fileio import write_text

log = logging.getLogger(__name__)

ADC, CACTI, NEUROSIM, LIBRARY = ("hwcomponents-adc", "hwcomponents-cacti",
                                 "hwcomponents-neurosim", "hwcomponents-library")
MODULE = {ADC: "hwcomponents_adc", CACTI: "hwcomponents_cacti",
          NEUROSIM: "hwcomponents_neurosim", LIBRARY: "hwcomponents_library"}
PLUGINS = (ADC, CACTI, NEUROSIM, LIBRARY)
CORE = "hwcomponents"
SCHEMA = 2                    # bump when a function's meaning changes (invalidates the cache)

# NeuroSim's clock does not change its energies or areas (the plug-in passes it to no
# NeuroSim parameter); logic() uses this one.
NEUROSIM_CYCLE = 1e-9         # s
# logic(): NeuroSim's NAND2 has area only (its energy and leakage print as 0); the
# per-gate energy and leakage come from its ripple-carry adder of 9 NAND2 per bit.
LOGIC_ADDER_BITS = 8
NAND2_PER_ADDER_BIT = 9       # NeuroSim Adder.cpp: wAdder = wNand * 9 * numBit
LOGIC_DFF_BITS = 8
# NeuroSim's array periphery (ArrayADC, RowDrivers) is built around a cell file; the plug-in
# ships NVMExplorer's, one per memory technology. Each array is priced with its own
# technology's file (the drivers see that cell's access device); with the SRAM file
# NeuroSim drives binary word lines only (no multi-level voltage driver).
NEUROSIM_CELLS = {"pcm": "nvmexplorer_PCM.cell", "rram": "nvmexplorer_RRAM.cell",
                  "sram": "nvmexplorer_SRAM.cell"}
# RowDrivers and ArrayADC price all lines of an array; the per-line figure is the whole
# over this many rows (area and leakage scale linearly with it; energy is per line).
NEUROSIM_ROWS = 256


class Unavailable(RuntimeError):
    """A plug-in is not installed, does not run here, or cannot model the request."""

    def __init__(self, plugin: str, why: str):
        super().__init__(f"{plugin}: {why}")
        self.plugin = plugin
        self.why = why


@dataclass(frozen=True)
class Part:
    """One component from a plug-in. energy: J per event (ADC conversion, add, ...);
    read_energy / write_energy: J per access of a memory; area m^2; leak_power W;
    actions: every action's energy (J) for library parts; source: plug-in, version, model."""
    area: float
    leak_power: float
    source: str
    energy: float | None = None
    read_energy: float | None = None
    write_energy: float | None = None
    actions: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Logic:
    """Standard-cell numbers at one node, from NeuroSim (see logic())."""
    nand2_area: float         # m^2, one NAND2 (gate equivalent)
    nand2_energy: float       # J per NAND2-equivalent per operation (adder energy / gates)
    nand2_leak: float         # W per NAND2
    dff_area: float           # m^2 per flip-flop bit
    dff_energy: float         # J per flip-flop bit per clock
    dff_leak: float           # W per flip-flop bit
    source: str


# ---- plug-in access ---------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _version(dist: str) -> str:
    """Installed version of a distribution ("" if not installed); read without importing."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return ""


@contextlib.contextmanager
def _quiet(plugin: str):
    """Plug-in prints go to the logger, not stdout; the root logger is left as it was
    (importing hwcomponents calls logging.basicConfig)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for line in out.getvalue().splitlines():
            log.debug("%s: %s", plugin, line)


def _import(plugin: str):
    if not _version(plugin):
        raise Unavailable(plugin, "not installed (pip install " + plugin + ")")
    try:
        with _quiet(plugin):
            return importlib.import_module(MODULE[plugin])
    except Exception as exc:  # ImportError, or an error while the plug-in loads
        raise Unavailable(plugin, f"cannot import {MODULE[plugin]}: {_one_line(exc)}") \
            from exc


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 300 else text[:297] + "..."


def _run(plugin: str, call: Callable[[], Any]) -> Any:
    """Run a plug-in call quietly; its failures become Unavailable."""
    try:
        with _quiet(plugin):
            return call()
    except Unavailable:
        raise
    except Exception as exc:
        raise Unavailable(plugin, _one_line(exc)) from exc


def _drain(plugin: str, *models: Any) -> None:
    """hwcomponents keeps model log records in in-memory queues: move them to our logger."""
    for m in models:
        try:
            for msg in m.pop_log_messages():
                if msg:
                    log.debug("%s: %s", plugin, msg)
        except Exception:  # older hwcomponents without pop_log_messages
            pass


def _source(plugin: str, model: str, note: str = "") -> str:
    s = f"{plugin} {_version(plugin)}: {MODULE[plugin]}.{model} (hwcomponents " \
        f"{_version(CORE)})"
    return f"{s}; {note}" if note else s


def _check(plugin: str, values: dict) -> None:
    for k, v in values.items():
        if v is None or isinstance(v, (str, tuple)):
            continue
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise Unavailable(plugin, f"returned {k} = {v!r} (not a finite number >= 0)")


def _metres(node_m: float) -> float:
    node = float(node_m)
    if not 1e-9 <= node <= 1e-6:
        raise ValueError(f"node_m={node_m!r}: technology node in metres (e.g. 32e-9), "
                         "between 1 nm and 1 um")
    return node


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name}={value!r}: must be a finite number > 0")
    return v


def _count(name: str, value: int, least: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < least:
        raise ValueError(f"{name}={value!r}: must be an integer >= {least}")
    return int(value)


# ---- cache ------------------------------------------------------------------------------
def cache_dir() -> Path:
    """The hwc folder of the user cache (codesign.cachedir.cache_root)."""
    from ..cachedir import cache_root
    return cache_root() / "hwc"


def clear_memory_cache() -> None:
    """Forget this process's results and plug-in versions (the disk cache stays)."""
    _memo.cache_clear()
    _version.cache_clear()


def _key(fn: str, plugin: str, args: dict) -> str:
    versions = {CORE: _version(CORE), plugin: _version(plugin)}
    if not versions[plugin]:
        raise Unavailable(plugin, "not installed (pip install " + plugin + ")")
    return json.dumps({"fn": fn, "args": args, "versions": versions, "schema": SCHEMA},
                      sort_keys=True)


def _disk_read(path: Path, key: str) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != json.loads(key):
        return None
    return data.get("value")


def _disk_write(path: Path, key: str, value: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps({"key": json.loads(key), "value": value}, indent=1,
                                    sort_keys=True))
    except (OSError, UserError) as exc:
        log.debug("hwc cache: cannot write %s: %s", path, exc)


_TYPES = {"part": Part, "logic": Logic}


def _freeze(kind: str, value: dict):
    cls = _TYPES[kind]
    names = {f.name for f in fields(cls)}
    kw = {k: v for k, v in value.items() if k in names}
    if "actions" in kw:
        kw["actions"] = tuple((str(a), float(e)) for a, e in kw["actions"])
    return cls(**kw)


@functools.lru_cache(maxsize=4096)
def _memo(key: str, cache_root: str):
    k = json.loads(key)
    fn = _FUNCS[k["fn"]]
    path = Path(cache_root) / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".json")
    value = _disk_read(path, key)
    if not isinstance(value, dict) or value.get("_kind") not in _TYPES:
        value = fn(**k["args"])
        _disk_write(path, key, value)
    return _freeze(value["_kind"], value)


def _cached(fn: str, plugin: str, args: dict):
    key = _key(fn, plugin, args)
    return _memo(key, str(cache_dir()))


# ---- the models (uncached; each returns a JSON-able dict with "_kind") ---------------------
def _adc_survey(bits: int, rate: float, node_m: float) -> dict:
    mod = _import(ADC)

    def call():
        m = mod.ADC(n_bits=bits, tech_node=node_m, throughput=rate, n_adcs=1)
        e = m.read().energy
        _drain(ADC, m)
        return m, e
    m, energy = _run(ADC, call)
    out = dict(_kind="part", energy=float(energy), area=float(m.area),
               leak_power=float(m.leak_power),
               source=_source(ADC, "ADC", "Andrulis et al. fit of the Murmann ADC survey; "
                              "the plug-in books 20 % of the energy at the given rate as "
                              "leak_power"))
    _check(ADC, out)
    return out


def _sram(bits_total: int, width_bits: int, node_m: float, ports: int = 1) -> dict:
    mod = _import(CACTI)

    def call():
        m = mod.SRAM(tech_node=node_m, width=width_bits, size=bits_total,
                     n_rw_ports=ports, n_banks=1)
        r, w = m.read().energy, m.write().energy
        _drain(CACTI, m)
        return m, r, w
    m, r, w = _run(CACTI, call)
    out = dict(_kind="part", read_energy=float(r), write_energy=float(w),
               area=float(m.area), leak_power=float(m.leak_power),
               source=_source(CACTI, "SRAM", f"CACTI 7, {ports} read/write "
                              f"port{'s' if ports > 1 else ''}, 1 bank, ITRS-LSTP "
                              "cells and periphery (the plug-in's default_cfg.cfg)"))
    _check(CACTI, out)
    return out


def _forget_neurosim_runs() -> None:
    """hwcomponents-neurosim keeps the NeuroSim runs of a process in a dict (main.CACHE)
    keyed without the cell file and the activity arguments, so a query could get the answer
    of an earlier, different one. Each query here starts from an empty dict, so a figure
    does not depend on what ran before it in the process."""
    import sys
    cache = getattr(sys.modules.get(MODULE[NEUROSIM] + ".main"), "CACHE", None)
    if isinstance(cache, dict):
        cache.clear()


def _neurosim(model: str, node_m: float, clock_hz: float, **kw) -> tuple[Any, float]:
    mod = _import(NEUROSIM)

    def call():
        _forget_neurosim_runs()
        m = getattr(mod, model)(tech_node=node_m, cycle_period=1.0 / clock_hz, **kw)
        e = m.read().energy
        _drain(NEUROSIM, m)
        return m, e
    return _run(NEUROSIM, call)


def _neurosim_part(model: str, node_m: float, clock_hz: float, **kw) -> dict:
    m, e = _neurosim(model, node_m, clock_hz, **kw)
    args = ", ".join(f"{k}={v}" for k, v in kw.items())
    out = dict(_kind="part", energy=float(e), area=float(m.area),
               leak_power=float(m.leak_power),
               source=_source(NEUROSIM, model, f"NeuroSim V1.3 ({args})"))
    _check(NEUROSIM, out)
    return out


def _cell_file(technology: str, geometry: tuple[float, float] | None = None) -> Path:
    """The NVMExplorer cell file of a technology, as the plug-in ships it, or with
    geometry = (area in F^2, height / width) a copy whose -CellArea and -CellAspectRatio
    are those (the electrical entries stay the technology's). NeuroSim lays its lines
    over the cell file's footprint (SubArray.cpp: a row line is cols x the cell's width,
    a column line rows x its height, each at 0.2 fF/um of wire), so this is how a line's
    wire load follows the published cell's size rather than NVMExplorer's."""
    shipped = Path(list(importlib.util.find_spec(MODULE[NEUROSIM])
                        .submodule_search_locations)[0]) / "cells" / NEUROSIM_CELLS[technology]
    if geometry is None:
        return shipped
    area_f2, aspect = geometry
    lines = []
    for line in shipped.read_text().splitlines():
        if line.startswith("-CellArea (F^2):"):
            line = f"-CellArea (F^2): {area_f2!r}"
        elif line.startswith("-CellAspectRatio:"):
            line = f"-CellAspectRatio: {aspect!r}"
        lines.append(line)
    text = "\n".join(lines) + "\n"
    path = cache_dir() / "cells" / (technology + "-" +
                                    hashlib.sha256(text.encode()).hexdigest()[:16] + ".cell")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, text)
        except (OSError, UserError) as exc:
            raise Unavailable(NEUROSIM, f"cannot write a cell file at {path}: {exc}") from exc
    return path


def _cim_part(model: str, node_m: float, cols: int, technology: str,
              geometry: tuple[float, float] | None = None, **kw) -> Any:
    """A NeuroSim array-periphery model (ArrayADC, RowDrivers) of an array of the
    technology's cells with NEUROSIM_ROWS rows and `cols` columns, every column active,
    inputs always driven; geometry: the cells' (area in F^2, height / width), else the
    technology file's."""
    mod = _import(NEUROSIM)
    cell = _cell_file(technology, geometry)

    def call():
        _forget_neurosim_runs()
        m = getattr(mod, model)(cell_config=str(cell), tech_node=node_m,
                                cycle_period=NEUROSIM_CYCLE, rows=NEUROSIM_ROWS, cols=cols,
                                cols_active_at_once=cols, average_input_value=1.0,
                                average_cell_value=0.5, read_pulse_width=NEUROSIM_CYCLE,
                                n_instances=1, **kw)
        e = m.read().energy
        _drain(NEUROSIM, m)
        return m, e
    return _run(NEUROSIM, call)


def _column_adc(bits: int, cols: int, node_m: float, technology: str) -> dict:
    m, e = _cim_part("ADC", node_m, cols, technology, adc_resolution=bits)
    out = dict(_kind="part", energy=float(e), area=float(m.area) / cols,
               leak_power=float(m.leak_power) / cols,
               source=_source(NEUROSIM, "ADC", "NeuroSim V1.3 ArrayADC: multi-level "
                              "sense amplifiers (flash) pitch-matched to a column"))
    _check(NEUROSIM, out)
    return out


def _row_driver(cells: int, node_m: float, voltage_bits: int, technology: str,
                cell_area_f2: float | None = None, cell_aspect: float | None = None) -> dict:
    geometry = None if cell_area_f2 is None else (cell_area_f2, cell_aspect or 1.0)
    m, e = _cim_part("RowDrivers", node_m, cells, technology, geometry,
                     voltage_dac_bits=voltage_bits)
    where = "the technology's cell file" if geometry is None else \
        f"cells of {cell_area_f2:.4g} F^2, height/width {geometry[1]:.3g}"
    out = dict(_kind="part", energy=float(e), area=float(m.area) / NEUROSIM_ROWS,
               leak_power=float(m.leak_power) / NEUROSIM_ROWS,
               source=_source(NEUROSIM, "RowDrivers", "NeuroSim V1.3 row driver of a "
                              f"line across the array's cells (its wire and loads; {where})"))
    _check(NEUROSIM, out)
    return out


def _logic(node_m: float) -> dict:
    clock = 1.0 / NEUROSIM_CYCLE
    nand, _ = _neurosim("NANDGate", node_m, clock)
    add, e_add = _neurosim("Adder", node_m, clock, n_bits=LOGIC_ADDER_BITS)
    dff, e_dff = _neurosim("FlipFlop", node_m, clock, n_bits=LOGIC_DFF_BITS)
    gates = NAND2_PER_ADDER_BIT * LOGIC_ADDER_BITS
    out = dict(
        _kind="logic",
        nand2_area=float(nand.area),
        nand2_energy=float(e_add) / gates,
        nand2_leak=float(add.leak_power) / gates,
        dff_area=float(dff.area) / LOGIC_DFF_BITS,
        dff_energy=float(e_dff) / LOGIC_DFF_BITS,
        dff_leak=float(dff.leak_power) / LOGIC_DFF_BITS,
        source=_source(NEUROSIM, "NANDGate/Adder/FlipFlop",
                       f"NeuroSim V1.3: NAND2 area from NANDGate; NAND2 energy and leakage "
                       f"= {LOGIC_ADDER_BITS}-bit Adder / {gates} NAND2 (NeuroSim adder "
                       f"activity 0.15); DFF = {LOGIC_DFF_BITS}-bit FlipFlop / "
                       f"{LOGIC_DFF_BITS} (NeuroSim DFF activity 0.5)"))
    _check(NEUROSIM, out)
    if out["nand2_area"] <= 0 or out["nand2_energy"] <= 0:
        raise Unavailable(NEUROSIM, "returned a zero NAND2 area or adder energy")
    return out


def _published(name: str, attrs: dict) -> dict:
    mod = _import(LIBRARY)
    cls = getattr(mod, name, None)
    if cls is None or name not in getattr(mod, "__all__", [name]) \
            or not hasattr(cls, "get_action_names"):
        raise Unavailable(LIBRARY, f"no component named {name!r} in hwcomponents_library "
                          f"{_version(LIBRARY)}")

    def call():
        m = cls(**attrs)
        acts = []
        for a in cls.get_action_names():
            try:
                acts.append((a, float(getattr(m, a)().energy)))
            except TypeError:      # an action that needs arguments: left out
                continue
        _drain(LIBRARY, m)
        return m, acts
    m, acts = _run(LIBRARY, call)
    by = dict(acts)
    out = dict(_kind="part", area=float(m.area), leak_power=float(m.leak_power),
               energy=by.get("read", acts[0][1] if acts else None),
               read_energy=by.get("read"), write_energy=by.get("write"),
               actions=[list(a) for a in acts],
               source=_source(LIBRARY, name))
    _check(LIBRARY, {k: v for k, v in out.items() if k != "actions"})
    _check(LIBRARY, dict(acts))
    return out


_FUNCS: dict[str, Callable[..., dict]] = {
    "adc_survey": _adc_survey,
    "sram": _sram,
    "logic": _logic,
    "adder": lambda bits, node_m, clock_hz: _neurosim_part("Adder", node_m, clock_hz,
                                                           n_bits=bits),
    "shift_add": lambda bits, shift_bits, node_m, clock_hz: _neurosim_part(
        "ShiftAdd", node_m, clock_hz, n_bits=bits, shift_register_n_bits=shift_bits),
    "mux": lambda inputs, bits, node_m, clock_hz: _neurosim_part(
        "Mux", node_m, clock_hz, n_bits=bits, n_mux_inputs=inputs),
    "published": lambda name, attrs: _published(name, attrs),
    "column_adc": _column_adc,
    "row_driver": _row_driver,
}


# ---- public API -----------------------------------------------------------------------------
def adc_survey(bits: int, rate: float, node_m: float) -> Part:
    """One ADC from the Murmann-survey fit (hwcomponents-adc): energy per conversion (J,
    the dynamic part), area (m^2), leak_power (W; the plug-in assigns 20 % of the fitted
    energy at `rate` to leakage, so energy + leak_power / rate is the fitted total).
    bits >= 4 (the fit's range); rate in conversions per second of this one ADC."""
    return _cached("adc_survey", ADC, dict(bits=_count("bits", bits, 1),
                                           rate=_positive("rate", rate),
                                           node_m=_metres(node_m)))


def sram(bits_total: int, width_bits: int, node_m: float, kind: str = "sram",
         ports: int = 1) -> Part:
    """An SRAM of bits_total bits accessed width_bits at a time, from CACTI 7
    (hwcomponents-cacti): read_energy and write_energy per access (J), area, leak_power.
    ports: read/write ports (a power of two; CACTI's n_rw_ports).
    CACTI runs at 22, 32, 45, 65, 90 nm; the plug-in interpolates between them and scales
    outside. kind="edram" raises Unavailable: the plug-in fixes SRAM (ITRS-LSTP) cells."""
    if kind == "edram":
        raise Unavailable(CACTI, "hwcomponents-cacti models SRAM only (its CACTI "
                          "configuration fixes ITRS-LSTP cells); no eDRAM")
    if kind != "sram":
        raise ValueError(f"kind={kind!r}: allowed: sram, edram")
    bits_total, width_bits = _count("bits_total", bits_total), _count("width_bits",
                                                                      width_bits)
    if bits_total % width_bits:
        raise ValueError(f"bits_total={bits_total} is not a multiple of "
                         f"width_bits={width_bits}")
    ports = _count("ports", ports)
    if ports & (ports - 1):
        raise ValueError(f"ports={ports}: allowed: a power of two (CACTI)")
    extra = {} if ports == 1 else {"ports": ports}       # the cache keys of 1 port stay
    return _cached("sram", CACTI, dict(bits_total=bits_total, width_bits=width_bits,
                                       node_m=_metres(node_m), **extra))


def logic(node_m: float) -> Logic:
    """NAND2 and flip-flop numbers from NeuroSim V1.3 (hwcomponents-neurosim), 7-130 nm.
    NeuroSim's NAND2 model has area only; its energy and leakage per gate are the 8-bit
    NeuroSim adder's (72 NAND2) divided by 72, i.e. energy per gate equivalent per
    operation at NeuroSim's adder activity. Flip-flop numbers are per bit per clock."""
    return _cached("logic", NEUROSIM, dict(node_m=_metres(node_m)))


def adder(bits: int, node_m: float, clock_hz: float) -> Part:
    """A bits-wide ripple-carry adder (NeuroSim): energy per add, area, leakage."""
    return _cached("adder", NEUROSIM, dict(bits=_count("bits", bits),
                                           node_m=_metres(node_m),
                                           clock_hz=_positive("clock_hz", clock_hz)))


def shift_add(bits: int, node_m: float, clock_hz: float,
              shift_bits: int | None = None) -> Part:
    """A shift-and-add unit (NeuroSim ShiftAdd: adder + shift register): energy per
    operation, area, leakage. bits: adder width; shift_bits: shift-register width
    (default 2 x bits, the plug-in's default ratio 8/16)."""
    bits = _count("bits", bits)
    shift = 2 * bits if shift_bits is None else _count("shift_bits", shift_bits)
    return _cached("shift_add", NEUROSIM, dict(bits=bits, shift_bits=shift,
                                               node_m=_metres(node_m),
                                               clock_hz=_positive("clock_hz", clock_hz)))


def mux(inputs: int, bits: int, node_m: float, clock_hz: float) -> Part:
    """An inputs-to-1 multiplexer of bits-wide words with its decoder (NeuroSim)."""
    return _cached("mux", NEUROSIM, dict(inputs=_count("inputs", inputs, 2),
                                         bits=_count("bits", bits),
                                         node_m=_metres(node_m),
                                         clock_hz=_positive("clock_hz", clock_hz)))


def _technology(technology: str) -> str:
    if technology not in NEUROSIM_CELLS:
        raise ValueError(f"technology={technology!r}: allowed: {', '.join(NEUROSIM_CELLS)}")
    return technology


def column_adc(bits: int, cols: int, node_m: float, technology: str = "pcm") -> Part:
    """One column's flash converter of a compute-in-memory array of `technology` cells
    (NeuroSim's ArrayADC: 2^bits - 1 multi-level sense amplifiers and an encoder,
    pitch-matched to the column): energy per conversion (J), area and leakage of one
    converter. cols: columns of the array (the converters share its width)."""
    return _cached("column_adc", NEUROSIM, dict(bits=_count("bits", bits),
                                                cols=_count("cols", cols),
                                                node_m=_metres(node_m),
                                                technology=_technology(technology)))


def row_driver(cells: int, node_m: float, voltage_bits: int = 1,
               technology: str = "pcm", cell_area_f2: float | None = None,
               cell_aspect: float | None = None) -> Part:
    """One line driver of a compute-in-memory array of `technology` cells (NeuroSim's
    RowDrivers): energy of driving the line across `cells` cells once (J: the driver and
    the line's load, its wire at 0.2 fF/um over cells x the cell's width), area and
    leakage of one driver; voltage_bits > 1: a multi-level (amplitude) driver.
    cell_area_f2 / cell_aspect (height over width): the cells' footprint, so the line's
    wire has the published cell's length; None: the technology's NVMExplorer cell."""
    args = dict(cells=_count("cells", cells), node_m=_metres(node_m),
                voltage_bits=_count("voltage_bits", voltage_bits),
                technology=_technology(technology))
    if cell_area_f2 is not None:
        args.update(cell_area_f2=_positive("cell_area_f2", cell_area_f2),
                    cell_aspect=_positive("cell_aspect", cell_aspect or 1.0))
    return _cached("row_driver", NEUROSIM, args)


def published(name: str, **attrs: Any) -> Part:
    """A published design from hwcomponents-library by class name, with its own
    attributes (SI, e.g. tech_node=32e-9): published("IsaacEDRAM", tech_node=32e-9,
    width=256, depth=2048). energy = read energy (else the first action's); actions
    lists every action that takes no arguments."""
    try:
        json.dumps(attrs)
    except TypeError:
        raise ValueError(f"published({name!r}): attributes must be numbers or text") \
            from None
    return _cached("published", LIBRARY, dict(name=str(name), attrs=attrs))


_SMOKE: dict[str, Callable[[], Any]] = {
    ADC: lambda: _adc_survey(8, 1e8, 32e-9),
    CACTI: lambda: _sram(64 * 1024, 64, 32e-9),
    NEUROSIM: lambda: _logic(45e-9),
    LIBRARY: lambda: _published("IsaacADC", {"tech_node": 32e-9}),
}
_SMOKE_TEXT = {ADC: "ADC(8 b, 100 MS/s, 32 nm) ran",
               CACTI: "SRAM(32 nm, 64 b x 1024) ran CACTI",
               NEUROSIM: "NANDGate/Adder/FlipFlop (45 nm) ran NeuroSim",
               LIBRARY: "IsaacADC(32 nm) ran"}


# The executables the CACTI and NeuroSim plug-ins run, and what each prints when it
# starts without arguments (scripts/hwc_binaries.sh makes the same check).
_EXECUTABLES = {CACTI: ("cacti/cacti", "how to use CACTI"),
                NEUROSIM: ("NeuroSim/main", "Usage: ./main")}


def _executable_problem(plugin: str) -> str | None:
    """None if the plug-in's executable starts here, else why not. (The plug-ins keep
    their own output caches, so a query alone can succeed with a broken executable.)"""
    if plugin not in _EXECUTABLES:
        return None
    rel, banner = _EXECUTABLES[plugin]
    try:
        spec = importlib.util.find_spec(MODULE[plugin])
        exe = Path(list(spec.submodule_search_locations)[0]) / rel
    except Exception as exc:
        return f"cannot locate {MODULE[plugin]}: {_one_line(exc)}"
    if not exe.is_file():
        return f"{exe} is missing"
    try:
        res = subprocess.run([str(exe)], cwd=exe.parent, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{exe} does not start: {_one_line(exc)}"
    if banner in res.stdout + res.stderr:
        return None
    first = (res.stderr.strip() or res.stdout.strip() or f"exit {res.returncode}")
    first = first.splitlines()[0].replace(str(exe), exe.name)
    return f"{exe} does not start ({first[:200]}); run scripts/hwc_binaries.sh"


def status() -> dict[str, dict]:
    """Plug-in name -> {"ok", "why", "version"}: whether each plug-in is installed, one
    small query of it runs here (uncached by us) and its executable, if any, starts."""
    out = {}
    for p in PLUGINS:
        try:
            _SMOKE[p]()
            problem = _executable_problem(p)
            if problem:
                raise Unavailable(p, problem)
            out[p] = {"ok": True, "why": _SMOKE_TEXT[p], "version": _version(p)}
        except Unavailable as exc:
            out[p] = {"ok": False, "why": exc.why, "version": _version(p)}
    return out


__all__ = ["Logic", "Part", "Unavailable", "adc_survey", "adder", "cache_dir",
           "clear_memory_cache", "column_adc", "logic", "mux", "published", "row_driver",
           "shift_add", "sram", "status"]
