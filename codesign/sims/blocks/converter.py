"""What the converter blocks' benches share (codesign/rtl/tile_sar.v, tile_flash.v,
tile_ramp.v: one ADC kind each, the same ports): the sampled values they convert, and the
bench of a converter block against its kind's model, cycle by cycle.

Model: codesign.converters — adc_steps (codesign.adckinds.ADCKind.steps of the block's
kind) gives per cycle the trial codes the block must put out and its result register
after the cycle; adc_compare answers the comparators for the trial the RTL actually puts
out (as the analog comparators would); cycles.conversion_cycles gives the cycles per
conversion; the final codes must also equal sar_codes, the closed form the model's fast
path computes.

Stimulus (seeded): sampled values across and beyond the ADC range, a third of them on a
threshold exactly, every ADC its own value; `go` dropped for random idle cycles (the bank
must hold), the comparator inputs random while idle (must be ignored); a synchronous reset
in the middle of some conversions (the bank restarts).

Scoreboard, per cycle and ADC: the trial code, the result port, `last` exactly on the
model's last cycle and never when idle; per conversion: the final codes; at the end:
conversions completed (count of `last` pulses) against the conversions run.
"""
from __future__ import annotations

import numpy as np
from cocotb.triggers import FallingEdge

from codesign.converters import adc_compare, adc_lsb, adc_steps, sar_codes
from codesign.cycles import conversion_cycles

from ..tile_driver import pack_bits
from .scoreboard import fields, random_word, settle, start, uint


def sample_values(rng: np.random.Generator, n: int, spec) -> np.ndarray:
    """n analog values in output units (float32, as the array product delivers)."""
    fs, lsb, top = spec.adc.full_scale, adc_lsb(spec), 2 ** spec.adc.bits
    kind = rng.random(n)
    v = rng.uniform(-1.15 * fs, 1.15 * fs, n)
    on_step = kind < 0.35                         # exactly a threshold -FS + c * LSB
    v[on_step] = -fs + rng.integers(0, top + 1, on_step.sum()) * lsb
    edge = kind > 0.9                             # the ends of the range and beyond
    v[edge] = rng.choice([-fs, -fs - lsb, fs, fs - lsb, fs - 0.5 * lsb, 2 * fs], edge.sum())
    return v.astype(np.float32)


async def idle_cycles(dut, rng: np.random.Generator, board, chance: float, cmp_bits: int,
                      before: str) -> None:
    """Idle cycles, each with probability `chance` (repeated): `go` low and random
    comparator inputs, which the bank must ignore: `last` stays low and its state holds."""
    while rng.random() < chance:
        dut.go.value = 0
        dut.cmp.value = random_word(rng, cmp_bits)
        await settle()
        board.cover("idle cycles")
        board.equal("cycles", f"last while idle before {before}", uint(dut.last), 0)
        await FallingEdge(dut.clk)
        board.cycles += 1


async def abandon(dut, rng: np.random.Generator, board, what: str, at: int) -> None:
    """A synchronous reset in the middle of a conversion (`go` random): the bank restarts."""
    dut.rst.value = 1
    dut.go.value = int(rng.integers(0, 2))
    await FallingEdge(dut.clk)
    board.cycles += 1
    dut.rst.value = 0
    board.cover(what, at)
    board.cover("resets mid-conversion")


async def converter_bench(dut, cfg, board, kind: str, idle: float = 0.2) -> None:
    """Random conversions on a converter block of ADC kind `kind` (the spec's adc.kind,
    set by codesign.hdl.blocks.block_spec); `idle`: chance of an idle cycle before each
    conversion cycle."""
    spec, rng = cfg.spec, cfg.rng
    assert spec.adc.kind == kind, f"spec adc.kind {spec.adc.kind!r}, block kind {kind!r}"
    adcs, bits = cfg.params["ADCS"], cfg.params["BITS"]
    steps = conversion_cycles(spec)
    n_cmp = spec.adc_kind.comparators(bits)
    await start(dut, {"go": 0, "cmp": 0})
    conversions = lasts = 0
    for item in range(cfg.items):
        board.item = f"conversion {item}"
        value = sample_values(rng, adcs, spec)
        model = list(adc_steps(value, spec))      # per cycle (trial, decisions, result)
        board.equal("cycles", "model cycles per conversion", len(model), steps)
        reset_at = int(rng.integers(0, steps)) if rng.random() < 0.15 else -1
        for j, (want_trial, _, want_result) in enumerate(model):
            await idle_cycles(dut, rng, board, idle, adcs * n_cmp, f"step {j}")
            if j == reset_at:                                  # abandon: reset, restart
                await abandon(dut, rng, board, "steps abandoned", j)
                break
            dut.go.value = 1
            await settle()
            trial = fields(uint(dut.trial), adcs, bits)
            board.equal("outputs", f"trial codes, step {j}", trial, want_trial)
            answers = adc_compare(value, trial, spec)          # (ADCS, comparators)
            dut.cmp.value = pack_bits(answers.ravel())
            await settle()
            last = uint(dut.last)
            lasts += last
            board.equal("cycles", f"last at step {j}", last, int(j == steps - 1))
            board.cover("comparators firing", int(answers.sum()))
            board.equal("outputs", f"result after step {j}",
                        fields(uint(dut.result), adcs, bits), want_result)
            await FallingEdge(dut.clk)
            board.cycles += 1
        else:       # not reset: complete (a reset one restarts, checked above)
            conversions += 1
            board.items += 1
            board.equal("outputs", "codes = the model's closed form", want_result,
                        sar_codes(value, spec))
            board.cover("codes at full scale", int((want_result == 2 ** bits - 1).sum()))
            board.cover("codes at zero", int((want_result == 0).sum()))
    dut.go.value = 0
    board.item = "end"
    board.equal("counters", "conversions completed (last pulses)", lasts, conversions)
    dut._log.info(f"{conversions} {kind} conversions of {adcs} x {bits} bits, "
                  f"{board.cycles} cycles, {board.mismatches} mismatches")
