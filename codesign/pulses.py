"""Update pulse trains: row and column bit streams whose coincidences update the cells.

Stochastic mode follows Gokmen & Vlasov (Front. Neurosci. 2016): row r fires in a slot
with probability |x_r| / 2^(DAC_BITS-1), column c with |d_c| / 2^(DAC_BITS-1); a cell
receives a pulse when both fire, so the expected pulse count is BL * p_r * q_c. Random
numbers come from one Galois LFSR per row and per column, so the RTL reproduces every
bit. Deterministic mode: row r fires in its first n_r slots, column c in m_c slots
spread evenly (Bresenham), giving about n_r * m_c / BL coincidences without randomness.
Loops here run over slots (time steps); rows and columns are vectorized.
"""
from __future__ import annotations

import numpy as np

from .spec import Spec

ROW_MIX = 0x9E3779B1   # golden-ratio constant: decorrelates per-row seeds (Knuth, TAOCP 6.4)
COL_MIX = 0x85EBCA6B   # MurmurHash3 finalizer constant, for per-column seeds


def lfsr_seeds(n: int, mix: int, spec: Spec) -> np.ndarray:
    """Seeds of n LFSRs: (SEED ^ ((i+1)*mix mod 2^32)) mod 2^W, all-ones if that is 0."""
    w = spec.update.lfsr_bits
    i = np.arange(1, n + 1, dtype=np.uint64)
    s = (np.uint64(spec.update.lfsr_seed) ^ ((i * np.uint64(mix)) & np.uint64(0xFFFFFFFF))) \
        & np.uint64(2 ** w - 1)
    return np.where(s == 0, np.uint64(2 ** w - 1), s).astype(np.uint64)


def lfsr_step(states: np.ndarray, spec: Spec) -> np.ndarray:
    """One Galois step (right shift, feedback mask LFSR_TAPS) of every state."""
    lsb = states & np.uint64(1)
    return (states >> np.uint64(1)) ^ (lsb * np.uint64(spec.update.lfsr_taps))


class PulseStreams:
    """The LFSR state of a tile's rows and columns; persists across updates, as in RTL."""

    def __init__(self, spec: Spec, rows: int | None = None, cols: int | None = None):
        self.spec = spec
        self.rows_state = lfsr_seeds(rows or spec.array.rows, ROW_MIX, spec)
        self.cols_state = lfsr_seeds(cols or spec.array.cols, COL_MIX, spec)

    def trains(self, x_mag: np.ndarray, d_mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fire patterns for one update: (BL, rows) and (BL, cols) booleans.

        x_mag, d_mag: DAC magnitude codes (0..2^(DAC_BITS-1)-1) of the row and column
        inputs. Stochastic mode advances the LFSR states by BL steps.
        """
        spec = self.spec
        bl, nb = spec.update.bl, spec.dac.bits - 1
        x_mag = np.asarray(x_mag, dtype=np.int64)
        d_mag = np.asarray(d_mag, dtype=np.int64)
        if spec.update.mode == "deterministic":
            t = np.arange(bl)[:, None]
            n = (x_mag * bl) >> nb
            m = (d_mag * bl) >> nb
            return t < n[None], ((t + 1) * m[None]) // bl > (t * m[None]) // bl
        shift = np.uint64(spec.update.lfsr_bits - nb)
        rows = np.empty((bl, x_mag.size), dtype=bool)
        cols = np.empty((bl, d_mag.size), dtype=bool)
        rs, cs = self.rows_state, self.cols_state
        for t in range(bl):
            rows[t] = (rs >> shift).astype(np.int64) < x_mag
            cols[t] = (cs >> shift).astype(np.int64) < d_mag
            rs, cs = lfsr_step(rs, spec), lfsr_step(cs, spec)
        self.rows_state, self.cols_state = rs, cs
        return rows, cols


def coincidences(rows: np.ndarray, row_neg: np.ndarray, cols: np.ndarray,
                 col_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Pulse counts per cell from stacked fire patterns.

    rows (K, R) and cols (K, C) are fire patterns over K slots (slots of several updates
    may be stacked); row_neg (K, R) / col_neg (K, C) say which fired lines carry a negative
    sign. Returns (n_pos, n_neg, total): per-cell counts of positive and negative pulses
    and the total pulse count. Two matrix products over the slot axis, no per-cell loop.
    """
    r = rows.astype(np.float32)
    c = cols.astype(np.float32)
    rs = np.where(row_neg, -r, r)
    cs = np.where(col_neg, -c, c)
    total = r.T @ c            # all coincidences
    net = rs.T @ cs            # positive minus negative
    n_pos = np.rint((total + net) * 0.5).astype(np.int64)
    n_neg = np.rint((total - net) * 0.5).astype(np.int64)
    return n_pos, n_neg, int(rows.sum(axis=1) @ cols.sum(axis=1))
