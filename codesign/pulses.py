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

import functools

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


# Largest LFSR whose whole sequence is tabulated (2^20 states, 8 MiB); wider LFSRs step.
TABLE_MAX_BITS = 20


@functools.lru_cache(maxsize=8)
def lfsr_sequence(bits: int, taps: int) -> tuple[np.ndarray, np.ndarray]:
    """The cycle through state 1 of a Galois LFSR: (seq, index) with seq[k] the state after
    k steps from 1 and index[state] its position in seq (-1 if not on that cycle). With a
    maximal-length polynomial every non-zero state is on it, so the state of any LFSR after
    t steps is seq[(index[seed] + t) % period]: one gather replaces t steps."""
    seq = []
    state = 1
    while True:
        seq.append(state)
        state = (state >> 1) ^ (taps if state & 1 else 0)
        if state == 1 or len(seq) > 2 ** bits:
            break
    seq_arr = np.array(seq, dtype=np.int64)
    index = np.full(2 ** bits, -1, dtype=np.int64)
    index[seq_arr] = np.arange(seq_arr.size)
    return seq_arr, index


class PulseStreams:
    """The LFSR state of a tile's rows and columns; persists across updates, as in RTL."""

    def __init__(self, spec: Spec, rows: int | None = None, cols: int | None = None):
        self.spec = spec
        self.rows_state = lfsr_seeds(rows or spec.array.rows, ROW_MIX, spec)
        self.cols_state = lfsr_seeds(cols or spec.array.cols, COL_MIX, spec)
        self._table = None
        u = spec.update
        if u.mode == "stochastic" and u.lfsr_bits <= TABLE_MAX_BITS:
            seq, index = lfsr_sequence(u.lfsr_bits, u.lfsr_taps)
            seeds = np.concatenate([self.rows_state, self.cols_state]).astype(np.int64)
            if (index[seeds] >= 0).all():
                self._table = seq
                self._pos_rows = index[self.rows_state.astype(np.int64)]
                self._pos_cols = index[self.cols_state.astype(np.int64)]

    def trains(self, x_mag: np.ndarray, d_mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fire patterns of consecutive updates, stacked in time order.

        x_mag (B, rows), d_mag (B, cols): DAC magnitude codes (0..2^(DAC_BITS-1)-1) of
        each example's row and column inputs (1-D arrays are one example). Returns
        booleans (B*BL, rows) and (B*BL, cols): example b occupies slots b*BL .. b*BL+BL-1.
        Stochastic mode advances the LFSR states by B*BL steps.
        """
        spec = self.spec
        bl, nb = spec.update.bl, spec.dac.bits - 1
        x_mag = np.atleast_2d(np.asarray(x_mag, dtype=np.int64))
        d_mag = np.atleast_2d(np.asarray(d_mag, dtype=np.int64))
        batch = x_mag.shape[0]
        if spec.update.mode == "deterministic":
            t = np.arange(bl)[None, :, None]
            n = ((x_mag * bl) >> nb)[:, None, :]
            m = ((d_mag * bl) >> nb)[:, None, :]
            rows = np.broadcast_to(t < n, (batch, bl, x_mag.shape[1]))
            cols = ((t + 1) * m) // bl > (t * m) // bl
            return rows.reshape(batch * bl, -1), cols.reshape(batch * bl, -1)
        shift = spec.update.lfsr_bits - nb
        steps = batch * bl
        if self._table is not None:
            period = self._table.size
            t = np.arange(steps)[:, None]
            top = self._table >> shift
            rows = top[(self._pos_rows[None] + t) % period] < np.repeat(x_mag, bl, axis=0)
            cols = top[(self._pos_cols[None] + t) % period] < np.repeat(d_mag, bl, axis=0)
            self._pos_rows = (self._pos_rows + steps) % period
            self._pos_cols = (self._pos_cols + steps) % period
            self.rows_state = self._table[self._pos_rows].astype(np.uint64)
            self.cols_state = self._table[self._pos_cols].astype(np.uint64)
            return rows, cols
        rows = np.empty((steps, x_mag.shape[1]), dtype=bool)
        cols = np.empty((steps, d_mag.shape[1]), dtype=bool)
        rs, cs = self.rows_state, self.cols_state
        xs, ds = np.repeat(x_mag, bl, axis=0), np.repeat(d_mag, bl, axis=0)
        for k in range(steps):       # a loop over time slots
            rows[k] = (rs >> np.uint64(shift)).astype(np.int64) < xs[k]
            cols[k] = (cs >> np.uint64(shift)).astype(np.int64) < ds[k]
            rs, cs = lfsr_step(rs, spec), lfsr_step(cs, spec)
        self.rows_state, self.cols_state = rs, cs
        return rows, cols


def coincidences(rows: np.ndarray, row_neg: np.ndarray, cols: np.ndarray,
                 col_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Pulse counts per cell from stacked fire patterns.

    rows (K, R) and cols (K, C) are fire patterns over K slots (slots of several updates
    may be stacked); row_neg (K, R) / col_neg (K, C) say which fired lines carry a negative
    sign. Returns (n_pos, n_neg, total): per-cell counts of positive and negative pulses
    (int32) and the total pulse count. Two matrix products over the slot axis: all
    coincidences T = r^T c and signed ones S = (+-r)^T (+-c); then n_pos = (T + S) / 2 and
    n_neg = (T - S) / 2. Exact in float32 below 2^24 coincidences per cell.
    """
    r = rows.astype(np.float32)
    c = cols.astype(np.float32)
    total = r.T @ c
    np.negative(r, out=r, where=row_neg)
    np.negative(c, out=c, where=col_neg)
    net = r.T @ c
    n_pos = total + net
    n_pos *= 0.5
    total -= net
    total *= 0.5
    count = int(rows.sum(axis=1, dtype=np.int64) @ cols.sum(axis=1, dtype=np.int64))
    return n_pos.astype(np.int32), total.astype(np.int32), count
