"""What every block bench shares: its settings, clock and reset, and the scoreboard.

Settings arrive from codesign.hdl.blocks.run_block_bench as environment variables:
BLOCK_SPEC (the spec as JSON), BLOCK_PARAMS (the block's Verilog parameters as JSON),
BLOCK_SEED and BLOCK_ITEMS. Timing convention (as sims/tile_driver.py): the bench drives
inputs at the falling edge, waits SETTLE for combinational outputs, samples, and the
block acts at the next rising edge.

The scoreboard counts mismatches by kind:
  cycles    when something happens (busy length, the cycle a result appears, when a
            handshake can happen)
  outputs   a value on an output port (codes, fire and sign patterns, pulses, flits)
  counters  a count port (what tile_ctrl's performance counters add), per cycle or summed
            over an item, and items completed or handshakes made
and writes block_report.json; the cocotb test fails when any mismatch was recorded.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from codesign.spec import Spec, spec_from_dict

REPORT = "block_report.json"      # codesign.hdl.blocks.REPORT
CLOCK_NS = 10
KINDS = ("cycles", "outputs", "counters")


@dataclass
class Settings:
    spec: Spec
    params: dict
    seed: int
    items: int

    @property
    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


def settings() -> Settings:
    env = os.environ
    spec = spec_from_dict(json.loads(env["BLOCK_SPEC"]), "BLOCK_SPEC")
    return Settings(spec, json.loads(env["BLOCK_PARAMS"]), int(env.get("BLOCK_SEED", "0")),
                    int(env.get("BLOCK_ITEMS", "10")))


def uint(signal) -> int:
    """Unsigned value of an output; an X or Z is an assertion error naming the signal."""
    v = signal.value
    assert v.is_resolvable, f"{signal._name} = {v} (unresolved)"
    return int(v) if not hasattr(v, "to_unsigned") else v.to_unsigned()


def fields(word: int, n: int, width: int) -> np.ndarray:
    """A flat bus split into n fields of `width` bits, field 0 in the LSBs."""
    return np.array([(word >> (i * width)) & ((1 << width) - 1) for i in range(n)],
                    dtype=np.int64)


def slices(signal, n: int, width: int) -> list[int | None]:
    """A flat bus as n fields of `width` bits (field 0 in the LSBs), None for a field
    holding X or Z (e.g. the data of an output that offers nothing)."""
    text = str(signal.value)
    total = len(text)
    out: list[int | None] = []
    for i in range(n):
        part = text[total - (i + 1) * width: total - i * width]
        out.append(int(part, 2) if all(b in "01" for b in part) else None)
    return out


def pack(values, width: int = 1) -> int:
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & ((1 << width) - 1)) << (i * width)
    return out


def random_word(rng: np.random.Generator, width: int) -> int:
    """A uniformly random `width`-bit word (any width), from rng."""
    raw = int.from_bytes(rng.bytes((width + 7) // 8), "little")
    return raw & ((1 << width) - 1)


async def settle() -> None:
    """Let combinational outputs follow inputs driven at this falling edge."""
    await Timer(1, unit="ns")


async def start(dut, inputs: dict) -> None:
    """Clock, every input at its idle value, reset for 3 cycles; returns at a falling edge
    with reset low."""
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    for name, value in inputs.items():
        getattr(dut, name).value = value
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


@dataclass
class Scoreboard:
    """Mismatches by kind with the first messages; items and cycles for the report."""
    name: str
    counts: dict = field(default_factory=lambda: {k: 0 for k in KINDS})
    details: list = field(default_factory=list)
    checked: dict = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)
    items: int = 0
    cycles: int = 0
    item: str = ""

    def fail(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if len(self.details) < 30:
            self.details.append(f"{self.item}: [{kind}] {message}")

    def equal(self, kind: str, what: str, got, want) -> bool:
        """Record one comparison; a mismatch is counted once with both values."""
        self.checked[kind] = self.checked.get(kind, 0) + 1
        if np.array_equal(np.asarray(got), np.asarray(want)):
            return True
        self.fail(kind, f"{what}: rtl {_short(got)} != model {_short(want)}")
        return False

    def cover(self, what: str, n: int = 1) -> None:
        """Count a path of the block the stimulus reached (reported; tests require some)."""
        self.coverage[what] = self.coverage.get(what, 0) + int(n)

    @property
    def mismatches(self) -> int:
        return sum(self.counts.values())

    def write(self, error: str | None = None, **extra) -> None:
        report = {"block": self.name, "ops": self.items, "mismatches": self.mismatches,
                  "by_kind": self.counts, "checked": self.checked,
                  "coverage": self.coverage, "cycles": self.cycles,
                  "details": self.details, "error": error, **extra}
        Path(REPORT).write_text(json.dumps(report, indent=2, default=_plain))

    def assert_clean(self) -> None:
        assert self.mismatches == 0, f"{self.mismatches} mismatches: " + \
            "; ".join(self.details[:5])


def _plain(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(type(obj).__name__)


def _short(v) -> str:
    text = np.array2string(np.asarray(v), threshold=16, max_line_width=200) \
        if not np.isscalar(v) else str(v)
    return text if len(text) < 200 else text[:197] + "..."


async def run_bench(dut, name: str, body) -> None:
    """Run body(dut, settings, scoreboard) and always write the report; then fail the
    cocotb test on any mismatch."""
    board = Scoreboard(name)
    error = None
    try:
        await body(dut, settings(), board)
    except Exception as exc:  # noqa: BLE001 - reported, then re-raised
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        board.write(error)
    board.assert_clean()
