"""Compiled kernels of the threaded mini-batch update (issue 11): the coincidence count,
the device normals and the capacitor response of one call shared by every thread.

A mini-batch update of 3T1C capacitors is three pieces of work over the row blocks of
the tile (codesign.pulses.ROW_BLOCK rows each): counting each block's pulses
(kernels.coincide_block), drawing one normal per pulsed device from the tile's
generator, in flat device order (a serial chain: block c's normals follow block c-1's in
the stream), and the devices' response (kernels.capacitor_pulses). The pieces run in two
phases, each a worker loop that every thread of the crew runs (kernels.run_chunks):

1. :func:`count_phase`: each thread takes the next uncounted block (an atomic counter),
   counts it into its place in the output (block c from c x per_block) and marks it
   counted; then whichever thread holds the chain's lock (a compare-and-swap) draws the
   normals of every counted block in order after the last drawn one (:func:`_extend_chain`),
   so the draws overlap the counting.
2. :func:`respond_phase`: each thread takes the next block, applies the capacitor's
   pending leakage to the block's devices (its rows: all its pulsed devices are among
   them) and then its devices' response. Blocks hold disjoint devices.

Between the phases a generator other than PCG64 draws the normals through numpy
(codesign.devices.capacitor.PulseStream). (The phases were once also needed because the
closed form's branch was decided over the whole call; since 2026-12-01 each device
decides its own, kernels._travel.)

:func:`draw_respond` serves a device response whose counts are known (CapacitorArray.pulses
with threads): each thread takes the next chunk of DEVICE_CHUNK devices, extends the chain
of normals up to it (or waits while another thread does), and responds it.

Who counts, draws or responds a block never changes a number: every block's counts land
in the same place, the normals are drawn in block order from one state, and every device
gets the same arithmetic (tests/test_minibatch_threads.py).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .kernels import __file__ as _kernels_file
from .kernels import (_JIT, DEPENDS, _atomic_add, _cpu_relax, capacitor_pulses, cas,
                      coincide_block, leak_range, pcg_normals, take)
from .numba_cache import flush_on_change

# ctl: the int64 control words of one call
NEXT = 0        # next block to take (counting, then responding)
LOCK = 1        # the chain's lock: 1 while a thread draws normals
DRAWN = 2       # blocks whose normals are drawn (a prefix: 0..DRAWN-1)
CTL_SIZE = 3


@nb.njit(**_JIT)
def _read(arr, k):
    """arr[k], sequentially consistent (an atomic add of 0): ordered after this
    thread's atomic steps before it (the lock's release)."""
    return _atomic_add(arr, k, 0)


@nb.njit(**_JIT)
def _extend_chain(ctl, ready, limit, nblk, base, z, st, ki, wi, fi, r_tail, inv_r):
    """Draw the normals of blocks DRAWN, DRAWN+1, ... while they are ready (counted) and
    below ``limit``, holding the chain's lock; a thread that finds the lock taken leaves
    (the holder looks again after releasing it, so a block made ready meanwhile is not
    left undrawn). Block c's normals go to z[base[c]:base[c] + nblk[c]]."""
    while True:
        if not cas(ctl, LOCK, 0, 1):
            return
        c = ctl[DRAWN]
        while c < limit and _read(ready, c) != 0:
            lo = base[c]
            pcg_normals(st, z[lo:lo + nblk[c]], ki, wi, fi, r_tail, inv_r)
            c += 1
            _atomic_add(ctl, DRAWN, 1)
        _atomic_add(ctl, LOCK, -1)
        if not (c < limit and _read(ready, c) != 0):
            return


@nb.njit(**_JIT)
def count_phase(ctl, ready, nblk, tot, rw, rneg, b0, b1, bl, ncol, rows, row_block, colw,
                idx, npos, nneg, per_block, draw, base, z, st, ki, wi, fi, r_tail, inv_r):
    """One thread's share of phase 1 (module doc): until every block is taken, count
    the next one (rows [c row_block, (c+1) row_block) into idx/npos/nneg from
    c per_block; nblk[c] devices, tot[c] pulses), mark it ready and, with ``draw``,
    extend the chain of normals."""
    n_blocks = ready.size
    while True:
        c = take(ctl, NEXT)
        if c >= n_blocks:
            break
        r0 = c * row_block
        lo = c * per_block
        n, t = coincide_block(rw, rneg, b0, b1, bl, ncol, r0, min(r0 + row_block, rows),
                              colw, idx, npos, nneg, lo)
        nblk[c] = n
        tot[c] = t
        _atomic_add(ready, c, 1)
        if draw:
            _extend_chain(ctl, ready, n_blocks, nblk, base, z, st, ki, wi, fi, r_tail,
                          inv_r)


@nb.njit(**_JIT)
def respond_phase(ctl, nblk, base, g, idx, up, down, z, gs, c2c, params, decays, span):
    """One thread's share of phase 2: until every block is taken, the next block's
    pending leakage (each row of decays, one period's factors, in turn; kernels.leak_range
    over the block's flat devices [c span, (c + 1) span)) and then the device response
    of its pulsed devices idx[base[c]:base[c] + nblk[c]] (all within that range)."""
    while True:
        c = take(ctl, NEXT)
        if c >= nblk.size:
            return
        f0 = c * span
        f1 = min(f0 + span, g.size)
        for p in range(decays.shape[0]):
            leak_range(g, decays[p], gs, f0, f1)
        lo = base[c]
        capacitor_pulses(g, idx, up, down, z, gs, c2c, params, lo, lo + nblk[c])


@nb.njit(**_JIT)
def draw_respond(ctl, ready, nblk, base, g, idx, up, down, z, gs, c2c, params, st, ki, wi,
                 fi, r_tail, inv_r):
    """One thread's share of a response whose counts are all known (ready all set):
    take the next chunk c, see its normals drawn (extend the chain up to c, or wait
    while the thread holding the chain draws it), respond it."""
    while True:
        c = take(ctl, NEXT)
        if c >= nblk.size:
            return
        while _read(ctl, DRAWN) <= c:
            _extend_chain(ctl, ready, c + 1, nblk, base, z, st, ki, wi, fi, r_tail, inv_r)
            if _read(ctl, DRAWN) <= c:
                _cpu_relax()
        lo = base[c]
        capacitor_pulses(g, idx, up, down, z, gs, c2c, params, lo, lo + nblk[c])


# these kernels carry codesign.kernels' compiled code and the constants it compiles in
# (numba_cache's module doc)
flush_on_change(globals(), [_kernels_file, *DEPENDS])
