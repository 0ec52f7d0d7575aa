"""Converters at the array's edge: input DAC (three encodings), integrator, ADC (the kinds
of codesign.adckinds; every quantizing kind yields the same codes, the SAR closed form).

The digital words here are exactly what the RTL controller sees (see cycles.py and
docs/rtl.md): sign-magnitude DAC codes, offset-binary SAR codes decided MSB first by a
comparator, signed output words, shift-and-add for bit-serial inputs. Values are in
normalized units: inputs in [-1, 1] (1 = DAC full scale), weights in [-1, 1] (1 = the
cell's full conductance swing), column outputs in weight x input units.

Speed (issue 11): :func:`mvm` cuts the batch into chunks of FWD_ROWS input vectors, spread
over threads; each thread runs its chunks' DAC (with the input's finite check in the same
pass), array product (numpy's own cblas_sgemm, called from the compiled code: _gemm) and
ADC (noise, SAR decisions in closed form, output words and values) in one compiled call
without the GIL, and the ADC rows of a chunk whose product is done are shared between
threads in blocks (kernels.mvm_rows). The chunks have a fixed size and BLAS runs on one
thread inside them, so the result does not depend on the thread count (OpenBLAS' own
threads change the float32 sums' rounding). ADC noise comes from a ziggurat sampler on
xoshiro256++ streams, one stream per row of conversions (one input vector's outputs, per
phase), seeded from one 64-bit draw of the tile's generator per call (codesign.kernels):
exactly normal (as numpy's float32 sampler, on a 2^-23 grid per ziggurat strip), about
4x cheaper than numpy's (0.15 against 0.66 ms for 65,536 samples on one thread,
2026-11-30). The call shape of each product is part of the result: OpenBLAS' float32 sums
for a row change with the number of rows and columns in the call (measured), so the
chunks are exactly FWD_ROWS vectors at fixed offsets and the full weight matrix.
Before issue 11 the noise came from ``rng.standard_normal`` (float32);
:func:`reference_noise` brings that back (tests).
"""
from __future__ import annotations

import contextlib

import numpy as np

from .cycles import dac_max_code, input_phases
from .lazykernels import kernels_
from .spec import Spec


def dac_codes(x: np.ndarray, spec: Spec) -> np.ndarray:
    """Normalized inputs -> signed integer codes in [-MAXC, MAXC] (clipped, rounded to
    nearest). The sign travels as the polarity of the word-line drive."""
    maxc = dac_max_code(spec)
    v = np.clip(np.asarray(x, dtype=np.float32), -1.0, 1.0)
    v *= np.float32(maxc)
    return np.rint(v, out=v).astype(np.int32)


def dac_phases(codes: np.ndarray, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """What the word lines carry in each integration phase, and each phase's weight.

    Returns (applied, weights): applied has shape (phases, *codes.shape) in normalized
    drive units; a column's value is sum_p weights[p] * (applied[p] @ W).
    amplitude:   one phase, drive = code / MAXC.
    pulse_width: one phase, a pulse of |code| cycles in a MAXC-cycle window: the integrated
                 charge equals that of amplitude code / MAXC (ideal integrator).
    bit_serial:  phase k drives sign * bit_k(|code|) (1-bit DAC); weight 2^k / MAXC, so
                 the digital shift-and-add of the phases rebuilds the product.
    """
    maxc = dac_max_code(spec)
    codes = np.asarray(codes)
    if spec.dac.encoding != "bit_serial":
        applied = codes.astype(np.float32)[None]
        applied *= np.float32(1.0 / maxc)
        return applied, np.ones(1)
    nb = input_phases(spec)
    k = np.arange(nb).reshape((nb,) + (1,) * codes.ndim)
    bits = (np.abs(codes)[None] >> k) & 1
    return (bits * np.sign(codes)[None]).astype(np.float32), 2.0 ** np.arange(nb) / maxc


def adc_lsb(spec: Spec) -> float:
    """ADC step in output units: the range [-full_scale, full_scale) in 2^bits codes."""
    return 2.0 * spec.adc.full_scale / 2 ** spec.adc.bits


def sar_level(value: np.ndarray, spec: Spec) -> np.ndarray:
    """The sampled value in LSB above the bottom of the range: (v + FS) / LSB. The SAR's
    capacitive DAC compares this with each trial code; model and benches both compare in
    this domain so that every decision is computed the same way, bit for bit. Returns a
    new array in the value's float precision (float32 from the array product)."""
    v = np.asarray(value)
    if not np.issubdtype(v.dtype, np.floating):
        v = v.astype(np.float64)
    level = v + v.dtype.type(spec.adc.full_scale)
    level *= v.dtype.type(1.0 / adc_lsb(spec))
    return level


def sar_compare(value: np.ndarray, trial: np.ndarray, spec: Spec) -> np.ndarray:
    """The comparator decision the RTL's SAR receives: 1 iff value >= the threshold of the
    trial code, -FS + trial * LSB (codesign.adckinds: the sar kind's comparator, whatever
    spec.adc.kind says)."""
    from .adckinds import kind
    return kind("sar").compare(sar_level(value, spec), trial, spec.adc.bits)[..., 0]


def adc_compare(value: np.ndarray, trial: np.ndarray, spec: Spec) -> np.ndarray:
    """What the comparators of spec's ADC kind answer in one cycle of a conversion, given
    the controller's trial code (codesign.adckinds.ADCKind.compare): shape
    (..., comparators per ADC), 0/1. SAR: the trial's decision; ramp: the decision at the
    ramp's count; flash: the thermometer code of the whole ladder."""
    return spec.adc_kind.compare(sar_level(value, spec), trial, spec.adc.bits)


def adc_steps(value: np.ndarray, spec: Spec):
    """The conversions of `value` cycle by cycle as spec's ADC kind's controller block
    runs them (codesign.adckinds.ADCKind.steps): per cycle (trial codes, comparator
    answers, result register)."""
    return spec.adc_kind.steps(sar_level(value, spec), spec.adc.bits)


def adc_convert(value: np.ndarray, spec: Spec) -> np.ndarray:
    """Codes of spec's ADC kind, decided cycle by cycle as its controller block does
    (codesign.adckinds.ADCKind.convert); equal to :func:`sar_codes` for every kind
    (tested), which the fast path computes."""
    return spec.adc_kind.convert(sar_level(value, spec), spec.adc.bits)


_REFERENCE_NOISE = False


@contextlib.contextmanager
def reference_noise():
    """Within this block ADC noise is drawn as before issue 11 (numpy's float32
    standard_normal from the tile's generator), for comparisons with saved results."""
    global _REFERENCE_NOISE
    before, _REFERENCE_NOISE = _REFERENCE_NOISE, True
    try:
        yield
    finally:
        _REFERENCE_NOISE = before


def noise_scale(spec: Spec) -> np.float32:
    """Standard deviation of the ADC noise in output units, float32."""
    return np.float32(spec.adc.noise * adc_lsb(spec))


def noise_seed(rng: np.random.Generator) -> int:
    """The 64-bit seed of one call's noise streams: one raw draw of rng's generator."""
    return int(rng.bit_generator.random_raw())


def conversion_noise(rng: np.random.Generator, shape: tuple, spec: Spec) -> np.ndarray | None:
    """Input-referred ADC noise for `shape` conversions, in output units, or None when the
    spec has none (then no random numbers are drawn, keeping streams identical)."""
    if spec.adc.noise <= 0:
        return None
    if _REFERENCE_NOISE:
        noise = rng.standard_normal(shape, dtype=np.float32)
        noise *= noise_scale(spec)
        return noise
    K = kernels_()
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    return K.normals32(noise_seed(rng), rows, shape[-1], noise_scale(spec)).reshape(shape)


def sar_convert(value: np.ndarray, spec: Spec) -> np.ndarray:
    """Offset-binary codes decided bit by bit, MSB first, as the RTL's SAR does
    (codesign.adckinds: the sar kind's convert, whatever spec.adc.kind says). Its result
    equals :func:`sar_codes` exactly (tested); the benches use these decisions, the fast
    path uses the closed form."""
    from .adckinds import kind
    return kind("sar").convert(sar_level(value, spec), spec.adc.bits)


def sar_codes(value: np.ndarray, spec: Spec) -> np.ndarray:
    """Closed form of the SAR's binary search: the largest code c in [0, 2^bits - 1] with
    level >= c, i.e. clip(floor(level), 0, 2^bits - 1). Exact, because every decision
    compares the level with an integer."""
    level = sar_level(value, spec)
    np.floor(level, out=level)
    np.clip(level, 0, 2 ** spec.adc.bits - 1, out=level)
    return level.astype(np.int32)


def signed_codes(code: np.ndarray, spec: Spec) -> np.ndarray:
    code = np.asarray(code)
    return code - code.dtype.type(2 ** (spec.adc.bits - 1))


def output_words(signed_per_phase: np.ndarray, spec: Spec) -> np.ndarray:
    """Digital output words from the signed ADC results of each phase (axis 0):
    the result itself, or for bit-serial the shift-and-add sum_k s_k << k."""
    s = np.asarray(signed_per_phase)
    if spec.dac.encoding != "bit_serial":
        return s[0].astype(np.int64)
    s = s.astype(np.int64)
    k = np.arange(s.shape[0]).reshape((-1,) + (1,) * (s.ndim - 1))
    return (s << k).sum(axis=0)


def words_to_values(words: np.ndarray, spec: Spec) -> np.ndarray:
    """Output words back to output units, reconstructing each ADC code at the middle of
    its step (so the error before clipping is within half an LSB per phase)."""
    lsb = adc_lsb(spec)
    w = np.asarray(words, dtype=np.float64)
    if spec.dac.encoding != "bit_serial":
        w += 0.5
        w *= lsb
        return w
    nb = input_phases(spec)
    return (w + 0.5 * (2 ** nb - 1)) * lsb / dac_max_code(spec)


FWD_ROWS = 128  # input vectors per chunk of the array product (fixed: see module doc)

_CONSTANTS: dict = {}


def _constants(spec: Spec) -> tuple:
    """The converters' numbers mvm passes to the kernels, once per spec (frozen; keyed by
    identity, the entry keeping the spec alive): (DAC max code, noisy, noise scale,
    full scale, 1 / LSB, top ADC code, half range, LSB, ints, reals), the last two
    kernels.mvm_rows' arrays of them (with numpy's cblas_sgemm, _gemm)."""
    global _GEMM
    hit = _CONSTANTS.get(id(spec))
    if hit is None or hit[0] is not spec or hit[2] is not _GEMM:   # (tests set _GEMM)
        if len(_CONSTANTS) >= 256:
            _CONSTANTS.clear()
        if _GEMM is None:
            _GEMM = _find_gemm()
        bits, lsb = spec.adc.bits, adc_lsb(spec)
        maxc, noisy, nscale = dac_max_code(spec), spec.adc.noise > 0, noise_scale(spec)
        fs, inv, top, half = (np.float32(spec.adc.full_scale), np.float32(1.0 / lsb),
                              2 ** bits - 1, 2 ** (bits - 1))
        ints = np.array([FWD_ROWS, maxc, top, half, _GEMM[0], _GEMM[1]], dtype=np.int64)
        reals = np.array([nscale if noisy else 0.0, fs, inv, lsb])
        hit = (spec, (maxc, noisy, nscale, fs, inv, top, half, lsb, ints, reals), _GEMM)
        _CONSTANTS[id(spec)] = hit
    return hit[1]


def mvm(weights: np.ndarray, x: np.ndarray, spec: Spec, rng: np.random.Generator,
        transpose: bool = False, check: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Digitized matrix-vector products through DAC, array and ADC.

    weights (rows, cols) normalized; x (B, rows) for forward (or (B, cols) with
    transpose=True). Returns (values, words), each (B, outputs). One matrix product per
    phase (1 phase for amplitude/pulse-width), vectorized over the batch; for one phase
    the rest is compiled and fused per chunk (module doc), computing what
    :func:`mvm_reference` computes. check: the name of x in a UserError raised if x
    holds NaN or infinity (checked in the DAC's pass over x; rng is then left as it
    was); None where the caller has checked x.
    """
    if spec.dac.encoding == "bit_serial" or (_REFERENCE_NOISE and spec.adc.noise > 0):
        if check is not None and not np.isfinite(x).all():
            _not_finite(check)
        return mvm_reference(weights, x, spec, rng, transpose)
    x = np.ascontiguousarray(x, dtype=np.float64)
    batch = x.shape[0]
    if batch <= FWD_ROWS:                 # one chunk: no threads, no closure over chunks
        job = _job(weights, x, spec, rng, transpose, check)
        restore = _blas_one_thread()
        try:
            return job()
        finally:
            _blas_restore(restore)
    K = kernels_()
    maxc, noisy, nscale, fs, inv, top, half, lsb, ints, reals = _constants(spec)
    w = _oriented(weights, transpose)
    n_out = w.shape[1]
    applied = np.empty(x.shape, dtype=np.float32)
    analog = np.empty((batch, n_out), dtype=np.float32)
    words = np.empty((batch, n_out), dtype=np.int64)
    values = np.empty((batch, n_out), dtype=np.float64)
    n_chunks = -(-batch // FWD_ROWS)
    claim = np.zeros(2 * n_chunks, dtype=np.int64)      # kernels.adc_own
    state = _saved(rng) if check is not None and noisy else None
    seed, scale = np.uint64(0), np.float32(0.0)
    if noisy:
        seed, scale = np.uint64(noise_seed(rng)), nscale
    gemm, wide = _gemm(batch - (n_chunks - 1) * FWD_ROWS, x, w)
    bad: list = []
    zw, zk, zf = K.ZIG_W, K.ZIG_K, K.ZIG_F

    def run(a: int, b: int) -> None:
        if gemm:
            ok = K.mvm_rows(x, applied, w, analog, words, values, a, b, claim, seed, ints,
                            reals)
        else:
            ok = True
            for c in range(a, b):
                r0, r1 = c * FWD_ROWS, min((c + 1) * FWD_ROWS, batch)
                ok &= K.dac_applied(x[r0:r1], maxc, applied[r0:r1])
                np.matmul(applied[r0:r1], w, out=analog[r0:r1])
                K.adc_own(analog, words, values, claim, c, FWD_ROWS, seed, scale, fs, inv,
                          top, half, lsb, zw, zk, zf)
            K.adc_help(analog, words, values, claim, a, b, FWD_ROWS, seed, scale, fs, inv,
                       top, half, lsb, zw, zk, zf)
        if not ok:
            bad.append(a)
    restore = _blas_one_thread()
    try:
        K.run_chunks(run, n_chunks, ns=mvm_ns(batch, x.shape[1], n_out))
    finally:
        _blas_restore(restore)
    if bad and check is not None:
        _restore(rng, state)
        _not_finite(check)
    return values, words


_STEP_BACK = "step back"   # _saved's answer for a PCG64


def _saved(rng: np.random.Generator):
    """What puts rng back where it is now after noise_seed's one draw (mvm's error): for
    a PCG64 nothing needs saving (_restore steps its LCG back), else the bit generator's
    state (a dict of Python integers: microseconds per call)."""
    return _STEP_BACK if kernels_()._pcg_view(rng.bit_generator) is not None else \
        rng.bit_generator.state


def _restore(rng: np.random.Generator, saved) -> None:
    """Undo noise_seed's draw (saved: _saved's answer from before it)."""
    if saved is None:
        return
    bg = rng.bit_generator
    if saved is not _STEP_BACK:
        bg.state = saved
        return
    # one draw is one step of the 128-bit LCG, state * MUL + inc (numpy's pcg64.h); its
    # inverse, (state - inc) * MUL^-1 mod 2^128, leaves the rest of the state as it was
    K = kernels_()
    view, m64 = K._pcg_view(bg), (1 << 64) - 1
    mul = (int(K._PCG_MUL_HI) << 64) | int(K._PCG_MUL_LO)
    with bg.lock:
        state = int(view[0]) | int(view[1]) << 64
        inc = int(view[2]) | int(view[3]) << 64
        state = (state - inc) * pow(mul, -1, 1 << 128) % (1 << 128)
        view[0], view[1] = state & m64, state >> 64


def _not_finite(name: str) -> None:
    from .errors import UserError
    raise UserError(f"{name}: contains NaN or infinity; allowed: finite numbers")


def mvm_ns(vectors: int, n_in: int, n_out: int) -> float:
    """mvm's work estimate for run_chunks (ns): about 20 ps per multiply-add (float32
    BLAS) and 5 ns per conversion."""
    return vectors * n_out * (0.02 * n_in + 5.0)


def mvm_job_fits(vectors: int, spec: Spec) -> bool:
    """Whether :func:`mvm_job` serves a call of `vectors` input vectors."""
    return vectors <= FWD_ROWS and spec.dac.encoding != "bit_serial" and \
        not _REFERENCE_NOISE


def mvm_job(weights: np.ndarray, x: np.ndarray, spec: Spec, rng: np.random.Generator,
            transpose: bool = False):
    """:func:`mvm` of at most FWD_ROWS vectors (one chunk) in two parts: the noise seed is
    drawn now, and the returned function computes (values, words), calling only kernels
    (one call where the product goes to numpy's BLAS directly, _gemm; else with one
    float32 np.matmul between them), so several run side by side on threads, e.g. the
    tiles of a layer; BLAS must be on one thread meanwhile, _blas_one_thread. None,
    nothing drawn, where mvm takes another path (more vectors, bit-serial, reference
    noise). x must be finite (the caller checks it)."""
    if not mvm_job_fits(x.shape[0], spec):
        return None
    return _job(weights, np.ascontiguousarray(x, dtype=np.float64), spec, rng, transpose,
                None)


def _job(weights: np.ndarray, x: np.ndarray, spec: Spec, rng: np.random.Generator,
         transpose: bool, check: str | None):
    """mvm_job's two parts for x (B <= FWD_ROWS, float64, contiguous); the function
    raises mvm's UserError for check (rng restored) if x holds NaN or infinity."""
    K = kernels_()
    maxc, noisy, nscale, fs, inv, top, half, lsb, ints, reals = _constants(spec)
    w = _oriented(weights, transpose)
    gemm, wide = _gemm(x.shape[0], x, w)
    state = _saved(rng) if check is not None and noisy else None
    seed, scale = np.uint64(0), np.float32(0.0)
    if noisy:
        seed, scale = np.uint64(noise_seed(rng)), nscale

    def run() -> tuple[np.ndarray, np.ndarray]:
        batch, n_out = x.shape[0], w.shape[1]
        applied = np.empty(x.shape, dtype=np.float32)
        analog = np.empty((batch, n_out), dtype=np.float32)
        words = np.empty((batch, n_out), dtype=np.int64)
        values = np.empty((batch, n_out), dtype=np.float64)
        claim = np.zeros(2, dtype=np.int64)
        if gemm:
            ok = K.mvm_rows(x, applied, w, analog, words, values, 0, 1, claim, seed, ints,
                            reals)
        else:
            ok = K.dac_applied(x, maxc, applied)
            np.matmul(applied, w, out=analog)
            K.adc_range(analog, words, values, 0, batch, n_out, seed, scale, fs, inv, top,
                        half, lsb, K.ZIG_W, K.ZIG_K, K.ZIG_F)
        if not ok and check is not None:
            _restore(rng, state)
            _not_finite(check)
        return values, words
    return run


def mvm_reference(weights: np.ndarray, x: np.ndarray, spec: Spec, rng: np.random.Generator,
                  transpose: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mvm` in numpy, step by step (the oracle; and the bit-serial path)."""
    _, analog = mvm_analog(weights, x, spec, rng, transpose)
    words = output_words(signed_codes(sar_codes(analog, spec), spec), spec)
    return words_to_values(words, spec), words


def _drive(x: np.ndarray, spec: Spec) -> np.ndarray:
    """Single-phase word-line drive (B, n) float32: dac_phases(dac_codes(x))[0][0]."""
    K = kernels_()
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(x.shape, dtype=np.float32)
    K.dac_applied(x.reshape(x.shape[0], -1), dac_max_code(spec), out.reshape(x.shape[0], -1))
    return out


def _oriented(weights: np.ndarray, transpose: bool) -> np.ndarray:
    # float32: the analog result is far noisier than float32 rounding; half the time of
    # float64 at the bench's 512x512x256 shape (codesign bench core).
    return np.asarray(weights.T if transpose else weights, dtype=np.float32)


def _product(applied: np.ndarray, weights: np.ndarray, transpose: bool) -> np.ndarray:
    """applied (..., B, n_in) @ W in float32, in chunks of FWD_ROWS vectors with BLAS on
    one thread (the same sums as mvm's, whatever the thread count)."""
    K = kernels_()
    w = _oriented(weights, transpose)
    lead = applied.shape[:-2]
    a2 = applied.reshape((-1,) + applied.shape[-2:])
    out = np.empty(a2.shape[:-1] + (w.shape[1],), dtype=np.float32)
    batch = a2.shape[1]
    per = -(-batch // FWD_ROWS)

    def run(a: int, b: int) -> None:
        for c in range(a, b):
            p, r = divmod(c, per)
            r0, r1 = r * FWD_ROWS, min((r + 1) * FWD_ROWS, batch)
            np.matmul(a2[p, r0:r1], w, out=out[p, r0:r1])
    restore = _blas_one_thread()
    try:
        K.run_chunks(run, a2.shape[0] * per, ns=0.02 * a2.size * w.shape[1])
    finally:
        _blas_restore(restore)
    return out.reshape(lead + out.shape[1:])


_BLAS = None


def _blas_one_thread() -> list:
    """Set numpy's BLAS to one thread for this core's products; returns what to restore
    (threadpoolctl finds the libraries once; an OpenBLAS is then switched by one
    compiled call, kernels.blas_threads, about a microsecond when already one)."""
    changed = []
    for lib, fns in _blas_libs():
        if fns is not None:
            n = kernels_().blas_threads(fns[0], fns[1], 1)
        else:
            n = lib.get_num_threads()
            if n != 1:
                lib.set_num_threads(1)
        if n != 1:
            changed.append((lib, fns, n))
    return changed


def _blas_restore(changed: list) -> None:
    for lib, fns, n in changed:
        if fns is not None:
            kernels_().blas_threads(fns[0], fns[1], n)
        else:
            lib.set_num_threads(n)


_AFFIXES = (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", ""))  # OpenBLAS builds


def _blas_libs() -> list:
    """numpy's BLAS libraries as _find_blas gives them, found once."""
    global _BLAS
    if _BLAS is None:
        _BLAS = _find_blas()
    return _BLAS


def _find_blas() -> list:
    """numpy's BLAS libraries (threadpoolctl; those under numpy's own directory if any),
    each with (openblas_get_num_threads, openblas_set_num_threads) addresses for an
    OpenBLAS, else None."""
    import ctypes

    from threadpoolctl import ThreadpoolController
    libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    libs = [lib for lib in libs if "numpy" in str(lib.filepath)] or libs
    found = []
    for lib in libs:
        fns = None
        if lib.internal_api == "openblas":
            for pre, suf in _AFFIXES:
                get = getattr(lib.dynlib, f"{pre}openblas_get_num_threads{suf}", None)
                put = getattr(lib.dynlib, f"{pre}openblas_set_num_threads{suf}", None)
                if get is not None and put is not None:
                    fns = tuple(ctypes.cast(f, ctypes.c_void_p).value for f in (get, put))
                    break
        found.append((lib, fns))
    return found


# numpy's matmul on 2-D float32 operands calls its BLAS's cblas_sgemm (numpy/_core/src/
# umath/matmul.c.src, matrix @ matrix with every dimension >= 2; vectors go to gemv).
# The compiled forward calls the same function with the same arguments
# (kernels.sgemm), so the float32 sums are numpy's, and a thread runs DAC, product and
# ADC in one call without the GIL. Found for OpenBLAS (numpy's wheels bundle it as
# scipy_openblas, symbols scipy_cblas_sgemm64_ etc.; its configuration says whether its
# integers are 64-bit); checked once against np.matmul; elsewhere np.matmul is called
# between the kernels as before. One vector's product (a layer's at batch 1,
# mvm_layer_one) goes to cblas_sgemv the same way (kernels.sgemv, _GEMV).
_GEMM: tuple | None = None


def _gemm(rows: int, x: np.ndarray, w: np.ndarray) -> tuple[int, bool]:
    """(address of numpy's cblas_sgemm, whether its integers are 64-bit) for products of
    chunks of `rows` (or more) rows of x with w, or (0, False) where np.matmul must do
    them: a dimension below 2, w's rows and columns both strided, shapes that do not
    match (np.matmul raises), or no such function found."""
    global _GEMM
    if _GEMM is None:
        _GEMM = _find_gemm()
    k, n = w.shape
    st0, st1 = w.strides
    if (rows < 2 or k < 2 or n < 2 or x.shape[1] != k or w.dtype != np.float32 or
            not ((st1 == 4 and st0 % 4 == 0 and st0 // 4 >= n) or
                 (st0 == 4 and st1 % 4 == 0 and st1 // 4 >= k))):
        return 0, False
    return _GEMM


def _find_gemm() -> tuple[int, bool]:
    return _find_cblas("cblas_sgemm", _gemm_agrees)


def _find_cblas(name: str, agrees) -> tuple[int, bool]:
    """(address, 64-bit integers) of the CBLAS function `name` in numpy's OpenBLAS (its
    configuration says whether its integers are 64-bit) for which agrees(address, wide)
    holds, or (0, False)."""
    import ctypes
    for lib, _ in _blas_libs():
        if lib.internal_api != "openblas":
            continue
        for pre, suf in _AFFIXES:
            fn = getattr(lib.dynlib, f"{pre}{name}{suf}", None)
            config = getattr(lib.dynlib, f"{pre}openblas_get_config{suf}", None)
            if fn is None or config is None:
                continue
            config.restype = ctypes.c_char_p
            found = (ctypes.cast(fn, ctypes.c_void_p).value,
                     b"USE64BITINT" in (config() or b""))
            if agrees(*found):
                return found
    return 0, False


def _gemm_agrees(gemm: int, wide: bool) -> bool:
    """Whether kernels.sgemm through gemm gives np.matmul's float32 products, bit for
    bit, in both orientations of the weights."""
    K = kernels_()
    rng = np.random.default_rng(11)
    a = rng.standard_normal((37, 300)).astype(np.float32)
    b = rng.standard_normal((300, 70)).astype(np.float32)
    restore = _blas_one_thread()
    try:
        for w in (b, np.asfortranarray(b)):
            out = np.empty((37, 70), dtype=np.float32)
            K.sgemm(gemm, wide, a, w, out)
            if not np.array_equal(out, a @ w):
                return False
    finally:
        _blas_restore(restore)
    return True


_GEMV: tuple | None = None   # (address of numpy's cblas_sgemv, 64-bit integers) or (0, False)


def _find_gemv() -> tuple[int, bool]:
    """numpy's cblas_sgemv, checked against np.matmul (_gemv_agrees)."""
    return _find_cblas("cblas_sgemv", _gemv_agrees)


def _gemv_agrees(gemv: int, wide: bool) -> bool:
    """Whether kernels.sgemv through gemv gives np.matmul's float32 products of one
    vector, bit for bit, both ways (x @ w and x @ w.T), at several shapes (OpenBLAS'
    kernels block by 4 and 8 columns: odd sizes included)."""
    K = kernels_()
    rng = np.random.default_rng(12)
    restore = _blas_one_thread()
    try:
        for k, n in ((300, 70), (513, 250), (37, 9), (126, 10)):
            w = rng.standard_normal((k, n)).astype(np.float32)
            for transpose in (False, True):
                x = rng.standard_normal((1, n if transpose else k)).astype(np.float32)
                out = np.empty(k if transpose else n, dtype=np.float32)
                K.sgemv(gemv, wide, x[0], w, transpose, out)
                if not np.array_equal(out, (x @ (w.T if transpose else w))[0]):
                    return False
    finally:
        _blas_restore(restore)
    return True


def mvm_layer_one(weights: tuple, a: np.ndarray, spec: Spec, rng: np.random.Generator,
                  row_edges: np.ndarray, col_edges: np.ndarray, transpose: bool,
                  bias: bool, gain: float, keep: int) -> np.ndarray | None:
    """A layer's digital scaling and :func:`mvm` of one input vector a (1, n) over its
    grid of tiles in one compiled call (kernels.layer_mvm_one): a scaled by its abs max
    m (the bias input 1 appended with bias), each tile's product (weights: the tiles'
    read-outs, row-major over the grid cut at row_edges x col_edges; with transpose the
    transposed read) digitized with its own noise seed drawn from rng in grid order, the
    tiles' values added up as tiled_mvm adds them, and the first keep outputs times
    gain * m: the same numbers and draws as scaling, mvm per tile and tiled_mvm.
    None, nothing drawn, where that path is the way (more than one phase, reference
    noise, no numpy sgemv found, a generator other than PCG64). Raises mvm's UserError
    if a holds NaN or infinity (nothing drawn)."""
    global _GEMV
    if spec.dac.encoding == "bit_serial" or (_REFERENCE_NOISE and spec.adc.noise > 0):
        return None
    if _GEMV is None:
        _GEMV = _find_gemv()
    K = kernels_()
    bg = rng.bit_generator
    view = K._pcg_view(bg)
    if not _GEMV[0] or view is None:
        return None
    ints, reals = _constants(spec)[8:]
    a = np.ascontiguousarray(a, dtype=np.float64)
    restore = _blas_one_thread()
    try:
        with bg.lock:
            out, ok = K.layer_mvm_one(a, bias, weights, row_edges, col_edges, transpose,
                                      view, ints, reals, _GEMV[0], _GEMV[1], float(gain),
                                      int(keep))
    finally:
        _blas_restore(restore)
    if not ok:
        _not_finite("input")
    return out


def mvm_analog(weights: np.ndarray, x: np.ndarray, spec: Spec, rng: np.random.Generator,
               transpose: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The analog half of :func:`mvm`: (applied, analog), the word-line drive of each
    phase (P, B, n_in) and the sampled output values (P, B, n_out) the SAR digitizes.
    The RTL bench calls it with a copy of the tile's generator to answer the comparators
    with exactly the values the model converted."""
    x2 = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if spec.dac.encoding == "bit_serial":
        applied, _ = dac_phases(dac_codes(x2, spec), spec)          # (P, B, n_in)
        analog = _product(applied, weights, transpose)               # (P, B, n_out)
    else:
        applied = _drive(x2, spec)[None]
        analog = _product(applied[0], weights, transpose)[None]
    noise = conversion_noise(rng, analog.shape, spec)
    if noise is not None:
        analog += noise
    return applied, analog
