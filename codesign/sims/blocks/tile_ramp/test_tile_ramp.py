"""Block bench of codesign/rtl/tile_ramp.v: a bank of ADCS counting converters (single-slope
ramp or CCO) sharing one ramp, 2^BITS - 1 steps per conversion.

Model and scoreboard: codesign.sims.blocks.converter (codesign.adckinds "ramp"): in step
k = 1 .. 2^BITS - 1 every ADC's trial must be k (the ramp's threshold), the comparator
answers value >= k, and each ADC's result must be its count of firing steps so far (the
model's converter); `last` exactly at step 2^BITS - 1; the final counts must equal the
model's closed-form codes.
"""
from __future__ import annotations

import cocotb

from ..converter import converter_bench
from ..scoreboard import run_bench


@cocotb.test()
async def random_conversions(dut):
    """Random values, idle gaps and resets mid-ramp; trial, result, last, counts."""
    await run_bench(dut, "tile_ramp",
                    lambda d, cfg, board: converter_bench(d, cfg, board, "ramp", idle=0.05))
