"""The float32 weights a read presents to the array product, computed in one pass.

``weights32(cells)`` equals ``cells.weights().astype(np.float32)`` bit for bit
(tests/test_fast_core.py). For a PCM pair (and the 4-PCM cell) it is one compiled pass
(kernels.pair_weights32) instead of three numpy passes. For 2PCM+3T1C cells, whose read
combines three device arrays, it is one compiled pass instead of seven numpy passes:
over F (G+ - G-), kept between reads while neither PCM changes (PCMArray.version), and
the capacitor's g, applying the capacitor's pending leakage on the way
(CapacitorArray.leak is lazy).
"""
from __future__ import annotations

import weakref

import numpy as np

from ..lazykernels import kernels_

_PCM_PART: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def weights32(cells) -> np.ndarray:
    kind = getattr(cells, "kind", None)
    if kind == "2pcm3t1c" and _fast(cells):
        return _weights32_2pcm3t1c(cells)
    if kind == "pcm-pair" and _pair_fast(cells):     # also the 4pcm-diff cell's class
        out = np.empty(cells.shape, dtype=np.float32)
        kernels_().pair_weights32(cells.plus.g.reshape(-1), cells.minus.g.reshape(-1),
                                  float(cells.scale), out.reshape(-1))
        return out
    return np.asarray(cells.weights()).astype(np.float32)


def _pair_fast(cells) -> bool:
    return all(a.g.flags.c_contiguous and a.g.dtype == np.float64 and
               a.g.shape == tuple(cells.shape) for a in (cells.plus, cells.minus))


def _fast(cells) -> bool:
    return all(hasattr(a, "version") for a in (cells.plus, cells.minus)) and \
        hasattr(cells.cap, "pending_decays") and \
        all(a.flags.c_contiguous and a.dtype == np.float64
            for a in (cells.plus.g, cells.minus.g, cells.cap._g))


def _pcm_part(cells, F: float) -> np.ndarray:
    """F (G+ - G-) as the read computes it, flat; recomputed when a PCM changed."""
    key = (cells.plus.version, cells.minus.version, id(cells.plus._g),
           id(cells.minus._g), F)
    hit = _PCM_PART.get(cells)
    if hit is None or hit[0] != key:
        hit = (key, (F * (cells.plus.g - cells.minus.g)).reshape(-1))
        _PCM_PART[cells] = hit
    return hit[1]


def _readout_parts(cells):
    """What a 2PCM+3T1C read-out needs, gathered once: the PCM part, the pending leak
    periods (taken over from the capacitor), the output array and the scalars."""
    cap = cells.cap
    F, pol = float(cells.spec.cell.significance), float(cells.polarity)
    base = _pcm_part(cells, F)
    decays = cap.pending_decays()
    out = np.empty(cells.shape, dtype=np.float32)
    return (base, decays, out, cap._g.reshape(-1), out.reshape(-1), pol,
            float(cells.g_shared), float(cells.scale))


def _weights32_2pcm3t1c(cells) -> np.ndarray:
    K = kernels_()
    base, decays, out, g, o, pol, gs, scale = _readout_parts(cells)
    step = K.ELEM_CHUNK
    for decay in decays[:-1]:
        K.leak_range(g, decay, gs, 0, g.size)
    if decays:
        last = decays[-1]

        def fn(a, b):
            K.leak_weights32(base, g, last, pol, gs, scale, o, a * step,
                             min(b * step, o.size))
    else:
        def fn(a, b):
            K.weights32(base, g, pol, gs, scale, o, a * step, min(b * step, o.size))
    K.run_chunks(fn, -(-o.size // step), ns=1.5 * o.size)
    return out


def weights32_deferred(cells):
    """weights32(cells) in two parts, for a pipelined update (codesign.tile): what the read
    needs is gathered now (the PCM part, the pending leak periods, which this takes over),
    and the returned function computes the weights on one thread, applying the leakage to
    the capacitor's g; nothing may touch the cells until it has run. None (nothing
    done) for cells without the compiled read-out."""
    if not (getattr(cells, "kind", None) == "2pcm3t1c" and _fast(cells)):
        return None
    K = kernels_()
    base, decays, out, g, o, pol, gs, scale = _readout_parts(cells)

    def run() -> np.ndarray:
        for decay in decays[:-1]:
            K.leak_range(g, decay, gs, 0, g.size)
        if decays:
            K.leak_weights32(base, g, decays[-1], pol, gs, scale, o, 0, o.size)
        else:
            K.weights32(base, g, pol, gs, scale, o, 0, o.size)
        return out
    return run


_NO_DECAY = np.empty(0)


def fused_parts(cells):
    """What a read-out fused into a batch-1 update needs (codesign.tile.AnalogTile.
    train_one, kernels.train_update_one): (base, decay, polarity, g_shared, scale) with
    base = F (G+ - G-) flat and decay one update period's leakage factor per device,
    flat (empty when leakage is off); the capacitor's pending leakage is applied first.
    None for cells without the compiled read-out."""
    if not (getattr(cells, "kind", None) == "2pcm3t1c" and _fast(cells)):
        return None
    cap = cells.cap
    if cap._pending:
        cap.flush_leak()
    decay = cap._decay(1).reshape(-1) if cap.spec.leak_updates > 0 else _NO_DECAY
    return (_pcm_part(cells, float(cells.spec.cell.significance)), decay,
            float(cells.polarity), float(cells.g_shared), float(cells.scale))
