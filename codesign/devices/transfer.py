"""Closed-loop program-and-verify of PCM pairs, row-parallel as the tile controller does it.

The hardware (rtl/, docs/rtl.md) walks the rows one after another and treats all columns
of a row in parallel: a start cycle (targets read, small-target columns RESET), then
verify and pulse cycles until every column is within tolerance or XFER_MAX_ITER pulse
cycles have passed. The physics is independent per cell, so the model iterates all rows
at once (a loop over iterations only) and accounts the rows' cycles as if sequential.

Verify decisions per active cell (what the RTL receives on its comparator ports):
  err_pos = target - (G+ - G-) >  tol     -> SET pulse on G+
  err_neg = target - (G+ - G-) < -tol     -> SET pulse on G-
  sat     = the device to be pulsed is above saturation * g_max -> RESET both (refresh)
Sources: Ambrogio et al. 2018 (closed-loop tuning, refresh), docs/cycles.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np



@dataclass
class TransferTrace:
    """Comparator answers per row and iteration, for the RTL bench to replay.
    start: (R, C) cells RESET in the start cycle; skip: (R, C) cells that take no part
    after it; err_pos/err_neg/sat: per iteration, (R, C) each."""
    start: np.ndarray
    skip: np.ndarray
    err_pos: list = field(default_factory=list)
    err_neg: list = field(default_factory=list)
    sat: list = field(default_factory=list)


@dataclass
class TransferStats:
    """What the rows did: verify and pulse cycles per row, and the verify comparisons,
    SET and RESET pulses in all. codesign.commands.transfer turns them into the
    command's cycles and events."""
    verifies_per_row: np.ndarray
    pulses_per_row: np.ndarray
    verify_reads: int
    set_pulses: int
    reset_pulses: int
    trace: TransferTrace | None = None


def program_pairs(plus, minus, target: np.ndarray, start_reset: np.ndarray,
                  start_done: np.ndarray, *, g_max: float, tol: float, saturation: float,
                  step: float, max_iter: int, rng: np.random.Generator,
                  trace: bool = False) -> TransferStats:
    """Program pairs (PCMArray plus/minus, shape (R, C)) so that G+ - G- ~ target (S).

    start_reset: cells RESET in the start cycle; start_done: cells that take no part
    after the start cycle. Mutates the devices; returns per-row verify/pulse counts,
    pulse and verify totals and, when asked, the trace of comparator answers.
    """
    rows = target.shape[0]
    reset_events = int(2 * start_reset.sum())
    if start_reset.any():
        plus.reset(start_reset, rng)
        minus.reset(start_reset, rng)
    active = ~start_done
    row_open = np.ones(rows, dtype=bool)
    verifies = np.zeros(rows, dtype=np.int64)
    pulses = np.zeros(rows, dtype=np.int64)
    sets = verify_reads = 0
    tr = TransferTrace(start=start_reset.copy(), skip=start_done.copy()) if trace else None
    sat_level = saturation * g_max
    while row_open.any():
        # verify cycle: every open row, even one whose columns are all done already
        verifies += row_open
        live = active & row_open[:, None]
        verify_reads += int(live.sum())
        err = target - (plus.g - minus.g)
        err_pos, err_neg = live & (err > tol), live & (err < -tol)
        sat = (err_pos & (plus.g > sat_level)) | (err_neg & (minus.g > sat_level))
        if tr is not None:
            tr.err_pos.append(err_pos)
            tr.err_neg.append(err_neg)
            tr.sat.append(sat)
        active = np.where(row_open[:, None], err_pos | err_neg, active)
        row_open &= active.any(axis=1)
        if not row_open.any():
            break
        # pulse cycle
        pulses += row_open
        live = active & row_open[:, None]
        do_reset = live & sat
        set_p = live & err_pos & ~sat
        set_m = live & err_neg & ~sat
        sets += int(set_p.sum() + set_m.sum())
        reset_events += int(2 * do_reset.sum())
        plus.reset(do_reset, rng)
        minus.reset(do_reset, rng)
        plus.set_pulses(set_p.astype(np.int64), rng, step=step)
        minus.set_pulses(set_m.astype(np.int64), rng, step=step)
        row_open &= pulses < max_iter
    return TransferStats(verifies, pulses, verify_reads, sets, reset_events, tr)
