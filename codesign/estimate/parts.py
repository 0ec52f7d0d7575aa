"""Where the component figures come from: the field's library, hwcomponents, when its
plug-ins run here (codesign.estimate.hwc: hwcomponents-adc for the ADC survey model,
hwcomponents-cacti for SRAM/eDRAM, hwcomponents-neurosim for gates and flip-flops), else
the sourced built-in models of codesign.estimate.components. Each figure carries the name
of the model that produced it, and the estimate reports them (``models`` in --json).

A Library made with ``load_components(..., hwc=False)`` uses the built-in models only
(tests of those models, and the sensitivity of the result to the choice of library). A
user's components file that sets a key of ``adc``, ``buffer`` or ``gates`` makes the
built-in model of that part price it, so the user's figure is the one used.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Figure:
    energy: float       # J per event (conversion, access of one word, switching event)
    area: float         # m^2 per unit
    leak: float         # W per unit
    source: str         # which model
    write_energy: float | None = None   # J per write where it differs (a memory's)

    @property
    def write(self) -> float:
        return self.energy if self.write_energy is None else self.write_energy


def _hwc():
    try:
        from . import hwc
    except ImportError:     # the adapter is absent in a stripped install
        return None
    return hwc


@lru_cache(maxsize=4096)
def _hwc_adc(bits: int, rate: float, node_nm: float):
    hwc = _hwc()
    if hwc is None:
        return None
    try:
        p = hwc.adc_survey(bits, rate, node_nm * 1e-9)
    except hwc.Unavailable:
        return None
    return Figure(p.energy, p.area, p.leak_power, p.source)


@lru_cache(maxsize=1024)
def _hwc_sram(bits: int, width: int, node_nm: float, kind: str, ports: int = 1):
    hwc = _hwc()
    if hwc is None:
        return None
    try:
        # a whole number of words (CACTI sizes memories in words)
        p = hwc.sram(-(-bits // width) * width, width, node_nm * 1e-9, kind=kind,
                     ports=ports)
    except hwc.Unavailable:
        return None
    return Figure(p.read_energy, p.area, p.leak_power, p.source,
                  write_energy=p.write_energy)


@lru_cache(maxsize=256)
def _hwc_logic(node_nm: float):
    hwc = _hwc()
    if hwc is None:
        return None
    try:
        lg = hwc.logic(node_nm * 1e-9)
    except hwc.Unavailable:
        return None
    return (Figure(lg.nand2_energy, lg.nand2_area, lg.nand2_leak, lg.source),
            Figure(lg.dff_energy, lg.dff_area, lg.dff_leak, lg.source))


# the memory technology whose cell NeuroSim's array periphery is built around
NEUROSIM_TECHNOLOGY = {"pcm": "pcm", "ideal": "pcm", "rram": "rram", "sram": "sram"}


@lru_cache(maxsize=1024)
def _hwc_cim(fn: str, a: int, b: int, node_nm: float, technology: str,
             geometry: tuple[float, float] | None = None):
    hwc = _hwc()
    if hwc is None:
        return None
    tech = NEUROSIM_TECHNOLOGY[technology]
    try:
        if fn == "column_adc":
            p = hwc.column_adc(a, b, node_nm * 1e-9, tech)
        else:
            area_f2, aspect = geometry if geometry is not None else (None, None)
            p = hwc.row_driver(a, node_nm * 1e-9, b, tech, cell_area_f2=area_f2,
                               cell_aspect=aspect)
    except hwc.Unavailable:
        return None
    return Figure(p.energy, p.area, p.leak_power, p.source)


def column_flash(lib, bits: int, cols: int, node_nm: float,
                 technology: str = "pcm") -> Figure | None:
    """A flash converter pitch-matched to one column of a compute-in-memory array
    (NeuroSim's ArrayADC through hwcomponents), or None where that model does not run or
    the user's components file sets ``adc`` (the flash kind then builds one from
    comparator decisions, codesign.adckinds)."""
    if lib.use_hwc and not lib.overridden("adc"):
        return _hwc_cim("column_adc", int(bits), int(cols), float(node_nm), technology)
    return None


def line_driver(lib, cells: float, node_nm: float, voltage_bits: int = 1,
                technology: str = "pcm", cell_width: float | None = None,
                cell_height: float | None = None) -> Figure:
    """The driver of one input line across `cells` cells of a technology (cellkinds'
    technology): energy of one drive, area and leakage of one driver. cell_width /
    cell_height (m): the footprint of one cell along and across the line, so the line
    is cells x cell_width long (None: NeuroSim's technology cell; the fallback then
    prices no wire). NeuroSim's RowDrivers (the driver, the line's wire at 0.2 fF/um and
    its cells' loads) through hwcomponents, laid over that footprint; else, or when the
    user's components file sets ``dac``, ISAAC's 1-bit DAC scaled by the line's cells
    (built-in, components.yaml dac.*) plus the line's wire, wire.capacitance x length x
    Vdd^2 (ISAAC's own 128-cell line at its 4 F^2 cells is 8 um, 2 fF: nothing counted
    twice that matters)."""
    geometry = None
    if cell_width and cell_height:
        f = node_nm * 1e-9
        # 4 significant digits: one cached NeuroSim run per cell size, not per float
        geometry = (float(f"{cell_width * cell_height / f ** 2:.4g}"),
                    float(f"{cell_height / cell_width:.4g}"))
    if lib.use_hwc and not lib.overridden("dac"):
        fig = _hwc_cim("row_driver", max(1, round(cells)), int(voltage_bits),
                       float(node_nm), technology, geometry)
        if fig is not None:
            return fig
    e = lib.scaled_energy("dac.driver_energy", node_nm) * cells / lib["dac.line_cells"]
    a = lib.scaled_area("dac.driver_area", node_nm)
    if voltage_bits > 1:
        e *= lib["dac.amplitude_energy_per_bit"] * voltage_bits
        a *= lib["dac.amplitude_area_units"] * 2 ** (voltage_bits - 1)
    if cell_width:
        e += lib["wire.capacitance"] * cells * cell_width * lib.vdd(node_nm) ** 2
    return Figure(e, a, 0.0, "built-in (ISAAC 1-bit DAC per line, components.yaml dac.*, "
                  "and the line's wire, wire.capacitance)")


def survey_adc(lib, bits: int, rate: float, node_nm: float) -> Figure:
    """A converter on the ADC survey's frontier (used for SAR, and for comparator decisions
    of flash and ramp converters: codesign.adckinds)."""
    if rate <= 0:
        return Figure(0.0, 0.0, 0.0, "none")
    if lib.use_hwc and not lib.overridden("adc"):
        fig = _hwc_adc(int(bits), float(rate), float(node_nm))
        if fig is not None:
            return fig
    from . import components as comp
    return Figure(comp.adc_energy(lib, bits, rate, node_nm),
                  comp.adc_area(lib, bits, rate, node_nm), 0.0,
                  "built-in survey fit (components.yaml adc.*)")


def sram(lib, bits: int, width: int, node_nm: float, kind: str = "sram",
         ports: int = 1) -> Figure:
    """A buffer of `bits` bits read `width` bits at a time: energy per access of one word.
    ports: CACTI's read/write ports (a 1R1W macro is priced as 2, an upper bound: the
    plug-in has no read-only or write-only ports); the built-in fit has no port term."""
    if bits <= 0:
        return Figure(0.0, 0.0, 0.0, "none")
    if lib.use_hwc and not lib.overridden("buffer"):
        fig = _hwc_sram(int(bits), int(width), float(node_nm), kind, int(ports))
        if fig is not None:
            return fig
    e_bit = lib.scaled_energy("buffer.energy_per_bit", node_nm) * \
        (bits / lib["buffer.size_ref_bits"]) ** lib["buffer.size_exponent"]
    return Figure(e_bit * width, bits * lib.scaled_area("buffer.area_per_bit", node_nm), 0.0,
                  "built-in (Horowitz 2014 energy, ISAAC eDRAM area)")


def gate(lib, node_nm: float) -> Figure:
    """One NAND2 gate equivalent: area, energy of one switching event, leakage."""
    if lib.use_hwc and not lib.overridden("gates"):
        fig = _hwc_logic(float(node_nm))
        if fig is not None:
            return fig[0]
    from . import components as comp
    return Figure(comp.ge_toggle_energy(lib, node_nm), comp.ge_area(lib, node_nm), 0.0,
                  "built-in (Nangate FreePDK45, Horowitz 2014)")


def flop(lib, node_nm: float) -> Figure:
    """One flip-flop: area, energy of one toggle, leakage."""
    if lib.use_hwc and not lib.overridden("gates"):
        fig = _hwc_logic(float(node_nm))
        if fig is not None:
            return fig[1]
    g = gate(lib, node_nm)
    ff = lib["gates.dff_ge"]
    return Figure(g.energy * ff, g.area * ff, 0.0, g.source)


def hwc_status() -> dict:
    hwc = _hwc()
    if hwc is None:
        return {"hwcomponents": {"ok": False, "why": "codesign.estimate.hwc missing"}}
    return hwc.status()



@lru_cache(maxsize=256)
def _hwc_c2c(resolution: int, voltage: float, unit_c: float, level: int, levels: int,
             bit_density: float, node_nm: float):
    hwc = _hwc()
    if hwc is None:
        return None
    hist = [0.0] * levels
    hist[level] = 1.0
    attrs = dict(resolution=resolution, voltage=voltage, unit_capacitance=unit_c,
                 a_hist=hist, b_bit_distribution=[bit_density] * resolution,
                 tech_node=node_nm * 1e-9)
    try:
        a = hwc.published("C2CMultiplier", **attrs)          # the analog port (input)
        b = hwc.published("C2CMultiplierPortB", **attrs)     # the digital port (weight)
    except hwc.Unavailable:
        return None
    return Figure(a.energy + b.energy, a.area, a.leak_power, a.source)


def c2c_multiplier(lib, resolution: int, voltage: float, unit_c: float,
                   input_fraction: float, levels: int, bit_density: float,
                   node_nm: float) -> Figure | None:
    """One C-2C ladder multiplier (hwcomponents-library C2CMultiplier and its digital port):
    energy of one multiply (the ladder charged to the analog input, whose magnitude is
    `input_fraction` of full scale on `levels` levels, and the weight's bits switched in
    with probability `bit_density` each), its area and leakage; None where the library
    does not run (the caller keeps the bit cells' own charge model)."""
    if not lib.use_hwc:
        return None
    level = min(levels - 1, max(0, round(input_fraction * (levels - 1))))
    return _hwc_c2c(int(resolution), float(voltage), float(unit_c), int(level), int(levels),
                    float(bit_density), float(node_nm))
