"""Port-level driver of rtl/tile_ctrl.v for cocotb benches.

Timing convention: the bench drives inputs and samples outputs at falling clock edges;
the controller samples at rising edges. A command is accepted at the rising edge where
cmd_valid and cmd_ready are both high; its cycles are the falling edges after that at
which `busy` is high (the controller's `cycles` counter counts the same).
"""
from __future__ import annotations

from typing import Awaitable, Callable

import numpy as np

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer
from cocotb.types import Logic

from codesign.cycles import OPCODES
from codesign.hdl.tile import COUNTERS, STATUS_ADDR

CLOCK_NS = 10

INPUTS = ("cmd_valid", "cmd_op", "cmd_sel", "cmd_len", "in_valid", "in_data", "out_ready",
          "reg_addr", "adc_cmp", "xfer_start_reset", "xfer_start_skip", "xfer_err_pos",
          "xfer_err_neg", "xfer_sat")


class UnresolvedOutput(AssertionError):
    """An output carried X or Z where the bench needed a value."""


def uint(signal) -> int:
    """Unsigned value of an output; raises UnresolvedOutput on X/Z."""
    v = signal.value
    if not v.is_resolvable:
        raise UnresolvedOutput(f"{signal._name} = {v}")
    return int(v) if isinstance(v, Logic) else v.to_unsigned()


def sint(signal) -> int:
    v = signal.value
    if not v.is_resolvable:
        raise UnresolvedOutput(f"{signal._name} = {v}")
    return v.to_signed()


def fields(word: int, n: int, width: int) -> list[int]:
    """Split a flat bus into n fields of `width` bits, field 0 in the LSBs."""
    mask = (1 << width) - 1
    return [(word >> (i * width)) & mask for i in range(n)]


def bits(word: int, n: int) -> list[int]:
    return fields(word, n, 1)


def pack_bits(values) -> int:
    """0/1 values -> an integer with values[i] in bit i (vectorized: wide buses such as a
    bank of flash thermometers)."""
    b = np.asarray(values, dtype=np.uint8)
    return int.from_bytes(np.packbits(b, bitorder="little").tobytes(), "little") if b.size else 0


def pack(values, width: int = 1) -> int:
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & ((1 << width) - 1)) << (i * width)
    return out


class TileDriver:
    """Issues commands and reads counters; per-cycle work goes through a callback."""

    def __init__(self, dut):
        self.dut = dut
        self.cycles_seen = 0      # falling edges since reset (simulated cycles)

    async def start(self) -> None:
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        for name in INPUTS:
            getattr(self.dut, name).value = 0
        self.dut.out_ready.value = 1
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)

    async def counters(self) -> dict[str, int]:
        """All performance counters, read through the register port while idle."""
        out = {}
        for addr, name in enumerate(COUNTERS):
            self.dut.reg_addr.value = addr
            await Timer(200, unit="ps")
            out[name] = uint(self.dut.reg_rdata)
        return out

    async def status(self) -> dict[str, int]:
        self.dut.reg_addr.value = STATUS_ADDR
        await Timer(200, unit="ps")
        word = uint(self.dut.reg_rdata)
        return {"polarity": word & 1, "busy": (word >> 1) & 1}

    async def command(self, op: str, sel: int = 0, length: int = 0,
                      on_cycle: Callable[[int], Awaitable[None] | None] | None = None) -> int:
        """Issue one command at the current falling edge and run it to completion.
        on_cycle(k) runs at the falling edge of each busy cycle k = 0, 1, ... (outputs
        stable, inputs may be set for the next rising edge). Returns the busy cycles."""
        dut = self.dut
        if not uint(dut.cmd_ready):
            raise AssertionError(f"{op}: controller not ready")
        dut.cmd_valid.value = 1
        dut.cmd_op.value = OPCODES[op]
        dut.cmd_sel.value = sel
        dut.cmd_len.value = length
        await FallingEdge(dut.clk)
        self.cycles_seen += 1
        dut.cmd_valid.value = 0
        k = 0
        while uint(dut.busy):
            if on_cycle is not None:
                res = on_cycle(k)
                if res is not None:
                    await res
            k += 1
            await FallingEdge(dut.clk)
            self.cycles_seen += 1
        return k

    async def load(self, sel: int, words: list[int]) -> int:
        """LOAD_INPUT: one word per cycle."""
        dut = self.dut

        def put(k: int) -> None:
            dut.in_valid.value = 1
            dut.in_data.value = words[k] if k < len(words) else 0

        n = await self.command("LOAD_INPUT", sel, len(words), put)
        dut.in_valid.value = 0
        return n

    async def read(self, n: int, out: list[int]) -> int:
        """READ_OUTPUT: n signed words appended to `out`."""
        dut = self.dut

        def take(k: int) -> None:
            out.append(sint(dut.out_data))

        return await self.command("READ_OUTPUT", 0, n, take)
