"""Update pulse trains: row and column bit streams whose coincidences update the cells.

Stochastic mode follows Gokmen & Vlasov (Front. Neurosci. 2016): row r fires in a slot
with probability |x_r| / 2^(DAC_BITS-1), column c with |d_c| / 2^(DAC_BITS-1); a cell
receives a pulse when both fire, so the expected pulse count is BL * p_r * q_c. Random
numbers come from Galois LFSRs, so the RTL reproduces every bit: one per row and per
column (update.rng per_line), or one per update.rng_lines consecutive rows (columns),
each line of the group comparing its own bit window of the shared state (shared; see
:func:`rng_windows`). Deterministic mode: row r fires in its first n_r slots, column c in m_c slots
spread evenly (Bresenham), giving about n_r * m_c / BL coincidences without randomness.

Two implementations of the same bits:
- the fast core (issue 11, what the tile runs): every line's train is packed into 64-bit
  words (bit t of word w = slot 64 w + t), and a cell's pulses are counted pulse by pulse:
  for every slot a row fires in, the columns firing in that slot (a list per slot, split
  by sign) each add one pulse, positive where the signs agree. Work and memory follow the
  pulses sent, not rows x cols x slots; only the cells that received pulses come out, in
  flat order, as :class:`PulseCounts` (codesign.kernels);
- the reference (:meth:`PulseStreams.trains` and :func:`coincidences`): boolean trains
  (slots x lines) and two float32 products over the slot axis. Kept as the oracle the
  fast core is tested against (tests/test_fast_core.py).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from .lazykernels import kernels_
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


def rng_windows(spec: Spec) -> np.ndarray:
    """Right shifts of the bit windows that the lines of one LFSR compare: line k of a
    group (k = line mod spec.lfsr_lines) compares (state >> shifts[k]) & (2^(DAC_BITS-1)
    - 1). Window 0 is the top DAC_BITS-1 bits (the per-line variant's only window); the
    others step down by (LFSR_BITS - DAC_BITS + 1) // (lfsr_lines - 1) bits, so the
    windows spread over the whole state and are all distinct (spec validation bounds
    lfsr_lines). In a right-shifting Galois LFSR a lower window is close to a delayed
    copy of a higher one (bits move down one place per step, XOR-ed at the taps), so the
    lines of a group see the same sequence at different phases; docs/rtl.md."""
    top = spec.update.lfsr_bits - (spec.dac.bits - 1)
    n = spec.lfsr_lines
    step = top // (n - 1) if n > 1 else 0
    return (top - step * np.arange(n)).astype(np.int64)


def line_rng(n: int, mix: int, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """(seed, window) of each of n lines: lines l share generator l // lfsr_lines, whose
    seed is lfsr_seeds' entry for that generator, and compare window l mod lfsr_lines."""
    lines = np.arange(n)
    per = spec.lfsr_lines
    return lfsr_seeds(-(-n // per), mix, spec)[lines // per], lines % per


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


@functools.lru_cache(maxsize=8)
def _top_table(bits: int, taps: int, shifts: tuple, mask: int, bl: int) -> np.ndarray:
    """The compare values (state >> shift) & mask along the LFSR cycle, for each shift
    one after another, each extended by BL entries (wrapping around) so that any BL
    consecutive slots are one contiguous range (window k starts at k (period + BL))."""
    seq, _ = lfsr_sequence(bits, taps)
    reps = -(-(seq.size + bl) // seq.size)
    return np.ascontiguousarray(np.concatenate(
        [np.tile((seq >> sh) & mask, reps)[:seq.size + bl] for sh in shifts]
    ).astype(np.int32))


@functools.lru_cache(maxsize=8)
def _top8_table(bits: int, taps: int, shifts: tuple, mask: int, bl: int) -> np.ndarray:
    """_top_table's compare values as bytes (mask < 256), each window extended by
    64 ceil(BL / 64) entries (what kernels.trains_lt reads past a train's start): one
    byte per slot, 8 windows of a 16-bit LFSR in 0.5 MiB where the fire-bit table takes
    8 MiB (one bit per slot and code)."""
    seq, _ = lfsr_sequence(bits, taps)
    span = seq.size + 64 * -(-bl // 64)
    reps = -(-span // seq.size)
    return np.ascontiguousarray(np.concatenate(
        [np.tile((seq >> sh) & mask, reps)[:span] for sh in shifts]).astype(np.uint8))


FIRE_BITS_MAX_BYTES = 16 << 20


@functools.lru_cache(maxsize=4)
def _fire_bits(bits: int, taps: int, shifts: tuple, bl: int, codes: int) -> np.ndarray | None:
    """For every window k and magnitude code m < `codes`, the bits (top_k < m) along the
    extended cycle, packed little-endian in uint64 words (row k codes + m; windows x
    codes rows); None above 16 MiB."""
    top = _top_table(bits, taps, shifts, codes - 1, bl).reshape(len(shifts), -1)
    words = -(-top.shape[1] // 64) + 1
    if len(shifts) * codes * words * 8 > FIRE_BITS_MAX_BYTES:
        return None
    out = np.zeros((len(shifts) * codes, words * 8), dtype=np.uint8)
    for k in range(len(shifts)):        # a loop over the few windows and codes
        for m in range(1, codes):
            packed = np.packbits(top[k] < m, bitorder="little")
            out[k * codes + m, :packed.size] = packed
    return out.view(np.uint64)


class PulseStreams:
    """The LFSR state of a tile's rows and columns; persists across updates, as in RTL.
    Every line holds the state of its generator (lines sharing one hold equal states and
    step together) and compares its own bit window (row_shift, col_shift). With a
    tabulated LFSR the state is kept as positions on its cycle (rows_state and cols_state
    read them back)."""

    def __init__(self, spec: Spec, rows: int | None = None, cols: int | None = None):
        self.spec = spec
        self.buffers = CountBuffers()      # output space of the coincidence counts
        self._table = None
        self._top8 = None
        self.mask = 2 ** (spec.dac.bits - 1) - 1
        self.rows_state, row_window = line_rng(rows or spec.array.rows, ROW_MIX, spec)
        self.cols_state, col_window = line_rng(cols or spec.array.cols, COL_MIX, spec)
        u = spec.update
        if u.mode == "stochastic" and u.lfsr_bits <= TABLE_MAX_BITS:
            seq, index = lfsr_sequence(u.lfsr_bits, u.lfsr_taps)
            seeds = np.concatenate([self._rows_state, self._cols_state]).astype(np.int64)
            if (index[seeds] >= 0).all():
                self._pos_rows = index[self._rows_state.astype(np.int64)]
                self._pos_cols = index[self._cols_state.astype(np.int64)]
                self._table = seq
                key = (u.lfsr_bits, u.lfsr_taps, tuple(int(v) for v in rng_windows(spec)))
                self._top = _top_table(*key, self.mask, u.bl)
                self._bits = _fire_bits(*key, u.bl, self.mask + 1)
                # packed()'s trains from byte compares (codes below 256); the fire-bit
                # table serves count_one
                self._top8 = _top8_table(*key, self.mask, u.bl) if self.mask < 256 \
                    else None
        self.set_windows(row_window, col_window)

    def set_windows(self, row_window: np.ndarray, col_window: np.ndarray) -> None:
        """Which bit window (index into rng_windows) each row and column compares. The
        constructor sets the design's (line mod update.rng_lines); the parity bench sets
        a wrong one on purpose to show that it catches a broken shared generator."""
        shifts = rng_windows(self.spec)
        self.row_window, self.col_window = np.asarray(row_window), np.asarray(col_window)
        self.row_shift, self.col_shift = shifts[self.row_window], shifts[self.col_window]
        if self._table is not None:
            # where each line's window starts in _top (entries) and _bits (rows)
            span = self._table.size + self.spec.update.bl
            self._off_top = (self.row_window * span, self.col_window * span)
            self._off_bits = (self.row_window * (self.mask + 1),
                              self.col_window * (self.mask + 1))
            if self._top8 is not None:
                span8 = self._top8.size // len(shifts)
                self._off_top8 = (self.row_window * span8, self.col_window * span8)

    @property
    def rows_state(self) -> np.ndarray:
        if self._table is not None:
            return self._table[self._pos_rows].astype(np.uint64)
        return self._rows_state

    @rows_state.setter
    def rows_state(self, value) -> None:
        self._rows_state = value

    @property
    def cols_state(self) -> np.ndarray:
        if self._table is not None:
            return self._table[self._pos_cols].astype(np.uint64)
        return self._cols_state

    @cols_state.setter
    def cols_state(self, value) -> None:
        self._cols_state = value

    def packed(self, x_mag: np.ndarray, d_mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The trains of :meth:`trains`, packed: uint64 words (rows, B, W) and
        (cols, B, W), W = ceil(BL / 64), bit t of word w = slot 64 w + t of that example
        (a line's examples contiguous). Advances the LFSR states exactly as :meth:`trains`
        does."""
        K = kernels_()
        spec = self.spec
        bl, nb = spec.update.bl, spec.dac.bits - 1
        x_mag = np.ascontiguousarray(np.atleast_2d(x_mag).T, dtype=np.int64)   # (n, B)
        d_mag = np.ascontiguousarray(np.atleast_2d(d_mag).T, dtype=np.int64)
        batch, nw = x_mag.shape[1], -(-bl // 64)
        rw = np.empty((x_mag.shape[0], batch, nw), dtype=np.uint64)
        cw = np.empty((d_mag.shape[0], batch, nw), dtype=np.uint64)
        if spec.update.mode == "deterministic":
            K.trains_deterministic(x_mag, bl, nb, True, rw)
            K.trains_deterministic(d_mag, bl, nb, False, cw)
            return rw, cw
        steps = batch * bl
        if self._table is not None:
            period = self._table.size
            bits, top, top8 = self._bits, self._top, self._top8
            offs = self._off_top8 if top8 is not None else \
                self._off_bits if bits is not None else self._off_top
            jobs = [(self._pos_rows, offs[0], x_mag, rw), (self._pos_cols, offs[1], d_mag, cw)]

            def one(pos, off, mag, out) -> None:
                if top8 is not None:
                    K.trains_lt(top8, off, pos, mag, bl, period, out)
                elif bits is not None:
                    K.trains_bits(bits, off, pos, mag, bl, period, out)
                else:
                    K.trains_table(top, off, pos, mag, bl, period, out)
            if K.get_threads() == 1 or 2.0 * batch * (rw.shape[0] + cw.shape[0]) < \
                    K.PARALLEL_NS:
                for job in jobs:
                    one(*job)
            else:      # chunks of LINE_BLOCK lines (rows, then columns) over threads
                blocks = [(j, a, min(a + LINE_BLOCK, m.shape[0])) for j, (_, _, m, _) in
                          enumerate(jobs) for a in range(0, m.shape[0], LINE_BLOCK)]

                def run(lo: int, hi: int) -> None:
                    for j, a, b in blocks[lo:hi]:
                        pos, off, mag, out = jobs[j]
                        one(pos[a:b], off[a:b], mag[a:b], out[a:b])
                K.run_chunks(run, len(blocks), ns=2.0 * batch * (rw.shape[0] + cw.shape[0]))
            self._pos_rows = (self._pos_rows + steps) % period
            self._pos_cols = (self._pos_cols + steps) % period
            return rw, cw
        taps = spec.update.lfsr_taps
        rs, cs = self.rows_state.copy(), self.cols_state.copy()
        K.trains_step(rs, x_mag, bl, self.row_shift, self.mask, taps, rw)
        K.trains_step(cs, d_mag, bl, self.col_shift, self.mask, taps, cw)
        self.rows_state, self.cols_state = rs, cs
        return rw, cw

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
        steps = batch * bl
        mask = self.mask
        if self._table is not None:
            period, seq = self._table.size, self._table
            t = np.arange(steps)[:, None]
            rows = (seq[(self._pos_rows[None] + t) % period] >> self.row_shift) & mask \
                < np.repeat(x_mag, bl, axis=0)
            cols = (seq[(self._pos_cols[None] + t) % period] >> self.col_shift) & mask \
                < np.repeat(d_mag, bl, axis=0)
            self._pos_rows = (self._pos_rows + steps) % period
            self._pos_cols = (self._pos_cols + steps) % period
            self.rows_state = self._table[self._pos_rows].astype(np.uint64)
            self.cols_state = self._table[self._pos_cols].astype(np.uint64)
            return rows, cols
        rows = np.empty((steps, x_mag.shape[1]), dtype=bool)
        cols = np.empty((steps, d_mag.shape[1]), dtype=bool)
        rs, cs = self.rows_state, self.cols_state
        xs, ds = np.repeat(x_mag, bl, axis=0), np.repeat(d_mag, bl, axis=0)
        rsh, csh, m64 = (self.row_shift.astype(np.uint64), self.col_shift.astype(np.uint64),
                         np.uint64(mask))
        for k in range(steps):       # a loop over time slots
            rows[k] = ((rs >> rsh) & m64).astype(np.int64) < xs[k]
            cols[k] = ((cs >> csh) & m64).astype(np.int64) < ds[k]
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


# ---- the fast core: update management, sparse counts, one update applied ------------
UPDATE_MODES = ("exact", "minibatch")


def pulse_codes_reference(x: np.ndarray, d: np.ndarray, lr: float, dw: float,
                          spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """DAC magnitude codes of an update (aihwkit's update management, see
    codesign.tile.AnalogTile.update), per example: with K = |lr| / (BL dw),
    p = |x| sqrt(K max|d| / max|x|), q = |d| sqrt(K max|x| / max|d|), codes
    clip(rint(p 2^(DAC_BITS-1)), 0, MAXC). The numpy oracle of :func:`pulse_codes`."""
    nb = spec.dac.bits - 1
    maxc = 2 ** nb - 1
    k = abs(lr) / (spec.update.bl * dw)
    xm = np.abs(x).max(axis=1, keepdims=True)
    dm = np.abs(d).max(axis=1, keepdims=True)
    ok = (xm > 0) & (dm > 0)
    sx = np.sqrt(k * np.where(ok, dm / np.where(ok, xm, 1), 0))
    sd = np.sqrt(k * np.where(ok, xm / np.where(ok, dm, 1), 0))
    x_mag = np.clip(np.rint(np.abs(x) * sx * 2 ** nb), 0, maxc).astype(np.int64)
    d_mag = np.clip(np.rint(np.abs(d) * sd * 2 ** nb), 0, maxc).astype(np.int64)
    return x_mag, d_mag


def pulse_codes(x: np.ndarray, d: np.ndarray, lr: float, dw: float,
                spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pulse_codes_reference`, compiled (the same operations, bit for bit)."""
    K = kernels_()
    nb = spec.dac.bits - 1
    x = np.ascontiguousarray(x, dtype=np.float64)
    d = np.ascontiguousarray(d, dtype=np.float64)
    # (B, lines) views of line-major memory: PulseStreams.packed reads the codes line by
    # line, and their transposes are then its input without a copy
    x_mag = np.empty(x.shape[::-1], dtype=np.int64).T
    d_mag = np.empty(d.shape[::-1], dtype=np.int64).T
    k = abs(lr) / (spec.update.bl * dw)
    K.pulse_codes(x, d, k, float(2 ** nb), float(2 ** nb - 1), x_mag, d_mag)
    return x_mag, d_mag


class PulseCounts(NDArrayOperatorsMixin):
    """Pulse counts of one sign per cell, held sparsely: ``idx`` (sorted flat indices of
    the cells that received pulses of either sign) and ``counts`` (int32, this sign's
    count at each, possibly 0). Device code that knows it (capacitor, PCM) reads the
    sparse form; anything else sees a dense int32 array of ``shape`` (numpy functions,
    operators, attributes and indexing all go to the dense array, built once)."""

    def __init__(self, shape: tuple, idx: np.ndarray, counts: np.ndarray):
        self.shape = tuple(shape)
        self.idx = idx
        self.counts = counts
        self._dense = None

    def dense(self) -> np.ndarray:
        if self._dense is None:
            out = np.zeros(self.shape, dtype=np.int32)
            out.ravel()[self.idx] = self.counts
            self._dense = out
        return self._dense

    def pulsed(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat indices, counts) of the cells with at least one pulse of this sign."""
        keep = self.counts > 0
        return self.idx[keep], self.counts[keep]

    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d if dtype is None else d.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(i.dense() if isinstance(i, PulseCounts) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dense(), name)

    def __getitem__(self, key):
        return self.dense()[key]

    def __len__(self) -> int:
        return self.shape[0]


class UpdateCodes(Mapping):
    """The digital side of an UPDATE (OpResult.codes): ``x_mag``, ``d_mag`` (DAC
    magnitude codes) and ``row_fire``, ``col_fire`` (booleans, slots x lines, time
    order), the latter unpacked from the packed trains only when asked for."""

    KEYS = ("x_mag", "d_mag", "row_fire", "col_fire")

    def __init__(self, x_mag, d_mag, row_words, col_words, bl: int):
        self._values = {"x_mag": x_mag, "d_mag": d_mag}
        self._words = {"row_fire": row_words, "col_fire": col_words}
        self._bl = bl

    def __getitem__(self, key):
        if key not in self._values:
            if key not in self._words:
                raise KeyError(key)
            K = kernels_()
            words = self._words[key]
            out = np.empty((words.shape[1] * self._bl, words.shape[0]), dtype=bool)
            K.unpack_trains(words, self._bl, out)
            self._values[key] = out
        return self._values[key]

    def __iter__(self):
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)


ROW_BLOCK = 32   # rows per chunk of the coincidence count (threads take whole chunks)
LINE_BLOCK = 64  # lines per chunk of the pulse trains


class RowBlocks(NamedTuple):
    """What kernels.coincide_block needs to count coincide's row blocks (block c: rows
    [c row_block, (c + 1) row_block), its cells written from c per_block into idx, npos,
    nneg), for a stream that counts them itself (kernels_minibatch.count_phase takes
    these fields in this order)."""
    row_words: np.ndarray
    row_neg: np.ndarray
    b0: int
    b1: int
    bl: int
    cols: int
    rows: int
    row_block: int
    col_words: np.ndarray      # kernels.column_words (keys, column groups, 2)
    idx: np.ndarray
    npos: np.ndarray
    nneg: np.ndarray
    per_block: int

    @property
    def n_blocks(self) -> int:
        return -(-self.rows // self.row_block)


class CountBuffers:
    """Output space of :func:`coincide`, kept between calls (fresh pages cost more than
    the counting at large sizes). The PulseCounts of one call are views into it, valid
    until the next call with the same buffers (apply_update consumes them at once)."""

    def __init__(self):
        self.size = 0
        self.idx = np.empty(0, dtype=np.int64)
        self.npos = np.empty(0, dtype=np.int32)
        self.nneg = np.empty(0, dtype=np.int32)
        self.pos = np.empty(0, dtype=np.int32)
        self.words = np.empty(0, dtype=np.uint64)

    def get(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if size > self.size:
            self.size = max(size, 2 * self.size)
            self.idx = np.empty(self.size, dtype=np.int64)
            self.npos = np.empty(self.size, dtype=np.int32)
            self.nneg = np.empty(self.size, dtype=np.int32)
        return self.idx, self.npos, self.nneg

    def column_words(self, shape: tuple) -> np.ndarray:
        """uint64 space of kernels.column_words' output, of this shape."""
        n = int(np.prod(shape))
        if n > self.words.size:
            self.words = np.empty(max(n, 2 * self.words.size), dtype=np.uint64)
        return self.words[:n].reshape(shape)

    def scratch(self, size: int) -> np.ndarray:
        """int32 work space of coincide_fires (the compacted row words)."""
        if size > self.pos.size:
            self.pos = np.empty(max(size, 2 * self.pos.size), dtype=np.int32)
        return self.pos[:size]


EXAMPLE_BLOCK = 32   # examples per chunk of the column words
# the sparse mini-batch path (kernels.coincide_fires, row by row over the column lists)
# while the column trains are at most this many words and their fires this many list
# entries (256 KiB: the lists stay in cache while every row fire reads its slot's);
# denser batches count in row blocks (kernels.coincide_block), from the column words
FIRES_MAX_WORDS = 1 << 16
FIRES_MAX_CODES = 1 << 16


def _blocked(examples: tuple[int, int], bl: int) -> bool:
    """Whether coincide counts these examples in row blocks (many examples; 16-bit counts
    per call)."""
    b0, b1 = examples
    return 4 < b1 - b0 and (b1 - b0) * bl < 1 << 16


def counts_shared(examples: tuple[int, int], bl: int, shape: tuple[int, int]) -> bool:
    """Whether :func:`coincide` hands a stream the count of these examples (when it does
    not take the sparse mini-batch path): the dense row-block count, more than one
    block, threads set and work enough for them (about 3 ns per cell and block row)."""
    K = kernels_()
    rows, cols = shape
    return _blocked(examples, bl) and rows > ROW_BLOCK and K.get_threads() > 1 and \
        3.0 * rows * cols >= K.PARALLEL_NS


def row_blocks(row_words, row_neg, examples: tuple[int, int], bl: int,
               shape: tuple[int, int], col_words, buffers: CountBuffers | None = None
               ) -> RowBlocks:
    """The dense row-block count of :func:`coincide` for a stream that counts it itself
    (its ROW_BLOCK x cols cells per block in the buffers), from the column words
    (:func:`column_words`)."""
    rows, cols = shape
    per_block = ROW_BLOCK * cols
    idx, npos, nneg = (buffers or CountBuffers()).get(-(-rows // ROW_BLOCK) * per_block)
    return RowBlocks(row_words, row_neg, *examples, bl, cols, rows, ROW_BLOCK, col_words,
                     idx, npos, nneg, per_block)


def column_words(K, col_words, col_neg, b0: int, b1: int, bl: int,
                 buffers: CountBuffers | None = None) -> np.ndarray:
    """kernels.column_words of examples [b0, b1): the columns firing in each example and
    slot as bit words per group of 64 columns and sign, EXAMPLE_BLOCK examples per chunk,
    over threads when the batch is large (each chunk writes its own keys)."""
    shape = ((b1 - b0) * bl, -(-col_words.shape[0] // 64), 2)
    out = (buffers or CountBuffers()).column_words(shape)
    n_chunks = -(-(b1 - b0) // EXAMPLE_BLOCK)

    def run(a: int, b: int) -> None:
        K.column_words(col_words, col_neg, b0, b1, bl, b0 + a * EXAMPLE_BLOCK,
                       min(b0 + b * EXAMPLE_BLOCK, b1), out)
    # about 150 ns per transpose of 64 columns' words (measured, one thread)
    K.run_chunks(run, n_chunks, ns=150.0 * shape[1] * (b1 - b0) * col_words.shape[2])
    return out


def coincide(row_words, row_neg, col_words, col_neg, examples: tuple[int, int], bl: int,
             shape: tuple[int, int], buffers: CountBuffers | None = None, stream=None
             ) -> tuple[PulseCounts, PulseCounts, int]:
    """Pulse counts of the examples [b0, b1) together, from packed trains (lines, B, W)
    and signs (lines, B; uint8, 1 = negative): positive and negative counts of every cell
    that received pulses (sharing one sorted index), and the total number of pulses. The
    sparse equivalent of :func:`coincidences`.

    Few examples: row by row, each slot a row fires in adds its columns (work follows the
    pulses). Many with few pulses (training's mini-batches): the same row by row, over the
    non-zero words only (kernels.coincide_fires). Many with many pulses: blocks of
    ROW_BLOCK rows, each row's fires adding their slot's column words 64 columns at a
    time (kernels.coincide_block, column_words). Threads
    take contiguous ranges of row blocks; every range writes its own part of the output,
    joined in row order, so threads never change the result.

    ``stream`` (optional, a cells' response that takes the count over, e.g.
    codesign.devices.capacitor.PulseStream): where the row blocks are counted on threads,
    ``stream.run(RowBlocks(...))`` counts them instead, together with the device
    response (every thread counts, draws normals and responds; kernels_minibatch), and
    returns the total pulses; the counts are then consumed and (None, None, total
    pulses) is returned. Otherwise the stream is not touched."""
    K = kernels_()
    b0, b1 = examples
    rows, cols = shape
    blocked = _blocked(examples, bl)
    if not blocked and K.get_threads() == 1:               # one call, sized outputs
        idx, npos, nneg, total = K.coincide_sparse(row_words, row_neg, col_words, col_neg,
                                                   b0, b1, bl)
        return PulseCounts(shape, idx, npos), PulseCounts(shape, idx, nneg), int(total)
    if blocked and col_words.shape[0] * (b1 - b0) * col_words.shape[2] <= FIRES_MAX_WORDS:
        start, lists = K.column_csr(col_words, col_neg, b0, b1, bl)
        if lists.size <= FIRES_MAX_CODES:
            return _coincide_fires(K, row_words, row_neg, (b0, b1), bl, shape, start, lists,
                                   buffers or CountBuffers())
    if blocked:
        colw = column_words(K, col_words, col_neg, b0, b1, bl, buffers)
        if stream is not None and counts_shared(examples, bl, shape):
            return None, None, int(stream.run(row_blocks(row_words, row_neg, (b0, b1), bl,
                                                         shape, colw, buffers)))
        return _coincide_blocks(K, row_words, row_neg, (b0, b1), bl, shape, colw,
                                buffers or CountBuffers())
    start, lists, bitmap = K.column_lists(col_words, col_neg, b0, b1, bl, True)
    # few examples: count the pulses to size the output
    pulses = K.pulse_total(row_words, b0, b1, bl, start)
    n_chunks = -(-rows // ROW_BLOCK)
    per_block = min(ROW_BLOCK * cols, pulses)      # pulsed cells of a block, at most
    dense = per_block == ROW_BLOCK * cols
    size = n_chunks * per_block if dense else min(rows * cols, pulses)
    idx, npos, nneg = (buffers or CountBuffers()).get(size)
    parts: dict[int, tuple[int, int, int]] = {}

    def run(a: int, b: int) -> None:
        base = 0 if a == 0 else min(a * per_block, size)
        r0, r1 = a * ROW_BLOCK, min(b * ROW_BLOCK, rows)
        n, tot = K.coincide_rows(row_words, row_neg, b0, b1, bl, cols, r0, r1, start,
                                 lists, bitmap, idx, npos, nneg, base)
        parts[a] = (base, n, tot)

    # threads only when there are many pulses (they, not the cells, set the cost), and
    # then each range's output starts where its first block's may start
    # about 3 ns per pulse; threads only with the output laid out per block (dense)
    K.run_chunks(run, n_chunks, ns=3.0 * pulses if dense else 0.0)
    return _joined(shape, idx, npos, nneg, parts)


def _coincide_blocks(K, row_words, row_neg, examples, bl, shape, colw, buffers):
    """coincide's dense mini-batch path (kernels.coincide_block): threads take
    contiguous ranges of ROW_BLOCK-row blocks, block c writing from c ROW_BLOCK cols in
    the output, joined in row order."""
    (b0, b1), (rows, cols) = examples, shape
    n_chunks = -(-rows // ROW_BLOCK)
    per_block = ROW_BLOCK * cols
    idx, npos, nneg = buffers.get(n_chunks * per_block)
    parts: dict[int, tuple[int, int, int]] = {}

    def run(a: int, b: int) -> None:
        out, tot = a * per_block, 0
        for c in range(a, b):
            r0, r1 = c * ROW_BLOCK, min((c + 1) * ROW_BLOCK, rows)
            n, t = K.coincide_block(row_words, row_neg, b0, b1, bl, cols, r0, r1, colw,
                                    idx, npos, nneg, out)
            out, tot = out + n, tot + t
        parts[a] = (a * per_block, out - a * per_block, tot)

    # about 3 ns per cell and block row
    K.run_chunks(run, n_chunks, ns=3.0 * rows * cols)
    return _joined(shape, idx, npos, nneg, parts)


def _coincide_fires(K, row_words, row_neg, examples, bl, shape, start, lists, buffers):
    """coincide's sparse mini-batch path (kernels.coincide_fires): threads take contiguous
    ranges of ROW_BLOCK-row chunks, each writing from its first row's place in a
    rows x cols output, joined in row order."""
    (b0, b1), (rows, cols) = examples, shape
    idx, npos, nneg = buffers.get(rows * cols)
    per = (b1 - b0) * row_words.shape[2]
    pos = buffers.scratch(rows * per)
    parts: dict[int, tuple[int, int, int]] = {}

    def run(a: int, b: int) -> None:
        r0, r1 = a * ROW_BLOCK, min(b * ROW_BLOCK, rows)
        n, t = K.coincide_fires(row_words, row_neg, b0, b1, bl, cols, r0, r1, start, lists,
                                pos[r0 * per:r1 * per], idx, npos, nneg, r0 * cols)
        parts[a] = (r0 * cols, n, t)

    # pulses ~ (column fires) x (non-zero row words) x (fires per word, ~1.5) / slots;
    # about 6 ns each (measured on training's batches), threads only above PARALLEL_NS
    pulses = lists.size * np.count_nonzero(row_words[:, b0:b1]) * 1.5 / max(1, start.size - 1)
    K.run_chunks(run, -(-rows // ROW_BLOCK), ns=6.0 * pulses)
    return _joined(shape, idx, npos, nneg, parts)


def _joined(shape, idx, npos, nneg, parts) -> tuple[PulseCounts, PulseCounts, int]:
    """The PulseCounts of coincide's parts {chunk: (start, cells, pulses)}, in order."""
    total = sum(p[2] for p in parts.values())
    if len(parts) == 1:
        base, n, _ = parts[min(parts)]
        idx, npos, nneg = idx[base:base + n], npos[base:base + n], nneg[base:base + n]
    else:
        sls = [slice(parts[k][0], parts[k][0] + parts[k][1]) for k in sorted(parts)]
        idx = np.concatenate([idx[s] for s in sls])
        npos = np.concatenate([npos[s] for s in sls])
        nneg = np.concatenate([nneg[s] for s in sls])
    return PulseCounts(shape, idx, npos), PulseCounts(shape, idx, nneg), int(total)


def apply_update(streams: PulseStreams, cells, rng: np.random.Generator, x: np.ndarray,
                 d: np.ndarray, lr: float, mode: str = "exact") -> tuple[int, UpdateCodes]:
    """One UPDATE command per example of x (B, rows) and d (B, cols) on ``cells``: the
    pulse trains, their coincidences, the devices' response and the time that passes.

    mode "exact" (hardware-faithful, the default): example by example, each one's
    pulses followed by one update period of leakage (``cells.tick(1)``), as the tile
    runs B UPDATE commands; identical to B calls with one example each.
    mode "minibatch": the exact pulse counts of all B examples summed per cell and sign
    and applied in one device response, followed by B periods of leakage
    (``cells.tick(B)``); see docs/training.md for where this equals the hardware.
    With one example both modes are the same. Returns (total pulses, codes).
    """
    if mode not in UPDATE_MODES:
        raise ValueError(f"update mode {mode!r}; allowed: {', '.join(UPDATE_MODES)}")
    spec = streams.spec
    bl = spec.update.bl
    if one_example_fast(streams, x):
        return _apply_one(streams, cells, rng, x, d, lr)
    x_mag, d_mag = pulse_codes(x, d, lr, cells.dw_nominal, spec)
    row_words, col_words = streams.packed(x_mag, d_mag)
    row_neg = np.ascontiguousarray((x < 0).T).view(np.uint8)                # (rows, B)
    col_neg = np.ascontiguousarray(((d < 0) ^ (lr < 0)).T).view(np.uint8)
    batch = x.shape[0]
    shape = (x.shape[1], d.shape[1])
    groups = [(0, batch)] if mode == "minibatch" or batch == 1 else \
        [(b, b + 1) for b in range(batch)]
    total = 0
    for b0, b1 in groups:
        # a mini-batch's count and device response shared by the threads
        stream = cells.pulse_stream(rng) if b1 - b0 > 1 and \
            hasattr(cells, "pulse_stream") else None
        n_pos, n_neg, count = coincide(row_words, row_neg, col_words, col_neg, (b0, b1),
                                       bl, shape, streams.buffers, stream)
        total += count
        if n_pos is not None:
            cells.pulse(n_pos, n_neg, rng)
        cells.tick(b1 - b0)
    return total, UpdateCodes(x_mag, d_mag, row_words, col_words, bl)


def one_example_tables(streams: PulseStreams) -> tuple:
    """The table kernels.update_one draws one example's trains from, with where each
    row's and column's window starts in it: the byte compare values (codes below 256,
    0.5 MiB, which stay in the caches between updates) where they exist, else the
    fire-bit table."""
    if streams._top8 is not None:
        return (streams._top8, *streams._off_top8)
    return (streams._bits, *streams._off_bits)


def one_example_fast(streams: PulseStreams, x: np.ndarray) -> bool:
    """Whether :func:`count_one` serves this update (one example, tabulated stochastic
    trains with their fire-bit table)."""
    return x.shape[0] == 1 and streams._table is not None and streams._bits is not None


def count_one(streams: PulseStreams, dw: float, x, d, lr: float
              ) -> tuple[int, UpdateCodes, PulseCounts, PulseCounts]:
    """The pulses of one example's UPDATE in one compiled call (one_example_fast):
    (total, codes, positive and negative counts); advances the LFSR positions."""
    K = kernels_()
    spec = streams.spec
    nb, bl = spec.dac.bits - 1, spec.update.bl
    k = abs(lr) / (bl * dw)
    x_mag, d_mag, rw, cw, idx, npos, nneg, total = K.update_one(
        np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(d, dtype=np.float64),
        k, float(2 ** nb), float(2 ** nb - 1), lr < 0, *one_example_tables(streams),
        streams._pos_rows, streams._pos_cols, bl, streams._table.size)
    shape = (x.shape[1], d.shape[1])
    return (int(total), UpdateCodes(x_mag, d_mag, rw, cw, bl),
            PulseCounts(shape, idx, npos), PulseCounts(shape, idx, nneg))


def _apply_one(streams: PulseStreams, cells, rng, x, d, lr: float) -> tuple[int, UpdateCodes]:
    """apply_update for one example in one compiled call up to the device response."""
    total, codes, n_pos, n_neg = count_one(streams, cells.dw_nominal, x, d, lr)
    cells.pulse(n_pos, n_neg, rng)
    cells.tick(1)
    return total, codes
