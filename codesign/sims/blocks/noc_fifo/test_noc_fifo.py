"""Block bench of codesign/rtl/noc_fifo.v: one router input buffer of DEPTH flits.

Model: codesign.mapping.noc.FifoModel — ready and valid from the registered count (a pop
frees its slot one cycle later, noc.fifo_ready), one push and one pop per cycle, first
in first out; the mesh model (noc.simulate) uses the same rule.

Stimulus (seeded): phases of filling, draining and mixed traffic (push and pop
probabilities drawn per phase), random flits of W bits, pushes offered while full and pops
asked while empty (both must be ignored), a reset in the middle (the buffer empties).

Scoreboard, every cycle: ready and valid (cycles: when a handshake can happen) and the
head flit (outputs); at the end the pushes and pops the RTL accepted against the model's,
and the flits delivered: all but those the reset dropped.
"""
from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge

from codesign.mapping.noc import FifoModel

from ..scoreboard import random_word, run_bench, settle, start, uint


async def _bench(dut, cfg, board) -> None:
    rng, width, depth = cfg.rng, cfg.params["W"], cfg.params["DEPTH"]
    await start(dut, {"push": 0, "din": 0, "pop": 0})
    model = FifoModel(depth)
    pushed = popped = lost = 0
    handshakes = [0, 0]                         # the RTL's accepted pushes and pops
    reset_at = int(rng.integers(cfg.items // 4, 3 * cfg.items // 4 + 1))
    phase_left = 0
    while pushed < cfg.items:
        board.item = f"flit {pushed}"
        if phase_left == 0:                    # fill, drain or mixed
            p_push, p_pop = rng.choice([(0.9, 0.1), (0.1, 0.9), (0.6, 0.6), (1.0, 1.0),
                                        (0.5, 0.0)])
            phase_left = int(rng.integers(1, 4 * depth + 4))
        phase_left -= 1
        if pushed >= reset_at >= 0:
            reset_at = -1
            dut.rst.value = 1
            dut.push.value = int(rng.integers(0, 2))
            await FallingEdge(dut.clk)
            board.cycles += 1
            dut.rst.value = 0
            lost += len(model.slots)
            model = FifoModel(depth)
            board.cover("resets")
            continue
        push, pop = bool(rng.random() < p_push), bool(rng.random() < p_pop)
        din = random_word(rng, width)
        dut.push.value, dut.pop.value, dut.din.value = int(push), int(pop), din
        await settle()
        ready, valid = uint(dut.ready), uint(dut.valid)
        handshakes[0] += push and ready
        handshakes[1] += pop and valid
        board.equal("cycles", "ready", ready, int(model.ready))
        board.equal("cycles", "valid", valid, int(model.valid))
        if model.valid:
            board.equal("outputs", "head flit", uint(dut.dout), model.head)
        board.cover("pushes refused (full)", push and not model.ready)
        board.cover("pops ignored (empty)", pop and not model.valid)
        board.cover("push and pop together", push and pop and model.ready and model.valid)
        took, gave = model.step(push, din, pop)
        pushed += took
        popped += gave
        board.items += took
        await FallingEdge(dut.clk)
        board.cycles += 1
    board.item = "end"
    dut.push.value, dut.pop.value = 0, 1
    while model.valid:                          # drain
        await settle()
        handshakes[1] += uint(dut.valid)
        board.equal("outputs", "head flit while draining", uint(dut.dout), model.head)
        popped += model.step(False, 0, True)[1]
        await FallingEdge(dut.clk)
        board.cycles += 1
    await settle()
    board.equal("cycles", "empty after draining", (uint(dut.valid), uint(dut.ready)), (0, 1))
    board.equal("counters", "flits accepted and delivered", handshakes, [pushed, popped])
    board.equal("counters", "flits delivered: all but those the reset dropped", popped,
                pushed - lost)
    dut._log.info(f"{pushed} flits into a depth-{depth} FIFO, {popped} out, "
                  f"{board.cycles} cycles, {board.mismatches} mismatches")


@cocotb.test()
async def random_push_pop(dut):
    """Fill, drain and mixed phases, refused pushes, ignored pops, a reset."""
    await run_bench(dut, "noc_fifo", _bench)
