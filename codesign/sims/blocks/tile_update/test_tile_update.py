"""Block bench of codesign/rtl/tile_update.v: the outer-product update pulses (UPDATE).

Model: codesign.pulses — PulseStreams.trains (one instance for the whole run: the LFSR
states persist across updates, as in the RTL; a new one after a reset) gives every slot's
row and column fire patterns; coincidences gives an update's pulse count; commands.update
its cycles and events. Signs are the spec's: row_sign = sign of x, col_sign = sign of d
XOR polarity, in slot cycles only (docs/rtl.md).

Stimulus (seeded): sign-magnitude codes for x and d with zeros, full-scale codes and
uniform magnitudes, a random polarity per update, idle gaps with random codes on the
buses (nothing may fire outside a slot) and a reset between two updates.

Scoreboard: busy cycles of each update (commands.update), the prepare cycle (busy, no
slot), per slot the fire and sign patterns of every row and column and the `pulses`
port (popcount x popcount of the model's patterns); per update the pulses summed over the
slots against the model's count (the update_pulses counter of tile_ctrl adds this port).
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from codesign import commands
from codesign.pulses import PulseStreams, coincidences

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


async def _bench(dut, cfg, board) -> None:
    spec, rng, p = cfg.spec, cfg.rng, cfg.params
    rows, cols, dac_bits = p["ROWS"], p["COLS"], p["DAC_BITS"]
    maxc, bl = 2 ** (dac_bits - 1) - 1, spec.update.bl
    await start(dut, {"start": 0, "x_codes": 0, "d_codes": 0, "polarity": 0})
    streams = PulseStreams(spec, rows, cols)
    reset_before = int(rng.integers(1, cfg.items)) if cfg.items > 1 else -1
    outputs = ("row_fire", "row_sign", "col_fire", "col_sign", "pulses", "slot", "busy")
    for item in range(cfg.items):
        board.item = f"update {item}"
        for _ in range(int(rng.integers(0, 4))):       # idle, garbage on the buses
            dut.x_codes.value = random_word(rng, rows * dac_bits)
            dut.d_codes.value = random_word(rng, cols * dac_bits)
            dut.polarity.value = int(rng.integers(0, 2))
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
