"""Block bench of codesign/rtl/noc_router.v: one 5-port mesh router on its own.

Model: codesign.mapping.noc.RouterModel — the router the mesh model (noc.simulate)
composes: input FIFOs with registered ready (noc.fifo_ready), XY routing of the heads
(noc.xy_route), a round-robin arbiter per output with a lock on a refused offer
(noc.arbitrate). tests/test_noc.py runs a mesh of RouterModels against noc.simulate.

Stimulus (seeded): a source per input port offering single-flit packets (any
destination the header can name, payload random) after random gaps, each offer held until
accepted (valid/ready); random back-pressure on every output, in phases from none to
heavy; all five inputs bursting at once to one output in some phases (arbitration); a
reset in the middle (FIFOs, pointers and locks clear, the offers are dropped).

Scoreboard, every cycle: in_ready of each input and out_valid of each output (cycles:
when a handshake can happen) and the flit each valid output offers (outputs). At the end: flits accepted per input and delivered per output
against the model's, and every accepted flit delivered once (no loss, no duplicate) after
a drain with every output ready.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from codesign.mapping.noc import RouterModel

from ..scoreboard import fields, pack, random_word, run_bench, settle, slices, start, uint


def flit(rng: np.random.Generator, width: int, xb: int, yb: int, hot: int | None) -> int:
    """A flit to a random destination (or the hot one), random payload above the header."""
    dst = hot if hot is not None else random_word(rng, xb + yb)
    return (random_word(rng, width) & ~((1 << (xb + yb)) - 1)) | dst


async def _bench(dut, cfg, board) -> None:
    rng, p = cfg.rng, cfg.params
    width, depth, xb, yb = p["FLIT_W"], p["DEPTH"], p["X_BITS"], p["Y_BITS"]
    await start(dut, {"in_valid": 0, "in_data": 0, "out_ready": 0})
    model = RouterModel(depth, p["X"], p["Y"], xb, yb)
    offer = [None] * 5                       # the flit each source holds on its input
    accepted = np.zeros(5, dtype=np.int64)   # model handshakes per input / output
    delivered = np.zeros(5, dtype=np.int64)
    rtl_hs = np.zeros((2, 5), dtype=np.int64)
    in_flight: dict[int, int] = {}           # flit -> copies accepted, not yet delivered
    sent, reset_at, phase_left, draining = 0, cfg.items // 2, 0, False
    while True:
        if phase_left == 0:
            p_offer = rng.choice([0.2, 0.6, 1.0])
            p_ready = rng.choice([1.0, 0.7, 0.3, 0.0])
            hot = random_word(rng, xb + yb) if rng.random() < 0.3 else None
            phase_left = int(rng.integers(4, 40))
        phase_left -= 1
        if sent >= cfg.items and not draining:
            draining, p_offer, p_ready, phase_left = True, 0.0, 1.0, -1
        if draining and not any(f.valid for f in model.fifos) and not any(
                o is not None for o in offer):
            break
        board.item = f"cycle {board.cycles}"
        if sent >= reset_at >= 0:
            reset_at = -1
            dut.rst.value = 1
            await FallingEdge(dut.clk)
            board.cycles += 1
            dut.rst.value = 0
            model = RouterModel(depth, p["X"], p["Y"], xb, yb)
            offer = [None] * 5
            in_flight.clear()
            board.cover("resets")
            continue
        for i in range(5):
            if offer[i] is None and sent < cfg.items and rng.random() < p_offer:
                offer[i] = flit(rng, width, xb, yb, hot)
                sent += 1
        in_valid = np.array([o is not None for o in offer])
        in_flit = [o if o is not None else 0 for o in offer]
        out_ready = rng.random(5) < p_ready
        dut.in_valid.value = pack(in_valid)
        dut.in_data.value = pack(in_flit, width)
        dut.out_ready.value = pack(out_ready)
        await settle()
        got_ready = fields(uint(dut.in_ready), 5, 1)
        got_valid = fields(uint(dut.out_valid), 5, 1)
        got_flit = np.array(slices(dut.out_data, 5, width), dtype=object)
        rtl_hs += [in_valid & (got_ready == 1), out_ready & (got_valid == 1)]
        did = model.step(in_valid, in_flit, out_ready)
        board.equal("cycles", "in_ready", got_ready, did["in_ready"])
        board.equal("cycles", "out_valid", got_valid, did["out_valid"])
        board.equal("outputs", "offered flits", list(got_flit[did["out_valid"]]),
                    [int(f) for f in did["out_flit"][did["out_valid"]]])
        board.cover("refused offers (locks)", (did["out_valid"] & ~out_ready).sum())
        board.cover("cycles with 3+ input heads waiting",
                    sum(f.valid for f in model.fifos) >= 3)
        for i in np.flatnonzero(did["pushed"]):
            in_flight[in_flit[i]] = in_flight.get(in_flit[i], 0) + 1
            offer[i] = None
            board.items += 1
        for o in np.flatnonzero(did["xfer"]):
            f = int(did["out_flit"][o])
            if in_flight.get(f, 0) < 1:
                board.fail("counters", f"output {o} delivered flit {f:#x} nobody sent")
            else:
                in_flight[f] -= 1
        accepted += did["pushed"]
        delivered += did["xfer"]
        await FallingEdge(dut.clk)
        board.cycles += 1
    board.item = "end"
    board.equal("counters", "flits accepted per input", rtl_hs[0], accepted)
    board.equal("counters", "flits delivered per output", rtl_hs[1], delivered)
    board.equal("counters", "flits still in flight after the drain",
                sum(in_flight.values()), 0)
    dut._log.info(f"{board.items} flits through router ({p['X']}, {p['Y']}) depth {depth}: "
                  f"{board.cycles} cycles, {board.mismatches} mismatches")


@cocotb.test()
async def random_traffic(dut):
    """Held offers, phased back-pressure, hot spots, a reset; every port every cycle."""
    await run_bench(dut, "noc_router", _bench)
