"""What the converter blocks' benches share (codesign/rtl/tile_sar.v, tile_flash.v,
tile_ramp.v, tile_cco.v: one ADC kind each, the same ports): the sampled values they convert, and the
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

from codesign.converters import (adc_compare, adc_convert, adc_lsb, adc_steps, sar_codes,
                                 sar_level)
from codesign.cycles import conversion_cycles

from ..tile_driver import pack_bits
from .scoreboard import fields, pack, random_word, settle, start, uint


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


# ---- the current-controlled oscillator (codesign/rtl/tile_cco.v, adckinds "cco") --------

def cco_edges(level: np.ndarray, bits: int, cumulative: np.ndarray) -> np.ndarray:
    """Oscillator periods completed in each cycle of an integration window, per converter:
    what the analog front end of a cco converter hands the counter (tile_cco's `edges`).

    level (n,): the window's integrated level in LSB (codesign.converters.sar_level of the
    model's value: the offset current maps the bottom of the range to 0 Hz, so a negative
    level makes no periods); cumulative (T,) or (T, n): the fraction of the window's
    charge delivered by the end of each cycle, nondecreasing, ending at exactly 1 (a
    constant current: (t + 1) / T). By the end of cycle t the oscillator has completed
    floor(level x cumulative[t]) periods, so over the window floor(level): the model's
    integrated level exactly. A cycle's field holds at most 2^bits - 1 periods; more than
    that in one cycle already takes the count past full scale, where it saturates."""
    level = np.maximum(np.asarray(level, dtype=np.float64), 0.0)
    cum = np.asarray(cumulative, dtype=np.float64)
    if cum.ndim == 1:
        cum = cum[:, None]
    assert cum[-1].min() == 1.0 and cum[-1].max() == 1.0, "the window must end at 1"
    done = np.floor(level[None, :] * cum).astype(np.int64)          # (T, n)
    per_cycle = np.diff(done, axis=0, prepend=0)
    return np.minimum(per_cycle, 2 ** bits - 1)


def constant_current(cycles: int) -> np.ndarray:
    """The cumulative charge fractions of a window of `cycles` cycles at a constant line
    current (amplitude and bit-serial phases; the bench's stand-in for pulse width too,
    whose count depends only on the window's total)."""
    return np.arange(1, cycles + 1, dtype=np.float64) / cycles


def varying_current(rng: np.random.Generator, cycles: int, n: int) -> np.ndarray:
    """(cycles, n) cumulative charge fractions of a current that changes from cycle to
    cycle (pulse-width inputs end at different times; bursts and quiet cycles)."""
    steps = rng.exponential(1.0, (cycles, n)) * (rng.random((cycles, n)) < 0.8)
    steps[-1] += 1e-3                      # never all zero
    cum = np.cumsum(steps, axis=0)
    cum /= cum[-1]
    cum[-1] = 1.0
    return cum


async def cco_bench(dut, cfg, board, idle: float = 0.2, max_window: int = 9) -> None:
    """Random windows on tile_cco: per conversion a window of 1 .. max_window cycles with
    `count` high, in which the bench plays the oscillators (cco_edges of the model's
    level, a current varying from cycle to cycle), idle cycles (count and go low, random
    edges the counters must ignore) anywhere, then the one latch cycle (`go`).

    Scoreboard per cycle: trial 0, `last` only in the latch cycle, `result` = every
    counter, which must equal the edges driven so far saturated at 2^BITS - 1 (the
    counter's contract); per conversion: the latched codes equal the model's converter
    (codesign.converters.adc_convert of kind cco) and its closed form (sar_codes), and
    the conversion cycles equal codesign.cycles.conversion_cycles; at the end: the
    conversions completed."""
    spec, rng = cfg.spec, cfg.rng
    assert spec.adc.kind == "cco", f"spec adc.kind {spec.adc.kind!r}, block kind 'cco'"
    adcs, bits = cfg.params["ADCS"], cfg.params["BITS"]
    top = 2 ** bits - 1
    board.equal("cycles", "model cycles per conversion", conversion_cycles(spec), 1)
    await start(dut, {"go": 0, "count": 0, "edges": 0})
    conversions = lasts = 0
    count = np.zeros(adcs, dtype=np.int64)             # what the counters must hold

    async def cycle(go: int, cnt: int, edges: np.ndarray, what: str,
                    reset: bool = False) -> None:
        nonlocal lasts
        dut.go.value, dut.count.value = go, cnt
        dut.edges.value = pack(edges, bits)
        await settle()
        board.equal("outputs", f"trial, {what}", uint(dut.trial), 0)
        board.equal("outputs", f"counts, {what}", fields(uint(dut.result), adcs, bits), count)
        last = uint(dut.last)
        if not reset:              # a reset abandons the conversion whatever `last` says
            lasts += last
            board.equal("cycles", f"last, {what}", last, go)
        await FallingEdge(dut.clk)
        board.cycles += 1

    for item in range(cfg.items):
        board.item = f"conversion {item}"
        value = sample_values(rng, adcs, spec)
        window = int(rng.integers(1, max_window + 1))
        cum = varying_current(rng, window, adcs) if rng.random() < 0.7 \
            else constant_current(window)
        edges = cco_edges(sar_level(value, spec), bits, cum)           # (window, ADCS)
        reset_at = int(rng.integers(0, window + 1)) if rng.random() < 0.15 else -1
        abandoned = False
        for t in range(window + 1):                    # window cycles, then the latch
            while rng.random() < idle:
                board.cover("idle cycles")
                await cycle(0, 0, rng.integers(0, top + 1, adcs), f"idle before {t}")
            if t == reset_at:
                dut.rst.value = 1
                await cycle(int(rng.integers(0, 2)), int(rng.integers(0, 2)),
                            rng.integers(0, top + 1, adcs), f"reset at {t}", reset=True)
                dut.rst.value = 0
                count[:] = 0
                board.cover("resets mid-conversion")
                abandoned = True
                break
            if t < window:
                await cycle(0, 1, edges[t], f"window cycle {t}")
                count = np.minimum(count + edges[t], top)
                board.cover("window cycles")
            else:
                codes = count.copy()
                await cycle(1, 0, rng.integers(0, top + 1, adcs), "latch")
                count[:] = 0
        if abandoned:
            continue
        conversions += 1
        board.items += 1
        board.equal("outputs", "codes = the model's converter", codes,
                    adc_convert(value, spec))
        board.equal("outputs", "codes = the model's closed form", codes,
                    sar_codes(value, spec))
        board.cover("codes at full scale", int((codes == top).sum()))
        board.cover("codes at zero", int((codes == 0).sum()))
        board.cover("cycles with a full field", int((edges == top).sum()))
    dut.go.value = dut.count.value = 0
    board.item = "end"
    board.equal("counters", "conversions completed (last pulses)", lasts, conversions)
    dut._log.info(f"{conversions} cco conversions of {adcs} x {bits} bits, "
                  f"{board.cycles} cycles, {board.mismatches} mismatches")
