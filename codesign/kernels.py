"""Compiled kernels of the fast core (issue 11): numba, nopython, nogil, cached on disk.

Everything here is an implementation detail of codesign.pulses (packed pulse trains and
coincidence counts), codesign.converters (DAC codes, ADC noise and quantization, the
forward's chunks with numpy's own BLAS product called from compiled code) and
codesign.devices (capacitor response, leakage, read-out weights). Each kernel computes
exactly what the numpy code it replaces computed, operation for operation in the same
order and precision, so results are bit-identical (tests/test_fast_core.py); the numpy
versions stay in those modules as reference oracles. The one new computation is the ADC
noise sampler (a ziggurat on xoshiro256++ streams, below), which replaces numpy's
standard_normal for speed and per-chunk streams. The device normals are numpy's own
(standard_normal below: numpy's algorithm on the generator's own state, the same
numbers).

Threads: kernels release the GIL; large calls are cut into chunks of a fixed size
(independent of the thread count) that the calling thread and a crew of helper threads
run (:func:`run_chunks`, :func:`set_threads`; default every core, or the environment
variable CODESIGN_THREADS); calls whose estimated work is below PARALLEL_NS stay on the
calling thread. Every chunk writes its own part of the output and draws its own random
numbers, so the same seed gives the same result with any number of threads, whichever
thread runs a chunk. Longer jobs that run beside the caller (a tile's pipelined update)
are offered to a free crew thread (:func:`offer`).
"""
from __future__ import annotations

import contextlib
import math
import os
import platform
import threading

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic, overload
from numba.cpython.unsafe.numbers import trailing_zeros

from .devices.capacitor import SERIES_MAX
from .devices.capacitor import __file__ as _capacitor_file
from .numba_cache import flush_on_change

_JIT = dict(nogil=True, cache=True, error_model="numpy")

# ---- threads ------------------------------------------------------------------------
def _default_threads() -> int:
    """CODESIGN_THREADS if set, else every core."""
    try:
        return max(1, int(os.environ.get("CODESIGN_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


_threads = _default_threads()


def set_threads(n: int | None) -> int:
    """Threads the fast core may use (None: all cores); returns the number set."""
    global _threads, _crew
    n = (os.cpu_count() or 1) if n is None else max(1, int(n))
    if n != _threads and _crew is not None:
        _crew.stop()
        _crew = None
    _threads = n
    return n


def get_threads() -> int:
    return _threads


PARALLEL_NS = 300_000   # estimated work below which a call stays on one thread


@contextlib.contextmanager
def using_threads(n: int | None, parallel_ns: float | None = None):
    """set_threads(n) for a with block (and PARALLEL_NS = parallel_ns when given: tests
    put small arrays on threads with 0); both as they were afterwards."""
    global PARALLEL_NS
    before, ns = get_threads(), PARALLEL_NS
    set_threads(n)
    if parallel_ns is not None:
        PARALLEL_NS = parallel_ns
    try:
        yield
    finally:
        set_threads(before)
        PARALLEL_NS = ns


def chunk_edges(n_chunks: int, ns: float = float("inf")) -> list:
    """How run_chunks splits chunks 0..n_chunks over the threads: the edges of each
    thread's contiguous range (two edges: all on the calling thread)."""
    t = min(_threads, n_chunks)
    if t <= 1 or ns < PARALLEL_NS:
        return [0, n_chunks]
    return [n_chunks * k // t for k in range(t + 1)]


def run_chunks(fn, n_chunks: int, ns: float = float("inf")) -> None:
    """Call fn(lo, hi) over chunk ranges [lo, hi) covering 0..n_chunks: in this thread
    when one thread is set, there is one chunk or the estimated work `ns` (nanoseconds)
    is below PARALLEL_NS (waking a thread costs tens of microseconds), else split into
    one contiguous range per thread (chunk_edges), run by this thread and the crew's
    (:class:`_Crew`): each thread takes the next range not yet taken, so a range whose
    thread is late (its core busy) is run by the caller instead of waited for. fn must
    write disjoint outputs per chunk (so the split and who runs it never matter)."""
    edges = chunk_edges(n_chunks, ns)
    if len(edges) <= 2:
        fn(0, n_chunks)
        return
    _crew_().run(fn, edges)


# The crew: threads that wait on a lock each for run_chunks' next call. Waking one costs
# one lock release (a futex wake; about 10 us here, plus 20-30 us until it runs); the
# caller then waits for the ranges' end by spinning on a counter (without the GIL,
# bounded), not on a lock, because a blocked thread's wake-up is what costs on a virtual
# machine. ThreadPoolExecutor's submit and result were measured at 49 and 33 us (median,
# 2026-11-30, this project's 2-core VM), its worker starting 73 us after the submit.
_SPINS = 1 << 13        # the caller's spin on the ranges' end (about 27 ns per PAUSE on
                        # AMD Zen 3: 0.2 ms), then it blocks: a helper whose core is
                        # taken is not waited for on a spinning core
_crew: _Crew | None = None
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


def _item_ptr(context, builder, signature, args, k, idx):
    """Inside an intrinsic's codegen: the pointer to element idx of its k-th argument, a
    1-D array (no bounds or wraparound check; the kernels' indices are in range)."""
    aryty = signature.args[k]
    ary = context.make_array(aryty)(context, builder, args[k])
    return cgutils.get_item_pointer(context, builder, aryty, ary, [idx], wraparound=False)


@intrinsic
def _atomic_add(typingctx, arr, idx, val):
    """arr[idx] += val as one atomic step (sequentially consistent); returns the value
    before. arr: 1-D int64 array."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_ptr(context, builder, signature, args, 0, args[1])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")
    return types.int64(arr, types.intp, types.int64), codegen


@intrinsic
def _load_acquire(typingctx, arr, idx):
    """arr[idx] read with acquire order (never hoisted out of a loop). arr: int64."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_ptr(context, builder, signature, args, 0, args[1])
        return builder.load_atomic(ptr, "acquire", 8)
    return types.int64(arr, types.intp), codegen


@intrinsic
def _cpu_relax(typingctx):
    """The spin-wait hint (x86 PAUSE; nothing elsewhere)."""
    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@nb.njit(**_JIT)
def take(counter, k):
    """counter[k] before adding 1 to it, in one atomic step (the next index to take, or
    a count of ends)."""
    return _atomic_add(counter, k, 1)


@nb.njit(**_JIT)
def wait_count(counter, k, target, spins):
    """Spin (GIL released) until counter[k] >= target, at most `spins` pauses; returns
    whether it got there."""
    for _ in range(spins):
        if _load_acquire(counter, k) >= target:
            return True
        _cpu_relax()
    return _load_acquire(counter, k) >= target


class _Crew:
    """_threads - 1 daemon threads, each waiting on its own lock for a job."""

    def __init__(self, helpers: int):
        self.pid = os.getpid()
        self.busy = threading.Lock()            # one run at a time; others run alone
        self.go = [threading.Lock() for _ in range(helpers)]
        self.idle = [threading.Lock() for _ in range(helpers)]   # held while a job runs
        self.jobs: list = [None] * helpers
        for lock in self.go:
            lock.acquire()
        for k in range(helpers):
            threading.Thread(target=self._serve, args=(k,), daemon=True,
                             name=f"codesign-crew-{k}").start()

    def _serve(self, k: int) -> None:
        while True:
            self.go[k].acquire()
            job, self.jobs[k] = self.jobs[k], None
            if job is None:
                return
            try:
                job()
            finally:
                self.idle[k].release()

    def stop(self) -> None:
        for k, lock in enumerate(self.idle):
            if lock.acquire(timeout=10):
                self.jobs[k] = None
                self.go[k].release()

    def run(self, fn, edges: list) -> None:
        """fn over the ranges of edges, taken in turn by this thread and free helpers."""
        parts = len(edges) - 1
        if not self.busy.acquire(blocking=False):       # nested or concurrent: alone
            for a, b in zip(edges[:-1], edges[1:]):
                fn(a, b)
            return
        try:
            counter = np.zeros(2, dtype=np.int64)       # [ranges taken, ranges ended]
            errors: list = []

            def ranges() -> None:
                while True:
                    p = take(counter, 0)
                    if p >= parts:
                        return
                    try:
                        fn(edges[p], edges[p + 1])
                    except BaseException as e:          # noqa: BLE001 (re-raised below)
                        errors.append(e)
                    finally:
                        take(counter, 1)
            helped = []
            for k in range(min(len(self.go), parts - 1)):
                if self.idle[k].acquire(blocking=False):   # else still in a late job
                    self.jobs[k] = ranges
                    self.go[k].release()
                    helped.append(k)
            ranges()
            if not wait_count(counter, 1, parts, _SPINS):
                for k in helped:
                    self.idle[k].acquire()
                    self.idle[k].release()
            if errors:
                raise errors[0]
        finally:
            self.busy.release()

    def offer(self, fn) -> int | None:
        """Hand fn() to a free helper without waiting (see :func:`offer`); its index, or
        None where none is free."""
        for k in range(len(self.go)):
            if self.idle[k].acquire(blocking=False):
                self.jobs[k] = fn
                self.go[k].release()
                return k
        return None


class Offered:
    """A job handed to a crew helper by :func:`offer`: wait() returns once the helper
    is done with it (at once where nobody took it) and re-raises its error."""

    def __init__(self, fn):
        self.crew, self.k, self.error = None, None, None
        if _threads > 1:
            self.crew = _crew_()
            self.k = self.crew.offer(self._run(fn))
        self.given = self.k is not None      # a helper took it

    def _run(self, fn):
        def job() -> None:
            try:
                fn()
            except BaseException as e:      # noqa: BLE001 (re-raised by wait)
                self.error = e
        return job

    def wait(self) -> None:
        if self.k is not None:
            self.crew.idle[self.k].acquire()
            self.crew.idle[self.k].release()
            self.k = None
        if self.error is not None:
            raise self.error


def offer(fn) -> Offered:
    """Start fn() on a free thread of the crew and return at once (a tile's device work,
    which the caller shares block by block: codesign.tile). Handing it over is a lock
    release (about 5-10 us here; ThreadPoolExecutor's submit took about 20 us and its
    result about 9). Nobody runs fn where one thread is set or every helper is busy:
    fn must be work the caller completes itself, whoever else helps."""
    return Offered(fn)


def _crew_() -> _Crew:
    global _crew
    if _crew is None or _crew.pid != os.getpid():       # a forked child starts its own
        _crew = _Crew(_threads - 1)
    return _crew


# ---- bit intrinsics -----------------------------------------------------------------
@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the cache to fetch arr[idx] (1-D array, no bounds check; LLVM prefetch)."""
    def codegen(context, builder, signature, args):
        ptr = _item_ptr(context, builder, signature, args, 0, args[1])
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),   # read,
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])       # keep, data
        return context.get_dummy_value()
    return types.void(arr, idx), codegen


@intrinsic
def lt_mask64(typingctx, arr, idx, m):
    """Bit t (t < 64) set iff arr[idx + t] < m, unsigned, for a 1-D uint8 array (reads
    64 bytes from idx, no bounds check): one vector compare of the 64 bytes against m
    and its mask (two AVX2 compares and movemasks), no loop over bits."""
    def codegen(context, builder, signature, args):
        ptr = _item_ptr(context, builder, signature, args, 0, args[1])
        i8, i32 = ir.IntType(8), ir.IntType(32)
        vty = ir.VectorType(i8, 64)
        v = builder.load(builder.bitcast(ptr, vty.as_pointer()), align=1)
        first = builder.insert_element(ir.Constant(vty, ir.Undefined),
                                       builder.trunc(args[2], i8), ir.Constant(i32, 0))
        splat = builder.shuffle_vector(first, ir.Constant(vty, ir.Undefined),
                                       ir.Constant(ir.VectorType(i32, 64), [0] * 64))
        return builder.bitcast(builder.icmp_unsigned("<", v, splat), ir.IntType(64))
    return types.uint64(arr, idx, m), codegen


@intrinsic
def popcount(typingctx, x):
    """Number of set bits of a uint64 (LLVM ctpop: one instruction on x86-64 with
    POPCNT), as uint64."""
    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, [args[0]])
    return types.uint64(types.uint64), codegen


U1 = np.uint64(1)
U0 = np.uint64(0)


@nb.njit(**_JIT)
def _ctz(x):
    """Index of the lowest set bit of a non-zero uint64, as int64 (mixing uint64 and int64
    in numba arithmetic would give float64)."""
    return np.int64(trailing_zeros(x))


# ---- random numbers: xoshiro256++ and a float32 ziggurat ----------------------------
# Ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000) in Doornik's layout
# (ZIGNOR, 2005): 256 strips of equal area V, strip i spans |x| < X[i] (X[1] = R, the start
# of the tail, X[256] = 0; X[0] = V / f(R) is the base strip's virtual width). A sample
# draws 32 bits: 8 choose the strip, 1 the sign, 23 the position; it is accepted at once
# inside the strip's rectangle (99 % of draws), else by the exact wedge test or from the
# exact tail. The distribution is the normal one up to the 23-bit grid of positions
# (as numpy's float32 standard_normal); the output is float32.
_ZR = 3.6541528853610088
_ZV = 0.00492867323399


def _zig_tables():
    c = 256
    f = lambda v: math.exp(-0.5 * v * v)    # noqa: E731
    x = np.empty(c + 1)
    x[0], x[1] = _ZV / f(_ZR), _ZR
    for i in range(1, c - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(_ZV / x[i] + f(x[i])))
    x[c] = 0.0
    # accept m (23 bits) at once iff (m + 0.5) 2^-23 < X[i+1] / X[i]
    kt = np.array([math.ceil(x[i + 1] / x[i] * 2.0 ** 23 - 0.5) for i in range(c)],
                  dtype=np.int32)          # int32: _zig_rect8 compares 8 lanes at once
    fx = np.array([f(v) for v in x])
    return x * 2.0 ** -23, kt, fx


ZIG_W, ZIG_K, ZIG_F = _zig_tables()

_SM_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SM_M1 = np.uint64(0xBF58476D1CE4E5B9)
_SM_M2 = np.uint64(0x94D049BB133111EB)
_CHUNK_MIX = np.uint64(0xD1B54A32D192ED03)


@nb.njit(**_JIT)
def _splitmix(s):
    s = s + _SM_GAMMA
    z = s
    z = (z ^ (z >> np.uint64(30))) * _SM_M1
    z = (z ^ (z >> np.uint64(27))) * _SM_M2
    return s, z ^ (z >> np.uint64(31))


@nb.njit(**_JIT)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@nb.njit(**_JIT)
def _seed_state(seed, chunk):
    """xoshiro256++ state of one chunk's stream: SplitMix64 from seed ^ chunk * mix."""
    s = np.uint64(seed) ^ (np.uint64(chunk + 1) * _CHUNK_MIX)
    st = np.empty(4, dtype=np.uint64)
    for i in range(4):
        s, st[i] = _splitmix(s)
    return st


@nb.njit(**_JIT)
def _next(st):
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    return result


@nb.njit(**_JIT)
def _uniform(st):
    """Uniform double in (0, 1): 53 bits, offset half a step."""
    return ((_next(st) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@nb.njit(**_JIT)
def _zig_slow(st, u32, zw, zk, zf):
    """The rare paths of one sample (u32 failed the rectangle test): the wedge test,
    then fresh draws until accepted; (value, sign bit). The value is NaN where a draw
    falls in the base strip's tail: the caller then finishes it with _zig_tail. (With
    the tail's loop and logarithms in this function, a miss took 70 ns instead of 22,
    though only about 1 draw in 3,900 reaches the tail, the normal's mass beyond _ZR,
    2.6e-4: the same numbers either way, measured 2026-12-01.)"""
    while True:
        i = u32 & 0xFF
        m = u32 >> 9
        neg = (u32 >> 8) & 1
        if m < zk[i]:
            a = (m + 0.5) * zw[i]
            return (-a if neg else a), neg
        if i == 0:
            return np.nan, neg
        a = (m + 0.5) * zw[i]
        if zf[i] + _uniform(st) * (zf[i + 1] - zf[i]) < math.exp(-0.5 * a * a):
            return (-a if neg else a), neg
        u32 = np.int64(_next(st) >> np.uint64(32))


@nb.njit(**_JIT)
def _zig_tail(st, neg):
    """A sample from the tail beyond _ZR (Marsaglia's method), drawing from st."""
    while True:
        xx = -math.log(_uniform(st)) / _ZR
        yy = -math.log(_uniform(st))
        if yy + yy > xx * xx:
            return -(_ZR + xx) if neg else _ZR + xx


@intrinsic
def _zig_rect8(typingctx, u, j, out, o, zw, zk, scale):
    """The rectangle candidates of the 8 samples u[j:j+8] (uint32 draws) written to
    out[o:o+8] as float32 scale * z, z = (m + 0.5) zw[i] (1 - 2 sign) with strip i = low 8
    bits, sign = bit 8, position m = top 23 bits, computed as the scalar loop does (float64
    product, rounded to float32, times scale in float32); returns the 8-bit mask of the
    samples outside their rectangle (m >= zk[i], zk int32). No bounds check. The
    arithmetic runs on 4- and 8-lane vectors; the table reads stay scalar loads (AVX2's
    gather instructions were slower here on AMD Zen 3), so LLVM vectorizes what a loop
    with a data-dependent store of the misses would keep scalar."""
    if not (isinstance(u, types.Array) and u.dtype == types.uint32 and
            isinstance(out, types.Array) and out.dtype == types.float32 and
            isinstance(zw, types.Array) and zw.dtype == types.float64 and
            isinstance(zk, types.Array) and zk.dtype == types.int32):
        return None

    def codegen(context, builder, signature, args):
        i32, i64, f64, f32 = ir.IntType(32), ir.IntType(64), ir.DoubleType(), ir.FloatType()
        v4, v8 = (lambda t: ir.VectorType(t, 4)), (lambda t: ir.VectorType(t, 8))

        def ptr(k, idx):
            return _item_ptr(context, builder, signature, args, k, idx)

        def splat(ty, n, value):
            return ir.Constant(ir.VectorType(ty, n), [value] * n)

        def gather(base, idx, n):     # base[idx[k]], k < n, as scalar loads
            vec = ir.Constant(ir.VectorType(base.type.pointee, n), ir.Undefined)
            for k in range(n):
                at = builder.extract_element(idx, ir.Constant(i32, k))
                vec = builder.insert_element(vec, builder.load(builder.gep(base, [at])),
                                             ir.Constant(i32, k))
            return vec

        v = builder.load(builder.bitcast(ptr(0, args[1]), v8(i32).as_pointer()), align=4)
        strip = builder.and_(v, splat(i32, 8, 0xFF))
        m = builder.lshr(v, splat(i32, 8, 9))
        sign = builder.and_(builder.lshr(v, splat(i32, 8, 8)), splat(i32, 8, 1))
        zw0, zk0 = ptr(4, ir.Constant(i64, 0)), ptr(5, ir.Constant(i64, 0))
        undef8 = ir.Constant(v8(i32), ir.Undefined)
        halves = []
        for h in (0, 4):
            pick = ir.Constant(v4(i32), [h, h + 1, h + 2, h + 3])
            mh, sh, ih = (builder.shuffle_vector(a, undef8, pick) for a in (m, sign, strip))
            z = builder.fmul(builder.fadd(builder.sitofp(mh, v4(f64)), splat(f64, 4, 0.5)),
                             gather(zw0, ih, 4))
            pm = builder.fsub(splat(f64, 4, 1.0),
                              builder.fmul(splat(f64, 4, 2.0), builder.sitofp(sh, v4(f64))))
            halves.append(builder.fptrunc(builder.fmul(z, pm), v4(f32)))
        z8 = builder.shuffle_vector(halves[0], halves[1], ir.Constant(v8(i32), list(range(8))))
        sc = builder.insert_element(ir.Constant(v8(f32), ir.Undefined), args[6],
                                    ir.Constant(i32, 0))
        sc = builder.shuffle_vector(sc, ir.Constant(v8(f32), ir.Undefined),
                                    ir.Constant(v8(i32), [0] * 8))
        builder.store(builder.fmul(z8, sc),
                      builder.bitcast(ptr(2, args[3]), v8(f32).as_pointer()), align=4)
        miss = builder.icmp_signed(">=", m, gather(zk0, strip, 8))
        return builder.zext(builder.bitcast(miss, ir.IntType(8)), i64)
    return types.int64(u, types.intp, out, types.intp, zw, zk, types.float32), codegen


@intrinsic
def _xoshiro4(typingctx, st, raw, n):
    """Four xoshiro256++ streams side by side, one per lane of 4 x uint64 vectors: state
    word k of stream l at st[k, l] ((4, 4) uint64, C order, advanced in place); stream
    l's outputs 0..n-1 to raw[l, :n] ((4, >= n) uint64, rows contiguous). The same
    numbers as four scalar loops (_next), at about half their time."""
    if not (isinstance(st, types.Array) and st.dtype == types.uint64 and st.ndim == 2 and
            st.layout == "C" and isinstance(raw, types.Array) and
            raw.dtype == types.uint64 and raw.ndim == 2):
        return None

    def codegen(context, builder, signature, args):
        i32, i64 = ir.IntType(32), ir.IntType(64)
        v4 = ir.VectorType(i64, 4)
        sa = context.make_array(signature.args[0])(context, builder, args[0])
        ra = context.make_array(signature.args[1])(context, builder, args[1])
        words = builder.bitcast(sa.data, v4.as_pointer())
        slots = []
        for k in range(4):
            slot = cgutils.alloca_once(builder, v4)
            builder.store(builder.load(builder.gep(words, [ir.Constant(i64, k)]), align=8),
                          slot)
            slots.append(slot)
        stride = builder.extract_value(ra.strides, 0)        # bytes from one row to the next
        base = builder.ptrtoint(ra.data, i64)

        def splat(x):
            return ir.Constant(v4, [x] * 4)

        def rotl(x, k):
            return builder.or_(builder.shl(x, splat(k)), builder.lshr(x, splat(64 - k)))
        with cgutils.for_range(builder, args[2]) as loop:
            s0, s1, s2, s3 = (builder.load(slot) for slot in slots)
            res = builder.add(rotl(builder.add(s0, s3), 23), s0)
            t = builder.shl(s1, splat(17))
            s2 = builder.xor(s2, s0)
            s3 = builder.xor(s3, s1)
            s1 = builder.xor(s1, s2)
            s0 = builder.xor(s0, s3)
            s2 = builder.xor(s2, t)
            s3 = rotl(s3, 45)
            for slot, v in zip(slots, (s0, s1, s2, s3)):
                builder.store(v, slot)
            at = builder.add(base, builder.mul(loop.index, ir.Constant(i64, 8)))
            for lane in range(4):
                addr = builder.add(at, builder.mul(stride, ir.Constant(i64, lane)))
                builder.store(builder.extract_element(res, ir.Constant(i32, lane)),
                              builder.inttoptr(addr, i64.as_pointer()))
        for k in range(4):
            builder.store(builder.load(slots[k]), builder.gep(words, [ir.Constant(i64, k)]),
                          align=8)
        return context.get_dummy_value()
    return types.void(st, raw, types.intp), codegen


@nb.njit(**_JIT)
def _zig_samples(st, raw, out, lo, n, scale, zw, zk, zf):
    """out[lo:lo+n] from the stream's raw 64-bit outputs (two 32-bit draws each, low half
    first) and its state after them (st, 4 uint64, advanced by the rare draws): every
    sample's rectangle candidate, eight at a time (_zig_rect8), remembering the few
    (about 1.5 %) outside their rectangle; then those, in order, by the exact wedge and
    tail tests, drawing from where the raw pass left the stream."""
    u = raw.view(np.uint32)
    fails = np.empty(n, dtype=np.int64)
    nf = 0
    n8 = n - n % 8
    for j in range(0, n8, 8):
        miss = _zig_rect8(u, j, out, lo + j, zw, zk, scale)
        while miss:
            fails[nf] = j + _ctz(np.uint64(miss))
            nf += 1
            miss &= miss - 1
    for j in range(n8, n):
        u32 = np.int64(u[j])
        i = u32 & 0xFF
        m = u32 >> 9
        # the sign without a branch (a 50 % branch mispredicts every other sample)
        z = (m + 0.5) * zw[i] * (1.0 - 2.0 * ((u32 >> 8) & 1))
        out[lo + j] = np.float32(z) * scale
        if m >= zk[i]:
            fails[nf] = j
            nf += 1
    for q in range(nf):
        j = fails[q]
        z, neg = _zig_slow(st, np.int64(u[j]), zw, zk, zf)
        if z != z:
            z = _zig_tail(st, neg)
        out[lo + j] = np.float32(z) * scale


@nb.njit(**_JIT)
def _normals_chunk(seed, chunk, out, lo, hi, scale, zw, zk, zf):
    """out[lo:hi] = scale * N(0, 1) in float32, from chunk `chunk`'s own stream.

    Three passes (faster than one interleaved loop): the raw 64-bit outputs of the
    stream, then _zig_samples' rectangle pass and rare paths."""
    st = _seed_state(seed, chunk)
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    n = hi - lo
    raw = np.empty((n + 1) >> 1, dtype=np.uint64)
    for q in range(raw.size):
        raw[q] = _rotl(s0 + s3, 23) + s0
        t = s1 << np.uint64(17)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    _zig_samples(st, raw, out, lo, n, scale, zw, zk, zf)


@nb.njit(**_JIT)
def _normals_4rows(seed, chunk, out, n, scale, zw, zk, zf, st, raw):
    """out[l, :n] = chunk + l's samples for l < 4 (as _normals_chunk), the raw outputs
    of the four streams drawn side by side (_xoshiro4). st (4, 4) and raw (4, >= (n + 1)
    // 2) uint64 are work space."""
    for lane in range(4):
        s = _seed_state(seed, chunk + lane)
        for k in range(4):
            st[k, lane] = s[k]
    _xoshiro4(st, raw, (n + 1) >> 1)
    one = np.empty(4, dtype=np.uint64)
    for lane in range(4):
        for k in range(4):
            one[k] = st[k, lane]
        _zig_samples(one, raw[lane], out[lane], 0, n, scale, zw, zk, zf)


@nb.njit(**_JIT)
def normals_range(seed, out, c0, c1, chunk, scale, zw, zk, zf):
    """Streams c0..c1 of `chunk` samples each into the flat out, four at a time while
    whole rows remain."""
    n = out.size
    st = np.empty((4, 4), dtype=np.uint64)
    raw = np.empty((4, (chunk + 1) >> 1), dtype=np.uint64)
    c = c0
    while c + 4 <= c1 and (c + 4) * chunk <= n:
        _normals_4rows(seed, c, out[c * chunk:(c + 4) * chunk].reshape((4, chunk)), chunk,
                       scale, zw, zk, zf, st, raw)
        c += 4
    for c in range(c, c1):
        lo = c * chunk
        _normals_chunk(seed, c, out, lo, min(lo + chunk, n), scale, zw, zk, zf)


def normals32(seed: int, rows: int, cols: int, scale: float = 1.0) -> np.ndarray:
    """(rows, cols) float32 samples of scale * N(0, 1) from `seed`, one stream per row
    (stream r = row r), so that any split over threads gives the same numbers."""
    out = np.empty((rows, cols), dtype=np.float32)
    flat, s = out.reshape(-1), np.float32(scale)
    run_chunks(lambda a, b: normals_range(np.uint64(seed), flat, a, b, cols, s,
                                          ZIG_W, ZIG_K, ZIG_F), rows, ns=3.0 * rows * cols)
    return out


# ---- numpy's float64 normals, drawn faster ---------------------------------------------
# The device response needs one normal per pulsed device from the tile's generator, in
# the generator's order, so that the weights equal those of rng.standard_normal (tests
# and saved references). numpy (Generator with PCG64, the default_rng) draws them with
# a ziggurat (Marsaglia & Tsang; numpy's random_standard_normal) on PCG64's XSL-RR
# output, calling the bit generator through a function pointer per draw: about 11 ns
# per normal on this project's machine. The same algorithm compiled here, with the
# 128-bit LCG step inline (O'Neill, PCG, 2014; multiplier of numpy's pcg64.h), gives the
# same numbers (tested for equality of values and final state) in about 5 ns (with a
# branch-free sign; two interleaved LCG chains, stepped by the square of the multiplier,
# measured no faster: the raw outputs alone take 2.2 ns either way, the rest is the
# ziggurat's own work). The ziggurat tables are numba's copy of numpy's
# (numba.np.random._constants, used by numba's own Generator support, which matches
# numpy's results). The generator's state is read and advanced in place in its memory
# (numpy's pcg64_state; the layout is checked against the public bit_generator.state
# once per generator): the public state dict costs about 15 us to read and write, more
# than the draws of a small update.
@intrinsic
def _mulhi64(typingctx, a, b):
    """High 64 bits of the 128-bit product of two uint64."""
    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))
    return types.uint64(types.uint64, types.uint64), codegen


_PCG_MUL_HI = np.uint64(0x2360ED051FC65DA4)     # numpy pcg64.h PCG_DEFAULT_MULTIPLIER_128
_PCG_MUL_LO = np.uint64(0x4385DF649FCCF645)


@nb.njit(**_JIT)
def _pcg_next(st):
    """One PCG64 (XSL-RR 128/64) output; st = (state lo, state hi, inc lo, inc hi),
    stepped in place (state = state * M + inc mod 2^128, then the output)."""
    sl, sh = st[0], st[1]
    lo = sl * _PCG_MUL_LO
    hi = _mulhi64(sl, _PCG_MUL_LO) + sh * _PCG_MUL_LO + sl * _PCG_MUL_HI
    nl = lo + st[2]
    nh = hi + st[3] + (U1 if nl < lo else U0)
    st[0], st[1] = nl, nh
    x = nh ^ nl
    rot = nh >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@nb.njit(**_JIT)
def _pcg_double(st):
    """numpy's next_double of PCG64: the top 53 bits of one output, times 2^-53."""
    return np.float64(_pcg_next(st) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


_SIGN = np.array([1.0, -1.0])   # x * _SIGN[s] is -x for s = 1, bit for bit (IEEE)


@nb.njit(**_JIT)
def _zig_rare(st, idx, rabs, x, ki, wi, fi, r_tail, inv_r):
    """The rest of one normal after a draw outside its strip's rectangle (about 1 in
    100): the tail (strip 0) or the wedge test, and new draws until one is accepted, all
    through st (numpy's random_standard_normal after its first test)."""
    while True:
        if idx == 0:
            while True:
                xx = -inv_r * np.log1p(-_pcg_double(st))
                yy = -np.log1p(-_pcg_double(st))
                if yy + yy > xx * xx:
                    return -(r_tail + xx) if (rabs >> np.uint64(8)) & U1 else r_tail + xx
        if (fi[idx - 1] - fi[idx]) * _pcg_double(st) + fi[idx] < np.exp(-0.5 * x * x):
            return x
        r = _pcg_next(st)
        idx = np.int64(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> U1) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(np.int64(rabs)) * wi[idx] * _SIGN[np.int64(r & U1)]
        if rabs < ki[idx]:
            return x


@nb.njit(**_JIT)
def pcg_normals(st, out, ki, wi, fi, r_tail, inv_r):
    """out[:] = successive rng.standard_normal() of the PCG64 state st (numpy's
    random_standard_normal: 8 bits strip, 1 bit sign, 52 bits position; the wedge and
    tail tests on the rare rejections), advancing st in place. The state stays in
    registers on the common path (the step of _pcg_next, inline). The sign is applied
    by a multiplication by +-1 (the same bits as numpy's negation): as a branch it was
    mispredicted every other normal (8.7 -> 5.5 ns per normal on this machine); the
    rare path is a separate function, which keeps the common loop's registers."""
    sl, sh, il, ih = st[0], st[1], st[2], st[3]
    for j in range(out.size):
        lo = sl * _PCG_MUL_LO
        hi = _mulhi64(sl, _PCG_MUL_LO) + sh * _PCG_MUL_LO + sl * _PCG_MUL_HI
        sl = lo + il
        sh = hi + ih + (U1 if sl < lo else U0)
        v = sh ^ sl
        rot = sh >> np.uint64(58)
        r = (v >> rot) | (v << ((np.uint64(64) - rot) & np.uint64(63)))
        idx = np.int64(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> U1) & np.uint64(0x000FFFFFFFFFFFFF)
        # rabs < 2^52: its signed conversion is exact
        x = np.float64(np.int64(rabs)) * wi[idx] * _SIGN[np.int64(r & U1)]
        if rabs >= ki[idx]:
            st[0], st[1] = sl, sh          # the rare paths draw through st
            x = _zig_rare(st, idx, rabs, x, ki, wi, fi, r_tail, inv_r)
            sl, sh = st[0], st[1]
        out[j] = x
    st[0], st[1] = sl, sh


_PCG_STATES: dict = {}       # id(bit generator) -> (generator, live uint64[4] view)
NORMALS_DIRECT_MIN = 1024    # fewer normals: numpy's call (about as fast there)


def _pcg_view(bg):
    """A uint64[4] view of a PCG64 generator's 128-bit state and increment (lo, hi
    words) in its own memory, or None where the layout is not the one checked for
    (then numpy draws). Cached per generator; the entry holds the generator, so the
    memory stays valid."""
    hit = _PCG_STATES.get(id(bg))
    if hit is not None and hit[0] is bg:
        return hit[1]
    view = None
    if type(bg) is np.random.PCG64:
        import ctypes
        s = bg.state["state"]
        ptr = ctypes.c_void_p.from_address(bg.ctypes.state_address).value
        if ptr:
            words = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(ptr))
            mask = (1 << 64) - 1
            want = [s["state"] & mask, s["state"] >> 64, s["inc"] & mask, s["inc"] >> 64]
            if [int(w) for w in words] == want:
                view = words
    if len(_PCG_STATES) >= 64:
        _PCG_STATES.clear()
    _PCG_STATES[id(bg)] = (bg, view)
    return view


def _zig64() -> tuple:
    """numpy's float64 ziggurat tables and tail constants (numba's copy), loaded once."""
    global _ZIG64
    if _ZIG64 is None:
        from numba.np.random import _constants as c
        _ZIG64 = (c.ki_double, c.wi_double, c.fi_double, float(c.ziggurat_nor_r),
                  float(c.ziggurat_nor_inv_r))
    return _ZIG64


_ZIG64 = None


def standard_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """rng.standard_normal(n) (float64): the same numbers, and rng's state after it the
    same, as numpy's."""
    view = _pcg_view(rng.bit_generator) if n >= NORMALS_DIRECT_MIN else None
    if view is None:
        return rng.standard_normal(n)
    out = np.empty(n)
    with rng.bit_generator.lock:
        pcg_normals(view, out, *_zig64())
    return out


# ---- converters ---------------------------------------------------------------------
_EXP = np.uint64(0x7FF0000000000000)      # a float64's exponent bits
_EXP_LSB = np.uint64(0x0010000000000000)  # the exponent's lowest bit


@nb.njit(**_JIT)
def dac_applied(x, maxc, out):
    """Amplitude / pulse-width drive of normalized inputs (codesign.converters.dac_codes
    then dac_phases): code = rint(clip(float32(x), -1, 1) * MAXC), drive = code / MAXC.
    Returns False if x holds NaN or infinity (then out is not meaningful): checked in
    the same pass, which reads x anyway (a separate np.isfinite pass cost 0.07-0.12 ms
    per 256 x 512 forward, mostly reading x again), on the exponent bits (all ones only
    for NaN and infinity; adding the exponent's lowest bit carries into the sign bit
    exactly then), which stays on vectors."""
    fm = np.float32(maxc)
    inv = np.float32(1.0 / maxc)
    bad = np.uint64(0)
    for i in range(x.shape[0]):
        row = x[i]
        bits = row.view(np.uint64)
        for j in range(x.shape[1]):
            bad |= (bits[j] & _EXP) + _EXP_LSB
            v = np.float32(row[j])
            v = min(max(v, np.float32(-1.0)), np.float32(1.0))
            c = np.rint(v * fm)
            out[i, j] = np.float32(np.int32(c)) * inv
    return (bad >> np.uint64(63)) == 0


@nb.njit(**_JIT)
def _quantize(a, noise, w, val, lo, hi, fs, inv_lsb, top, half, lsb):
    """SAR closed form, signed word and value of conversions [lo, hi), the noise
    noise[:hi - lo] added first (float32, as analog += noise would; None: none). The word
    is formed in int32 and the value from the clipped level, (level - (half - 0.5)) LSB,
    which equals (word + 0.5) LSB exactly (small integers and halves in float64): without
    int64-to-float64 conversions (AVX2 has none) the loop runs on vectors."""
    ftop = np.float32(top)
    h32 = np.int32(half)
    mid = half - 0.5
    aa, ww, vv = a[lo:hi], w[lo:hi], val[lo:hi]
    if noise is None:
        for j in range(aa.size):
            level = np.floor((aa[j] + fs) * inv_lsb)
            level = min(max(level, np.float32(0.0)), ftop)
            ww[j] = np.int32(level) - h32
            vv[j] = (np.float64(level) - mid) * lsb
    else:
        for j in range(aa.size):
            level = np.floor(((aa[j] + noise[j]) + fs) * inv_lsb)
            level = min(max(level, np.float32(0.0)), ftop)
            ww[j] = np.int32(level) - h32
            vv[j] = (np.float64(level) - mid) * lsb


@nb.njit(**_JIT)
def adc_range(analog, words, values, c0, c1, chunk, seed, nscale, fs, inv_lsb, top,
              half, lsb, zw, zk, zf):
    """Single-phase ADC of flat conversions [c0*chunk, c1*chunk) (chunk = a row of
    outputs): noise (stream c for row c, when nscale > 0; four rows' streams drawn side
    by side) added, the SAR's closed form floor((v + FS) / LSB) clipped to the code
    range, the signed word, and the value at the middle of the code's step
    (codesign.converters.sar_codes, signed_codes, words_to_values). analog is left as it
    was."""
    buf = np.empty((4, chunk), dtype=np.float32)
    st = np.empty((4, 4), dtype=np.uint64)
    raw = np.empty((4, (chunk + 1) >> 1), dtype=np.uint64)
    _adc_rows(analog, words, values, c0, c1, chunk, seed, nscale, fs, inv_lsb, top, half,
              lsb, zw, zk, zf, buf, st, raw)


@nb.njit(**_JIT)
def _adc_rows(analog, words, values, c0, c1, chunk, seed, nscale, fs, inv_lsb, top, half,
              lsb, zw, zk, zf, buf, st, raw):
    """adc_range with its work space (buf (4, chunk) float32, st (4, 4) and raw
    (4, (chunk + 1) // 2) uint64) given."""
    n = analog.size
    a = analog.ravel()
    w = words.ravel()
    val = values.ravel()
    if nscale <= 0:
        for c in range(c0, c1):
            _quantize(a, None, w, val, c * chunk, min((c + 1) * chunk, n), fs, inv_lsb,
                      top, half, lsb)
        return
    c = c0
    while c + 4 <= c1 and (c + 4) * chunk <= n:
        _normals_4rows(seed, c, buf, chunk, nscale, zw, zk, zf, st, raw)
        for lane in range(4):
            lo = (c + lane) * chunk
            _quantize(a, buf[lane], w, val, lo, lo + chunk, fs, inv_lsb, top, half, lsb)
        c += 4
    for c in range(c, c1):
        lo = c * chunk
        hi = min(lo + chunk, n)
        _normals_chunk(seed, c, buf[0], 0, hi - lo, nscale, zw, zk, zf)
        _quantize(a, buf[0], w, val, lo, hi, fs, inv_lsb, top, half, lsb)



# ---- the forward in one call per thread -------------------------------------------------
# mvm's chunks (codesign.converters): each thread runs its chunks' DAC, product and ADC in
# one call without the GIL (Python between the steps made the two threads wait on the
# GIL for each other, and a wait is a wake-up of tens of microseconds on a virtual
# machine). The ADC rows of a chunk whose product is done are taken in blocks by
# whichever thread is free (claim: per chunk [product done, next block]), so a thread
# that started late (its wake-up) or runs slower shares its conversions with the other:
# every row's noise comes from its own stream, so who converts it never matters.
ADC_BLOCK = 8   # rows of conversions taken at once (four-stream groups: _normals_4rows)


@nb.njit(**_JIT)
def adc_own(analog, words, values, claim, c, rows, seed, nscale, fs, inv_lsb, top, half,
            lsb, zw, zk, zf):
    """Chunk c's product is in analog (rows c*rows.. of it): say so (claim[2c]) and
    convert its rows (adc_range) in blocks of ADC_BLOCK taken in turn (claim[2c+1]) with
    any thread that helps."""
    _atomic_add(claim, 2 * c, 1)          # a full barrier: the product is visible first
    _adc_blocks(analog, words, values, claim, c, rows, seed, nscale, fs, inv_lsb, top,
                half, lsb, zw, zk, zf)


@nb.njit(**_JIT)
def adc_help(analog, words, values, claim, c0, c1, rows, seed, nscale, fs, inv_lsb, top,
             half, lsb, zw, zk, zf):
    """After this thread's chunks c0..c1: convert the blocks left of other chunks whose
    products are done (the chunks after c1 first); a chunk not done yet is its own
    thread's."""
    n = claim.size // 2
    for k in range(n):
        c = (c1 + k) % n
        if (c < c0 or c >= c1) and _load_acquire(claim, 2 * c) > 0:
            _adc_blocks(analog, words, values, claim, c, rows, seed, nscale, fs, inv_lsb,
                        top, half, lsb, zw, zk, zf)


@nb.njit(**_JIT)
def _adc_blocks(analog, words, values, claim, c, rows, seed, nscale, fs, inv_lsb, top,
                half, lsb, zw, zk, zf):
    r0 = c * rows
    r1 = min(r0 + rows, analog.shape[0])
    chunk = analog.shape[1]
    buf = np.empty((4, chunk), dtype=np.float32)
    st = np.empty((4, 4), dtype=np.uint64)
    raw = np.empty((4, (chunk + 1) >> 1), dtype=np.uint64)
    while True:
        lo = r0 + _atomic_add(claim, 2 * c + 1, 1) * ADC_BLOCK
        if lo >= r1:
            return
        _adc_rows(analog, words, values, lo, min(lo + ADC_BLOCK, r1), chunk, seed, nscale,
                  fs, inv_lsb, top, half, lsb, zw, zk, zf, buf, st, raw)


def _cblas_call(builder, fn, wide, args) -> None:
    """Emit a call of the void CBLAS function at address fn (an int64 value) with args:
    LLVM values as they are, and the BLAS integers (int64 values, each in a 1-tuple) as
    64-bit where wide (an ILP64 OpenBLAS) or truncated to 32-bit, chosen at run time."""
    i32, i64 = ir.IntType(32), ir.IntType(64)
    with builder.if_else(wide) as (then, other):
        for block, it in ((then, i64), (other, i32)):
            with block:
                vals = [a if not isinstance(a, tuple) else
                        (a[0] if it is i64 else builder.trunc(a[0], i32)) for a in args]
                fty = ir.FunctionType(ir.VoidType(), [v.type for v in vals])
                builder.call(builder.inttoptr(fn, fty.as_pointer()), vals)


@intrinsic
def _sgemm_call(typingctx, fn, wide, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    """cblas_sgemm(RowMajor, NoTrans, trans_b ? Trans : NoTrans, m, n, k, 1, a, lda, b,
    ldb, 0, c, ldc) through the function at address fn; its integers are 64-bit where
    wide (an ILP64 BLAS), else 32-bit. a, b, c: float32 arrays (their data pointers)."""
    def codegen(context, builder, signature, args):
        i32, f32 = ir.IntType(32), ir.FloatType()
        vp = ir.IntType(8).as_pointer()
        fnv, widev, tv, mv, nv, kv, _, ldav, _, ldbv, _, ldcv = args
        pa, pb, pc = (builder.bitcast(context.make_array(signature.args[q])(
            context, builder, args[q]).data, vp) for q in (6, 8, 10))
        # cblas.h's enums: CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112
        order, no_trans = ir.Constant(i32, 101), ir.Constant(i32, 111)
        trans = builder.select(tv, ir.Constant(i32, 112), no_trans)
        one, zero = ir.Constant(f32, 1.0), ir.Constant(f32, 0.0)
        _cblas_call(builder, fnv, widev, [order, no_trans, trans, (mv,), (nv,), (kv,), one,
                                          pa, (ldav,), pb, (ldbv,), zero, pc, (ldcv,)])
        return context.get_dummy_value()
    sig = types.void(types.int64, types.boolean, types.boolean, types.int64, types.int64,
                     types.int64, a, types.int64, b, types.int64, c, types.int64)
    return sig, codegen


@nb.njit(**_JIT)
def sgemm(fn, wide, a, b, c):
    """c = a @ b in float32 by the cblas_sgemm at address fn (numpy's BLAS: the same
    function with the same arguments as numpy's matmul for these operands, so the same
    sums): a (m, k) and c (m, n) with contiguous rows, b (k, n) with contiguous rows or
    columns (transposed then, as numpy passes it); m, n, k >= 2 (numpy's matmul takes
    other routines for 1)."""
    if b.strides[1] == 4:
        trans, ldb = False, b.strides[0] // 4
    else:
        trans, ldb = True, b.strides[1] // 4
    _sgemm_call(fn, wide, trans, a.shape[0], b.shape[1], a.shape[1], a, a.strides[0] // 4,
                b, ldb, c, c.strides[0] // 4)


@intrinsic
def _sgemv_call(typingctx, fn, wide, col_major, m, n, a, lda, x, y):
    """cblas_sgemv(col_major ? ColMajor : RowMajor, Trans, m, n, 1, a, lda, x, 1, 0, y,
    1) through the function at address fn; 64-bit integers where wide. a, x, y: float32
    arrays (their data pointers)."""
    def codegen(context, builder, signature, args):
        i32, f32 = ir.IntType(32), ir.FloatType()
        vp = ir.IntType(8).as_pointer()
        fnv, widev, cmv, mv, nv, _, ldav, _, _ = args
        pa, px, py = (builder.bitcast(context.make_array(signature.args[q])(
            context, builder, args[q]).data, vp) for q in (5, 7, 8))
        # cblas.h's enums: CblasRowMajor 101, CblasColMajor 102, CblasTrans 112
        order = builder.select(cmv, ir.Constant(i32, 102), ir.Constant(i32, 101))
        trans = ir.Constant(i32, 112)
        one, zero = ir.Constant(f32, 1.0), ir.Constant(f32, 0.0)
        unit = ir.Constant(ir.IntType(64), 1)
        _cblas_call(builder, fnv, widev, [order, trans, (mv,), (nv,), one, pa, (ldav,), px,
                                          (unit,), zero, py, (unit,)])
        return context.get_dummy_value()
    sig = types.void(types.int64, types.boolean, types.boolean, types.int64, types.int64,
                     a, types.int64, x, y)
    return sig, codegen


@nb.njit(**_JIT)
def sgemv(fn, wide, x, w, transpose, y):
    """One vector's product in float32 by the cblas_sgemv at address fn, with the
    arguments numpy's matmul passes for a (1, k) @ (k, n) product (numpy/_core/src/umath/
    matmul.c.src, vector @ matrix: gemv with CblasTrans, RowMajor for a matrix with
    contiguous rows, ColMajor for one with contiguous columns), so the same sums:
    y = x @ w (w (k, n) with contiguous rows; x k, y n) or, with transpose, y = x @ w.T
    (w (n, k): y = w x). converters._gemv_agrees checks it against np.matmul."""
    k, n = w.shape
    if transpose:
        _sgemv_call(fn, wide, True, n, k, w, n, x, y)
    else:
        _sgemv_call(fn, wide, False, k, n, w, n, x, y)


@nb.njit(**_JIT)
def layer_mvm_one(a, bias, ws, row_edges, col_edges, transpose, st, ints, reals, gemv,
                  wide, gain, keep):
    """A layer's product of one vector over its grid of tiles in one call
    (codesign.nn.analog.AnalogDense at batch 1): abs-max scaling (scale_rows; a (1, n),
    the bias input appended with bias), then tile by tile in tiled_mvm's order the DAC
    (dac_applied), the product (sgemv, numpy's call), one draw of the layers' PCG64
    state st for the noise seed (codesign.converters.noise_seed) and the ADC
    (adc_range), each tile's values added into the layer's outputs (forward: column
    blocks, transpose: row blocks); then outputs[:keep] * (gain * m). ws: the tiles'
    float32 read-outs, row-major over the grid; ints and reals: mvm_rows' (codesign.
    converters._constants); gemv, wide: numpy's cblas_sgemv (converters._GEMV). The
    same numbers, and draws, as the layer's per-tile path. Returns
    (outputs (1, keep), ok); ok False, nothing drawn, if a holds NaN or infinity."""
    n = a.shape[1] + (1 if bias else 0)
    xs = np.empty((1, n))
    m = np.empty(1)
    res = np.empty((1, keep))
    if not scale_rows(a, bias, xs, m):
        return res, False
    maxc, top, half = ints[1], ints[2], ints[3]
    nscale, fs, inv_lsb = np.float32(reals[0]), np.float32(reals[1]), np.float32(reals[2])
    lsb = reals[3]
    n_out = (row_edges[-1] - row_edges[0]) if transpose else (col_edges[-1] - col_edges[0])
    out = np.zeros(n_out)
    nc = col_edges.size - 1
    for i in range(row_edges.size - 1):
        for j in range(nc):
            r0, r1, c0, c1 = row_edges[i], row_edges[i + 1], col_edges[j], col_edges[j + 1]
            a0, a1, o0, o1 = (c0, c1, r0, r1) if transpose else (r0, r1, c0, c1)
            applied = np.empty((1, a1 - a0), dtype=np.float32)
            dac_applied(xs[:, a0:a1], maxc, applied)
            analog = np.empty((1, o1 - o0), dtype=np.float32)
            sgemv(gemv, wide, applied[0], ws[i * nc + j], transpose, analog[0])
            seed = _pcg_next(st) if nscale > 0 else U0
            words = np.empty((1, o1 - o0), dtype=np.int64)
            values = np.empty((1, o1 - o0))
            adc_range(analog, words, values, 0, 1, o1 - o0, seed, nscale, fs, inv_lsb, top,
                      half, lsb, ZIG_W, ZIG_K, ZIG_F)
            for q in range(o1 - o0):
                out[o0 + q] += values[0, q]
    scale = gain * m[0]
    for q in range(keep):
        res[0, q] = out[q] * scale
    return res, True


@intrinsic
def _call_int(typingctx, fn, arg):
    """The C function int f(int) at address fn called with arg (arg < 0: int f(void),
    called without it)."""
    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        ret = cgutils.alloca_once_value(builder, ir.Constant(i32, 0))
        with builder.if_else(builder.icmp_signed("<", args[1], ir.Constant(ir.IntType(64), 0))
                             ) as (void, one):
            with void:
                f = builder.inttoptr(args[0], ir.FunctionType(i32, []).as_pointer())
                builder.store(builder.call(f, []), ret)
            with one:
                f = builder.inttoptr(args[0], ir.FunctionType(i32, [i32]).as_pointer())
                builder.store(builder.call(f, [builder.trunc(args[1], i32)]), ret)
        return builder.sext(builder.load(ret), ir.IntType(64))
    return types.int64(types.int64, types.int64), codegen


@nb.njit(**_JIT)
def blas_threads(get_fn, set_fn, n):
    """An OpenBLAS's threads (openblas_get_num_threads and openblas_set_num_threads at
    these addresses) set to n where they differ; returns the number before. One call
    instead of threadpoolctl's four Python calls each way (tens of microseconds when
    the interpreter's code has left the caches, as after a product)."""
    before = _call_int(get_fn, -1)
    if before != n:
        _call_int(set_fn, n)
    return before

@nb.njit(**_JIT)
def mvm_rows(x, applied, w, analog, words, values, c0, c1, claim, seed, ints, reals):
    """Chunks c0..c1 of codesign.converters.mvm: the DAC (dac_applied), the product
    (sgemm) and the ADC (adc_own), then help with other chunks' conversions (adc_help).
    The call's constants come in two arrays (numba's dispatch costs per argument: tens
    of microseconds for two dozen when its code has left the caches, as after a
    product): ints = (vectors per chunk, DAC max code, top ADC code, half range, gemm,
    wide), reals = (noise scale, full scale, 1 / LSB, LSB). Returns False if x's rows
    here hold NaN or infinity."""
    rows, maxc, top, half = ints[0], ints[1], ints[2], ints[3]
    gemm, wide = ints[4], ints[5] != 0
    nscale, fs, inv_lsb = np.float32(reals[0]), np.float32(reals[1]), np.float32(reals[2])
    lsb = reals[3]
    ok = True
    for c in range(c0, c1):
        r0 = c * rows
        r1 = min(r0 + rows, x.shape[0])
        ok &= dac_applied(x[r0:r1], maxc, applied[r0:r1])
        sgemm(gemm, wide, applied[r0:r1], w, analog[r0:r1])
        adc_own(analog, words, values, claim, c, rows, seed, nscale, fs, inv_lsb, top,
                half, lsb, ZIG_W, ZIG_K, ZIG_F)
    adc_help(analog, words, values, claim, c0, c1, rows, seed, nscale, fs, inv_lsb, top,
             half, lsb, ZIG_W, ZIG_K, ZIG_F)
    return ok


# ---- the digital periphery of a layer ----------------------------------------------------
@nb.njit(**_JIT)
def scale_rows(x, bias, out, m):
    """Abs-max noise management of a layer's input (codesign.nn.analog): per row b the
    largest magnitude m[b] of x[b] and, with bias, of the constant 1 appended (1 where
    all are zero), and out[b] = (x[b], 1) / m[b] (numpy: with_bias, abs_max, divide).
    Returns False if x holds NaN or infinity (then out and m are not meaningful)."""
    n = x.shape[1]
    ok = True
    for b in range(x.shape[0]):
        mb = 1.0 if bias else 0.0
        for i in range(n):
            v = x[b, i]
            if not math.isfinite(v):
                ok = False
            mb = max(mb, abs(v))
        if not mb > 0:
            mb = 1.0
        m[b] = mb
        for i in range(n):
            out[b, i] = x[b, i] / mb
        if bias:
            out[b, n] = 1.0 / mb
    return ok


# ---- update management --------------------------------------------------------------
CODE_BLOCK = 16   # examples x lines of a tile of pulse_codes' codes (_line_codes)
CODE_LINES = 64


@nb.njit(**_JIT)
def pulse_codes(x, d, k, scale, maxc, x_mag, d_mag):
    """DAC magnitude codes of an update (codesign.pulses.pulse_codes_reference): each
    example's scales first, then the codes (_line_codes)."""
    sx = np.empty(x.shape[0])
    sd = np.empty(x.shape[0])
    for b in range(x.shape[0]):
        xm = _abs_max(x[b])
        dm = _abs_max(d[b])
        ok = xm > 0 and dm > 0
        sx[b] = math.sqrt(k * (dm / xm if ok else 0.0))
        sd[b] = math.sqrt(k * (xm / dm if ok else 0.0))
    _line_codes(x, sx, scale, maxc, x_mag)
    _line_codes(d, sd, scale, maxc, d_mag)


@nb.njit(**_JIT)
def _abs_max(v):
    """max |v| (0 for none) over eight running maxima: one chain of max was bound by its
    latency. The same value in any order (v finite: max of non-negative numbers)."""
    m = np.zeros(8)
    n8 = v.size - v.size % 8
    for j in range(0, n8, 8):
        for q in range(8):
            m[q] = max(m[q], abs(v[j + q]))
    for j in range(n8, v.size):
        m[0] = max(m[0], abs(v[j]))
    out = 0.0
    for q in range(8):
        out = max(out, m[q])
    return out


@nb.njit(**_JIT)
def _line_codes(x, s, scale, maxc, out):
    """out[b, i] = clip(rint(|x[b, i]| s[b] scale), 0, maxc) in tiles of CODE_BLOCK
    examples x CODE_LINES lines, each computed reading x row by row and written line by
    line: out is a (B, lines) view of line-major memory (codesign.pulses.pulse_codes),
    so both the reads and the writes are contiguous runs (example by example, each
    line's write was 2 KiB from the last at batch 256: 1.3 against 0.5 ms for 256 x 512
    codes each side, 2026-12-01)."""
    tile = np.empty((CODE_BLOCK, CODE_LINES), dtype=np.int64)
    for b0 in range(0, x.shape[0], CODE_BLOCK):
        b1 = min(b0 + CODE_BLOCK, x.shape[0])
        for i0 in range(0, x.shape[1], CODE_LINES):
            i1 = min(i0 + CODE_LINES, x.shape[1])
            for b in range(b0, b1):
                sb = s[b]
                for i in range(i0, i1):
                    v = min(max(np.rint(abs(x[b, i]) * sb * scale), 0.0), maxc)
                    tile[b - b0, i - i0] = np.int64(v)
            for i in range(i0, i1):
                for b in range(b0, b1):
                    out[b, i] = tile[b - b0, i - i0]


# ---- pulse trains, packed ------------------------------------------------------------
# Layout: words (lines, B, W), bit t of word w = slot 64 w + t of that example; magnitudes
# and signs come line-major too, (lines, B): a line's examples are contiguous.

@nb.njit(**_JIT)
def trains_table(top, off, pos, mag, bl, period, out):
    """Stochastic trains from the tabulated LFSR sequence: line i fires in slot t of
    example b iff top[off_i + (pos_i + b BL + t) mod period] < mag[i, b]; `top` holds the
    compare values of each bit window (one after another, off_i the start of line i's),
    each extended by BL entries so that a slot range never wraps."""
    nw = out.shape[2]
    for i in range(mag.shape[0]):
        s = pos[i] % period
        o = off[i]
        for b in range(mag.shape[1]):
            m = mag[i, b]
            for w in range(nw):
                word = U0
                if m > 0:
                    seg = top[o + s + 64 * w: o + s + min(bl, 64 * w + 64)]
                    for t in range(seg.size):     # branch-free, vectorizable
                        word |= np.uint64(seg[t] < m) << np.uint64(t)
                out[i, b, w] = word
            s += bl
            while s >= period:
                s -= period


@nb.njit(**_JIT)
def trains_bits(tab, off, pos, mag, bl, period, out):
    """trains_table from the fire-bit table: bit p of row off_i + m of `tab` says whether
    line i's compare value (its bit window, whose rows start at off_i) at cycle position
    p is below m, so a train of BL slots is BL bits starting at bit pos + b BL of that
    row: two word reads per 64 slots, no compares."""
    nw = out.shape[2]
    for i in range(mag.shape[0]):
        s = pos[i] % period
        for b in range(mag.shape[1]):
            # code 0 never fires (its row of tab is zeros): no read of the table, which
            # is a cache miss in training, where most input pixels are 0
            if mag[i, b] == 0:
                for w in range(nw):
                    out[i, b, w] = U0
                s += bl
                while s >= period:
                    s -= period
                continue
            m = off[i] + mag[i, b]
            for w in range(nw):
                n = min(bl - 64 * w, 64)
                p = s + 64 * w
                q = p >> 6
                o = np.uint64(p & 63)
                word = tab[m, q] >> o
                if o:
                    word |= tab[m, q + 1] << (np.uint64(64) - o)
                if n < 64:
                    word &= (U1 << np.uint64(n)) - U1
                out[i, b, w] = word
            s += bl
            while s >= period:
                s -= period


@nb.njit(**_JIT)
def _trains_lt(top8, off, pos, mag, bl, period, out, skip_zero):
    """trains_lt (skip_zero False) and trains_lt_sparse (True): one body, the flag a
    constant of each caller (numba inlines this call, so the branch is compiled away)."""
    nw = out.shape[2]
    for i in range(mag.shape[0]):
        s = pos[i] % period
        o = off[i]
        for b in range(mag.shape[1]):
            m = mag[i, b]
            for w in range(nw):
                word = U0
                if not skip_zero or m != 0:
                    word = lt_mask64(top8, o + s + 64 * w, m)
                    n = min(bl - 64 * w, 64)
                    if n < 64:
                        word &= (U1 << np.uint64(n)) - U1
                out[i, b, w] = word
            s += bl
            while s >= period:
                s -= period


@nb.njit(**_JIT)
def trains_lt(top8, off, pos, mag, bl, period, out):
    """trains_table from byte compare values (codes below 256): top8 holds each bit
    window's values along the cycle, extended by 64 W entries (W words per train) so
    that the 64 bytes a word reads never leave the window's range; line i's start at
    off_i. A word is one 64-byte compare (lt_mask64), cut to its slots; code 0 compares
    below nothing, so every train takes the same path (no branch on the code, which
    mispredicts in training, where most inputs are 0) and a line's reads are
    consecutive."""
    _trains_lt(top8, off, pos, mag, bl, period, out, False)


@nb.njit(**_JIT)
def trains_lt_sparse(top8, off, pos, mag, bl, period, out):
    """trains_lt for one example's lines, skipping code 0 (no read: in training most
    input pixels are 0, and a line's one read is its own; the branch costs less than the
    read there, unlike mini-batches). The byte table (0.5 MiB) stays in the caches
    between updates where the fire-bit table of trains_bits (8 MiB) is read a few words
    per line, missing each time: 2-3x faster in training (update_one)."""
    _trains_lt(top8, off, pos, mag, bl, period, out, True)


def _trains_one(tab, off, pos, mag, bl, period, out):
    """update_one's trains from either table: trains_lt_sparse for the byte compare
    values (1-D uint8), trains_bits for the fire-bit table (2-D); chosen when compiled."""


@overload(_trains_one, jit_options=dict(nogil=True))
def _trains_one_impl(tab, off, pos, mag, bl, period, out):
    if tab.ndim == 1:
        return lambda tab, off, pos, mag, bl, period, out: trains_lt_sparse(
            tab, off, pos, mag, bl, period, out)
    return lambda tab, off, pos, mag, bl, period, out: trains_bits(
        tab, off, pos, mag, bl, period, out)


@nb.njit(**_JIT)
def trains_step(states, mag, bl, shift, mask, taps, out):
    """Stochastic trains by stepping each line's Galois LFSR (LFSRs too wide to
    tabulate); line i compares (state >> shift_i) & mask; states advance in place by
    B * BL steps."""
    nw = out.shape[2]
    tp = np.uint64(taps)
    mk = np.uint64(mask)
    for i in range(mag.shape[0]):
        s = states[i]
        sh = np.uint64(shift[i])
        for b in range(mag.shape[1]):
            m = mag[i, b]
            for w in range(nw):
                out[i, b, w] = U0
            for t in range(bl):
                if np.int64((s >> sh) & mk) < m:
                    out[i, b, t >> 6] |= U1 << np.uint64(t & 63)
                s = (s >> U1) ^ ((s & U1) * tp)
        states[i] = s


@nb.njit(**_JIT)
def trains_deterministic(mag, bl, nb_, rows, out):
    """Deterministic trains: n = (mag BL) >> (DAC_BITS - 1) slots; rows fire in their
    first n slots, columns in slot t iff floor((t+1) n / BL) > floor(t n / BL)."""
    nw = out.shape[2]
    for i in range(mag.shape[0]):
        for b in range(mag.shape[1]):
            n = (mag[i, b] * bl) >> nb_
            for w in range(nw):
                out[i, b, w] = U0
            for t in range(bl):
                fire = t < n if rows else ((t + 1) * n) // bl > (t * n) // bl
                if fire:
                    out[i, b, t >> 6] |= U1 << np.uint64(t & 63)


@nb.njit(**_JIT)
def unpack_trains(words, bl, out):
    """Packed (n, B, W) words -> booleans (B*BL, n) in time order (the RTL's view)."""
    for i in range(words.shape[0]):
        for b in range(words.shape[1]):
            for t in range(bl):
                out[b * bl + t, i] = ((words[i, b, t >> 6] >> np.uint64(t & 63)) & U1) != U0


# ---- coincidences -------------------------------------------------------------------
@nb.njit(**_JIT)
def column_lists(cw, cneg, b0, b1, bl, with_bitmap):
    """For each example b in [b0, b1) and slot t, the columns firing in it: CSR over the
    key k = (b - b0) BL + t, entries 2 c + s (column c ascending, s = 1 for a negative
    column sign), from start[k] to start[k + 1]; and, with_bitmap, the bitmap of those
    columns per key (else an empty one). Returns (start, codes, bitmap)."""
    nk = (b1 - b0) * bl
    ncol = cw.shape[0]
    nwc = (ncol + 63) >> 6
    start = np.zeros(nk + 1, dtype=np.int64)
    bitmap = np.zeros((nk if with_bitmap else 0, nwc), dtype=np.uint64)
    for c in range(ncol):
        bit = U1 << np.uint64(c & 63)
        for b in range(b0, b1):
            kb = (b - b0) * bl
            for w in range(cw.shape[2]):
                word = cw[c, b, w]
                while word:
                    k = kb + 64 * w + _ctz(word)
                    start[k + 1] += 1
                    if with_bitmap:
                        bitmap[k, c >> 6] |= bit
                    word &= word - U1
    prefix_sum(start)
    codes = np.empty(start[nk], dtype=np.int32)
    fill = start[:nk].copy()
    for c in range(ncol):
        for b in range(b0, b1):
            kb = (b - b0) * bl
            code = np.int32(2 * c + np.int32(cneg[c, b] != 0))
            for w in range(cw.shape[2]):
                word = cw[c, b, w]
                while word:
                    k = kb + 64 * w + _ctz(word)
                    codes[fill[k]] = code
                    fill[k] += 1
                    word &= word - U1
    return start, codes, bitmap


@nb.njit(**_JIT)
def prefix_sum(start):
    """start in place into its running sum (CSR starts from counts at k + 1)."""
    for k in range(start.size - 1):
        start[k + 1] += start[k]


# ---- the column words of a mini-batch ------------------------------------------------
# The dense mini-batch count (coincide_block) adds, for each fire of a row, the columns
# firing in that example and slot: as bit masks over 64 columns, one per column group and
# column sign, added into 64 16-bit counters at once (_add_bits64). The masks come from
# the packed column trains turned around: for each example and group of 64 columns, a
# 64 x 64 bit transpose makes the columns' slot words into the slots' column words.

@nb.njit(**_JIT)
def _transpose64(a):
    """In place: bit j of a[i] <-> bit i of a[j] (a: 64 uint64; the recursive block
    swap of Hacker's Delight, 2nd ed., sec. 7-3)."""
    j = 32
    m = np.uint64(0x00000000FFFFFFFF)
    while j != 0:
        for k0 in range(0, 64, 2 * j):
            for k in range(k0, k0 + j):
                t = ((a[k] >> np.uint64(j)) ^ a[k + j]) & m
                a[k + j] ^= t
                a[k] ^= t << np.uint64(j)
        j >>= 1
        m ^= m << np.uint64(j)


@intrinsic
def _add_bits64(typingctx, arr, at, word):
    """arr[at + t] += bit t of word for t < 64 (arr: 1-D uint16; no bounds check): one
    vector add of the word's bits as 0/1 lanes (AVX-512: a mask register into 16-bit
    lanes, two instructions per 32 lanes)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.uint16):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_ptr(context, builder, signature, args, 0, args[1])
        vty = ir.VectorType(ir.IntType(16), 64)
        vptr = builder.bitcast(ptr, vty.as_pointer())
        v = builder.load(vptr, align=2)
        bits = builder.bitcast(args[2], ir.VectorType(ir.IntType(1), 64))
        builder.store(builder.add(v, builder.zext(bits, vty)), vptr, align=2)
        return context.get_dummy_value()
    return types.void(arr, types.intp, types.uint64), codegen


@nb.njit(**_JIT)
def column_words(cw, cneg, b0, b1, bl, e0, e1, out):
    """The columns firing in each slot of examples [e0, e1) (of b0..b1) as bit words:
    out[(b - b0) BL + t, g, s] bit i = column 64 g + i fires in slot t of example b and
    has sign s (1: negative). out: (keys, ceil(cols / 64), 2) uint64."""
    ncol, nw = cw.shape[0], cw.shape[2]
    a = np.empty(64, dtype=np.uint64)
    for g in range(out.shape[1]):
        c0 = 64 * g
        c1 = min(c0 + 64, ncol)
        for b in range(e0, e1):
            neg = U0
            for c in range(c0, c1):
                neg |= np.uint64(cneg[c, b] != 0) << np.uint64(c - c0)
            kb = (b - b0) * bl
            for w in range(nw):
                for c in range(c0, c1):
                    a[c - c0] = cw[c, b, w]
                for c in range(c1 - c0, 64):
                    a[c] = U0
                _transpose64(a)
                for t in range(min(64, bl - 64 * w)):
                    k = kb + 64 * w + t
                    out[k, g, 0] = a[t] & ~neg
                    out[k, g, 1] = a[t] & neg


@nb.njit(**_JIT)
def pulse_total(rw, b0, b1, bl, start):
    """Total pulses of examples [b0, b1): sum over slots of (rows firing) x (columns
    firing), the columns counted from column_lists' CSR starts."""
    total = 0
    for r in range(rw.shape[0]):
        for b in range(b0, b1):
            kb = (b - b0) * bl
            for w in range(rw.shape[2]):
                word = rw[r, b, w]
                while word:
                    k = kb + 64 * w + _ctz(word)
                    total += start[k + 1] - start[k]
                    word &= word - U1
    return total


# Counts of a row live interleaved, cnt[2 c + s] with s = 1 for negative pulses: a column
# entry 2 c + (column sign) lands at (2 c + column sign) ^ (row sign), one loop per slot.

@nb.njit(**_JIT)
def _emit(cnt, c, flat, idx, npos, nneg, out):
    p = np.int32(cnt[2 * c])
    n = np.int32(cnt[2 * c + 1])
    idx[out] = flat
    npos[out] = p
    nneg[out] = n
    cnt[2 * c] = 0
    cnt[2 * c + 1] = 0
    return p + n


@nb.njit(**_JIT)
def _emit_touched(cnt, touched, rowbase, idx, npos, nneg, out):
    """_emit every column marked in `touched` (a bitmap, cleared on the way), in column
    order: (cells written, pulses)."""
    n = 0
    total = 0
    for q in range(touched.size):
        word = touched[q]
        touched[q] = U0
        while word:
            c = 64 * q + _ctz(word)
            word &= word - U1
            total += _emit(cnt, c, rowbase + c, idx, npos, nneg, out + n)
            n += 1
    return n, total


@nb.njit(**_JIT)
def coincide_rows(rw, rneg, b0, b1, bl, ncol, r0, r1, start, codes, bitmap, idx, npos,
                  nneg, base):
    """Pulse counts of rows [r0, r1) summed over examples [b0, b1): for every slot a row
    fires in, the columns firing in that slot add one pulse, positive where the signs of
    row and column agree (the product of signs). Pulsed cells are written in flat
    (row-major) order from position `base`; returns the number written and the total of
    pulses. Work is proportional to the pulses, not to the array."""
    nwc = bitmap.shape[1]
    cnt = np.zeros(2 * ncol, dtype=np.int32)
    touched = np.zeros(nwc, dtype=np.uint64)
    out = base
    total = 0
    for r in range(r0, r1):
        any_fire = False
        for b in range(b0, b1):
            sr = np.int32(rneg[r, b] != 0)
            kb = (b - b0) * bl
            for w in range(rw.shape[2]):
                word = rw[r, b, w]
                while word:
                    k = kb + 64 * w + _ctz(word)
                    word &= word - U1
                    any_fire = True
                    for q in range(nwc):
                        touched[q] |= bitmap[k, q]
                    for j in range(start[k], start[k + 1]):
                        cnt[codes[j] ^ sr] += 1
        if not any_fire:
            continue
        n, t = _emit_touched(cnt, touched, np.int64(r) * ncol, idx, npos, nneg, out)
        out += n
        total += t
    return out - base, total


@nb.njit(**_JIT)
def coincide_sparse(rw, rneg, cw, cneg, b0, b1, bl):
    """column_lists, pulse_total and coincide_rows over all rows in one call (few
    examples, one thread): (idx, npos, nneg, total pulses), sized to the pulsed cells."""
    start, codes, bitmap = column_lists(cw, cneg, b0, b1, bl, True)
    ncol = cw.shape[0]
    size = min(rw.shape[0] * ncol, pulse_total(rw, b0, b1, bl, start))
    idx = np.empty(size, dtype=np.int64)
    npos = np.empty(size, dtype=np.int32)
    nneg = np.empty(size, dtype=np.int32)
    n, total = coincide_rows(rw, rneg, b0, b1, bl, ncol, 0, rw.shape[0], start, codes,
                             bitmap, idx, npos, nneg, 0)
    return idx[:n], npos[:n], nneg[:n], total


@nb.njit(**_JIT)
def coincide_one(rw, rneg, cw, cneg, bl):
    """coincide_sparse for one example whose trains fit one word (BL <= 64), the same
    outputs: cell (r, c) receives popcount(row word AND column word) pulses, positive
    where the signs agree. Every firing row meets every firing column (compacted first)
    without a branch per cell: each cell is written at the output position, which
    advances only where it has pulses (in training about half the pairs of firing lines
    coincide, so a branch per pair would be mispredicted half the time; the slot-by-slot
    lists of coincide_rows cost more per pulse). The total of pulses, which also sizes
    the output, comes from the number of columns firing in each slot. Where fewer than
    one pulse falls on two firing pairs (dense lines of low probability, e.g. bench
    core's uniform inputs: 55,000 pairs, 8,100 pulses) coincide_sparse, whose work
    follows the pulses, is faster and counts instead."""
    nrow, ncol = rw.shape[0], cw.shape[0]
    cols = np.empty(ncol, dtype=np.int64)
    cword = np.empty(ncol, dtype=np.uint64)
    csign = np.empty(ncol, dtype=np.int32)
    per_slot = np.zeros(64, dtype=np.int64)      # columns firing in each slot
    nc = 0
    for c in range(ncol):
        w = cw[c, 0, 0]
        cols[nc] = c
        cword[nc] = w
        csign[nc] = np.int32(cneg[c, 0] != 0)
        nc += w != U0
        while w:
            per_slot[_ctz(w)] += 1
            w &= w - U1
    total = 0
    nr = 0
    for r in range(nrow):
        w = rw[r, 0, 0]
        nr += w != U0
        while w:
            total += per_slot[_ctz(w)]
            w &= w - U1
    if nr * nc > 2 * total:
        return coincide_sparse(rw, rneg, cw, cneg, 0, 1, bl)
    size = min(nr * nc, total) + 1          # + 1: the last pair is written, maybe empty
    idx = np.empty(size, dtype=np.int64)
    npos = np.empty(size, dtype=np.int32)
    nneg = np.empty(size, dtype=np.int32)
    out = U0           # unsigned: no negative-index wraparound per store (25 % faster)
    for r in range(nrow):
        a = rw[r, 0, 0]
        if a == U0:
            continue
        sr = np.int32(rneg[r, 0] != 0)
        base = np.int64(r) * ncol
        for j in range(nc):
            v = np.int32(popcount(a & cword[j]))
            s = sr ^ csign[j]                  # 0: signs agree
            idx[out] = base + cols[j]
            npos[out] = v & (s - 1)
            nneg[out] = v & -s
            out += np.uint64(v != 0)
    n = np.int64(out)
    return idx[:n], npos[:n], nneg[:n], total


@nb.njit(**_JIT)
def update_one(x, d, k, scale, maxc, lr_neg, tab, off_rows, off_cols, pos_rows, pos_cols,
               bl, period):
    """One example's UPDATE in one call (the common case: stochastic, tabulated LFSR):
    pulse_codes, the trains of rows and columns from tab (the byte compare values or the
    fire-bit table, codesign.pulses.one_example_tables; positions advance in place by
    BL) and coincide_one (BL <= 64) or coincide_sparse. x (1, rows), d (1, cols). Returns
    (x_mag, d_mag, row_words, col_words, idx, npos, nneg, total)."""
    x_mag = np.empty(x.shape, dtype=np.int64)
    d_mag = np.empty(d.shape, dtype=np.int64)
    pulse_codes(x, d, k, scale, maxc, x_mag, d_mag)
    nw = (bl + 63) >> 6
    rw = np.empty((x.shape[1], 1, nw), dtype=np.uint64)
    cw = np.empty((d.shape[1], 1, nw), dtype=np.uint64)
    _trains_one(tab, off_rows, pos_rows, x_mag.T, bl, period, rw)
    _trains_one(tab, off_cols, pos_cols, d_mag.T, bl, period, cw)
    for i in range(pos_rows.size):
        pos_rows[i] = (pos_rows[i] + bl) % period
    for i in range(pos_cols.size):
        pos_cols[i] = (pos_cols[i] + bl) % period
    rneg = np.empty((x.shape[1], 1), dtype=np.uint8)
    cneg = np.empty((d.shape[1], 1), dtype=np.uint8)
    for i in range(x.shape[1]):
        rneg[i, 0] = x[0, i] < 0
    for i in range(d.shape[1]):
        cneg[i, 0] = (d[0, i] < 0) != lr_neg
    if nw == 1:
        idx, npos, nneg, total = coincide_one(rw, rneg, cw, cneg, bl)
    else:
        idx, npos, nneg, total = coincide_sparse(rw, rneg, cw, cneg, 0, 1, bl)
    return x_mag, d_mag, rw, cw, idx, npos, nneg, total


@nb.njit(**_JIT)
def coincide_block(rw, rneg, b0, b1, bl, ncol, r0, r1, colw, idx, npos, nneg, base):
    """coincide_rows for many examples (mini-batches), rows [r0, r1): row by row, each
    fire of the row adds the columns firing in its example and slot (colw, from
    column_words) into the row's counters, 64 columns per vector add (_add_bits64),
    same-sign coincidences into the positive and the others into the negative half
    (2 KiB for 512 columns: they stay in the first-level cache); then the row's non-zero
    cells in column order. Same results as coincide_rows (counts up to 65535 per cell
    and call). Counting the fires one coincidence at a time into a block of rows (before
    2026-12-01) took 7.6-7.8 ms against 6.0 for bench core's 256 x 512 x 512 update on
    one thread, and its column lists 2.4 ms against 0.65 for column_words."""
    nw = rw.shape[2]
    groups = colw.shape[1]
    pad = 64 * groups
    cnt = np.zeros(2 * pad + 32, dtype=np.uint16)
    at = (-(cnt.ctypes.data >> 1)) & 31        # the counters 64-byte aligned
    out = base
    total = 0
    for r in range(r0, r1):
        for b in range(b0, b1):
            kb = (b - b0) * bl
            sr = np.int64(rneg[r, b] != 0)
            same = at + sr * pad
            other = at + (sr ^ 1) * pad
            for w in range(nw):
                word = rw[r, b, w]
                while word:
                    k = kb + 64 * w + _ctz(word)
                    word &= word - U1
                    for g in range(groups):
                        _add_bits64(cnt, same + 64 * g, colw[k, g, 0])
                        _add_bits64(cnt, other + 64 * g, colw[k, g, 1])
        flat0 = np.int64(r) * ncol
        for c in range(ncol):
            p = cnt[at + c]
            n = cnt[at + pad + c]
            if p | n:
                idx[out] = flat0 + c
                npos[out] = np.int32(p)
                nneg[out] = np.int32(n)
                total += np.int32(p) + np.int32(n)
                cnt[at + c] = 0
                cnt[at + pad + c] = 0
                out += 1
    return out - base, total


# Mini-batches with few pulses (training): the trains are mostly zero words, so both
# sides are first compacted to their non-zero words without a branch per word (a
# mispredicted branch per word cost more than the pulses), then counted row by row as
# in coincide_rows.

@nb.njit(**_JIT)
def nonzero_words(words, b0, b1, l0, l1, line_start, pos):
    """The non-zero words of lines [l0, l1), examples [b0, b1), line-major: line_start
    (CSR over those lines, l1 - l0 + 1 entries) and pos[n] = (b - b0) W + w of each.
    Branch-free: every word is written, the count advances where it is non-zero."""
    nw = words.shape[2]
    n = 0
    for i in range(l0, l1):
        line_start[i - l0] = n
        for b in range(b0, b1):
            for w in range(nw):
                pos[n] = (b - b0) * nw + w
                n += words[i, b, w] != U0
    line_start[l1 - l0] = n
    return n


@nb.njit(**_JIT)
def _word_at(p, b0, nw):
    """(example, word) of a compacted position; one word per train (BL <= 64, the usual
    case) needs no division."""
    if nw == 1:
        return b0 + np.int64(p), np.int64(0)
    return b0 + np.int64(p) // nw, np.int64(p) % nw


@nb.njit(**_JIT)
def column_csr(cw, cneg, b0, b1, bl):
    """column_lists without the bitmap (the same start and codes), from the compacted
    non-zero column words."""
    nw = cw.shape[2]
    ncol = cw.shape[0]
    nk = (b1 - b0) * bl
    line_start = np.empty(ncol + 1, dtype=np.int64)
    pos = np.empty(ncol * (b1 - b0) * nw, dtype=np.int32)
    nonzero_words(cw, b0, b1, 0, ncol, line_start, pos)
    start = np.zeros(nk + 1, dtype=np.int64)
    for c in range(ncol):
        for q in range(line_start[c], line_start[c + 1]):
            b, w = _word_at(pos[q], b0, nw)
            word = cw[c, b, w]
            kb = (b - b0) * bl + 64 * w + 1
            while word:
                start[kb + _ctz(word)] += 1
                word &= word - U1
    for k in range(nk):
        start[k + 1] += start[k]
    codes = np.empty(start[nk], dtype=np.int32)
    fill = start[:nk].copy()
    for c in range(ncol):
        for q in range(line_start[c], line_start[c + 1]):
            b, w = _word_at(pos[q], b0, nw)
            word = cw[c, b, w]
            kb = (b - b0) * bl + 64 * w
            code = np.int32(2 * c + np.int32(cneg[c, b] != 0))
            while word:
                k = kb + _ctz(word)
                codes[fill[k]] = code
                fill[k] += 1
                word &= word - U1
    return start, codes


@nb.njit(**_JIT)
def coincide_fires(rw, rneg, b0, b1, bl, ncol, r0, r1, start, codes, pos, idx, npos,
                   nneg, base):
    """coincide_rows (the same outputs) from column_csr's lists and the compacted
    non-zero row words (`pos`: scratch of (r1 - r0) (b1 - b0) W entries): each pulse
    adds one count and marks its column; the marked columns of a row are written in
    flat order from `base`. Returns (cells written, total pulses)."""
    nw = rw.shape[2]
    line_start = np.empty(r1 - r0 + 1, dtype=np.int64)
    nonzero_words(rw, b0, b1, r0, r1, line_start, pos)
    nwc = (ncol + 63) >> 6
    cnt = np.zeros(2 * ncol, dtype=np.int32)
    touched = np.zeros(nwc, dtype=np.uint64)
    out = base
    total = 0
    for r in range(r0, r1):
        q0, q1 = line_start[r - r0], line_start[r - r0 + 1]
        if q0 == q1:
            continue
        for q in range(q0, q1):
            b, w = _word_at(pos[q], b0, nw)
            word = rw[r, b, w]
            sr = np.int32(rneg[r, b] != 0)
            kb = (b - b0) * bl + 64 * w
            while word:
                k = kb + _ctz(word)
                word &= word - U1
                for j in range(start[k], start[k + 1]):
                    cc = codes[j]
                    cnt[cc ^ sr] += 1
                    touched[cc >> 7] |= U1 << np.uint64((cc >> 1) & 63)
        n, t = _emit_touched(cnt, touched, np.int64(r) * ncol, idx, npos, nneg, out)
        out += n
        total += t
    return out - base, total


# ---- devices ------------------------------------------------------------------------
@nb.njit(**_JIT)
def _phi_series(x):
    out = x * (-1.0 / 24.0)
    out += 1.0 / 6.0
    out *= x
    out -= 0.5
    out *= x
    out += 1.0
    return out


@nb.njit(**_JIT)
def _phi_exact(x):
    return -math.expm1(-x) / x


@nb.njit(**_JIT)
def _travel(y, n, c, k):
    """codesign.devices.capacitor._travel for one device (its _phi: the series below
    SERIES_MAX, the exact form above, device by device)."""
    nf = np.float64(n)
    out = k * y
    out = c - out
    out *= nf
    x = k * nf
    out *= _phi_series(x) if x < SERIES_MAX else _phi_exact(x)
    return out


@nb.njit(**_JIT)
def pair_weights32(gp, gm, scale, out):
    """float32 of (G+ - G-) / scale over flat arrays: a PCM pair's read-out
    (codesign.devices.readout.weights32), cells.weights().astype(np.float32) in one pass
    instead of three: the float64 difference and quotient, then the float32 rounding,
    the same numbers."""
    for i in range(out.size):
        out[i] = np.float32((gp[i] - gm[i]) / scale)


@nb.njit(**_JIT)
def pcm_set_pulses(g, idx, nf, z, step, factor, gamma, g_max, c2c):
    """codesign.devices.pcm.PCMArray.set_pulses on the pulsed devices idx (flat, sorted,
    nf pulses and one normal z each), in place on the flat conductances g: set_curve's
    mean (u = 1 - g/g_max from step x factor x n pulses), the cycle-to-cycle spread
    c2c (mean - g) / sqrt(n) z, the clip to [0, g_max]. The numpy code's operations in
    its order, with the C library's exp and pow (as codesign.libm): the same numbers,
    in one pass instead of a dozen arrays (a PCM pair's update spent 17 % of its
    training time in the numpy version, 2026-12-01)."""
    e = 1.0 - gamma
    inv_e = 1.0 / e if e != 0.0 else 0.0
    for j in range(idx.size):
        i = idx[j]
        g0 = g[i]
        u0 = min(max(1.0 - g0 / g_max, 0.0), 1.0)
        sn = (step * factor[i]) * nf[j]
        if gamma == 1.0:
            u = u0 * math.exp(-sn)
        elif gamma == 0.0:
            u = max(u0 - sn, 0.0)
        elif gamma > 1.0:          # u0 = 0: pow gives inf, then 0: saturated stays
            u = math.pow(math.pow(u0, e) - e * sn, inv_e)
        else:
            u = math.pow(max(math.pow(u0, e) - e * sn, 0.0), inv_e)
        mean = g_max * (1.0 - u)
        v = mean + c2c * (mean - g0) / math.sqrt(nf[j]) * z[j]
        g[i] = min(max(v, 0.0), g_max)


@nb.njit(**_JIT)
def capacitor_pulses(g, idx, up, down, z, gs, c2c, params, lo, hi):
    """codesign.devices.capacitor.CapacitorArray.pulses on the listed devices [lo, hi)
    (flat indices idx, counts up/down, one normal each), in place on the flat g. params
    (N, 6) holds g_lo, g_hi, step_up, step_down, k_up, k_down per device."""
    flat = params.reshape(-1)
    for j in range(lo, hi):
        # unsigned device indices: no negative-index wraparound on each access (about
        # 10 % per device)
        if j + PREFETCH < hi:      # scattered devices: fetch ahead (about 2x when cold)
            q = np.uint64(idx[j + PREFETCH])
            prefetch(g, q)
            prefetch(flat, np.uint64(6) * q)
            prefetch(flat, np.uint64(6) * q + np.uint64(5))
        i = np.uint64(idx[j])
        g_lo, g_hi = params[i, 0], params[i, 1]
        g0 = g[i]
        nu, nd = up[j], down[j]
        # A direction without pulses moves by (+-)0, adds 0 to the variance and leaves
        # g as it is (g0 + -0.0 == g0): skipped, the same numbers. In a batch-1 update
        # every pulsed cell has pulses of one sign only.
        var = 0.0
        gg = g0
        if nu > 0:
            d_up = _travel(g0 - gs, nu, params[i, 2], params[i, 4])
            gg = g0 + d_up
            var = d_up * d_up / np.float64(nu)
        gg = min(gg, g_hi)
        if nd > 0:
            d_down = _travel(gs - gg, nd, params[i, 3], params[i, 5])
            gg = gg - d_down
            var = var + d_down * d_down / np.float64(nd)
        v = gg + c2c * math.sqrt(var) * z[j]
        g[i] = min(max(v, g_lo), g_hi)


DEVICE_CHUNK = 16384    # pulsed devices per chunk of the device kernels
PREFETCH = 16           # devices ahead


# Elementwise loops run from 0 over slices: numba then knows the index is not negative
# and LLVM vectorizes them (a loop from an arbitrary start keeps a wraparound check).
@nb.njit(**_JIT)
def leak_range(g, decay, gs, lo, hi):
    """g = g_shared + (g - g_shared) decay over flat [lo, hi), in place."""
    gg = g[lo:hi]
    dd = decay[lo:hi]
    for i in range(gg.size):
        gg[i] = gs + (gg[i] - gs) * dd[i]


@nb.njit(**_JIT)
def leak_weights32(base, g, decay, pol, gs, scale, out, lo, hi):
    """leak_range then weights32 over flat [lo, hi), in one pass."""
    a, c, d, o = base[lo:hi], g[lo:hi], decay[lo:hi], out[lo:hi]
    for i in range(o.size):
        v = gs + (c[i] - gs) * d[i]
        c[i] = v
        o[i] = np.float32((a[i] + pol * (v - gs)) / scale)


@nb.njit(**_JIT)
def weights32(base, g, pol, gs, scale, out, lo, hi):
    """float32 of (base + p (g - g_shared)) / scale over flat [lo, hi): the 2PCM+3T1C
    read with base = F (G+ - G-)."""
    a, c, o = base[lo:hi], g[lo:hi], out[lo:hi]
    for i in range(o.size):
        o[i] = np.float32((a[i] + pol * (c[i] - gs)) / scale)


ELEM_CHUNK = 1 << 16    # devices per chunk of the elementwise kernels


# ---- one training update at batch 1, whole ------------------------------------------
FUSED_CHUNK = 4096      # devices per block of the fused device / leakage / read-out pass


@nb.njit(**_JIT)
def train_update_one(x, d, k, scale, maxc, lr_neg, tab, off_rows, off_cols, pos_rows,
                     pos_cols, bl, period, st, ki, wi, fi, r_tail, inv_r, g, params, gs, c2c,
                     swap, decay, base, pol, wscale, out, read):
    """One example's UPDATE of a 2PCM+3T1C tile, its update period of leakage and the
    read-out that follows, in one call: train_prepare, then train_respond over all
    devices (the same numbers as codesign.pulses.count_one, CapacitorArray.pulses,
    leak(1) and codesign.devices.readout.weights32 one after another). Returns the
    total of pulses."""
    idx, up, down, z, total = train_prepare(
        x, d, k, scale, maxc, lr_neg, tab, off_rows, off_cols, pos_rows, pos_cols, bl,
        period, st, ki, wi, fi, r_tail, inv_r, swap)
    train_respond(g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale, out,
                  read)
    return total


@nb.njit(**_JIT)
def train_prepare(x, d, k, scale, maxc, lr_neg, tab, off_rows, off_cols, pos_rows,
                  pos_cols, bl, period, st, ki, wi, fi, r_tail, inv_r, swap):
    """The serial part of a batch-1 training update: update_one counts the pulses (the
    positions advance in place); one normal per pulsed device from the PCG64 state st
    (pcg_normals: rng.standard_normal's numbers, st advanced in place) when any device
    was pulsed. swap: polarity -1 (the negative pulses move the capacitor up). Returns
    (idx, up, down, z, total pulses)."""
    _, _, _, _, idx, npos, nneg, total = update_one(
        x, d, k, scale, maxc, lr_neg, tab, off_rows, off_cols, pos_rows, pos_cols, bl,
        period)
    up = nneg if swap else npos
    down = npos if swap else nneg
    z = np.empty(idx.size)
    if idx.size > 0:
        pcg_normals(st, z, ki, wi, fi, r_tail, inv_r)
    return idx, up, down, z, total


@nb.njit(**_JIT)
def _respond_block(g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale, out,
                   read, b0, b1, j0, j1):
    """train_respond's work on the flat devices [b0, b1), whose pulsed devices are
    idx[j0:j1]: their response, then the block's leakage and read-out."""
    if j1 > j0:
        capacitor_pulses(g, idx, up, down, z, gs, c2c, params, j0, j1)
    leak = decay.size > 0
    if leak and read:
        leak_weights32(base, g, decay, pol, gs, wscale, out, b0, b1)
    elif leak:
        leak_range(g, decay, gs, b0, b1)
    elif read:
        weights32(base, g, pol, gs, wscale, out, b0, b1)


@nb.njit(**_JIT)
def train_respond(g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale, out,
                  read):
    """The device response of train_prepare's pulses, one update period of leakage and,
    with ``read``, the float32 read-out, over all devices, block by block of
    FUSED_CHUNK (respond_blocks): the block's pulsed devices (capacitor_pulses), then the
    leakage of every device of the block (decay: one period's factor per device; empty
    when leakage is off) and its weight (base = F (G+ - G-), flat) into out, while the
    block is in cache. The capacitor must have no leakage pending (the caller flushes
    it). train_respond_shared is the same work shared between threads."""
    starts = respond_blocks(idx, g.size)
    for b in range(starts.size - 1):
        b0 = b * FUSED_CHUNK
        _respond_block(g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale,
                       out, read, b0, min(b0 + FUSED_CHUNK, g.size), starts[b],
                       starts[b + 1])


@nb.njit(**_JIT)
def respond_blocks(idx, size):
    """Where each FUSED_CHUNK block of the flat devices 0..size starts in the sorted
    pulsed list idx: starts[b] = the first j with idx[j] >= b FUSED_CHUNK (one entry per
    block, and idx.size last). A binary search per block (a few dozen blocks), not a
    pass over the pulsed list: this runs on the network's thread for every post."""
    nblk = -(-size // FUSED_CHUNK)
    starts = np.empty(nblk + 1, dtype=np.int64)
    for b in range(nblk):
        lo, hi = 0 if b == 0 else starts[b - 1], idx.size
        edge = b * FUSED_CHUNK
        while lo < hi:
            mid = (lo + hi) >> 1
            if idx[mid] < edge:
                lo = mid + 1
            else:
                hi = mid
        starts[b] = lo
    starts[nblk] = idx.size
    return starts


@nb.njit(**_JIT)
def train_respond_shared(g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale,
                         out, read, starts, taken):
    """train_respond over all devices, its FUSED_CHUNK blocks shared by the threads that
    call this with the same ``taken`` (int64[2], zeros at first: blocks taken, blocks
    done): each takes the next block not yet taken (take: one atomic step) until none is
    left, so a thread that needs the result works on it instead of waiting; taken[1]
    counts the blocks done (the caller waits for it to reach the number of blocks:
    wait_count, codesign.tile._Shared). Every block is done once, by whichever
    thread, with the same arithmetic: the result does not depend on who did what.
    starts: respond_blocks(idx, g.size)."""
    nblk = starts.size - 1
    while True:
        b = take(taken, 0)
        if b >= nblk:
            return
        b0 = b * FUSED_CHUNK
        _respond_block(g, idx, up, down, z, gs, c2c, params, decay, base, pol, wscale,
                       out, read, b0, min(b0 + FUSED_CHUNK, g.size), starts[b],
                       starts[b + 1])
        take(taken, 1)


# ---- the respond worker: a crew helper that stays in compiled code ------------------
# A helper that comes back to the interpreter between tiles takes its lock from the
# network's thread each time (a handoff costs the waiting thread a wake-up, tens of
# microseconds on this VM), which slowed batch-1 training by about as much as the second
# core gave. So the helper runs respond_worker, which takes the tiles' device work from
# a mailbox of slots (the arrays' addresses, written by train_post on the network's
# thread) until none has come for WORKER_IDLE_NS; the Python side keeps
# each slot's arrays alive until the worker is past it (codesign.tile._Backlog).
SLOTS = 64               # mailbox slots (tiles' updates posted and not yet passed)
_NF = 32                 # int64 fields per slot (the float ones through a float64 view)
(_G, _GN, _IDX, _IDXN, _UP, _DOWN, _Z, _PAR, _PARN, _DEC, _DECN, _BASE, _BASEN, _OUT,
 _OUTN, _READ, _ST, _STN, _TAKEN, _GS, _C2C, _POL, _WSCALE) = range(23)
_POSTED, _PASSED, _ALIVE = 0, 1, 2      # the control words (int64[4])
# The worker waits WORKER_IDLE_NS (1.8 ms) for more work before it goes back: longer
# than the network's own part of a batch-1 image (forward, backward and the pulse
# counts, 0.3-0.5 ms), so it stays in compiled code from image to image instead of
# being woken (kernels.offer) for most posts. At 1 << 11 (55 us) it had
# gone back before 78 % of the posts (228 posts, another job on the machine); paired
# with 1 << 11 in one process (784-250-125-10, 2 threads, rounds of 200 images started
# with both cores idle, 2026-11-30): 734 vs 627 images/s median, faster in 7 of 8 rounds.
WORKER_IDLE_NS = 1_800_000
PAUSE_NS = 27            # one _cpu_relax pause, about (measured here 2026-11-30)
WORKER_IDLE_SPINS = WORKER_IDLE_NS // PAUSE_NS   # the same wait counted in pauses
# After WORKER_SPIN_PAUSES of those pauses each wait also yields the core (sched_yield:
# back in about 0.7 us where no other thread is ready to run on it; measured here
# 2026-11-30), so that a waiting worker does not hold a core that the network's thread
# or another job needs on a busy machine (there a yield gave the core away for about
# 2.7 ms, so the wait is bounded by the clock, WORKER_IDLE_NS, where one is at hand:
# Linux's CLOCK_MONOTONIC; elsewhere by the count, a yield counting as
# WORKER_YIELD_PAUSES pauses).
WORKER_SPIN_PAUSES = 1 << 11
WORKER_YIELD_PAUSES = 32
_LINUX = platform.system() == "Linux"


@intrinsic
def _yield_core(typingctx):
    """sched_yield(2) on Linux; nothing elsewhere."""
    def codegen(context, builder, signature, args):
        if _LINUX:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
            builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@intrinsic
def _monotonic_ns(typingctx):
    """CLOCK_MONOTONIC in ns on Linux (clock_gettime(2), a 64-bit timespec); 0
    elsewhere."""
    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        if not _LINUX:
            return ir.Constant(i64, 0)
        ts = cgutils.alloca_once(builder, ir.ArrayType(i64, 2))
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), [ir.IntType(32), ts.type]),
            "clock_gettime")
        builder.call(fn, [ir.Constant(ir.IntType(32), 1), ts])     # CLOCK_MONOTONIC
        sec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 0))
        nsec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 1))
        return builder.add(builder.mul(sec, ir.Constant(i64, 1_000_000_000)), nsec)
    return types.int64(), codegen


@nb.njit(**_JIT)
def _idle_wait(idle, since):
    """One wait of the idle worker: idle counts the pauses so far, since is when the
    yielding began (ns, 0 before); returns both updated, idle past the limit when the
    wait is over."""
    _cpu_relax()
    if idle < WORKER_SPIN_PAUSES:
        return idle + 1, since
    _yield_core()
    if _LINUX:
        now = _monotonic_ns()
        if since == 0:
            return idle + 1, now
        if now - since >= WORKER_IDLE_NS:
            return WORKER_IDLE_SPINS, since
        return idle, since
    return idle + WORKER_YIELD_PAUSES, since


def _pointer_to(nbtype):
    @intrinsic
    def cast(typingctx, addr):
        """The address addr (int64) as a pointer to nbtype (for carray)."""
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(types.CPointer(nbtype)))
        return types.CPointer(nbtype)(types.int64), codegen
    return cast


_f64p, _f32p, _i64p, _i32p = (_pointer_to(t) for t in
                              (types.float64, types.float32, types.int64, types.int32))


@intrinsic
def _cas(typingctx, arr, idx, old, new):
    """arr[idx] = new if it holds old, in one atomic step; returns what it held."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_ptr(context, builder, signature, args, 0, args[1])
        pair = builder.cmpxchg(ptr, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)
    return types.int64(arr, types.intp, types.int64, types.int64), codegen


@nb.njit(**_JIT)
def cas(ctl, k, old, new):
    """ctl[k] = new if it holds old (one atomic step); whether it did."""
    return _cas(ctl, k, old, new) == old


@nb.njit(**_JIT)
def train_post(box, fbox, ctl, g, idx, up, down, z, gs, c2c, params, decay, base, pol,
               wscale, out, read, taken):
    """The blocks of a training update's device work (respond_blocks) and, where a
    mailbox slot is free, its arguments posted to the respond worker: returns (starts,
    the slot's number or -1)."""
    starts = respond_blocks(idx, g.size)
    k = ctl[_POSTED]
    if k - _load_acquire(ctl, _PASSED) >= SLOTS:
        return starts, -1
    s = box[k % SLOTS]
    f = fbox[k % SLOTS]
    s[_G], s[_GN] = g.ctypes.data, g.size
    s[_IDX], s[_IDXN] = idx.ctypes.data, idx.size
    s[_UP], s[_DOWN], s[_Z] = up.ctypes.data, down.ctypes.data, z.ctypes.data
    s[_PAR], s[_PARN] = params.ctypes.data, params.shape[0]
    s[_READ] = read
    s[_DEC], s[_DECN] = decay.ctypes.data, decay.size
    s[_BASE], s[_BASEN] = base.ctypes.data, base.size
    s[_OUT], s[_OUTN] = out.ctypes.data, out.size
    s[_ST], s[_STN] = starts.ctypes.data, starts.size
    s[_TAKEN] = taken.ctypes.data
    f[_GS], f[_C2C], f[_POL], f[_WSCALE] = gs, c2c, pol, wscale
    _atomic_add(ctl, _POSTED, 1)           # after the slot's words (sequentially consistent)
    return starts, k


@nb.njit(**_JIT)
def _respond_slot(s, f):
    """train_respond_shared on the arrays whose addresses slot s holds."""
    n = s[_IDXN]
    train_respond_shared(
        nb.carray(_f64p(s[_G]), s[_GN]), nb.carray(_i64p(s[_IDX]), n),
        nb.carray(_i32p(s[_UP]), n), nb.carray(_i32p(s[_DOWN]), n),
        nb.carray(_f64p(s[_Z]), n), f[_GS], f[_C2C],
        nb.carray(_f64p(s[_PAR]), (s[_PARN], 6)),
        nb.carray(_f64p(s[_DEC]), s[_DECN]), nb.carray(_f64p(s[_BASE]), s[_BASEN]),
        f[_POL], f[_WSCALE], nb.carray(_f32p(s[_OUT]), s[_OUTN]), s[_READ] != 0,
        nb.carray(_i64p(s[_ST]), s[_STN]), nb.carray(_i64p(s[_TAKEN]), 2))


@nb.njit(**_JIT)
def respond_worker(box, fbox, ctl):
    """Run the posted slots' device work in order (each: its blocks until none is left to
    take) and wait for more (_idle_wait); after WORKER_IDLE_NS without any, say so
    (ctl's alive word 0), look once more (a slot posted by a thread that still saw it
    alive) and return when there is none. ctl's passed word counts the slots done
    with: their arrays may go."""
    k = ctl[_PASSED]
    idle = 0
    since = 0
    while True:
        if k < _load_acquire(ctl, _POSTED):
            _respond_slot(box[k % SLOTS], fbox[k % SLOTS])
            k += 1
            _atomic_add(ctl, _PASSED, 1)
            idle = 0
            since = 0
        elif idle < WORKER_IDLE_SPINS:
            idle, since = _idle_wait(idle, since)
        else:
            _cas(ctl, _ALIVE, 1, 0)
            if k < _load_acquire(ctl, _POSTED) and _cas(ctl, _ALIVE, 0, 1) == 0:
                idle = 0
                since = 0
                continue
            return


#: Files whose constants these kernels compile in (numba freezes a global's value into its
#: cached code): codesign.devices.capacitor's SERIES_MAX. Their caches are emptied when
#: these change (codesign.numba_cache), as kernels_minibatch's are for this file too.
DEPENDS = (_capacitor_file,)
flush_on_change(globals(), list(DEPENDS))
