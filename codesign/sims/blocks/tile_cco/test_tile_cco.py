"""Block bench of codesign/rtl/tile_cco.v: a bank of ADCS current-controlled-oscillator
converters counted during the integration window, one cycle to latch (codesign.adckinds
"cco", HERMES).

Model and scoreboard: codesign.sims.blocks.converter.cco_bench: the bench plays the
oscillators from the model's level (cco_edges: floor(level) periods over the window,
spread by a current that varies from cycle to cycle), and checks every cycle's counts
(the edges so far, saturating at 2^BITS - 1), `last` in the latch cycle only, trial 0,
the latched codes against the model's converter and closed form, and the conversions
completed.
"""
from __future__ import annotations

import cocotb

from ..converter import cco_bench
from ..scoreboard import run_bench


@cocotb.test()
async def random_windows(dut):
    """Random values and windows, varying currents, idle gaps and resets mid-window."""
    await run_bench(dut, "tile_cco", lambda d, cfg, board: cco_bench(d, cfg, board))
