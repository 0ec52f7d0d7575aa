"""The float32 weights a read presents to the array product, computed in one pass.

``weights32(cells)`` equals ``cells.weights().astype(np.float32)`` bit for bit
(tests/test_fast_core.py); for 2PCM+3T1C cells, whose read combines three device arrays,
it is one compiled pass over (G+, G-, g) instead of seven numpy passes.
"""
from __future__ import annotations

import numpy as np


def weights32(cells) -> np.ndarray:
    if getattr(cells, "kind", None) == "2pcm3t1c" and _contiguous(cells):
        from .. import kernels as K
        out = np.empty(cells.shape, dtype=np.float32)
        gp, gm = cells.plus.g.reshape(-1), cells.minus.g.reshape(-1)
        g, o = cells.cap.g.reshape(-1), out.reshape(-1)
        F, pol = float(cells.spec.cell.significance), float(cells.polarity)
        gs, scale, step = float(cells.g_shared), float(cells.scale), K.ELEM_CHUNK
        K.run_chunks(lambda a, b: K.weights32_2pcm3t1c(gp, gm, g, F, pol, gs, scale, o,
                                                        a * step, min(b * step, o.size)),
                     -(-o.size // step))
        return out
    return np.asarray(cells.weights()).astype(np.float32)


def _contiguous(cells) -> bool:
    return all(a.flags.c_contiguous and a.dtype == np.float64
               for a in (cells.plus.g, cells.minus.g, cells.cap.g))
