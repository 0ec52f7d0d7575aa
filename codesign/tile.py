"""AnalogTile: one PCM crossbar with its DACs, integrators, SAR ADCs and controller.

Every operation returns OpResult(values, cycles, events, codes): the analog result, the
controller cycles and the events of the commands it ran, both from codesign.commands
(the estimator prices the same functions, the RTL is held to the same numbers), and the
digital words the periphery sees.

Cycles and events are those of the physical tile (spec.array.rows x cols): a layer that
uses a smaller block (``shape``) still pays for every DAC line and every ADC pass, as the
controller sequences them all. Each vector of a batch is one command sequence
(LOAD_INPUT, FORWARD, READ_OUTPUT), as the hardware runs them.
"""
from __future__ import annotations

import collections
import os
import threading
import time
import warnings

import numpy as np

from . import commands
from .converters import mvm, mvm_job
from .devices import inference
from .devices.cell import make_cells
from .devices.readout import fused_parts, weights32, weights32_deferred
from .errors import UserError
from .events import OpResult
from .lazykernels import kernels_
from .pulses import (UPDATE_MODES, PulseStreams, apply_update, count_one,
                     one_example_fast, one_example_tables)
from .spec import Spec, load_spec


_NO_OUT = np.empty((0, 0), dtype=np.float32)   # train_one without a read-out
_NO_NORMALS = np.empty(0)                       # an update that pulsed no device


# Tiles with fewer devices update in one call on the calling thread with threads too:
# offering their device work (a few microseconds of it) costs more than it.
SHARED_MIN_DEVICES = 8192
# Whether the respond worker pays is measured while training (_Backlog._timed): the
# updates go in windows of WINDOW_UPDATES (about 30 images of the 784-250-125-10
# network), every PROBE_WINDOWS-th window the other way (with or without the worker),
# and the faster of the two ways' last windows is kept. With another job holding a core
# the worker cost more than it gave (paired, load 1.6: 1.04 of main's time with it, 0.90
# without; with the core free 0.74 with it): a thread without a core is waited for.
WINDOW_UPDATES = 120
PROBE_WINDOWS = 8
# A probe that leaves the choice as it was doubles the windows to the next one, up to
# PROBE_WINDOWS_MAX; one that changes it brings them back to PROBE_WINDOWS. A probe
# going alone costs about as much as a whole window with the worker saves (0.50-1.00 ms
# against 0.27-0.56 ms per update in the windows' own timings, 784-250-125-10, six
# processes, idle machine, 2026-11-30): every eighth window alone was about 10-15 % of
# the training time where the worker always won (docs/reproduction.md, tenth round).
PROBE_WINDOWS_MAX = 64
# Alone only where its window was this much faster than the worker's: windows of
# different images differ by several percent, and a wrong choice to go alone costs a
# quarter with the core free, one to go on with the worker a tenth under load.
ALONE_FASTER = 0.92
WINDOW_GAP_S = 0.02     # a pause between updates this long (the caller did something
                        # else): the window is not timed


class _Backlog:
    """The training updates' device work handed to the crew: each tile's update is
    posted to a mailbox (kernels.train_post, in the order the tiles were updated) that
    one crew helper works through in compiled code without coming back to Python
    between tiles (kernels.respond_worker, started where none is running and a helper is
    free; it returns after about 1.8 ms without work, kernels.WORKER_IDLE_NS). The
    network's thread, needing a tile, takes that tile's blocks left (_Shared.result).
    The posted arrays are kept here until the worker has passed their slot. Posts come
    from the network's thread."""

    def __init__(self):
        K = kernels_()
        self.box = np.zeros((K.SLOTS, K._NF), dtype=np.int64)
        self.fbox = self.box.view(np.float64)
        self.ctl = np.zeros(4, dtype=np.int64)   # posted, passed, worker alive (K._POSTED..)
        self.kept: collections.deque = collections.deque()   # (slot, arrays)
        self.failed: list = []           # the worker's error, raised by the waiting caller
        self.pid = os.getpid()
        self.alone = False               # the caller does the updates in one call (_timed)
        self.per_update = {False: 0.0, True: 0.0}   # last window's seconds, each way
        self.updates, self.windows = 0, 0
        self.probe_every, self.next_probe = PROBE_WINDOWS, 1   # windows between probes
        self.probed: bool | None = None  # the choice before the probe being timed
        self.start = self.last = time.perf_counter()

    def share(self) -> bool:
        """Whether this training update goes to the worker (else the caller does it in
        one call, as with one thread): counted and timed (_timed)."""
        if self.pid != os.getpid():      # a forked child: its own (the parent's worker
            self.__init__()              # is not here)
        self._timed()
        return not self.alone

    def post(self, args: tuple, taken: np.ndarray) -> np.ndarray:
        """Post train_respond_shared's args (without starts, taken) and return starts."""
        K, ctl, kept = kernels_(), self.ctl, self.kept
        starts, k = K.train_post(self.box, self.fbox, ctl, *args, taken)
        passed = ctl[K._PASSED]
        while kept and kept[0][0] < passed:
            kept.popleft()
        if k >= 0:
            kept.append((k, args, starts, taken))
        if ctl[K._ALIVE] == 0 and K.cas(ctl, K._ALIVE, 0, 1) and \
                not K.offer(self.work).given:
            ctl[K._ALIVE] = 0            # no helper free: the caller does it all
        return starts

    def _timed(self) -> None:
        """Count an update; at a window's end keep its time per update for the way it
        went and choose the way of the next window: the faster of the two ways' last
        windows, or, when a probe is due, the other way (its time may be old): after
        PROBE_WINDOWS windows, twice as many after a probe that left the choice as it
        was (up to PROBE_WINDOWS_MAX)."""
        now = time.perf_counter()
        if now - self.last > WINDOW_GAP_S:        # a pause: this window is not timed
            self.updates, self.start = 0, now
        self.last = now
        self.updates += 1
        if self.updates <= WINDOW_UPDATES:
            return
        self.per_update[self.alone] = (now - self.start) / (self.updates - 1)
        self.updates, self.start = 1, now
        self.windows += 1
        alone, worker = self.per_update[True], self.per_update[False]
        choice = 0.0 < alone < ALONE_FASTER * worker    # alone only when clearly faster
        if self.probed is not None:               # the window just timed was a probe
            if choice != self.probed:             # it changed the choice: probe soon
                self.probe_every = PROBE_WINDOWS
                self.next_probe = self.windows + PROBE_WINDOWS - 1
            else:
                self.probe_every = min(2 * self.probe_every,
                                       max(PROBE_WINDOWS_MAX, PROBE_WINDOWS))
            self.probed = None
        if self.windows >= self.next_probe:       # the other way, timed afresh
            self.probed, self.alone = choice, not choice
            self.next_probe = self.windows + self.probe_every
        else:
            self.alone = choice

    def work(self) -> None:
        K = kernels_()
        try:
            K.respond_worker(self.box, self.fbox, self.ctl)
        except BaseException as e:       # noqa: BLE001 (raised by _Shared.result)
            self.failed.append(e)
            self.ctl[K._ALIVE] = 0


# One backlog per thread that trains: the mailbox takes posts from one thread only
# (kernels.train_post reads and then advances its posted count), so a second thread
# training another network in the same process gets its own mailbox and worker offer
# (with every helper busy, it does its updates itself).
_BACKLOGS = threading.local()


def _backlog() -> _Backlog:
    backlog = getattr(_BACKLOGS, "backlog", None)
    if backlog is None:
        backlog = _BACKLOGS.backlog = _Backlog()
    return backlog


class _Shared:
    """Work shared with the crew's threads (a tile's device response, leakage and
    read-out after a training update, AnalogTile.train_one): the arguments of
    kernels.train_respond_shared, which takes blocks of it one at a time until none is
    left (its ``taken`` counts the blocks taken and done), so any number of threads may
    run it side by side and each block is done once. Posted to the respond worker
    (_Backlog); result() runs it here (the blocks not yet taken: the caller works
    instead of waiting), then waits until every block is done: spinning on the count,
    yielding its core between spins (a worker amid a block may have lost its core on a
    busy machine). Who did which block does not change the numbers."""

    def __init__(self, args: tuple, taken: np.ndarray, blocks: int, backlog: _Backlog):
        self.args, self.taken, self.blocks, self.backlog = args, taken, blocks, backlog

    def result(self) -> None:
        K = kernels_()
        K.train_respond_shared(*self.args)
        backlog = self.backlog           # the one posted to (its worker's errors)
        while not K.wait_count(self.taken, 1, self.blocks, K._SPINS):
            if backlog.failed:
                raise backlog.failed.pop()
            os.sched_yield()


class _Once:
    """A job offered to a crew helper (a tile's pipelined update, _update_pipelined) that
    runs once, on whichever thread claims it first: result() runs it here if no helper
    has (the helper may get no core of its own on a busy machine), else waits for the
    helper; returns its value."""

    def __init__(self, fn):
        self.fn, self.value = fn, None
        self.claim = np.zeros(1, dtype=np.int64)
        self.helper = kernels_().offer(self._run)

    def _run(self) -> None:
        if kernels_().take(self.claim, 0) == 0:
            self.value = self.fn()

    def result(self):
        if kernels_().take(self.claim, 0) == 0:
            self.value = self.fn()
        else:
            self.helper.wait()
        return self.value


class ProgramClipWarning(UserWarning):
    """AnalogTile.program() clipped targets the cell cannot hold."""


class AnalogTile:
    def __init__(self, spec: Spec | str, rng: np.random.Generator,
                 shape: tuple[int, int] | None = None, cell: str | None = None,
                 update_mode: str = "exact"):
        spec = load_spec(spec)
        if cell is not None and cell != spec.array.cell:
            spec = spec.with_overrides({"array.cell": cell}, source="cell")
        self.spec = spec
        rows, cols = shape or (spec.array.rows, spec.array.cols)
        if not (1 <= rows <= spec.array.rows and 1 <= cols <= spec.array.cols):
            raise UserError(f"tile shape: value {(rows, cols)} does not fit; allowed: "
                            f"1..{spec.array.rows} rows x 1..{spec.array.cols} cols")
        self.shape = (rows, cols)
        if update_mode not in UPDATE_MODES:
            raise UserError(f"update_mode: value {update_mode!r}; allowed: "
                            + ", ".join(UPDATE_MODES))
        self.update_mode = update_mode   # codesign.pulses.apply_update
        self.rng = rng
        self._job = None   # device work in flight (update_pulses, train_one), or None
        self.cells = make_cells(spec, self.shape, rng)
        self.streams = PulseStreams(spec, rows, cols)
        self._w32 = None   # float32 weights for the array products; None when stale
        self._gain_specs: dict[float, Spec] = {}   # read gain -> spec of that ADC range
        self._mvm_costs: dict = {}   # (transpose, vectors) -> commands.mvm_sequence's cost
        self._read = True  # the weights were read since the last update
        self._plan = None  # train_one's arguments (_train_plan)

    @property
    def cells(self):
        """The unit cells (codesign.devices.cell), with any pipelined update applied."""
        if self._job is not None:
            self._finish()
        return self._cells

    @cells.setter
    def cells(self, value) -> None:
        if self._job is not None:
            self._finish()
        self._cells = value

    def sync(self) -> None:
        """Wait until a pipelined update (update_pulses with threads) has been applied; any
        use of the cells or weights does this too. For timing a call to its end."""
        if self._job is not None:
            self._finish()

    def _finish(self) -> None:
        """Wait for the pipelined update; keep the weights it read out."""
        job, self._job = self._job, None
        w32 = job.result()
        if w32 is not None:
            self._w32 = w32

    def _changed(self) -> None:
        """Device states changed: the cached read-out weights are stale."""
        self._w32 = None

    def _read_weights(self) -> np.ndarray:
        """The weights the array presents to a read, float32, cached between writes (a
        2PCM+3T1C read-out combines three device arrays: worth doing once per write)."""
        if self._job is not None:
            self._finish()
        self._read = True
        if self._w32 is None:
            self._w32 = weights32(self.cells)
        return self._w32

    # ---- weights -----------------------------------------------------------------
    def weights(self) -> np.ndarray:
        """Effective normalized weights (rows, cols) as the array holds them now."""
        return self.cells.weights()

    def program(self, w: np.ndarray, clip: bool = True) -> OpResult:
        """Write normalized weights by closed-loop program-and-verify (ideal cells: exact).

        A cell holds |w| up to ``max_weight`` (1 for ideal and programmed cells; for PCM
        pairs the level closed-loop programming reaches before the refresh level or its
        pulse budget, less the verify tolerance: 0.585 for ambrogio2018): a target beyond it would program to
        less than a smaller target does. Such targets are clipped to +-max_weight with a
        ProgramClipWarning saying how many (clip=True), or refused with a UserError
        (clip=False)."""
        w = self._check(w, self.shape, "weights")
        limit = self.max_weight
        over = int(np.count_nonzero(np.abs(w) > limit))
        if over:
            what = (f"{over} of {w.size} targets have |w| above {limit:.4g}, the most a "
                    f"{self.spec.array.cell} cell of {self.spec.name} holds (max |w| "
                    f"{float(np.abs(w).max()):.4g})")
            if not clip:
                raise UserError(f"weights: {what}; allowed: |w| <= {limit:.4g} (or "
                                "program(w, clip=True) to clip them)")
            warnings.warn(f"program: {what}; clipped to +-{limit:.4g}", ProgramClipWarning,
                          stacklevel=2)
            w = np.clip(w, -limit, limit)
        stats = self.cells.program(w, self.rng)
        self._changed()
        cost = self._transfer_cost(stats)
        return OpResult(None, cost.cycles, cost.events)

    @property
    def max_weight(self) -> float:
        """Largest |w| program() writes faithfully (codesign.devices.cell)."""
        return self.cells.max_weight

    # ---- matrix-vector products -----------------------------------------------------
    def forward(self, x: np.ndarray) -> OpResult:
        """y = x W through DAC, array and ADC; x (B, rows) normalized to [-1, 1]."""
        return self._mvm(x, transpose=False)

    def backward(self, d: np.ndarray, gain: float = 1.0) -> OpResult:
        """z = d W^T (the transposed read); d (B, cols). gain: the read's output gain
        (>= 1), a digital setting of the ADC's reference: the ADC converts gain x the
        array's output within its full scale, i.e. full scale / gain in output units,
        with the same codes and cycles; values come back in output units."""
        return self._mvm(d, transpose=True, gain=gain)

    def _mvm(self, x: np.ndarray, transpose: bool, gain: float = 1.0) -> OpResult:
        spec, (rows, cols) = self.spec, self.shape
        n_in, n_out = (cols, rows) if transpose else (rows, cols)
        x = self._check(x, (None, n_in), "input", finite=False)   # mvm checks it
        conv = spec if gain == 1.0 else self._gained(gain)
        values, words = mvm(self._read_weights(), x, conv, self.rng, transpose=transpose,
                            check="input")
        cost = self._mvm_costs.get((transpose, x.shape[0]))
        if cost is None:        # commands' cost, kept here: one lookup per call
            if len(self._mvm_costs) >= 64:
                self._mvm_costs.clear()
            cost = self._mvm_costs[transpose, x.shape[0]] = commands.mvm_sequence(
                spec, transpose, vectors=x.shape[0])
        return OpResult(values, cost.cycles, cost.events, words)

    def _gained(self, gain: float) -> Spec:
        """The spec whose ADC full scale is this tile's divided by gain (cached)."""
        cache = self._gain_specs
        if gain not in cache:
            if not (np.isfinite(gain) and gain >= 1.0):
                raise UserError(f"gain: value {gain!r}; allowed: a number >= 1")
            cache[gain] = self.spec.with_overrides(
                {"adc.full_scale": self.spec.adc.full_scale / gain}, source="read gain")
        return cache[gain]

    def mvm_values(self, x: np.ndarray, transpose: bool = False,
                   gain: float = 1.0) -> np.ndarray:
        """The values of :meth:`forward` (or :meth:`backward` with transpose) alone, for a
        caller that has checked x (float64, finite, shape (B, inputs)) and counts the
        commands itself (codesign.nn.analog: commands.mvm_sequence per vector, which
        adds up exactly to the per-call costs). gain: as :meth:`backward`'s."""
        conv = self.spec if gain == 1.0 else self._gained(gain)
        return mvm(self._read_weights(), x, conv, self.rng, transpose=transpose)[0]

    def mvm_job(self, x: np.ndarray, transpose: bool = False, gain: float = 1.0):
        """:meth:`mvm_values` in two parts (codesign.converters.mvm_job): the weights are
        read and the noise seed drawn now; the returned function gives the values
        (several tiles' may run side by side). None, nothing done, where mvm_values is
        the way."""
        conv = self.spec if gain == 1.0 else self._gained(gain)
        job = mvm_job(self._read_weights(), x, conv, self.rng, transpose=transpose)
        return None if job is None else (lambda: job()[0])

    # ---- update and transfer --------------------------------------------------------
    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> OpResult:
        """Outer-product update by pulse coincidence: E[dW] ~ lr * x^T d (summed over the
        batch), each example one UPDATE command of BL slots.

        Probabilities follow aihwkit's update management: with K = |lr| / (BL dw),
        p = |x| sqrt(K max|d| / max|x|) and q = |d| sqrt(K max|x| / max|d|) per example,
        so p q BL dw = |lr x d|; probabilities above 1 clip (the hardware cannot send
        more than BL pulses), as in Gokmen & Vlasov 2016.
        """
        spec = self.spec
        rows, cols = self.shape
        x = self._check(x, (None, rows), "x")
        d = self._check(d, (None, cols), "d")
        if x.shape[0] != d.shape[0]:
            raise UserError(f"update: x has {x.shape[0]} examples and d {d.shape[0]}; "
                            "allowed: the same batch size")
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)) \
                or not np.isfinite(lr):
            raise UserError(f"lr: value {lr!r} is not allowed; allowed: a finite number (its "
                            "sign sets the direction of the update)")
        batch = x.shape[0]
        total, codes = self.update_pulses(x, d, lr)
        cost = commands.update_sequence(spec, total, examples=batch)
        return OpResult(None, cost.cycles, cost.events, codes)

    def update_pulses(self, x: np.ndarray, d: np.ndarray, lr: float) -> tuple[int, object]:
        """:meth:`update` for a caller that has checked x, d (float64, finite, matching
        shapes) and lr and counts the commands itself: (total pulses, codes). One
        example with threads: its device work goes on while the caller does something
        else (the next use of the cells or weights waits for it): shared block by block
        with the respond worker on a 2PCM+3T1C tile of SHARED_MIN_DEVICES or more
        (_update_shared), else on one helper (_update_pipelined)."""
        K = kernels_()
        if K.get_threads() > 1 and one_example_fast(self.streams, x):
            plan = self._train_plan(x)
            if plan is not None and plan[4].size >= SHARED_MIN_DEVICES:
                return self._update_shared(x, d, lr, plan)
            if hasattr(self._cells, "pulse_deferred"):
                return self._update_pipelined(x, d, lr)
        cells = self.cells
        out = apply_update(self.streams, cells, self.rng, x, d, lr, self.update_mode)
        self._w32 = None
        return out

    def train_one(self, x: np.ndarray, d: np.ndarray, lr: float) -> int:
        """``update_pulses(x, d, lr)[0]`` for one example of training (x (1, rows), d
        (1, cols), float64, C-contiguous, checked by the caller), which reads the weights
        before the next update: on 2PCM+3T1C cells with tabulated pulse trains and a PCG64
        generator, the pulses, their device response, the update period's leakage and
        the read-out the next product uses in one compiled call
        (kernels.train_update_one: the same numbers, the generator advanced the same);
        otherwise update_pulses. With threads, the pulses and the normals (the serial
        part, in the generator's order: kernels.train_prepare) are done here and the
        rest (kernels.train_respond_shared) is posted to the crew's respond worker
        (_Backlog) while the network goes on; the next use of the cells or weights takes
        the blocks of it that are left and waits for the rest (_Shared)."""
        plan = self._train_plan(x)
        if plan is None:
            return self.update_pulses(x, d, lr)[0]
        (bl_dw, static, view, lock, g, cells_static, decay, base, pol, wscale,
         pos_rows, pos_cols) = plan
        read, out = self._train_out()
        K = kernels_()
        if K.get_threads() == 1 or g.size < SHARED_MIN_DEVICES or not _backlog().share():
            with lock:
                total = K.train_update_one(
                    x, d, abs(lr) / bl_dw, *static[:2], lr < 0, *static[2:5], pos_rows,
                    pos_cols, *static[5:], view, *cells_static[0], g, *cells_static[1],
                    pol < 0, decay, base, pol, wscale, out, read)
            return int(total)
        params, gs, c2c = cells_static[1]
        with lock:
            idx, up, down, z, total = K.train_prepare(
                x, d, abs(lr) / bl_dw, *static[:2], lr < 0, *static[2:5], pos_rows,
                pos_cols, *static[5:], view, *cells_static[0], pol < 0)
        self._post((g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale, out,
                    read))
        return int(total)

    def _post(self, args: tuple) -> None:
        """Post a batch-1 update's device work (kernels.train_respond_shared's args
        without starts, taken) to the respond worker (_Backlog); the next use of the
        cells or weights takes the blocks left and waits for the rest (_Shared)."""
        taken = np.zeros(2, dtype=np.int64)
        backlog = _backlog()
        starts = backlog.post(args, taken)
        self._job = _Shared(args + (starts, taken), taken, starts.size - 1, backlog)

    def _update_shared(self, x, d, lr: float, plan) -> tuple[int, object]:
        """update_pulses for one example with threads on a tile of at least
        SHARED_MIN_DEVICES 2PCM+3T1C devices (train_one's plan): the pulses (count_one,
        which also gives the codes) and the device normals here, in apply_update's order (the same generator draws as
        CapacitorArray.pulses_deferred), then the device response, the update period's
        leakage and (if the weights were read since the last update) the read-out
        shared block by block between this thread and the respond worker as train_one
        does (_post, _Shared; alone: in one call here, _Backlog._timed): both threads
        work on the device pass, where _update_pipelined gave it to one helper. The same
        numbers as update_pulses with one thread."""
        K = kernels_()
        g, (params, gs, c2c) = plan[4], plan[5][1]
        decay, base, pol, wscale = plan[6:10]
        read, out = self._train_out()
        total, codes, n_pos, n_neg = count_one(self.streams, self._cells.dw_nominal, x, d,
                                               lr)
        idx = n_pos.idx
        up, down = (n_neg.counts, n_pos.counts) if pol < 0 else (n_pos.counts,
                                                                  n_neg.counts)
        z = K.standard_normal(self.rng, idx.size) if idx.size else _NO_NORMALS
        args = (g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale, out, read)
        if _backlog().share():
            self._post(args)
        else:
            K.train_respond(*args)
        return total, codes

    def _train_out(self) -> tuple[bool, np.ndarray]:
        """Whether a training update reads the weights out (they were read since the last
        update, as in training), and the flat float32 array it writes them to, which the
        tile keeps as its read-out; flushes pending leakage (the update applies its own
        period)."""
        cap = self._cells.cap
        if cap._pending:                     # leakage before this update: applied first
            cap.flush_leak()
        read = self._read
        out = np.empty(self.shape, dtype=np.float32) if read else _NO_OUT
        self._w32, self._read = (out if read else None), False
        return read, out.reshape(-1)

    def _train_plan(self, x):
        """The arguments of train_one's compiled call that stay the same between updates,
        gathered once and kept while the objects they come from are the same (the
        capacitor's g array, the PCMs' versions, the polarity, the streams' windows, the
        generator); None where update_pulses is the way."""
        if not one_example_fast(self.streams, x):
            return None
        cells, streams, bg = self.cells, self.streams, self.rng.bit_generator
        cap = getattr(cells, "cap", None)
        key = (cells, getattr(cap, "_g", None), getattr(cells, "polarity", None),
               streams._off_bits, streams._pos_rows, streams._pos_cols, bg)
        plan = self._plan
        if plan is not None and all(a is b for a, b in zip(plan[0], key)) and \
                (plan[2] is None or plan[1] == (cells.plus.version, cells.minus.version)):
            return plan[2]
        K = kernels_()
        view = K._pcg_view(bg)
        parts = fused_parts(cells) if view is not None else None
        if parts is None:
            self._plan = (key, None, None)
            return None
        base, decay, pol, gs, wscale = parts
        spec = self.spec
        bl, nb = spec.update.bl, spec.dac.bits - 1
        static = (float(2 ** nb), float(2 ** nb - 1), *one_example_tables(streams), bl,
                  streams._table.size)
        cells_static = (K._zig64(), (cap._params, gs, cap.spec.step_c2c))
        run = (bl * cells.dw_nominal, static, view, bg.lock, cap._g.reshape(-1),
               cells_static, decay, base, pol, wscale, streams._pos_rows, streams._pos_cols)
        key = (cells, cap._g, cells.polarity, streams._off_bits, streams._pos_rows,
               streams._pos_cols, bg)
        self._plan = (key, (cells.plus.version, cells.minus.version), run)
        return run

    def _update_pipelined(self, x, d, lr: float) -> tuple[int, object]:
        """One example's update with its device response and the next read-out in flight
        on another thread: the pulses are counted and the device normals drawn here, in
        the same order as apply_update (so the tile's generator gives the same numbers),
        and the same kernels are offered to a crew helper; the next access to the cells
        or the weights waits for them, or runs them where no helper has started
        (_Once; cells, _read_weights). With one thread nothing is pipelined; the results
        are the same either way."""
        # the pulses need only the LFSR streams (and the spec's nominal step): counted
        # while the previous update of this tile may still be in flight
        total, codes, n_pos, n_neg = count_one(self.streams, self._cells.dw_nominal, x, d,
                                               lr)
        cells = self.cells
        device = cells.pulse_deferred(n_pos, n_neg, self.rng)
        if device is None:                 # not the sparse one-thread case: as usual
            cells.pulse(n_pos, n_neg, self.rng)
            cells.tick(1)
            self._w32 = None
            return total, codes
        cells.tick(1)
        # the next read-out goes along if the last update's weights were read (training:
        # a forward follows every update), else only the leakage (updates in a row)
        read = weights32_deferred(cells) if self._read else None
        if read is None:
            read = cells.cap.flush_deferred()
        self._w32, self._read = None, False
        self._job = _Once(lambda: (device(), read())[1])
        return total, codes

    def transfer(self, trace: bool = False) -> OpResult:
        """Move the capacitor's weight into the PCM pair (2PCM+3T1C) or refresh saturated
        pairs (PCM pair); values holds the comparator trace when trace=True, codes the
        verify and pulse cycles per row (what the controller's row sequencer ran)."""
        stats = self.cells.transfer(self.rng, trace=trace)
        self._changed()
        cost = self._transfer_cost(stats)
        codes = dict(verifies_per_row=stats.verifies_per_row,
                     pulses_per_row=stats.pulses_per_row)
        return OpResult(stats.trace, cost.cycles, cost.events, codes)

    def _transfer_cost(self, stats) -> commands.CommandCost:
        """Cycles and events of a program-and-verify pass (codesign.devices.transfer)."""
        return commands.transfer(self.spec, stats.verifies_per_row, stats.pulses_per_row,
                                 stats.verify_reads, stats.set_pulses, stats.reset_pulses)

    # ---- inference with drift -------------------------------------------------------
    def program_inference(self, w: np.ndarray | None = None) -> None:
        """Program weights into PCM for inference with the statistical model (Nandakumar
        2019 / HERMES): G+ = max(w, 0) g_max, G- = max(-w, 0) g_max, then the reference
        all-ones read at t0 that global drift compensation divides by. w: normalized
        targets in [-1, 1] of the tile's shape (default: the weights the tile holds, e.g.
        after training)."""
        if w is None:
            w = self.weights()
        else:
            w = np.asarray(w, dtype=float)
            if w.shape != self.weights().shape or not np.all(np.isfinite(w)):
                raise UserError(f"program_inference: targets of shape {w.shape}; allowed: "
                                f"finite numbers of shape {self.weights().shape}")
        w = np.clip(w, -1.0, 1.0)
        g_max = self.spec.pcm.g_max
        self._pcm = (inference.program(np.maximum(w, 0) * g_max, self.spec, self.rng),
                     inference.program(np.maximum(-w, 0) * g_max, self.spec, self.rng))
        self._reference = inference.all_ones_read(*self._read_pcm(0.0))

    def _read_pcm(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        return tuple(inference.read_at(p, t, self.spec, self.rng) for p in self._pcm)

    def read_inference(self, t: float, compensate: bool = True) -> np.ndarray:
        """Normalized weights as read t seconds after the reference read at t0 (drift and
        1/f read noise); with compensate, scaled by the global drift compensation factor
        (reference all-ones read over the same read at t), as the digital periphery would
        scale the outputs. Programs the inference copy on first use."""
        w, factor = self.read_inference_parts(t)
        return w * factor if compensate else w

    def read_inference_parts(self, t: float) -> tuple[np.ndarray, float]:
        """One read t seconds after the reference read at t0: the normalized weights
        (drift and 1/f read noise) and the global drift compensation factor (reference
        all-ones read over the same read at t) that the digital periphery multiplies the
        tile's outputs by, after the ADC. Programs the inference copy on first use."""
        if getattr(self, "_pcm", None) is None:
            self.program_inference()
        g_plus, g_minus = self._read_pcm(t)
        w = (g_plus - g_minus) / self.spec.pcm.g_max
        factor = inference.drift_compensation(self._reference,
                                              inference.all_ones_read(g_plus, g_minus))
        return w, float(factor)

    # ---- helpers ------------------------------------------------------------------
    @staticmethod
    def _check(a: np.ndarray, shape: tuple, name: str, finite: bool = True) -> np.ndarray:
        """a as float64 of `shape` (rows, cols; rows None: any number), finite unless
        finite=False (the caller checks that on its own pass over a: converters.mvm's
        DAC). Written out for two dimensions: it runs on every forward, just after a
        product has pushed the interpreter's code from the caches."""
        a = np.asarray(a, dtype=np.float64)
        rows, cols = shape           # (None: any number of rows, cols)
        if a.ndim == 1 and rows is None:
            a = a[None]
        if a.ndim != 2 or a.shape[1] != cols or (rows is not None and a.shape[0] != rows):
            want = " x ".join("B" if s is None else str(s) for s in shape)
            raise UserError(f"{name}: shape {a.shape} does not match; allowed: {want}")
        if finite and not np.isfinite(a).all():
            raise UserError(f"{name}: contains NaN or infinity; allowed: finite numbers")
        return a

