"""Block bench of codesign/rtl/tile_linecmp.v: the one magnitude comparator per line that
the pulse-width drive and the stochastic update share.

Model (docs/rtl.md, the two users' contracts): in an integration cycle t of a pulse-width
window a line is on while t < |code| (codesign.converters.dac_phases: a pulse of |code|
cycles from the start of the MAXC-cycle window; the tile bench checks the drive against
it); in an update slot a line fires while its LFSR window < |code| (codesign.pulses:
PulseStreams.trains compares (state >> shift) & mask < |code|). The spec decides which
of the two the block serves: the pulse counter only for pulse-width inputs, the windows
only for stochastic updates (DAC_ENCODING, UPDATE_MODE); a block with one user compares
that user's operand whatever sel_win says (no mux); with neither, no line is ever below.

Stimulus (seeded): each item is two vectors, one with sel_win 0 and one with sel_win 1
(the bench drives the operand the other user would have on its bus as garbage). Codes
are sign-magnitude with zeros, full scale and uniform magnitudes and a random sign; a
third of the lines get an operand equal to their magnitude (the threshold), the others
a uniform one; t covers the whole counter range.

Scoreboard: every line's lt against the model for the selected user, per vector.
The block is combinational: a vector is driven, settles, and is sampled (the `cycles`
of the report count vectors).
"""
from __future__ import annotations

import cocotb
import numpy as np

from ..scoreboard import fields, pack, run_bench, settle, uint


async def _bench(dut, cfg, board) -> None:
    rng, p = cfg.rng, cfg.params
    lines, dac_bits = p["LINES"], p["DAC_BITS"]
    mw = dac_bits - 1
    top = 2 ** mw - 1
    use_t, use_win = p["DAC_ENCODING"] == 1, p["UPDATE_MODE"] == 0
    for item in range(cfg.items):
        board.item = f"vector pair {item}"
        for sel in (0, 1):
            mag = rng.integers(0, top + 1, lines)
            kind = rng.random(lines)
            mag[kind < 0.1] = 0
            mag[kind > 0.9] = top
            neg = (rng.random(lines) < 0.5) & (mag > 0)
            win = rng.integers(0, top + 1, lines)
            t = int(rng.integers(0, top + 1))
            on_threshold = rng.random(lines) < 1 / 3
            if sel:
                win[on_threshold] = mag[on_threshold]
            elif on_threshold.any():
                t = int(mag[on_threshold][0])
            dut.sel_win.value = sel
            dut.t.value = t
            dut.win.value = pack(win, mw)
            dut.codes.value = pack((neg.astype(np.int64) << mw) | mag, dac_bits)
            await settle()
            # a block with one user compares that user's operand whatever sel_win says
            # (no mux: its lt is sampled only in that user's cycles)
            by_win = use_win and (sel or not use_t)
            uses = use_win or use_t
            operand = win if by_win else np.full(lines, t)
            want = (operand < mag) if uses else np.zeros(lines, dtype=bool)
            got = fields(uint(dut.lt), lines, 1).astype(bool)
            board.equal("outputs", f"lt ({'windows' if sel else 't'})", got, want)
            board.cover("lines on the threshold", int((operand == mag).sum()))
            board.cover("lines below", int(want.sum()))
            board.cover("window compares" if by_win else "pulse compares", int(uses))
            board.cycles += 1
        board.items += 1
    dut._log.info(f"{board.items} vector pairs on {lines} lines, DAC {dac_bits} bits: "
                  f"{board.mismatches} mismatches")


@cocotb.test()
async def random_compares(dut):
    """Random magnitudes, windows and pulse counter, a third on the threshold."""
    await run_bench(dut, "tile_linecmp", _bench)
