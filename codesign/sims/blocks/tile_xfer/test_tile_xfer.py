"""Block bench of codesign/rtl/tile_xfer.v: row-by-row program-and-verify (TRANSFER).

Model: codesign.devices — the spec's cells (make_cells) programmed with random weights;
before each transfer the state moves (2PCM+3T1C: random capacitor charges over the whole
swing; PCM pair: random SET pulses that drive pairs into saturation); then
cells.transfer(trace=True) runs codesign.devices.transfer.program_pairs, whose trace holds
the comparator answers per row and verify, and whose counts give the cycles and events
(codesign.commands.transfer). The bench replays the answers at the ports.

Scoreboard: the row order; per START the RESETs (start_reset, combinational) and the reset
count port; per VERIFY the verify count port (the model's active columns); per PULSE the
SET+/SET-/RESET vectors (the model's decisions) and the set/reset count ports; cycles of
each row (1 + verifies + pulses) and of the transfer; per transfer the count ports summed
(verify reads, SET and RESET pulses, the tile_ctrl counters add them) against the model's
events, and the polarity register (toggled per transfer with POLARITY_INV, cleared by
reset). Idle cycles with random answers on the inputs must drive no pulse.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from codesign import commands
from codesign.devices.cell import make_cells

from ..scoreboard import fields, pack, random_word, run_bench, settle, start, uint

ANSWERS = ("start_reset", "start_skip", "err_pos", "err_neg", "sat")
PULSES = ("set_plus", "set_minus", "reset_both", "n_verify", "n_set", "n_reset")


def disturb(cells, rng: np.random.Generator, spec) -> None:
    """Move the cells' state as training between two transfers would (see module doc)."""
    cap = getattr(cells, "cap", None)
    if cap is not None:
        span = spec.capacitor.g_span
        cap.write(cap.g_shared + rng.uniform(-span, span, cap.shape))
    else:
        # SET pulses move G by a few 0.1 % of g_max each: up to 300 on a third of the
        # devices drive some pairs past saturation (refresh RESETs), leave others alone
        hit = rng.random((2,) + cells.shape) < 0.35
        n = rng.integers(0, 300, (2,) + cells.shape) * hit
        cells.pulse(n[0], n[1], rng)


def polarity(cells) -> int:
    return int(getattr(cells, "polarity", 1.0) < 0)


async def _bench(dut, cfg, board) -> None:
    spec, rng, p = cfg.spec, cfg.rng, cfg.params
    rows, cols = p["ROWS"], p["COLS"]
    bits = lambda name: fields(uint(getattr(dut, name)), cols, 1).astype(bool)  # noqa: E731
    await start(dut, {"start": 0, **{a: 0 for a in ANSWERS}})
    cells = make_cells(spec, (rows, cols), rng)
    w = rng.uniform(-1.0, 1.0, (rows, cols))
    w[rng.random(w.shape) < 0.15] *= 0.05                     # small targets
    cells.program(w, rng)
    pol_at_reset = polarity(cells)
    reset_before = int(rng.integers(1, cfg.items)) if cfg.items > 1 else -1
    for item in range(cfg.items):
        board.item = f"transfer {item}"
        for _ in range(int(rng.integers(0, 3))):             # idle: random answers
            for a in ANSWERS:
                getattr(dut, a).value = random_word(rng, cols)
            await settle()
            board.equal("outputs", "idle outputs", [uint(getattr(dut, o)) for o in
                        PULSES + ("busy", "row_start", "verify", "pulse")], [0] * 10)
            await FallingEdge(dut.clk)
            board.cycles += 1
        if item == reset_before:                               # reset clears polarity
            dut.rst.value = 1
            await FallingEdge(dut.clk)
            board.cycles += 1
            dut.rst.value = 0
            pol_at_reset = polarity(cells)
        disturb(cells, rng, spec)
        stats = cells.transfer(rng, trace=True)
        tr = stats.trace
        cost = commands.transfer(spec, stats.verifies_per_row, stats.pulses_per_row,
                                 stats.verify_reads, stats.set_pulses, stats.reset_pulses)
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        busy, row, v, answer, active = 0, -1, 0, None, None
        row_cycles = np.zeros(rows, dtype=np.int64)
        seen = np.zeros((rows, 2), dtype=np.int64)            # verifies, pulses per row
        sums = np.zeros(3, dtype=np.int64)                    # verify reads, SETs, RESETs
        while uint(dut.busy) and busy <= cost.cycles:
            for a in ANSWERS:
                getattr(dut, a).value = 0
            if uint(dut.row_start):
                board.equal("outputs", "row order", uint(dut.row), row + 1)
                row, v = uint(dut.row), 0
                if row < rows:
                    dut.start_reset.value = pack(tr.start[row])
                    dut.start_skip.value = pack(tr.skip[row])
                    active = ~tr.skip[row]
                    board.cover("start RESETs", tr.start[row].sum())
                    await settle()
                    board.equal("outputs", f"row {row} start RESETs", bits("reset_both"),
                                tr.start[row])
            elif uint(dut.verify) and 0 <= row < rows:
                known = v < len(tr.err_pos)
                answer = np.array([tr.err_pos[v][row], tr.err_neg[v][row], tr.sat[v][row]]) \
                    if known else np.zeros((3, cols), dtype=bool)
                board.equal("cycles", f"row {row}: a verify the model has", known, True)
                for a, bit in zip(("err_pos", "err_neg", "sat"), answer):
                    getattr(dut, a).value = pack(bit)
                await settle()
                board.equal("counters", f"row {row} verify {v} reads", uint(dut.n_verify),
                            int(active.sum()))
                active = answer[0] | answer[1]
                seen[row, 0] += 1
                v += 1
            elif uint(dut.pulse) and 0 <= row < rows:
                pos, neg, sat = answer
                got = np.array([bits("set_plus"), bits("set_minus"), bits("reset_both")])
                board.equal("outputs", f"row {row} pulse {v} SET+/SET-/RESET", got,
                            np.array([pos & ~sat, neg & ~sat, sat]))
                seen[row, 1] += 1
                board.cover("saturated RESETs", sat.sum())
                board.cover("SET pulses", (~sat & (pos | neg)).sum())
            await settle()
            sums += [uint(dut.n_verify), uint(dut.n_set), uint(dut.n_reset)]
            board.equal("counters", "set count port", uint(dut.n_set),
                        int((bits("set_plus") | bits("set_minus")).sum()))
            board.equal("counters", "reset count port", uint(dut.n_reset),
                        2 * int(bits("reset_both").sum()))
            if 0 <= row < rows:
                row_cycles[row] += 1
            busy += 1
            await FallingEdge(dut.clk)
            board.cycles += 1
        for a in ANSWERS:
            getattr(dut, a).value = 0
        board.equal("cycles", "transfer busy cycles", busy, cost.cycles)
        board.equal("cycles", "cycles per row", row_cycles,
                    1 + stats.verifies_per_row + stats.pulses_per_row)
        board.equal("cycles", "verifies per row", seen[:, 0], stats.verifies_per_row)
        board.equal("cycles", "pulse cycles per row", seen[:, 1], stats.pulses_per_row)
        ev = cost.events
        board.cover("rows ending on the iteration cap",
                    (stats.pulses_per_row == p["MAX_ITER"]).sum())
        board.equal("counters", "verify reads, SET pulses, RESET pulses", sums,
                    [ev.verify_reads, ev.set_pulses, ev.reset_pulses])
        board.equal("outputs", "polarity register", uint(dut.polarity),
                    polarity(cells) ^ pol_at_reset)
        board.items += 1
    dut._log.info(f"{board.items} transfers on {rows}x{cols} ({spec.array.cell}, max "
                  f"{p['MAX_ITER']} iterations): {board.cycles} cycles, "
                  f"{board.mismatches} mismatches")


@cocotb.test()
async def random_transfers(dut):
    """Model traces replayed row by row; pulses, counts, cycles and polarity."""
    await run_bench(dut, "tile_xfer", _bench)
