"""The 3T1C capacitor cell as a training device (Ambrogio et al., Nature 2018).

A capacitor voltage V_C sets the gate of a read transistor whose conductance g is compared
with a shared reference g_shared; a pFET adds and an nFET removes a packet of charge per
update pulse, and the capacitor leaks. Parameters follow aihwkit's
``CapacitorPresetDevice`` (fit to Li et al., VLSI 2018), in conductance units here
(docs/devices.md):

* range: g in [g_shared - g_span*b_lo, g_shared + g_span*b_hi], with per-device bound
  factors b_lo, b_hi (mean 1, spread bound_d2d);
* steps: up c_up = step*g_span*f*(1 + a), down c_down = step*g_span*f*(1 - a), f the
  device's step factor (spread step_d2d), a its up/down asymmetry (a = asym_d2d N,
  clipped to |a| <= ASYM_CLIP, assumed) -- the threshold variability of ED Fig. 10;
* soft bounds: a step toward a bound shrinks linearly with the distance travelled,
  c_up * (1 - gamma * y/H_hi) with y = g - g_shared, H_hi = g_span*b_hi (and the mirror
  for down pulses), so updates are near-linear for gamma = 0.05;
* cycle-to-cycle noise: n pulses of mean total D add N(0, step_c2c * (D/n) * sqrt(n))
  (up and down noise of one call drawn together as one normal of the summed variance);
* leakage: g relaxes toward g_shared with a per-device lifetime (leak_updates update
  operations, device-to-device spread leak_d2d).

n pulses in one direction use the closed form of dy/dn = c - k y (k = c gamma / H):
D = n (c - k y0) phi(k n), phi(x) = (1 - e^-x)/x. Within one call the up pulses are
applied before the down pulses (in a stochastic update one cell receives one sign).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import libm
from ..errors import UserError
from ..lazykernels import kernels_, minibatch_kernels_
from ..spec import CapacitorSpec
from .pcm import relative_spread

# Largest |up/down asymmetry| a device may have. Assumed: keeps both step directions
# positive when a large asym_d2d is chosen (a = 1 would make down pulses do nothing).
ASYM_CLIP = 0.9


# k n below which the closed form's phi takes its series, device by device (relative
# error below x^4/120 < 1e-10 there); the compiled kernels read it from here
# (codesign.kernels._travel)
SERIES_MAX = 1e-2


def _phi(x: np.ndarray) -> np.ndarray:
    """(1 - exp(-x)) / x, with its limit 1 at x = 0. For x < SERIES_MAX (the usual case: k
    is step*gamma ~ 2.5e-4 per pulse) the series 1 - x/2 + x^2/6 - x^3/24, error <
    x^4/120; the C library's expm1 above."""
    out = x * (-1.0 / 24.0)   # Horner in place: large arrays, few temporaries
    out += 1.0 / 6.0
    out *= x
    out -= 0.5
    out *= x
    out += 1.0
    big = x >= SERIES_MAX
    if big.any():
        xb = x[big]
        out[big] = -libm.expm1(-xb) / xb
    return out


def _travel(y, n, c, k) -> np.ndarray:
    """Mean distance moved by n pulses of step c - k*y from y (0 where n == 0)."""
    nf = np.asarray(n, dtype=np.float64)
    out = k * y
    np.subtract(c, out, out=out)
    out *= nf
    out *= _phi(k * nf)
    return out


def _check_counts(name: str, n, shape: tuple) -> np.ndarray:
    n = np.broadcast_to(np.asarray(n), shape)
    if n.size and n.min() < 0:
        raise UserError(f"pulses: {name}: value {int(n.min())} is negative; allowed: "
                        "integers >= 0")
    return n


def _same_sparse(a, b) -> bool:
    """Both sparse pulse counts over one index (codesign.pulses.PulseCounts)."""
    return getattr(a, "idx", None) is not None and getattr(b, "idx", None) is a.idx and \
        hasattr(a, "counts") and hasattr(b, "counts")


class CapacitorArray:
    """An array of 3T1C cells. ``g`` (S, float64) starts at ``g_shared`` (V_C = 0.5 V,
    Ambrogio ED Fig. 9). Per-device attributes: ``g_lo``, ``g_hi`` (bounds, S),
    ``step_up``, ``step_down`` (mean step from g_shared, S)."""

    def __init__(self, spec: CapacitorSpec, shape, rng: np.random.Generator,
                 g_shared: float):
        self.spec = spec
        self.shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        self.g_shared = float(g_shared)
        # Device-to-device draws, in this order: bounds (lo, hi), step factor, asymmetry.
        b_lo = relative_spread(rng, self.shape, spec.bound_d2d)
        b_hi = relative_spread(rng, self.shape, spec.bound_d2d)
        self.h_lo = spec.g_span * b_lo          # reach below g_shared (S)
        self.h_hi = spec.g_span * b_hi          # reach above g_shared (S)
        self.g_lo = self.g_shared - self.h_lo
        self.g_hi = self.g_shared + self.h_hi
        factor = relative_spread(rng, self.shape, spec.step_d2d)
        asym = np.clip(spec.asym_d2d * rng.standard_normal(self.shape), -ASYM_CLIP, ASYM_CLIP)
        base = spec.step * spec.g_span * factor
        self.step_up = base * (1.0 + asym)
        self.step_down = base * (1.0 - asym)
        # soft bounds: step c (1 - gamma y/H) = c - k y with k = c gamma / H
        self._k_up = self.step_up * spec.gamma / self.h_hi
        self._k_down = self.step_down * spec.gamma / self.h_lo
        # The six parameters a pulse needs, side by side per device (one or two cache
        # lines per pulsed device instead of six); the attributes are views into it.
        self._params = np.stack([a.reshape(-1) for a in (
            self.g_lo, self.g_hi, self.step_up, self.step_down, self._k_up, self._k_down)],
            axis=1)
        (self.g_lo, self.g_hi, self.step_up, self.step_down, self._k_up,
         self._k_down) = (self._params[:, k].reshape(self.shape) for k in range(6))
        self._pending: list[int] = []     # leak periods not yet applied (see leak)
        self._z = np.empty(0)             # the device normals' space (_normals_space)
        self.g = np.full(self.shape, self.g_shared)
        # leakage lifetime per device (drawn last, so the draws above keep their order)
        lifetime = spec.leak_updates * relative_spread(rng, self.shape, spec.leak_d2d)
        self._leak_rate = np.where(lifetime > 0, 1.0 / np.maximum(lifetime, 1e-300), 0.0)
        self._decay_one = libm.exp(-self._leak_rate)   # the common case: one update at a time

    @property
    def g(self) -> np.ndarray:
        """Conductances (S), with all leakage so far applied."""
        if self._pending:
            self.flush_leak()
        return self._g

    @g.setter
    def g(self, value: np.ndarray) -> None:
        self._pending = []
        self._g = value

    @property
    def w(self) -> np.ndarray:
        """The cell's weight contribution g - g_shared (S)."""
        return self.g - self.g_shared

    def fill(self) -> np.ndarray:
        """How much of its reach each device uses: (g - g_shared) / h_hi above g_shared,
        (g_shared - g) / h_lo below, in [0, 1] (1: at its bound, where pulses toward it no
        longer move the weight)."""
        y = self.w
        return np.where(y >= 0, y / self.h_hi, -y / self.h_lo)

    def pulses(self, n_up, n_down, rng: np.random.Generator) -> None:
        """Apply n_up charge-adding and n_down charge-removing pulses per device (int >= 0,
        broadcastable). Only pulsed devices are computed, with one normal each (flat index
        order): the cycle-to-cycle noise of the up and the down pulses is the sum of two
        independent normals, drawn as one normal with their combined variance.

        Sparse counts (codesign.pulses.PulseCounts sharing one index, as a tile update
        produces them) take a compiled path that computes the same numbers; arrays take
        the numpy path below (the reference)."""
        if _same_sparse(n_up, n_down) and self.g.flags.c_contiguous:
            K = kernels_()
            idx = n_up.idx
            if idx.size == 0:
                return
            up, down, g, p = n_up.counts, n_down.counts, self._g.reshape(-1), self._params
            gs, c2c, ch = self.g_shared, self.spec.step_c2c, K.DEVICE_CHUNK
            if K.get_threads() == 1 or 30.0 * idx.size < K.PARALLEL_NS:
                z = K.standard_normal(rng, idx.size)     # = rng.standard_normal, faster
                K.capacitor_pulses(g, idx, up, down, z, gs, c2c, p, 0, idx.size)
                return
            # Shared by the threads (kernels_minibatch.draw_respond): each takes the
            # next chunk of devices, extends the chain of normals (one stream, drawn in
            # order) up to it and responds it. Every device gets the same normal and
            # the same arithmetic as in one call.
            KM = minibatch_kernels_()
            n_chunks = -(-idx.size // ch)
            base = np.arange(n_chunks, dtype=np.int64) * ch
            nblk = np.minimum(base + ch, idx.size) - base
            ctl = np.zeros(KM.CTL_SIZE, dtype=np.int64)
            ready = np.ones(n_chunks, dtype=np.int64)
            view = K._pcg_view(rng.bit_generator)
            if view is None:            # another bit generator: numpy draws them all
                z, st = rng.standard_normal(idx.size), np.zeros(4, dtype=np.uint64)
                ctl[KM.DRAWN] = n_chunks
            else:
                z, st = self._normals_space(idx.size), view
            zig = K._zig64()
            with rng.bit_generator.lock:
                K.run_chunks(lambda a, b: KM.draw_respond(
                    ctl, ready, nblk, base, g, idx, up, down, z, gs, c2c, p, st, *zig),
                K.get_threads())
            return
        self._pulses_numpy(n_up, n_down, rng)

    def pulse_stream(self, rng: np.random.Generator, swap: bool = False) -> "PulseStream":
        """:meth:`pulses` for counts still to be counted (codesign.pulses.coincide): see
        :class:`PulseStream`. ``swap`` exchanges up and down (a cell with polarity -1)."""
        return PulseStream(self, rng, swap)

    def _normals_space(self, size: int) -> np.ndarray:
        """float64 space for a call's device normals, kept between calls as the counts'
        (codesign.pulses.CountBuffers); valid until the next call."""
        if self._z.size < size:
            self._z = np.empty(max(size, 2 * self._z.size))
        return self._z[:size]

    def pulses_deferred(self, n_up, n_down, rng: np.random.Generator):
        """:meth:`pulses` in two parts, for a pipelined update (codesign.tile): the normals
        are drawn now, in stream order, and the returned function applies the device
        response (compiled, one thread; it touches nothing but this array's g and must
        run before anything reads or changes g). None, having done nothing, unless the
        counts are sparse and nothing is pending (else :meth:`pulses` is the way)."""
        K = kernels_()
        if not (_same_sparse(n_up, n_down) and not self._pending and
                self._g.flags.c_contiguous):
            return None
        idx = n_up.idx
        if idx.size == 0:
            return lambda: None
        z = K.standard_normal(rng, idx.size)
        up, down, g, p = n_up.counts, n_down.counts, self._g.reshape(-1), self._params
        gs, c2c = self.g_shared, self.spec.step_c2c
        return lambda: K.capacitor_pulses(g, idx, up, down, z, gs, c2c, p, 0, idx.size)

    def _pulses_numpy(self, n_up, n_down, rng: np.random.Generator) -> None:
        n_up = _check_counts("n_up", n_up, self.shape)
        n_down = _check_counts("n_down", n_down, self.shape)
        idx = np.flatnonzero((n_up > 0) | (n_down > 0))
        if idx.size == 0:
            return
        up = n_up.ravel()[idx]
        down = n_down.ravel()[idx]
        g0 = self.g.ravel()[idx]
        g_lo, g_hi = self.g_lo.ravel()[idx], self.g_hi.ravel()[idx]
        step_up, step_down = self.step_up.ravel()[idx], self.step_down.ravel()[idx]
        z = rng.standard_normal(idx.size)
        # up: y = g - g_shared climbs toward h_hi; then down: g_shared - g toward h_lo
        d_up = _travel(g0 - self.g_shared, up, step_up, self._k_up.ravel()[idx])
        g = np.minimum(g0 + d_up, g_hi)
        d_down = _travel(self.g_shared - g, down, step_down, self._k_down.ravel()[idx])
        g = g - d_down
        # n steps of mean D/n, each with relative spread step_c2c: variance c2c^2 D^2 / n
        var = d_up * d_up / np.maximum(up, 1) + d_down * d_down / np.maximum(down, 1)
        np.put(self.g, idx, np.clip(g + self.spec.step_c2c * np.sqrt(var) * z, g_lo, g_hi))

    def _decay(self, n_updates: int) -> np.ndarray:
        """exp(-n / lifetime) per device; the last n's array is kept (training repeats it)."""
        if n_updates == 1:
            return self._decay_one
        cached = getattr(self, "_decay_n", None)
        if cached is None or cached[0] != n_updates:
            cached = (n_updates, libm.exp(-n_updates * self._leak_rate))
            self._decay_n = cached
        return cached[1]

    def leak(self, n_updates: int = 1) -> None:
        """Relax toward g_shared over ``n_updates`` update operations:
        g -> g_shared + (g - g_shared) exp(-n/lifetime), each device with its own lifetime
        (leak_updates with spread leak_d2d); leak_updates = 0 disables.

        Applied lazily and in place, exactly as if at once: the next access to g applies
        the pending periods one after another (:meth:`flush_leak`), or a read-out of the
        weights does it in the same pass (codesign.devices.readout)."""
        if n_updates < 0:
            raise UserError(f"leak: n_updates: value {n_updates} is negative; allowed: >= 0")
        if self.spec.leak_updates > 0 and n_updates:
            self._pending.append(int(n_updates))

    def pending_decays(self) -> list[np.ndarray]:
        """The flat decay factors of the pending leak periods, in order; clears them
        (for a caller that applies them to g in its own pass)."""
        out = [self._decay(n).reshape(-1) for n in self._pending]
        self._pending = []
        if not self._g.flags.c_contiguous:
            self._g = np.ascontiguousarray(self._g)
        return out

    def flush_deferred(self):
        """:meth:`flush_leak` for a pipelined update: the pending periods are taken over
        now; the returned function applies them (one thread) and must run before
        anything reads or changes g."""
        K = kernels_()
        decays, gs = self.pending_decays(), self.g_shared
        g = self._g.reshape(-1)

        def run() -> None:
            for decay in decays:
                K.leak_range(g, decay, gs, 0, g.size)
        return run

    def flush_leak(self) -> None:
        """Apply the pending leak periods to g (compiled, in chunks over threads)."""
        K = kernels_()
        g, gs, step = None, self.g_shared, K.ELEM_CHUNK
        for decay in self.pending_decays():
            g = self._g.reshape(-1)
            K.run_chunks(lambda a, b: K.leak_range(g, decay, gs, a * step,
                                                   min(b * step, g.size)),
                         -(-g.size // step), ns=1.0 * g.size)

    def write(self, value, mask=None) -> None:
        """Set g directly (S, clipped to each device's bounds) where ``mask`` (all if None)."""
        value = np.clip(np.broadcast_to(np.asarray(value, dtype=np.float64), self.shape),
                        self.g_lo, self.g_hi)
        self.g = value.copy() if mask is None else np.where(mask, value, self.g)

    def reset(self, mask=None) -> None:
        """Back to g_shared where ``mask`` (all if None)."""
        self.write(self.g_shared, mask)


class PulseStream:
    """:meth:`CapacitorArray.pulses` of a mini-batch whose counts are not counted yet:
    :meth:`run` counts codesign.pulses.coincide's row blocks and applies their device
    response with every thread (codesign.kernels_minibatch: the threads take blocks to
    count; the normals are drawn block after block, in flat device order, by whichever
    thread holds the chain while the others count; then the threads take blocks to
    respond). The numbers are those of coincide's counts followed by one
    :meth:`CapacitorArray.pulses` call: the same counts, the same normal per device,
    the closed form's branch decided over the whole call, the same arithmetic, and
    the generator left in the same state."""

    def __init__(self, cap: CapacitorArray, rng: np.random.Generator, swap: bool):
        self.cap, self.rng, self.swap = cap, rng, swap

    def run(self, blocks) -> int:
        """Count ``blocks`` (a codesign.pulses.RowBlocks) and apply their pulses; returns
        the total of pulses."""
        counted = self.count(blocks)
        self.respond(counted)
        return counted.total

    def count(self, blocks) -> "Counted":
        """Phase 1: the blocks counted and the devices' normals drawn (kernels_minibatch:
        count_phase; numpy's draw after it where the generator is not PCG64); the pending
        leakage taken over (phase 2 applies it block by block before the response;
        applied here if the count fails)."""
        K, KM, cap = kernels_(), minibatch_kernels_(), self.cap
        # the pending leakage is applied block by block before the response (phase 2)
        decays = cap.pending_decays()
        try:
            return self._count(K, KM, blocks, decays)
        except BaseException:
            for decay in decays:        # not responded: the leakage as flush_leak does
                K.leak_range(cap._g.reshape(-1), decay, cap.g_shared, 0, cap._g.size)
            raise

    def _count(self, K, KM, blocks, decays: list) -> "Counted":
        cap = self.cap
        n_blocks, per = blocks.n_blocks, blocks.per_block
        ctl = np.zeros(KM.CTL_SIZE, dtype=np.int64)
        ready = np.zeros(n_blocks, dtype=np.int64)
        nblk = np.zeros(n_blocks, dtype=np.int64)
        tot = np.zeros(n_blocks, dtype=np.int64)
        base = np.arange(n_blocks, dtype=np.int64) * per
        z = cap._normals_space(n_blocks * per)
        view = K._pcg_view(self.rng.bit_generator)
        st = view if view is not None else np.zeros(4, dtype=np.uint64)
        zig = K._zig64()
        with self.rng.bit_generator.lock:
            K.run_chunks(lambda a, b: KM.count_phase(
                ctl, ready, nblk, tot, *blocks, view is not None, base, z, st, *zig),
                K.get_threads())
        if view is None:      # another bit generator: numpy draws, then into the blocks
            zz = self.rng.standard_normal(int(nblk.sum()))
            shift = base - (np.cumsum(nblk) - nblk)   # block start in z minus in zz
            z[np.repeat(shift, nblk) + np.arange(zz.size)] = zz
        elif ctl[KM.DRAWN] != n_blocks:
            raise RuntimeError(f"mini-batch update: {ctl[KM.DRAWN]} of {n_blocks} blocks' "
                               "normals drawn")
        up, down = (blocks.nneg, blocks.npos) if self.swap else (blocks.npos, blocks.nneg)
        decay = np.empty((0, 0)) if not decays else decays[0].reshape(1, -1) \
            if len(decays) == 1 else np.stack(decays)
        return Counted(nblk, base, blocks.idx, up, down, z, int(tot.sum()), decay,
                       blocks.row_block * blocks.cols)

    def respond(self, counted: "Counted") -> None:
        """Phase 2: every block's pending leakage and device response
        (kernels_minibatch.respond_phase)."""
        K, KM, cap = kernels_(), minibatch_kernels_(), self.cap
        ctl = np.zeros(KM.CTL_SIZE, dtype=np.int64)
        g = cap._g.reshape(-1)
        c = counted
        K.run_chunks(lambda a, b: KM.respond_phase(
            ctl, c.nblk, c.base, g, c.idx, c.up, c.down, c.z, cap.g_shared,
            cap.spec.step_c2c, cap._params, c.decays, c.span), K.get_threads())


class Counted(NamedTuple):
    """PulseStream.count's result: block c's devices idx[base[c]:base[c] + nblk[c]] with
    their up and down counts and normals z, and the total of pulses."""
    nblk: np.ndarray
    base: np.ndarray
    idx: np.ndarray
    up: np.ndarray
    down: np.ndarray
    z: np.ndarray
    total: int
    decays: np.ndarray     # the pending leak periods' factors, one row each (flat g)
    span: int              # devices of a block's rows (block c: flat [c span, (c+1) span))
