"""Block bench of codesign/rtl/tile_update.v: the outer-product update pulses (UPDATE).

Model: codesign.pulses — PulseStreams.trains (one instance for the whole run: the LFSR
states persist across updates, as in the RTL; a new one after a reset) gives every slot's
row and column fire patterns; coincidences gives an update's pulse count; commands.update
its cycles and events. Signs are the spec's: row_sign = sign of x, col_sign = sign of d
XOR polarity, in slot cycles only (docs/rtl.md).

The line comparators are not in this block: each line's comparator (tile_linecmp, shared
with the pulse-width drive and with a bench of its own) compares the window this block
puts on row_win / col_win with the line's magnitude and answers on row_lt / col_lt. The
bench plays them as the tile bench plays the ADCs' comparators: in a slot it answers each
line with the model's decision for that slot (the model's fire pattern), and it checks
the window the block presents against the model's window of that slot (the model's LFSR
state, codesign.pulses.lfsr_step, shifted by its codesign.pulses.rng_windows shift).

Stimulus (seeded): sign-magnitude codes for x and d with zeros, full-scale codes and
uniform magnitudes, a random polarity per update, idle gaps with random codes and random
comparator answers on the buses (nothing may fire outside a slot) and a reset between two
updates.

Scoreboard: busy cycles of each update (commands.update), the prepare cycle (busy, no
slot), per slot every line's window (stochastic), the fire and sign patterns of every row
and column and the `pulses` port (popcount x popcount of the model's patterns); per
update the pulses summed over the slots against the model's count (the update_pulses
counter of tile_ctrl adds this port).
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from codesign import commands
from codesign.pulses import PulseStreams, coincidences, lfsr_step

from ..scoreboard import fields, pack, random_word, run_bench, settle, start, uint


def random_codes(rng: np.random.Generator, n: int, maxc: int) -> tuple[np.ndarray, np.ndarray]:
    """(negative, magnitude) per line: zeros, full scale and uniform magnitudes."""
    kind = rng.random(n)
    mag = rng.integers(0, maxc + 1, n)
    mag[kind < 0.15] = 0
    mag[kind > 0.85] = maxc
    neg = (rng.random(n) < 0.5) & (mag > 0)           # zero has sign 0 (docs/rtl.md)
    return neg, mag


def words(neg: np.ndarray, mag: np.ndarray, dac_bits: int) -> int:
    return pack((neg.astype(np.int64) << (dac_bits - 1)) | mag, dac_bits)


def unpack_bits(word: int, n: int) -> np.ndarray:
    return fields(word, n, 1).astype(bool)


def model_windows(streams: PulseStreams, bl: int) -> tuple[np.ndarray, np.ndarray]:
    """The window every row and column compares in each of the next BL slots, (BL,
    rows) and (BL, cols), from the model's LFSR states before they advance."""
    spec, mask = streams.spec, np.uint64(streams.mask)
    out = []
    for state, shift in ((streams.rows_state, streams.row_shift),
                         (streams.cols_state, streams.col_shift)):
        state, wins = state.copy(), []
        for _ in range(bl):                 # a loop over the slots of one update
            wins.append(((state >> shift.astype(np.uint64)) & mask).astype(np.int64))
            state = lfsr_step(state, spec)
        out.append(np.array(wins))
    return out[0], out[1]


async def _bench(dut, cfg, board) -> None:
    spec, rng, p = cfg.spec, cfg.rng, cfg.params
    rows, cols, dac_bits = p["ROWS"], p["COLS"], p["DAC_BITS"]
    maxc, bl = 2 ** (dac_bits - 1) - 1, spec.update.bl
    stochastic, mw = spec.update.mode == "stochastic", dac_bits - 1
    await start(dut, {"start": 0, "x_codes": 0, "d_codes": 0, "polarity": 0,
                      "row_lt": 0, "col_lt": 0})
    streams = PulseStreams(spec, rows, cols)
    reset_before = int(rng.integers(1, cfg.items)) if cfg.items > 1 else -1
    outputs = ("row_fire", "row_sign", "col_fire", "col_sign", "pulses", "slot", "busy")
    for item in range(cfg.items):
        board.item = f"update {item}"
        for _ in range(int(rng.integers(0, 4))):       # idle, garbage on the buses
            dut.x_codes.value = random_word(rng, rows * dac_bits)
            dut.d_codes.value = random_word(rng, cols * dac_bits)
            dut.polarity.value = int(rng.integers(0, 2))
            dut.row_lt.value = random_word(rng, rows)
            dut.col_lt.value = random_word(rng, cols)
            await settle()
            board.equal("outputs", "idle outputs", [uint(getattr(dut, o)) for o in outputs],
                        [0] * len(outputs))
            await FallingEdge(dut.clk)
            board.cycles += 1
        if item == reset_before:                          # reset reloads every seed
            dut.rst.value = 1
            await FallingEdge(dut.clk)
            board.cycles += 1
            dut.rst.value = 0
            streams = PulseStreams(spec, rows, cols)
            board.cover("resets")
        x_neg, x_mag = random_codes(rng, rows, maxc)
        d_neg, d_mag = random_codes(rng, cols, maxc)
        pol = int(rng.integers(0, 2))
        if stochastic:
            win_rows, win_cols = model_windows(streams, bl)
        want_rows, want_cols = streams.trains(x_mag, d_mag)          # (BL, rows), (BL, cols)
        col_neg = d_neg ^ bool(pol)
        want_count = coincidences(want_rows, np.broadcast_to(x_neg, want_rows.shape),
                                  want_cols, np.broadcast_to(col_neg, want_cols.shape))[2]
        cost = commands.update(spec, want_count)
        dut.x_codes.value = words(x_neg, x_mag, dac_bits)
        dut.d_codes.value = words(d_neg, d_mag, dac_bits)
        dut.polarity.value = pol
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        busy = slot = pulses = 0
        while uint(dut.busy) and busy <= cost.cycles:
            await settle()
            if uint(dut.slot):
                # the line comparators answer with the model's decision of this slot
                t = min(slot, bl - 1)
                dut.row_lt.value = pack(want_rows[t].astype(np.int64))
                dut.col_lt.value = pack(want_cols[t].astype(np.int64))
                await settle()
                if stochastic:
                    board.equal("outputs", f"row windows, slot {slot}",
                                fields(uint(dut.row_win), rows, mw), win_rows[t])
                    board.equal("outputs", f"column windows, slot {slot}",
                                fields(uint(dut.col_win), cols, mw), win_cols[t])
            else:
                dut.row_lt.value = random_word(rng, rows)    # not sampled outside a slot
                dut.col_lt.value = random_word(rng, cols)
                await settle()
            if not uint(dut.slot):
                board.equal("cycles", "prepare cycle before the slots", (busy, slot), (0, 0))
            else:
                t = min(slot, bl - 1)
                rf, cf = unpack_bits(uint(dut.row_fire), rows), unpack_bits(uint(dut.col_fire), cols)
                board.equal("outputs", f"row fire, slot {slot}", rf, want_rows[t])
                board.equal("outputs", f"column fire, slot {slot}", cf, want_cols[t])
                board.equal("outputs", f"row signs, slot {slot}",
                            unpack_bits(uint(dut.row_sign), rows), x_neg)
                board.equal("outputs", f"column signs, slot {slot}",
                            unpack_bits(uint(dut.col_sign), cols), col_neg)
                n = uint(dut.pulses)
                board.equal("counters", f"pulses port, slot {slot}", n,
                            int(want_rows[t].sum()) * int(want_cols[t].sum()))
                pulses += n
                board.cover("slots with pulses", n > 0)
                slot += 1
            busy += 1
            await FallingEdge(dut.clk)
            board.cycles += 1
        board.equal("cycles", "busy cycles", busy, cost.cycles)
        board.equal("cycles", "slots", slot, bl)
        board.equal("counters", "update pulses", pulses, cost.events.update_pulses)
        board.items += 1
    dut._log.info(f"{board.items} updates on {rows}x{cols}, BL {bl}, mode "
                  f"{spec.update.mode}: {board.cycles} cycles, {board.mismatches} mismatches")


@cocotb.test()
async def random_updates(dut):
    """Random codes, polarity, idle gaps and a reset; patterns, pulses and cycles."""
    await run_bench(dut, "tile_update", _bench)
