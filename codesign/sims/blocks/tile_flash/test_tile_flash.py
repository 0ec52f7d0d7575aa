"""Block bench of codesign/rtl/tile_flash.v: a bank of ADCS flash converters, each
2^BITS - 1 comparators against a fixed ladder, encoded to binary in one cycle.

Model and scoreboard: codesign.sims.blocks.converter (codesign.adckinds "flash"): the
comparators answer the ladder's thresholds 1 .. 2^BITS - 1 for each sampled value (a
thermometer code per ADC on `cmp`); per cycle the block must put out trial 0, `last` = go,
and the code = the number of comparators that fire (the model's converter), which must
also be the model's closed-form code.
"""
from __future__ import annotations

import cocotb

from ..converter import converter_bench
from ..scoreboard import run_bench


@cocotb.test()
async def random_conversions(dut):
    """Random values (thermometers), idle gaps and resets; trial, result, last, counts."""
    await run_bench(dut, "tile_flash",
                    lambda d, cfg, board: converter_bench(d, cfg, board, "flash", idle=0.3))
