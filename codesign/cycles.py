"""The cycle model: pure functions of the spec and the operation (and data where the
hardware is data-dependent). The tile uses them for its cycle counts; the cocotb
benches use the same functions as the expected value for the RTL controller.

Timing of each command (docs/cycles.md draws it cycle by cycle). All counts are
controller clock cycles from the cycle a command is accepted to the cycle the
controller is ready again.

LOAD_INPUT(n)   n      one input word per cycle into the input buffer
READ_OUTPUT(n)  n      one output word per cycle out of the output buffer
FORWARD         sum over input phases p of
                  1                      drive the DACs with the phase's codes
                + T_p                    integrate (T_p from the DAC encoding)
                + groups * adc_bits      SAR conversions, one decision per cycle,
                                         `groups` column-mux groups one after another
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


def dac_max_code(spec: Spec) -> int:
    """Largest input magnitude code: sign plus (bits - 1) magnitude bits."""
    return 2 ** (spec.dac.bits - 1) - 1


def input_phases(spec: Spec) -> int:
    """Integration phases per input vector: bit-serial sends one magnitude bit per phase."""
    return spec.dac.bits - 1 if spec.dac.encoding == "bit_serial" else 1


def integration_cycles(spec: Spec) -> int:
    """Cycles of one integration phase. Pulse-width encoding integrates over the longest
    pulse, one cycle per magnitude LSB (2^(bits-1) - 1 cycles)."""
    if spec.dac.encoding == "pulse_width":
        return dac_max_code(spec)
    return spec.integrator.cycles


def adc_groups(spec: Spec, outputs: int) -> int:
    """Sequential ADC passes to convert `outputs` lines with spec.adc.count ADCs."""
    return math.ceil(outputs / spec.adc.count)


def mvm_cycles(spec: Spec, outputs: int) -> int:
    """Cycles of one matrix-vector product whose result has `outputs` lines."""
    per_phase = 1 + integration_cycles(spec) + adc_groups(spec, outputs) * spec.adc.bits
    return input_phases(spec) * per_phase


def forward_cycles(spec: Spec) -> int:
    return mvm_cycles(spec, spec.array.cols)


def backward_cycles(spec: Spec) -> int:
    return mvm_cycles(spec, spec.array.rows)


def load_cycles(n_words: int) -> int:
    return int(n_words)


def read_cycles(n_words: int) -> int:
    return int(n_words)


def update_cycles(spec: Spec) -> int:
    return 1 + spec.update.bl


def transfer_cycles(verifies_per_row: np.ndarray, pulses_per_row: np.ndarray) -> int:
    """Data-dependent transfer time: each row takes one start cycle (targets, small-weight
    resets, capacitor reset), one cycle per verify and one per pulse cycle. The counts come
    from the transfer algorithm (codesign.devices.transfer) or from a trace."""
    v = np.asarray(verifies_per_row, dtype=np.int64)
    p = np.asarray(pulses_per_row, dtype=np.int64)
    return int(v.size + v.sum() + p.sum())


def mvm_events(spec: Spec, transpose: bool = False) -> "Events":
    """Data-independent events of one FORWARD (or BACKWARD with transpose=True) command:
    every DAC line is set and every output line integrated and converted once per phase."""
    from .events import Events
    n_in, n_out = (spec.array.cols, spec.array.rows) if transpose else \
        (spec.array.rows, spec.array.cols)
    p = input_phases(spec)
    return Events(dac_settings=n_in * p, integrations=n_out * p, adc_conversions=n_out * p,
                  cell_reads=n_in * n_out * p)
