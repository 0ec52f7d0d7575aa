"""ADC kinds: how an output line becomes a digital word, declared once (a registry).

Each kind states its cycles per conversion at the controller clock (the cycle model and
the sample rate follow from it), whether it produces codes at all, whether the RTL tile
controller implements it, and its cost model. The cost model takes the component parts it
needs as arguments (the estimator hands them in), so this module stays below the
estimator in the layer order.

- ``sar``: successive approximation, one comparator decision per clock (the RTL's
  codesign/rtl/tile_sar.v): bits cycles; energy and area from the ADC-survey model at its
  rate.
- ``flash``: 2^bits - 1 comparators decide in one cycle (codesign/rtl/tile_flash.v encodes
  their thermometer code): the column converter of a compute-in-memory array (NeuroSim's
  multi-level sense-amplifier ADC, when the estimator has it); else each conversion fires
  all comparators, so energy = (2^bits - 1) comparator decisions (+ the thermometer
  encoder).
- ``ramp``: counting converter (single-slope ramp or current-controlled oscillator, as
  HERMES' CCO ADCs, Khaddam-Aljameh et al. JSSC 2022; codesign/rtl/tile_ramp.v): a counter
  runs up to 2^bits - 1 counts, one per clock, so 2^bits - 1 cycles; energy = one
  comparator decision plus the counter's increments.
- ``cco``: a current-controlled oscillator fed a mirrored copy of the line current and
  counted *during* the integration window (HERMES' converters, Khaddam-Aljameh et al.
  JSSC 2022; Le Gallo et al. 2023): one cycle after the window to latch the count; the
  oscillator draws the copied current from the supply over the window (VDD I t), plus
  the counter's increments. No RTL block (the ``ramp`` block counts after the window).
- ``charge-sar``: successive approximation on the line's own integration capacitor
  (NeuRRAM's neurons, Wan et al. Nature 2022: comparisons and charge decrements, one step
  per output bit): bits cycles as a SAR; energy per bit one comparator decision (a column
  sense amplifier) and one charge step on the integrator's capacitor, no capacitive DAC
  or references of its own. No RTL block.
- ``none``: outputs leave the array as durations or charge for the next stage (no
  conversion): zero cycles, no codes, no energy or area here.

Each quantizing kind also states its comparator protocol, in the converter's level
domain (the sampled value in LSB above the bottom of the range, codesign.converters.
sar_level): how many comparators one converter has, what each decides in a cycle given
the controller's trial code (:meth:`ADCKind.compare`), and the conversion as the
controller runs it, cycle by cycle (:meth:`ADCKind.steps`; its last result is
:meth:`ADCKind.convert`). The RTL benches answer the controller's comparators with
``compare``; ``steps`` is the model's converter, which the per-block benches
(codesign/sims/blocks/) hold each block to cycle by cycle. Every kind's ``convert``
equals the closed form clip(floor(level), 0, 2^bits - 1) that the model's fast path
computes (tests/test_adc_kinds.py), so one set of model codes serves every kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np


@dataclass(frozen=True)
class Parts:
    """Component figures a cost model needs (SI): from the estimator's library."""
    survey: Callable[[int, float], tuple]   # (bits, rate) -> (J per conversion, m^2, W leak)
    flop_energy: float      # J per flip-flop toggle
    flop_area: float        # m^2 per flip-flop
    flop_leak: float        # W per flip-flop
    gate_area: float        # m^2 per NAND2 equivalent
    # bits -> (J, m^2, W) of a flash converter pitch-matched to a column, or None
    column_flash: Callable[[int], tuple | None] = lambda bits: None
    # J one conversion's current input draws from the supply: a copy of the line current
    # (VDD x mirror gain x I_line x window; 0 where the converter takes a voltage)
    input_energy: float = 0.0
    # J of one charge step on the line's integration capacitor (C V^2): the DAC of a
    # converter that reuses that capacitor (charge-sar)
    cap_step: float = 0.0


@dataclass(frozen=True)
class ADCKind:
    name: str
    doc: str
    quantizes: bool         # produces digital codes
    rtl_code: int | None = None   # value of tile_ctrl's ADC_KIND parameter; None: no RTL
    max_bits: int | None = None   # the widest resolution the kind is built at (None: adc.bits' range)
    # takes a copy of the line current as its input (drawn from the supply: the
    # estimator prices it at the operating supply, Parts.input_energy)
    current_input = False
    # what prices it when not the ADC survey model (the estimate's `models` line)
    cost_note = ""

    @property
    def has_rtl(self) -> bool:
        """codesign/rtl/tile_ctrl.v implements this kind (its converter block is selected by
        ADC_KIND = rtl_code)."""
        return self.rtl_code is not None

    def conversion_cycles(self, bits: int) -> int:
        raise NotImplementedError

    def comparators(self, bits: int) -> int:
        """Comparators per converter (the width of one ADC's field of adc_cmp)."""
        return 1

    def compare(self, level: np.ndarray, trial: np.ndarray, bits: int) -> np.ndarray:
        """Comparator decisions of one cycle: level (...,) and the controller's trial code
        (...,) -> (..., comparators) of 0/1; comparator j says level >= its threshold.
        A single comparator's threshold is the trial code (a SAR's trial, a ramp's
        count)."""
        return (np.asarray(level)[..., None] >= np.asarray(trial)[..., None]).astype(np.int64)

    def steps(self, level: np.ndarray, bits: int) -> Iterator[tuple]:
        """The conversion as the controller runs it, one cycle at a time (conversion_cycles
        of them): per cycle (trial, decisions, result), each over the conversions of
        `level`: the trial code the controller puts out, its comparators' answers
        (..., comparators) and its result register after the cycle; in the last cycle
        that is the code."""
        raise NotImplementedError

    def convert(self, level: np.ndarray, bits: int) -> np.ndarray:
        """Codes (int64) of the conversions of `level`, decided as the controller does:
        the result of the last of :meth:`steps`."""
        result = None
        for _trial, _decisions, result in self.steps(level, bits):
            pass
        if result is None:
            raise ValueError(f"ADC kind {self.name} produces no codes")
        return result

    def cost(self, bits: int, rate: float, parts: Parts) -> tuple[float, float, float]:
        """(energy per conversion J, area m^2, leakage W) of one converter."""
        raise NotImplementedError


class Sar(ADCKind):
    def conversion_cycles(self, bits: int) -> int:
        return bits

    def steps(self, level, bits):
        """Binary search MSB first: in the cycle of bit k, trial = code | 1 << k, kept
        when the comparator says level >= trial (a loop over the bits, vectorized over
        conversions)."""
        level = np.asarray(level)
        code = np.zeros(level.shape, dtype=np.int64)
        for k in range(bits - 1, -1, -1):
            trial = code | (1 << k)
            decisions = self.compare(level, trial, bits)
            code = np.where(decisions[..., 0] == 1, trial, code)
            yield trial, decisions, code

    def cost(self, bits, rate, parts):
        return parts.survey(bits, rate)


def _comparator(bits: int, decision_rate: float, parts: Parts) -> tuple[float, float, float]:
    """One comparator decision at a given resolution and decision rate: a SAR's energy per
    conversion over its `bits` decisions, the SAR running at decision_rate / bits
    conversions per second (assumed: a SAR's energy is dominated by its comparator and
    capacitive DAC at that resolution, which a flash or ramp comparator also needs); the
    area and leakage likewise a SAR's over its bits."""
    return tuple(x / bits for x in parts.survey(bits, decision_rate / bits))


class Flash(ADCKind):
    def conversion_cycles(self, bits: int) -> int:
        return 1

    def comparators(self, bits: int) -> int:
        return 2 ** bits - 1

    def compare(self, level, trial, bits):
        """All 2^bits - 1 comparators at once, fixed thresholds 1 .. 2^bits - 1 (the
        reference ladder; comparator j has threshold j + 1): a thermometer code. The
        trial code plays no part."""
        level = np.asarray(level)
        return (level[..., None] >= np.arange(1, 2 ** bits)).astype(np.int64)

    def steps(self, level, bits):
        """One cycle; trial 0. Thermometer to binary: the code is the number of
        comparators that fire (the controller finds the top of the thermometer; equal for
        a thermometer without bubbles, which an ideal ladder always gives)."""
        level = np.asarray(level)
        trial = np.zeros(level.shape, dtype=np.int64)
        decisions = self.compare(level, trial, bits)
        yield trial, decisions, decisions.sum(axis=-1)

    def cost(self, bits, rate, parts):
        fig = parts.column_flash(bits)
        if fig is not None:
            return fig
        n = 2 ** bits - 1
        e_cmp, a_cmp, l_cmp = _comparator(bits, rate, parts)
        # thermometer-to-binary encoder: about n gates (assumed), switching once
        return n * e_cmp, n * a_cmp + n * parts.gate_area, n * l_cmp


class Ramp(ADCKind):
    def conversion_cycles(self, bits: int) -> int:
        return 2 ** bits - 1

    def steps(self, level, bits):
        """The ramp (or oscillator) steps through thresholds 1 .. 2^bits - 1, one per
        cycle (the trial code); the converter's counter counts the cycles in which its
        comparator fires (a loop over the cycles, vectorized over conversions)."""
        level = np.asarray(level)
        count = np.zeros(level.shape, dtype=np.int64)
        for step in range(1, 2 ** bits):
            trial = np.full(level.shape, step, dtype=np.int64)
            decisions = self.compare(level, trial, bits)
            count = count + decisions[..., 0]
            yield trial, decisions, count

    def cost(self, bits, rate, parts):
        counts = 2 ** bits - 1
        e_cmp, a_cmp, l_cmp = _comparator(bits, rate, parts)
        # a binary counter toggles 2 flip-flops per increment on average (1 + 1/2 + ...)
        return (e_cmp + 2 * counts * parts.flop_energy, a_cmp + bits * parts.flop_area,
                l_cmp + bits * parts.flop_leak)


class Cco(Ramp):
    """A current-controlled oscillator counted during the integration window (HERMES:
    Khaddam-Aljameh et al., JSSC 57(4), 2022; Le Gallo et al., Nature Electronics 2023):
    the line current, copied by a mirror, sets the oscillator's frequency and a counter
    counts its periods while the inputs are applied, so the count is the integrated
    charge. Only latching the count follows the window: one cycle. Its codes are the
    ramp's (one threshold per count, as :meth:`Ramp.steps` walks them; the model's
    converter, no RTL block)."""
    current_input = True
    cost_note = ("the mirrored line current drawn from the operating supply over the "
                 "window (VDD x gain x I t) and its counter's flip-flops")

    def conversion_cycles(self, bits: int) -> int:
        return 1

    def cost(self, bits, rate, parts):
        counts = 2 ** bits - 1
        # a current-fed ring oscillator draws its control current from the supply: the
        # energy is VDD x I x t whatever its frequency (parts.input_energy); its counter
        # toggles 2 flip-flops per count at full scale (as the ramp's) and holds bits
        # flip-flops; the ring itself is a few gates (assumed 2 flip-flops' area)
        return (parts.input_energy + 2 * counts * parts.flop_energy,
                (bits + 2) * parts.flop_area, (bits + 2) * parts.flop_leak)


class ChargeSar(Sar):
    """Successive approximation on the line's own integration capacitor (NeuRRAM's neuron,
    Wan et al., Nature 608, 2022: the neuron converts its integrated voltage by
    comparisons and charge decrements, one step per output bit): the binary search of a
    SAR, one decision per cycle, but no capacitive DAC or reference buffers of its own;
    each bit is one comparator decision and one charge step on the integrator's
    capacitor (no RTL block: the sar block's protocol is the same)."""
    cost_note = ("per bit a column sense amplifier's decision (NeuroSim, else the survey's) "
                 "and a C V^2 step on the integrator's capacitor")

    def cost(self, bits, rate, parts):
        # one comparator pitch-matched to a column (NeuroSim's sense amplifier, when the
        # estimator has it), else a survey SAR's decision at this resolution and rate
        cmp = parts.column_flash(1) or _comparator(bits, rate * bits, parts)
        e_cmp, a_cmp, l_cmp = cmp
        # the successive-approximation register: bits flip-flops, one toggle per bit
        return (bits * (e_cmp + parts.cap_step + parts.flop_energy),
                a_cmp + bits * parts.flop_area, l_cmp + bits * parts.flop_leak)


class NoADC(ADCKind):
    def conversion_cycles(self, bits: int) -> int:
        return 0

    def comparators(self, bits: int) -> int:
        return 0

    def steps(self, level, bits):
        return iter(())

    def cost(self, bits, rate, parts):
        return 0.0, 0.0, 0.0


KINDS = {k.name: k for k in (
    Sar("sar", "successive approximation, one decision per cycle", quantizes=True,
        rtl_code=0),
    # 2^bits - 1 comparators: flash converters are practical to about 8 bits, beyond which
    # comparator count, input capacitance and power double with every bit (Razavi,
    # "Principles of Data Conversion System Design", IEEE Press 1995, ch. 4; Walden, IEEE
    # JSAC 17(4):539-550, 1999: flash converters at <= 8 bits). Spec validation refuses more.
    Flash("flash", "2^bits - 1 comparators, one cycle", quantizes=True, rtl_code=1,
          max_bits=8),
    Ramp("ramp", "counting (ramp or CCO), 2^bits - 1 cycles", quantizes=True, rtl_code=2),
    ChargeSar("charge-sar", "successive approximation by charge steps on the integration "
              "capacitor, bits cycles", quantizes=True),
    Cco("cco", "current-controlled oscillator counted during the integration window, "
        "1 cycle to latch", quantizes=True),
    NoADC("none", "no conversion: outputs leave as durations or charge", quantizes=False),
)}

NAMES = tuple(KINDS)


#: tile_ctrl's ADC_KIND parameter value of each kind with RTL (codesign.hdl.tile).
RTL_CODES = {name: k.rtl_code for name, k in KINDS.items() if k.has_rtl}


def kind(name: str) -> ADCKind:
    return KINDS[name]
