"""The cycle model: pure functions of the spec and the operation (and data where the
hardware is data-dependent). codesign.commands pairs them with each command's events;
the tile, the estimator and the cocotb benches take a command's cycles from there, and
the benches use the primitives here (integration cycles per phase) for the ports.

Timing of each command (docs/cycles.md draws it cycle by cycle). All counts are
controller clock cycles from the cycle a command is accepted to the cycle the
controller is ready again.

LOAD_INPUT(n)   n      one input word per cycle into the input buffer
READ_OUTPUT(n)  n      one output word per cycle out of the output buffer
FORWARD         sum over input phases p of
                  1                      drive the DACs with the phase's codes
                + T_p                    integrate (T_p from the DAC encoding)
                + groups * conversion    ADC conversions (conversion_cycles: the SAR's
                                         one decision per cycle), `groups` column-mux
                                         groups one after another
BACKWARD        as FORWARD with rows and columns exchanged (ADCs shared over rows)
UPDATE          1 + BL                   load the LFSR compare values, then one slot
                                         per cycle
TRANSFER        sum over rows of 1 + verifies + pulses (data-dependent; see
                transfer_cycles)
"""
from __future__ import annotations

import math

import numpy as np

from .spec import Spec

# Controller command opcodes; shared by the RTL (rtl/tile_ctrl.v localparams), the
# benches and the docs so that all three say the same thing.
OPCODES = {"LOAD_INPUT": 0, "FORWARD": 1, "BACKWARD": 2, "UPDATE": 3, "TRANSFER": 4,
           "READ_OUTPUT": 5}
ENCODING_CODES = {"amplitude": 0, "pulse_width": 1, "bit_serial": 2}
UPDATE_MODE_CODES = {"stochastic": 0, "deterministic": 1}
RNG_CODES = {"per_line": 0, "shared": 1}


def dac_max_code(spec: Spec) -> int:
    """Largest input magnitude code: sign plus (bits - 1) magnitude bits."""
    return 2 ** (spec.dac.bits - 1) - 1


def input_phases(spec: Spec) -> int:
    """Integration phases per input vector: bit-serial sends one magnitude bit per phase."""
    return spec.dac.bits - 1 if spec.dac.encoding == "bit_serial" else 1


def output_word_bits(spec: Spec) -> int:
    """Width of one output-buffer word (tile_ctrl.v OUT_BITS): the ADC code, plus the
    shift-and-add headroom of bit-serial inputs (one bit per phase)."""
    return spec.adc.bits + (input_phases(spec) if spec.dac.encoding == "bit_serial" else 0)


def output_buffer_macro(spec: Spec) -> tuple[int, int, int]:
    """(rows, bits per row, ports) of the memory macro rtl/tile_obuf.v infers: one row per
    conversion group of the longer edge (adc_groups), one output word per converter in
    each row. One port when its read and write never fall in the same cycle (a write per
    group, reads for READ_OUTPUT only); two (one read, one write) for bit-serial inputs,
    whose accumulation reads the next group's row while it writes this one's. (0, 0, 0)
    for a bare macro (core.io_buffer false), whose outputs leave at its pins."""
    if not spec.core.io_buffer:
        return 0, 0, 0
    rows = adc_groups(spec, max(spec.array.rows, spec.array.cols))
    return rows, spec.adc.count * output_word_bits(spec), \
        2 if spec.dac.encoding == "bit_serial" else 1


def integration_cycles(spec: Spec) -> int:
    """Cycles of one integration phase. Pulse-width encoding integrates over the longest
    pulse, one cycle per magnitude LSB (2^(bits-1) - 1 cycles)."""
    if spec.dac.encoding == "pulse_width":
        return dac_max_code(spec)
    return spec.integrator.cycles


def adc_groups(spec: Spec, outputs: int) -> int:
    """Sequential ADC passes to convert `outputs` lines with spec.adc.count ADCs."""
    return math.ceil(outputs / spec.adc.count)


def conversion_cycles(spec: Spec) -> int:
    """Cycles of one ADC conversion, from the ADC kind (codesign.adckinds): a SAR makes one
    decision per cycle (adc.bits), a flash converts in one, a ramp or CCO counts 2^bits - 1,
    no ADC takes none. Every count that needs the conversion time asks here."""
    return spec.adc_kind.conversion_cycles(spec.adc.bits)


def read_phases(spec: Spec, transpose: bool = False) -> int:
    """Integrate-and-convert phases of one MVM: the input phases, times the row groups
    when fewer word lines than all are driven at once (array.rows_active; forward only:
    the transposed read drives the columns)."""
    return input_phases(spec) * (1 if transpose else spec.row_groups)


def converted_outputs(spec: Spec, outputs: int, transpose: bool = False) -> int:
    """Output lines converted per phase: every line, or one per weight when the slices of
    a weight are combined in the analog domain before conversion (weights.slices:
    analog, e.g. a C-2C ladder or binary-weighted charge sharing); none without ADCs."""
    if not spec.adc_kind.quantizes:
        return 0
    if spec.weights.slices == "analog" and not transpose:
        return spec.weight_cols
    return outputs


def mvm_cycles(spec: Spec, outputs: int, transpose: bool = False) -> int:
    """Cycles of one matrix-vector product whose result has `outputs` lines."""
    converted = converted_outputs(spec, outputs, transpose)
    convert = adc_groups(spec, converted) * conversion_cycles(spec) if converted else 0
    per_phase = 1 + integration_cycles(spec) + convert
    return read_phases(spec, transpose) * per_phase


def forward_cycles(spec: Spec) -> int:
    return mvm_cycles(spec, spec.array.cols)


def backward_cycles(spec: Spec) -> int:
    return mvm_cycles(spec, spec.array.rows, transpose=True)


def load_cycles(n_words: int) -> int:
    return int(n_words)


def read_cycles(n_words: int) -> int:
    return int(n_words)


def update_cycles(spec: Spec) -> int:
    return 1 + spec.update.bl


def transfer_cycles(verifies_per_row, pulses_per_row) -> int | float:
    """Data-dependent transfer time: each row takes one start cycle (targets, small-weight
    resets, capacitor reset), one cycle per verify and one per pulse cycle. The counts come
    from the transfer algorithm (codesign.devices.transfer) or from a trace (integers: an
    int), or are expected counts per row (floats: a float)."""
    v, p = np.asarray(verifies_per_row), np.asarray(pulses_per_row)
    if v.shape != p.shape:
        raise ValueError(f"transfer_cycles: {v.shape} verify counts but {p.shape} pulse "
                         "counts; one of each per row")
    total = v.size + v.sum() + p.sum()
    exact = all(a.dtype.kind in "iub" or a.size == 0 for a in (v, p))
    return int(total) if exact else float(total)

