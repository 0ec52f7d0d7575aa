"""The architecture spec: YAML in, validated frozen dataclasses out.

One spec drives the physics core, the cycle model, the estimator and the RTL
parameters. Every field carries a unit, a default, an allowed range and a doc
(see codesign.spec_fields.param); docs/spec.md is generated from them.
Values are SI inside (S, s, V, Hz, m). Sources: ../shared/reference/devices.md
and costs.md; "assumed" marks a value that is our choice, exposed as a knob.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from . import adckinds, cellkinds, integratorkinds
from .errors import UserError
from .fileio import parse_yaml, read_text
from .spec_fields import allowed_text, param, section

CELLS = cellkinds.NAMES
ADC_KINDS = adckinds.NAMES
SIGNED = ("differential", "offset")
INTERCONNECTS = ("mesh", "bus", "htree", "wires")
BUFFER_KINDS = ("sram", "edram")
ACTIVATIONS = ("none", "relu", "lut")
ENCODINGS = ("amplitude", "pulse_width", "bit_serial")
UPDATE_MODES = ("stochastic", "deterministic")
RNG_VARIANTS = ("per_line", "shared")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that also reads 1e6 and 2.5e-6 as floats (YAML 1.2 style); PyYAML's
    YAML 1.1 resolver would return them as strings. The libyaml parser when PyYAML has it
    (its wheels do): the preset parses in 0.46 ms instead of 3.9 ms, which a sweep
    worker's first point paid 29 times (codesign.hdl.gatemodel.fit); same data for every
    YAML file the package ships (checked when this changed)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def load_yaml(text: str):
    """Parse YAML text with the spec's float rules (used for specs and network files)."""
    return yaml.load(text, Loader=_Loader)


class SpecError(UserError):
    """A spec that does not validate; the message is one line naming file, key, value, allowed."""


@dataclass(frozen=True)
class ArraySpec:
    rows: int = param(512, "word lines (inputs) per tile", lo=1, hi=4096, rtl="ROWS",
                      source="assumed; Ambrogio 2018 ED Fig. 7 programs 512x1,024 devices")
    cols: int = param(512, "bit lines (outputs) per tile; one weight per column per row", lo=1,
                      hi=4096, rtl="COLS", source="assumed")
    cell: str = param("2pcm3t1c", "unit cell kind (codesign.cellkinds): 2PCM+3T1C, "
                      "differential PCM pair, 4-PCM differential (HERMES), ideal, 1T1R RRAM, "
                      "or an analog SRAM compute cell", choices=CELLS)
    cell_area: float = param(0.0, "area of one unit cell; 0 takes the cell kind's default "
                             "(F^2 x node^2 from the component library)", unit="m^2", lo=0.0,
                             hi=1e-9, source="the published design, when it states it")
    cell_aspect: float = param(1.0, "width over height of one cell's footprint (the pitch "
                               "along a word line over the pitch along a bit line); with "
                               "the cell area it sets the lengths of the array's lines, "
                               "whose wires the drivers charge", lo=0.05, hi=20.0,
                               source="the published design; 1 (square) assumed where it "
                               "states none")
    read_energy: float = param(0.0, "energy of one cell in one read phase at full input; 0 "
                               "takes the cell kind's physics (V^2 G t, or C V^2)", unit="J",
                               lo=0.0, hi=1e-9, source="the published design, when it "
                               "states it")
    rows_active: int = param(0, "word lines driven at once (0 = all rows); fewer rows take "
                             "ceil(rows / rows_active) read phases per input phase", lo=0,
                             hi=4096, source="the published design")
    read_pulse: float = param(0.0, "time the read voltage drives the cells in one integration "
                              "cycle, when the design reads with pulses shorter than its "
                              "clock period (voltage-mode sensing); 0 = the whole cycle "
                              "(current integrated throughout, as Ambrogio 2018)", unit="s",
                              lo=0.0, hi=1e-3, source="the published design")


@dataclass(frozen=True)
class PCMSpec:
    g_max: float = param(25e-6, "maximum programmable conductance of one device", unit="S",
                         lo=1e-7, hi=1e-3, source="Nandakumar et al., ICECS 2019")
    set_step: float = param(0.005, "mean SET step from the RESET state, as a fraction of g_max",
                            lo=1e-5, hi=0.5, source="aihwkit PCMPresetDevice dw_min=0.01 on a "
                            "[0,2] span")
    set_gamma: float = param(2.5, "state dependence: step scales as (1 - g/g_max)^gamma",
                             lo=0.0, hi=10.0, source="aihwkit PCMPresetDevice gamma=2.5")
    set_c2c: float = param(0.3, "cycle-to-cycle relative spread of a SET step", lo=0.0, hi=2.0,
                           source="assumed (aihwkit default dw_min_std=0.3)")
    set_d2d: float = param(0.3, "device-to-device relative spread of the SET step", lo=0.0,
                           hi=2.0, source="assumed (aihwkit default dw_min_dtod=0.3)")
    reset_g: float = param(0.005, "mean conductance after RESET, fraction of g_max", lo=0.0,
                           hi=0.5, source="aihwkit PCMPresetDevice reset=0.01 on a [0,2] span")
    reset_std: float = param(0.01, "device-to-device spread after RESET, fraction of g_max",
                             lo=0.0, hi=0.5, source="aihwkit PCMPresetDevice reset_dtod=0.02 on "
                             "[0,2]")
    noise_model: str = param("nandakumar2019", "statistical inference model",
                             choices=("nandakumar2019", "hermes"),
                             source="Nandakumar 2019; aihwkit HermesNoiseModel")
    prog_noise: tuple = param((0.26348e-6, 1.9650e-6, -1.1731e-6),
                              "programming-noise polynomial c0 + c1 x + c2 x^2 (+ c3 x^3), "
                              "x = g_T/g_max", unit="S", source="Nandakumar 2019")
    t0: float = param(20.0, "reference read time after programming", unit="s", lo=1e-6, hi=1e6,
                      source="Nandakumar 2019")
    t_read: float = param(250e-9, "read duration for 1/f noise", unit="s", lo=1e-12, hi=1.0,
                          source="Nandakumar 2019")


@dataclass(frozen=True)
class CapacitorSpec:
    g_span: float = param(10e-6, "read-transistor conductance swing either side of g_shared",
                          unit="S", lo=1e-9, hi=1e-3, source="assumed: covers the residual F x "
                          "transfer_offset (6 uS) that the capacitor holds after a transfer")
    step: float = param(0.005, "mean update step as a fraction of g_span (about 400 steps "
                        "across the range)", lo=1e-5, hi=0.5,
                        source="aihwkit CapacitorPresetDevice dw_min=0.005")
    asym_d2d: float = param(0.06, "device-to-device up/down step asymmetry spread", lo=0.0,
                            hi=1.0, source="aihwkit CapacitorPresetDevice up_down_dtod=0.06")
    step_d2d: float = param(0.1, "device-to-device relative step spread", lo=0.0, hi=1.0,
                            source="aihwkit CapacitorPresetDevice dw_min_dtod=0.1")
    step_c2c: float = param(0.3, "cycle-to-cycle relative step spread", lo=0.0, hi=2.0,
                            source="aihwkit CapacitorPresetDevice dw_min_std=0.3")
    bound_d2d: float = param(0.07, "device-to-device spread of the bounds", lo=0.0, hi=1.0,
                             source="aihwkit CapacitorPresetDevice w_max_dtod=0.07")
    gamma: float = param(0.05, "soft-bound slope: step shrinks by (1 - gamma*w) toward a bound",
                         lo=0.0, hi=1.0, source="aihwkit CapacitorPresetDevice gamma=0.05")
    leak_updates: float = param(1e6, "leakage lifetime in update operations (0 disables)",
                                lo=0.0, hi=1e12,
                                source="aihwkit CapacitorPresetDevice lifetime=1e6 mini-batches")
    leak_d2d: float = param(0.3, "device-to-device relative spread of the leakage lifetime",
                            lo=0.0, hi=2.0,
                            source="aihwkit CapacitorPresetDevice lifetime_dtod=0.3")


@dataclass(frozen=True)
class RRAMSpec:
    g_on: float = param(40e-6, "low-resistance (SET) state conductance of one device",
                        unit="S", lo=1e-9, hi=1e-2, source="assumed: 1T1R RRAM read at "
                        "0.1-0.2 V spans about 1-40 uS (Wan et al., Nature 2022, NeuRRAM)")
    g_off: float = param(1e-6, "high-resistance (RESET) state conductance", unit="S", lo=0.0,
                         hi=1e-2, source="assumed (as g_on)")


@dataclass(frozen=True)
class SRAMSpec:
    c_compute: float = param(1.2e-15, "compute capacitor of one bit cell, charged once per "
                             "read phase", unit="F", lo=1e-18, hi=1e-12,
                             source="Valavi et al., JSSC 2019: metal-fringe capacitor of "
                             "about 1.2 fF above the bit cell")
    v_swing: float = param(1.0, "voltage swing of the compute capacitor", unit="V", lo=0.01,
                           hi=5.0, source="assumed: the supply (Valavi 2019 runs at 1.2 V "
                           "core, 0.85-1.2 V)")
    multiplier: str = param("none", "what a weight's bit cells switch: none (each bit "
                            "cell's own compute capacitor, charge shared on the line) or c2c "
                            "(one C-2C capacitor ladder per weight and driven row, unit "
                            "capacitor c_compute, multiplying the analog input by the "
                            "weight's bits: hwcomponents-library C2CMultiplier)",
                            choices=("none", "c2c"), source="the design: Wang et al., VLSI "
                            "2022 (a linear 8-bit C-2C ladder)")


@dataclass(frozen=True)
class CellSpec:
    significance: float = param(3.0, "F in W = F(G+ - G-) + (g - g_shared)", lo=0.0, hi=100.0,
                                source="Ambrogio 2018 (F=3 usual; assumed)")
    transfer_interval: int = param(8000, "training images between transfers", lo=1, hi=10**9,
                                   source="Ambrogio 2018 ED Fig. 2")
    transfer_max_iter: int = param(63, "program-and-verify iterations per row at most", lo=1,
                                   hi=4095, rtl="XFER_MAX_ITER",
                                   source="assumed: reaches 0.5 g_max from RESET at the "
                                   "default transfer_step")
    transfer_tol: float = param(0.01, "verify tolerance, fraction of g_max", lo=1e-4, hi=0.5,
                                source="assumed (0.25 uS at g_max = 25 uS); at 1 uS the "
                                "2PCM+3T1C reproduction trails software by 0.6 pp "
                                "(docs/reproduction.md)")
    transfer_step: float = param(0.04, "mean SET step of a closed-loop programming pulse from "
                                 "RESET, fraction of g_max (stronger than a training pulse)",
                                 lo=1e-4, hi=0.5, source="assumed; ED Fig. 7 programs with "
                                 "8-step SET ramp-down pulses")
    transfer_offset: float = param(2e-6, "offset kept below the PCM transfer target", unit="S",
                                   lo=0.0, hi=1e-4, source="Ambrogio 2018 ED Fig. 9")
    saturation: float = param(0.6, "fraction of g_max above which a pair is refreshed (RESET "
                              "both, re-program)", lo=0.1, hi=1.0,
                              source="assumed: with set_gamma = 2.5 a programming pulse at "
                              "0.6 g_max moves 10 % of its step from RESET; above that "
                              "closed-loop tuning stalls (Ambrogio 2018: control poor above "
                              "20 uS of 25)")
    polarity_inversion: bool = param(True, "flip the capacitor's sign after each transfer "
                                     "(cells without a capacitor ignore it)",
                                     rtl="POLARITY_INV", source="Ambrogio 2018")


@dataclass(frozen=True)
class DACSpec:
    bits: int = param(8, "input resolution, sign included", lo=2, hi=16, rtl="DAC_BITS",
                      source="assumed")
    encoding: str = param("amplitude", "how an input code reaches the word line",
                          choices=ENCODINGS, rtl="DAC_ENCODING")
    v_read: float = param(0.2, "full-scale read voltage", unit="V", lo=0.01, hi=2.0,
                          source="assumed")
    pulse_train: bool = param(False, "pulse_width inputs sent as a train of unit pulses "
                              "(the code is the number of pulses, each charging the word "
                              "line once) rather than one pulse of that width (one charge "
                              "per input); same cycles", source="the design: Sinangil et "
                              "al. JSSC 2021 (inputs as numbers of read word-line pulses); "
                              "Khaddam-Aljameh et al. JSSC 2022 (PWM: one pulse)")
    area: float = param(0.0, "area of one input line's DAC and driver; 0 takes the line "
                        "driver's model", unit="m^2", lo=0.0, hi=1e-6,
                        source="the published design, when it states it")


@dataclass(frozen=True)
class ADCSpec:
    bits: int = param(8, "ADC resolution", lo=2, hi=16, rtl="ADC_BITS", source="assumed")
    count: int = param(64, "ADCs per tile, shared by column multiplexing", lo=1, hi=4096,
                       rtl="ADCS", source="assumed")
    full_scale: float = param(12.0, "output magnitude (weight x input units) at ADC full scale",
                              lo=1e-3, hi=1e6, source="aihwkit IOParameters out_bound=12")
    noise: float = param(0.0, "input-referred noise, std in LSB", lo=0.0, hi=64.0,
                         source="assumed")
    kind: str = param("sar", "converter kind (codesign.adckinds): sar (one decision per "
                      "cycle), flash (one cycle; at most 8 bits), ramp (single-slope "
                      "counting, 2^bits - 1 cycles), "
                      "cco (current-controlled oscillator counting during the integration "
                      "window, one cycle to latch), charge-sar (successive approximation by "
                      "charge steps on the integration capacitor, bits cycles), "
                      "none (outputs leave as durations or charge)", choices=ADC_KINDS,
                      rtl="ADC_KIND")
    area: float = param(0.0, "area of one converter; 0 takes the kind's cost model",
                        unit="m^2", lo=0.0, hi=1e-6,
                        source="the published design, when it states it")


@dataclass(frozen=True)
class WeightSpec:
    bits: int = param(0, "weight precision, sign included; 0 = analog (one cell's "
                      "conductance is the weight)", lo=0, hi=32, source="the design")
    cells_per_weight: int = param(1, "cells (columns) one weight's magnitude is sliced "
                                  "over; outputs are shift-added digitally", lo=1, hi=64,
                                  source="the design (ISAAC: 8 two-bit cells per 16-bit "
                                  "weight)")
    bits_per_cell: int = param(0, "bits one cell stores (0 = analog)", lo=0, hi=8,
                               source="the design")
    slices: str = param("digital", "how the cells of one weight are combined: digital (each "
                        "column converted, then shift-added) or analog (combined before one "
                        "conversion: a C-2C ladder or binary-weighted charge sharing)",
                        choices=("digital", "analog"), source="the design")
    signed: str = param("differential", "how a signed weight is held when the cell is "
                        "single-ended: differential (two columns) or offset (one reference "
                        "column per array, subtracted after conversion)", choices=SIGNED)


@dataclass(frozen=True)
class IntegratorSpec:
    cycles: int = param(4, "integration cycles per amplitude or bit-serial phase", lo=1,
                        hi=4096, rtl="INT_CYCLES", source="assumed")
    kind: str = param("auto", "how an output line is sensed (codesign.integratorkinds): ota "
                      "(current integrator biased over the window), sampling (voltage mode, "
                      "a capacitor charged per integration step), regulated (read-voltage "
                      "regulator passing the line current to a current-input converter), "
                      "none (charge-domain cells); auto: none for charge cells, regulated "
                      "with adc.kind cco, else ota", choices=integratorkinds.CHOICES,
                      source="the published design")
    area: float = param(0.0, "area of one line's integrator (or regulator); 0 takes the "
                        "kind's model", unit="m^2", lo=0.0, hi=1e-6,
                        source="the published design, when it states it")


@dataclass(frozen=True)
class UpdateSpec:
    bl: int = param(31, "bit-stream length of a stochastic update", lo=1, hi=4095, rtl="BL",
                    source="aihwkit UpdateParameters desired_bl=31")
    mode: str = param("stochastic", "pulse trains: LFSR stochastic or deterministic",
                      choices=UPDATE_MODES, rtl="UPDATE_MODE")
    lfsr_bits: int = param(16, "width of each row/column Galois LFSR", lo=4, hi=32,
                           rtl="LFSR_BITS", source="assumed")
    lfsr_taps: int = param(0xB400, "Galois feedback mask (x^16+x^14+x^13+x^11+1)", lo=1,
                           hi=2**32 - 1, rtl="LFSR_TAPS",
                           source="Xilinx XAPP052 maximal-length taps")
    lfsr_seed: int = param(0xACE1, "base seed; row r and column c derive their own", lo=1,
                           hi=2**32 - 1, rtl="LFSR_SEED", source="assumed")
    rng: str = param("per_line", "random-number generators of a stochastic update: one "
                     "LFSR per row and per column (per_line), or one per rng_lines "
                     "consecutive rows (columns), each line comparing its own bit window "
                     "of the shared state (shared; docs/rtl.md)", choices=RNG_VARIANTS,
                     rtl="RNG_SHARED")
    rng_lines: int = param(8, "lines (rows, or columns) per shared LFSR when rng is "
                           "shared; at most lfsr_bits - dac.bits + 2 (one distinct bit "
                           "window each)", lo=1, hi=32, rtl="RNG_LINES", source="assumed")


@dataclass(frozen=True)
class ClockSpec:
    frequency: float = param(1e9, "controller clock", unit="Hz", lo=1e6, hi=1e10,
                             source="assumed")


@dataclass(frozen=True)
class TechnologySpec:
    node_nm: int = param(90, "CMOS technology node", unit="nm", lo=5, hi=250,
                         source="assumed")
    vdd: float = param(0.0, "core supply of the operating point; 0 = the node's nominal "
                       "supply (component library technology.vdd). CMOS switching energies "
                       "scale as vdd^2, leakage as vdd", unit="V", lo=0.0, hi=3.3,
                       source="the published design's measured operating point")


@dataclass(frozen=True)
class NocSpec:
    grid_rows: int = param(0, "tile grid rows (0 = smallest square that fits)", lo=0, hi=1024)
    grid_cols: int = param(0, "tile grid columns (0 = smallest square that fits)", lo=0,
                           hi=1024)
    flit_bits: int = param(32, "flit width", unit="bit", lo=8, hi=1024, source="assumed")
    buffer_depth: int = param(4, "router input buffer depth", unit="flit", lo=1, hi=64,
                              source="assumed")


@dataclass(frozen=True)
class CoreSpec:
    shift_add: bool = param(True, "digital shift-and-add per output column (bit-serial "
                            "inputs, sliced weights); priced only when the design needs it")
    scale: bool = param(False, "per-output digital scaling (a multiplier per output "
                        "word: affine correction, batch-norm)", source="the design")
    activation: str = param("none", "per-output activation unit", choices=ACTIVATIONS,
                            source="the design")
    accumulate_bits: int = param(0, "partial-sum accumulator width (0 = none); adds one "
                                 "register and adder per output", unit="bit", lo=0, hi=64,
                                 source="the design")
    io_buffer: bool = param(True, "the core's I/O buffer (one input and one output vector "
                            "in SRAM, read and written per word); false for a bare macro "
                            "whose inputs and outputs are at its pins", source="the design")


@dataclass(frozen=True)
class ChipSpec:
    cores: int = param(0, "cores (tiles) on the chip; 0 = as many as the workload needs "
                       "(peak: noc grid, or one)", lo=0, hi=1 << 20, source="the design")
    interconnect: str = param("mesh", "how cores exchange activations: mesh (routers, "
                              "codesign.mapping.noc), bus, htree or wires (dedicated)",
                              choices=INTERCONNECTS, source="the design")
    buffer_bytes: int = param(0, "chip-level activation buffer (0 = none)", unit="byte",
                              lo=0, hi=1 << 34, source="the design")
    buffer_kind: str = param("sram", "memory of the chip-level buffer", choices=BUFFER_KINDS)
    io_bits: int = param(0, "chip I/O port width, bits per clock (0 = I/O not priced)",
                         unit="bit", lo=0, hi=1 << 16, source="the design")
    io_energy_per_bit: float = param(1e-12, "energy of moving one bit over the chip's I/O",
                                     unit="J", lo=0.0, hi=1e-9, source="assumed: on-package "
                                     "links cost about 1 pJ/bit")


@dataclass(frozen=True)
class RtlSpec:
    counter_bits: int = param(32, "performance counter width", unit="bit", lo=16, hi=64,
                              rtl="CNT_BITS")


@dataclass(frozen=True)
class Spec:
    name: str = param("custom", "spec name")
    description: str = param("", "one line on what this spec models")
    array: ArraySpec = section(ArraySpec, "crossbar array")
    pcm: PCMSpec = section(PCMSpec, "phase-change memory device")
    capacitor: CapacitorSpec = section(CapacitorSpec, "3T1C capacitor cell")
    rram: RRAMSpec = section(RRAMSpec, "RRAM device (cell kind rram)")
    sram: SRAMSpec = section(SRAMSpec, "analog SRAM compute cell (cell kind sram-analog)")
    cell: CellSpec = section(CellSpec, "unit cell and transfer")
    dac: DACSpec = section(DACSpec, "input DACs")
    adc: ADCSpec = section(ADCSpec, "output ADCs")
    weights: WeightSpec = section(WeightSpec, "weight representation")
    integrator: IntegratorSpec = section(IntegratorSpec, "column integrators")
    update: UpdateSpec = section(UpdateSpec, "outer-product update")
    clock: ClockSpec = section(ClockSpec, "clock")
    technology: TechnologySpec = section(TechnologySpec, "technology")
    noc: NocSpec = section(NocSpec, "on-chip network")
    core: CoreSpec = section(CoreSpec, "per-core digital units")
    chip: ChipSpec = section(ChipSpec, "chip: cores, buffer, I/O, interconnect")
    rtl: RtlSpec = section(RtlSpec, "RTL-only knobs")

    # ---- derived quantities (not fields) -------------------------------------------
    @property
    def mux(self) -> int:
        """Columns per ADC (column-multiplexing ratio)."""
        return self.array.cols // self.adc.count

    @property
    def cell_kind(self) -> "cellkinds.CellKind":
        return cellkinds.kind(self.array.cell)

    @property
    def adc_kind(self) -> "adckinds.ADCKind":
        return adckinds.kind(self.adc.kind)

    @property
    def integrator_kind(self) -> "integratorkinds.IntegratorKind":
        return integratorkinds.resolve(self.integrator.kind, self.cell_kind.read,
                                       self.adc.kind)

    @property
    def columns_per_weight(self) -> int:
        """Physical columns one signed weight occupies: its slices, times two when a
        single-ended cell holds the sign as a differential column pair."""
        pair = 2 if (not self.cell_kind.differential and
                     self.weights.signed == "differential") else 1
        return self.weights.cells_per_weight * pair

    @property
    def weight_cols(self) -> int:
        """Weights (logical outputs) one row of the array holds; an offset column, when
        the sign is held that way, takes one physical column per array."""
        offset = 1 if (not self.cell_kind.differential and
                       self.weights.signed == "offset") else 0
        return max(1, (self.array.cols - offset) // self.columns_per_weight)

    @property
    def rows_active(self) -> int:
        return self.array.rows_active or self.array.rows

    @property
    def row_groups(self) -> int:
        """Read phases needed to cover every row when fewer than all are driven at once."""
        return -(-self.array.rows // self.rows_active)

    @property
    def lfsr_lines(self) -> int:
        """Lines (rows, or columns) that share one update LFSR: 1 per line, or
        update.rng_lines when the generators are shared."""
        return self.update.rng_lines if self.update.rng == "shared" else 1

    @property
    def lfsr_count(self) -> int:
        """Update LFSRs of a tile with stochastic updates: rows and columns grouped
        separately, lfsr_lines consecutive lines per generator (the last group may be
        short)."""
        n = self.lfsr_lines
        return -(-self.array.rows // n) + -(-self.array.cols // n)

    def to_dict(self) -> dict:
        return _to_plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        """The resolved spec as JSON text, keys sorted (what digest hashes; a sweep sends
        and stores it); made once per Spec (frozen, so it cannot go stale)."""
        text = self.__dict__.get("_json")
        if text is None:
            text = json.dumps(self.to_dict(), sort_keys=True)
            object.__setattr__(self, "_json", text)
        return text

    def digest(self) -> str:
        """Stable hash of the resolved spec (for caching and sweep keys); computed once per
        Spec: a sweep asks for each point's twice."""
        text = self.__dict__.get("_digest")
        if text is None:
            text = hashlib.sha256(self.to_json().encode()).hexdigest()[:16]
            object.__setattr__(self, "_digest", text)
        return text

    def with_overrides(self, overrides: dict[str, Any], source: str = "override") -> "Spec":
        """A new validated spec with dotted-key overrides, e.g. {"adc.bits": 6}."""
        data = self.to_dict()
        for key, value in overrides.items():
            node = data
            parts = key.split(".")
            for p in parts[:-1]:
                if not isinstance(node.get(p), dict):
                    raise SpecError(f"{source}: {key}: unknown key; allowed sections: "
                                    + ", ".join(_section_names()))
                node = node[p]
            if parts[-1] not in node:
                raise SpecError(f"{source}: {key}: unknown key")
            node[parts[-1]] = value
        return spec_from_dict(data, source)


def _section_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Spec) if f.metadata.get("section")]


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [_to_plain(v) for v in obj]
    return obj


def _check_value(value: Any, typ: Any, meta: dict, where: str) -> Any:
    bad = False
    if typ is bool:
        bad = not isinstance(value, bool)
    elif typ is int:
        bad = isinstance(value, bool) or not isinstance(value, int)
    elif typ is float:
        bad = isinstance(value, bool) or not isinstance(value, (int, float))
        if not bad:
            value = float(value)
            bad = not math.isfinite(value)
    elif typ is str:
        bad = not isinstance(value, str)
    elif typ is tuple:
        bad = not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) \
            or not 1 <= len(value) <= 8 or not all(math.isfinite(v) for v in value)
        if not bad:
            value = tuple(float(v) for v in value)
    if bad:
        text = "a list of 1 to 8 finite numbers" if typ is tuple else allowed_text(meta, typ)
        kind = "is not a finite number" if isinstance(value, float) else "has the wrong type"
        raise SpecError(f"{where}: value {value!r} {kind}; allowed: {text}")
    choices, lo, hi = meta.get("choices"), meta.get("lo"), meta.get("hi")
    if (choices and value not in choices) or (lo is not None and value < lo) or \
            (hi is not None and value > hi):
        raise SpecError(f"{where}: value {value!r} is out of range; allowed: "
                        f"{allowed_text(meta, typ)}")
    return value


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    """A spec section's field types; typing resolves the annotation strings anew on every
    call (0.17 ms per section, 15 sections per spec built)."""
    return typing.get_type_hints(cls)


def _build(cls: type, data: Any, path: str, source: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(f"{source}: {path or '<top>'}: value {data!r} must be a mapping")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{path}.{unknown[0]}" if path else str(unknown[0])
        raise SpecError(f"{source}: {key}: unknown key; allowed: {', '.join(fields)}")
    kwargs = {}
    for name, value in data.items():
        f = fields[name]
        key = f"{path}.{name}" if path else name
        if f.metadata.get("section"):
            kwargs[name] = _build(hints[name], value, key, source)
        else:
            kwargs[name] = _check_value(value, hints[name], dict(f.metadata), f"{source}: {key}")
    return cls(**kwargs)


def _check_consistency(spec: Spec, source: str) -> None:
    def fail(key: str, value: Any, allowed: str) -> None:
        raise SpecError(f"{source}: {key}: value {value!r} is inconsistent; allowed: {allowed}")

    a = spec.array
    if spec.adc.count > a.cols or a.cols % spec.adc.count:
        fail("adc.count", spec.adc.count, f"a divisor of array.cols={a.cols}")
    kind = spec.adc_kind
    if kind.max_bits is not None and spec.adc.bits > kind.max_bits:
        fail("adc.bits", spec.adc.bits, f"<= {kind.max_bits} for adc.kind {kind.name} "
             f"(2^bits - 1 comparators; codesign.adckinds)")
    if kind.current_input:
        # a current-input converter (cco) counts its own line's current during the
        # integration window, so no converter can serve a second line afterwards: one per
        # column, and a cell read from both edges needs no more rows than columns
        lines = max(a.rows, a.cols) if spec.cell_kind.both_edges else a.cols
        if spec.adc.count != lines:
            fail("adc.count", spec.adc.count,
                 f"{lines}, one per output line, for adc.kind {kind.name} (it counts its "
                 f"line's current during the integration window)" +
                 (f"; array.rows ({a.rows}) must not exceed array.cols for cell "
                  f"{a.cell}" if a.rows > a.cols and spec.cell_kind.both_edges
                  else ""))
    if spec.update.lfsr_taps >= 2 ** spec.update.lfsr_bits or \
            not spec.update.lfsr_taps >> (spec.update.lfsr_bits - 1):
        fail("update.lfsr_taps", spec.update.lfsr_taps,
             f"a mask with bit {spec.update.lfsr_bits - 1} set, below 2^{spec.update.lfsr_bits}")
    if spec.update.lfsr_seed % 2 ** spec.update.lfsr_bits == 0:
        fail("update.lfsr_seed", spec.update.lfsr_seed,
             f"non-zero in its low {spec.update.lfsr_bits} bits")
    if spec.update.lfsr_bits < spec.dac.bits - 1:
        fail("update.lfsr_bits", spec.update.lfsr_bits,
             f">= dac.bits - 1 = {spec.dac.bits - 1} (probabilities compare DAC magnitudes)")
    if spec.update.rng == "shared" and spec.lfsr_lines - 1 > \
            spec.update.lfsr_bits - (spec.dac.bits - 1):
        fail("update.rng_lines", spec.update.rng_lines,
             f"<= update.lfsr_bits - dac.bits + 2 = "
             f"{spec.update.lfsr_bits - spec.dac.bits + 2} (a distinct "
             f"{spec.dac.bits - 1}-bit window of the shared LFSR per line)")
    if spec.pcm.noise_model == "hermes" and spec.array.cell not in ("4pcm-diff", "pcm-pair"):
        fail("pcm.noise_model", "hermes", "only with array.cell 4pcm-diff or pcm-pair")
    if spec.cell.transfer_offset >= spec.pcm.g_max:
        fail("cell.transfer_offset", spec.cell.transfer_offset, f"< pcm.g_max={spec.pcm.g_max}")
    if spec.noc.grid_rows * spec.noc.grid_cols == 0 and spec.noc.grid_rows + spec.noc.grid_cols:
        fail("noc.grid_rows", spec.noc.grid_rows, "both grid_rows and grid_cols 0 or both > 0")
    if spec.array.rows_active > spec.array.rows:
        fail("array.rows_active", spec.array.rows_active, f"<= array.rows={spec.array.rows}")
    w = spec.weights
    if w.bits_per_cell and not spec.cell_kind.analog_levels and w.bits_per_cell != 1:
        fail("weights.bits_per_cell", w.bits_per_cell,
             f"1 for cell kind {spec.array.cell} (a binary bit cell)")
    if w.bits and w.bits_per_cell:
        sign = 1 if (spec.cell_kind.differential or w.signed == "differential") else 0
        if w.cells_per_weight * w.bits_per_cell < w.bits - sign:
            fail("weights.cells_per_weight", w.cells_per_weight,
                 f">= {-(-(w.bits - sign) // w.bits_per_cell)} to hold weights.bits={w.bits} "
                 f"at weights.bits_per_cell={w.bits_per_cell}")
    if spec.columns_per_weight > spec.array.cols:
        fail("weights.cells_per_weight", w.cells_per_weight,
             f"a weight within array.cols={spec.array.cols} columns")
    if spec.integrator_kind.name == "regulated" and spec.cell_kind.read != "conductance":
        fail("integrator.kind", spec.integrator.kind,
             f"not regulated for cell kind {spec.array.cell} (no line current to regulate)")
    if spec.adc.kind == "cco" and spec.integrator_kind.name != "regulated":
        fail("integrator.kind", spec.integrator.kind,
             "regulated or auto with adc.kind cco (a current-input converter)")
    if spec.adc.kind == "charge-sar" and spec.integrator_kind.name not in ("ota", "sampling"):
        fail("integrator.kind", spec.integrator.kind, "ota or sampling with adc.kind "
             "charge-sar (it converts on the integration capacitor)")
    if spec.rram.g_off >= spec.rram.g_on:
        fail("rram.g_off", spec.rram.g_off, f"< rram.g_on={spec.rram.g_on}")
    if spec.sram.multiplier == "c2c" and (spec.cell_kind.read != "charge" or
                                          spec.dac.encoding != "amplitude"):
        fail("sram.multiplier", "c2c", "none unless array.cell is a charge cell "
             "(sram-analog) and dac.encoding amplitude (the ladder multiplies an analog input)")
    if spec.dac.pulse_train and spec.dac.encoding != "pulse_width":
        fail("dac.pulse_train", True, f"false with dac.encoding {spec.dac.encoding} (a pulse "
             f"train encodes pulse_width inputs)")


def spec_from_dict(data: Any, source: str = "<dict>") -> Spec:
    spec = _build(Spec, data, "", source)
    _check_consistency(spec, source)
    return spec


def preset_names() -> list[str]:
    files = resources.files("codesign").joinpath("presets").iterdir()
    return sorted(p.name[:-5] for p in files if p.name.endswith(".yaml"))


def chip_names() -> list[str]:
    """Specs of published chips shipped in codesign/chips/ (the validation table's rows),
    loadable by name like presets."""
    folder = resources.files("codesign").joinpath("chips")
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir()
                  if p.name.endswith(".yaml") and p.name != "silicon.yaml")


MAX_BASE_DEPTH = 8


def _read_spec_data(text_name: str, relative_to: Path | None, depth: int,
                    seen: tuple[str, ...]) -> tuple[Any, str]:
    """The raw mapping of a preset or spec file with its ``base:`` chain merged in (the
    file's keys override the base's, section by section)."""
    if text_name in preset_names():
        text = resources.files("codesign").joinpath(f"presets/{text_name}.yaml").read_text()
        source, here = f"preset {text_name}", None
    elif text_name in chip_names():
        text = resources.files("codesign").joinpath(f"chips/{text_name}.yaml").read_text()
        source, here = f"chip {text_name}", None
    else:
        path = Path(text_name)
        if not path.is_absolute() and relative_to is not None and \
                (relative_to / path).is_file():
            path = relative_to / path
        if not path.is_file():
            raise SpecError(f"{text_name}: no such preset, chip or file; presets: "
                            + ", ".join(preset_names()) + "; chips: "
                            + (", ".join(chip_names()) or "none"))
        text = _user_file(read_text, path, "spec")
        source, here = str(path), path.resolve().parent
    data = _user_file(parse_yaml, text, source)
    if not isinstance(data, dict) or "base" not in data:
        return data, source
    base = data.pop("base")
    if not isinstance(base, str) or not base:
        raise SpecError(f"{source}: base: value {base!r} is not allowed; allowed: a preset "
                        f"name ({', '.join(preset_names())}) or a spec file path")
    key = str((here / base).resolve()) if here is not None and base not in preset_names() \
        else base
    if key in seen or depth >= MAX_BASE_DEPTH:
        raise SpecError(f"{source}: base: value {base!r} makes a loop or a chain deeper than "
                        f"{MAX_BASE_DEPTH}; allowed: a chain of bases that ends")
    base_data, _ = _read_spec_data(base, here, depth + 1, seen + (key,))
    return _merge(base_data if isinstance(base_data, dict) else {}, data), source


def _user_file(reader, *args):
    """codesign.fileio's readers, their UserError raised as a SpecError."""
    try:
        return reader(*args)
    except SpecError:
        raise
    except UserError as exc:
        raise SpecError(str(exc)) from None


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            else v
    return out


def load_spec(name_or_path: str | Path | Spec) -> Spec:
    """A preset name (see preset_names()) or a YAML file path, validated. A file may start
    from a preset or another file with ``base: NAME|PATH`` and override what differs."""
    if isinstance(name_or_path, Spec):
        return name_or_path
    data, source = _read_spec_data(str(name_or_path), None, 0, ())
    return spec_from_dict(data, source)


def iter_fields(cls: type = Spec, prefix: str = ""):
    """Yield (dotted key, type, default, metadata) for every leaf field: docs and RTL checks."""
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if f.metadata.get("section"):
            yield from iter_fields(hints[f.name], key + ".")
        else:
            yield key, hints[f.name], f.default, dict(f.metadata)
