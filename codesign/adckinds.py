"""ADC kinds: how an output line becomes a digital word, declared once (a registry).

Each kind states its cycles per conversion at the controller clock (the cycle model and
the sample rate follow from it), whether it produces codes at all, whether the RTL tile
controller implements it, and its cost model. The cost model takes the component parts it
needs as arguments (the estimator hands them in), so this module stays below the
estimator in the layer order.

- ``sar``: successive approximation, one comparator decision per clock (the RTL's
  rtl/tile_sar.v): bits cycles; energy and area from the ADC-survey model at its rate.
- ``flash``: 2^bits - 1 comparators decide in one cycle: the column converter of a
  compute-in-memory array (NeuroSim's multi-level sense-amplifier ADC, when the estimator
  has it); else each conversion fires all comparators, so energy = (2^bits - 1)
  comparator decisions (+ the thermometer encoder).
- ``ramp``: counting converter (single-slope ramp or current-controlled oscillator, as
  HERMES' CCO ADCs, Khaddam-Aljameh et al. JSSC 2022): a counter runs up to 2^bits - 1
  counts, one per clock, so 2^bits - 1 cycles; energy = one comparator decision plus the
  counter's increments.
- ``none``: outputs leave the array as durations or charge for the next stage (no
  conversion): zero cycles, no codes, no energy or area here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


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


@dataclass(frozen=True)
class ADCKind:
    name: str
    doc: str
    has_rtl: bool           # rtl/tile_ctrl.v implements it
    quantizes: bool         # produces digital codes

    def conversion_cycles(self, bits: int) -> int:
        raise NotImplementedError

    def cost(self, bits: int, rate: float, parts: Parts) -> tuple[float, float, float]:
        """(energy per conversion J, area m^2, leakage W) of one converter."""
        raise NotImplementedError


class Sar(ADCKind):
    def conversion_cycles(self, bits: int) -> int:
        return bits

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

    def cost(self, bits, rate, parts):
        counts = 2 ** bits - 1
        e_cmp, a_cmp, l_cmp = _comparator(bits, rate, parts)
        # a binary counter toggles 2 flip-flops per increment on average (1 + 1/2 + ...)
        return (e_cmp + 2 * counts * parts.flop_energy, a_cmp + bits * parts.flop_area,
                l_cmp + bits * parts.flop_leak)


class NoADC(ADCKind):
    def conversion_cycles(self, bits: int) -> int:
        return 0

    def cost(self, bits, rate, parts):
        return 0.0, 0.0, 0.0


KINDS = {k.name: k for k in (
    Sar("sar", "successive approximation, one decision per cycle", has_rtl=True,
        quantizes=True),
    Flash("flash", "2^bits - 1 comparators, one cycle", has_rtl=False, quantizes=True),
    Ramp("ramp", "counting (ramp or CCO), 2^bits - 1 cycles", has_rtl=False,
         quantizes=True),
    NoADC("none", "no conversion: outputs leave as durations or charge", has_rtl=False,
          quantizes=False),
)}

NAMES = tuple(KINDS)


def kind(name: str) -> ADCKind:
    return KINDS[name]
