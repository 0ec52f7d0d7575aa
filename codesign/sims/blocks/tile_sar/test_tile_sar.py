"""Block bench of codesign/rtl/tile_sar.v: a bank of ADCS SAR registers converting in lockstep.

Model: codesign.converters — sar_convert (the MSB-first decisions) gives each conversion's
code, sar_compare answers the comparator for the trial the RTL puts out (as the analog
comparator would), cycles.conversion_cycles gives the decisions per conversion.

Stimulus (seeded): sampled values across and beyond the ADC range, a third of them on a
decision threshold exactly; every ADC its own value; `go` dropped for random idle cycles
(the bank must hold), the comparator input random while idle (must be ignored); a
synchronous reset in the middle of some conversions (the bank restarts at the MSB).

Scoreboard, per decision cycle and ADC: the trial code (the model's code so far with the
bit under decision set), the result port (the code after this decision), `last` exactly on
the model's last decision and never when idle; per conversion: the final codes; at the
end: conversions completed (count of `last` pulses) against the conversions run.
"""
from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge

from codesign.converters import sar_compare, sar_convert
from codesign.cycles import conversion_cycles

from ..converter import abandon, idle_cycles, sample_values
from ..scoreboard import fields, pack, run_bench, settle, start, uint


async def _bench(dut, cfg, board) -> None:
    spec, rng = cfg.spec, cfg.rng
    adcs, bits = cfg.params["ADCS"], cfg.params["BITS"]
    steps = conversion_cycles(spec)
    await start(dut, {"go": 0, "cmp": 0})
    conversions = decisions = lasts = 0
    for item in range(cfg.items):
        board.item = f"conversion {item}"
        value = sample_values(rng, adcs, spec)
        final = sar_convert(value, spec)                       # the model's codes
        reset_at = int(rng.integers(0, steps)) if rng.random() < 0.15 else -1
        for j in range(steps):
            k = bits - 1 - j                                   # bit under decision
            await idle_cycles(dut, rng, board, 0.2, adcs, f"bit {k}")
            if j == reset_at:                                  # abandon: reset, restart
                await abandon(dut, rng, board, "decisions abandoned", j)
                break
            dut.go.value = 1
            await settle()
            trial = fields(uint(dut.trial), adcs, bits)
            above = (final >> (k + 1)) << (k + 1)
            board.equal("outputs", f"trial codes, bit {k}", trial, above | (1 << k))
            cmp = sar_compare(value, trial, spec)
            dut.cmp.value = pack(cmp)
            await settle()
            last = uint(dut.last)
            lasts += last
            board.equal("cycles", f"last at bit {k}", last, int(j == steps - 1))
            board.cover("decisions 1", cmp.sum())
            board.equal("outputs", f"result after bit {k}",
                        fields(uint(dut.result), adcs, bits), (final >> k) << k)
            decisions += 1
            await FallingEdge(dut.clk)
            board.cycles += 1
        else:       # not reset: complete (a reset one restarts at the MSB, checked above)
            conversions += 1
            board.items += 1
    dut.go.value = 0
    board.item = "end"
    board.equal("counters", "conversions completed (last pulses)", lasts, conversions)
    dut._log.info(f"{conversions} conversions of {adcs} x {bits} bits, {decisions} decisions,"
                  f" {board.cycles} cycles, {board.mismatches} mismatches")


@cocotb.test()
async def random_conversions(dut):
    """Random values, idle gaps and resets; trials, results, last and counts."""
    await run_bench(dut, "tile_sar", _bench)
