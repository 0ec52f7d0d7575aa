"""cocotb bench for rtl/noc_mesh.v: random traffic with hot spots and back-pressure.

Every packet is a single flit ``{packet id, dst_y, dst_x}``. The bench offers each
source's packets in order from their release cycle, drives the local outputs' ready
from the same schedule (codesign.mapping.noc.random_traffic), and checks:
- every packet leaves exactly once, at its destination, in order per source/destination;
- no deadlock: packets in flight never sit still for WATCHDOG cycles;
- parity: the injection and arrival cycle of every packet equal the cycle model's
  (codesign.mapping.noc.simulate) exactly.

Timing: inputs change at the falling edge; the router's outputs (in_ready, out_valid,
out_data) depend only on registered state, so the handshakes of cycle t are known at
the falling edge before the rising edge that completes them.

Environment: NOC_ROWS, NOC_COLS, NOC_DEPTH, NOC_FLIT_W (must match the build's
parameters), NOC_PACKETS, NOC_SEED; NOC_MODEL_DEPTH (default NOC_DEPTH) is the depth
handed to the model, so a test can check that a wrong model is caught.
"""
from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from codesign.mapping import noc

#: Cycles without any injection or delivery, with packets in flight, that mean deadlock
#: (the ejection stalls are random with p <= 0.8, so 500 idle cycles do not happen by
#: chance; after the schedule every output is ready).
WATCHDOG = 500


def _cfg() -> dict:
    env = os.environ
    cfg = {k: int(env[f"NOC_{k.upper()}"]) for k in ("rows", "cols", "depth", "flit_w",
                                                     "packets", "seed")}
    cfg["model_depth"] = int(env.get("NOC_MODEL_DEPTH", cfg["depth"]))
    return cfg


def _slice(bits: str, n: int, width: int) -> str:
    """Bits of slice n (LSB slice 0) from a binary string written MSB first."""
    total = len(bits)
    return bits[total - (n + 1) * width: total - n * width]


async def _reset(dut) -> None:
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_data.value = 0
    dut.out_ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)


async def _run(dut, traffic: noc.Traffic, cfg: dict) -> None:
    rows, cols, width = cfg["rows"], cfg["cols"], cfg["flit_w"]
    n, packets = rows * cols, len(traffic.src)
    xb, yb = noc.coord_bits(cols), noc.coord_bits(rows)
    if packets >> (width - xb - yb):
        raise ValueError(f"NOC_FLIT_W={width} leaves too few payload bits for {packets} ids")
    expected = noc.simulate(traffic, cfg["model_depth"])
    dy, dx = np.divmod(traffic.dst, cols)
    flits = [int(dx[k]) | int(dy[k]) << xb | k << (xb + yb) for k in range(packets)]
    queues = [list(np.flatnonzero(traffic.src == r)) for r in range(n)]
    inject = np.full(packets, -1)
    arrive = np.full(packets, -1)
    last_from = {}
    await _reset(dut)
    t, last_progress = 0, 0
    while (arrive < 0).any():
        in_flight = int(((inject >= 0) & (arrive < 0)).sum())
        assert not in_flight or t - last_progress < WATCHDOG, \
            f"deadlock: {in_flight} packets in flight and nothing moved for {WATCHDOG} cycles"
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        in_ready = dut.in_ready.value.to_unsigned()
        out_valid = dut.out_valid.value.to_unsigned()
        offer, data = 0, 0
        for r in range(n):
            if queues[r] and traffic.release[queues[r][0]] <= t:
                offer |= 1 << r
                data |= flits[queues[r][0]] << (r * width)
        ready_row = traffic.eject_ready[t] if t < len(traffic.eject_ready) else np.ones(n, bool)
        ready = sum(1 << r for r in range(n) if ready_row[r])
        dut.in_valid.value = offer
        dut.in_data.value = data
        dut.out_ready.value = ready
        for r in range(n):
            if (offer & in_ready) >> r & 1:
                inject[queues[r].pop(0)] = t
                last_progress = t
        taken = out_valid & ready
        if taken:
            bits = str(dut.out_data.value)
            for r in range(n):
                if not taken >> r & 1:
                    continue
                flit = _slice(bits, r, width)
                assert all(b in "01" for b in flit), f"cycle {t}: router {r} offered {flit}"
                k = int(flit, 2) >> (xb + yb)
                assert 0 <= k < packets and inject[k] >= 0, f"cycle {t}: unknown packet {k}"
                assert arrive[k] < 0, f"cycle {t}: packet {k} delivered twice"
                assert traffic.dst[k] == r, f"packet {k} for {traffic.dst[k]} left at {r}"
                pair = (int(traffic.src[k]), r)
                assert last_from.get(pair, -1) < k, \
                    f"packet {k} overtook packet {last_from[pair]} on {pair}"
                last_from[pair] = k
                arrive[k] = t
                last_progress = t
        t += 1
    bad = np.flatnonzero((inject != expected.inject) | (arrive != expected.arrive))
    detail = "; ".join(f"packet {k} {int(traffic.src[k])}->{int(traffic.dst[k])}: rtl "
                       f"{inject[k]}->{arrive[k]}, model {expected.inject[k]}->"
                       f"{expected.arrive[k]}" for k in bad[:5])
    assert not len(bad), f"{len(bad)} of {packets} packets differ from the model: {detail}"
    dut._log.info(f"{packets} packets on {rows}x{cols}: all delivered once, in order, "
                  f"cycle-exact with the model ({t} cycles, mean latency "
                  f"{float(np.mean(arrive - inject)):.2f})")


@cocotb.test()
async def hotspot_traffic(dut):
    """Random sources and gaps, 30 % of packets to one hot spot, stalled ejection."""
    cfg = _cfg()
    cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
    rng = np.random.default_rng(cfg["seed"])
    await _run(dut, noc.random_traffic(rng, cfg["rows"], cfg["cols"], cfg["packets"]), cfg)


@cocotb.test()
async def saturation(dut):
    """Back-to-back bursts from every source, two hot spots, heavy back-pressure."""
    cfg = _cfg()
    cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
    rng = np.random.default_rng(cfg["seed"] + 1)
    traffic = noc.random_traffic(rng, cfg["rows"], cfg["cols"], cfg["packets"],
                                 hotspot_fraction=0.5, hotspots=2, mean_gap=0.0, stall=0.4,
                                 hotspot_stall=0.8)
    await _run(dut, traffic, cfg)
