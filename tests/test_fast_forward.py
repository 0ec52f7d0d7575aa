"""The forward's compiled kernels (issue 11) against plain oracles: the ADC noise sampler
(ziggurat on xoshiro256++ streams, codesign.kernels) against a pure-Python transcription of
its algorithm, sample by sample, and the fused ADC pass against the numpy steps of
codesign.converters, for ADC widths, full scales and values on the code boundaries."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from codesign import converters as conv
from codesign import kernels as K
from codesign.spec import load_spec

M64 = (1 << 64) - 1


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & M64


class _Stream:
    """xoshiro256++ (Blackman & Vigna), seeded by SplitMix64 from seed ^ (row + 1) * mix."""

    def __init__(self, seed: int, row: int):
        s = seed ^ (((row + 1) * int(K._CHUNK_MIX)) & M64)
        self.st = []
        for _ in range(4):
            s = (s + int(K._SM_GAMMA)) & M64
            z = ((s ^ (s >> 30)) * int(K._SM_M1)) & M64
            z = ((z ^ (z >> 27)) * int(K._SM_M2)) & M64
            self.st.append(z ^ (z >> 31))

    def next(self) -> int:
        s0, s1, s2, s3 = self.st
        out = (_rotl((s0 + s3) & M64, 23) + s0) & M64
        t = (s1 << 17) & M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self.st = [s0, s1, s2, _rotl(s3, 45)]
        return out

    def uniform(self) -> float:
        return ((self.next() >> 11) + 0.5) * 2.0 ** -53


def _oracle_row(seed: int, row: int, n: int, scale: float) -> np.ndarray:
    """One row's n samples as the module doc of codesign.kernels describes the sampler:
    all raw draws first (two 32-bit draws per 64-bit output, low half first), every
    sample's rectangle test, then the misses in order from where the stream stands."""
    zw, zk, zf = K.ZIG_W, K.ZIG_K, K.ZIG_F
    s = _Stream(seed, row)
    raw = [s.next() for _ in range((n + 1) // 2)]
    u = [(raw[j // 2] >> (32 * (j % 2))) & 0xFFFFFFFF for j in range(n)]
    out = np.empty(n, dtype=np.float32)

    def value(z: float) -> np.float32:
        return np.float32(z) * np.float32(scale)
    misses = []
    for j, u32 in enumerate(u):
        i, m, neg = u32 & 0xFF, u32 >> 9, (u32 >> 8) & 1
        out[j] = value((m + 0.5) * float(zw[i]) * (1.0 - 2.0 * neg))
        if m >= zk[i]:
            misses.append(j)
    for j in misses:
        u32 = u[j]
        while True:
            i, m, neg = u32 & 0xFF, u32 >> 9, (u32 >> 8) & 1
            if m < zk[i]:
                z = (m + 0.5) * float(zw[i])
                break
            if i == 0:                       # the tail beyond R (Marsaglia 1964)
                while True:
                    xx = -math.log(s.uniform()) / K._ZR
                    yy = -math.log(s.uniform())
                    if yy + yy > xx * xx:
                        break
                z = K._ZR + xx
                break
            z = (m + 0.5) * float(zw[i])     # the wedge: exact density test
            if float(zf[i]) + s.uniform() * float(zf[i + 1] - zf[i]) < math.exp(-0.5 * z * z):
                break
            u32 = s.next() >> 32
        out[j] = value(-z if neg else z)
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_noise_sampler_equals_its_algorithm_sample_by_sample(threads):
    """Row lengths around the sampler's 8-sample steps; 2,000 samples per seed hold about
    30 wedge tests and, over the seeds, tail draws (checked)."""
    with K.using_threads(threads, 0):
        tails = 0
        for seed, cols in ((1, 1), (2, 7), (3, 8), (4, 9), (5, 517), (2024, 1000)):
            got = K.normals32(seed, 5, cols, 0.37)
            want = np.stack([_oracle_row(seed, r, cols, 0.37) for r in range(5)])
            np.testing.assert_array_equal(got, want)
            tails += int((np.abs(want) > 0.37 * K._ZR).sum())
        big = K.normals32(99, 2, 20_000)
        np.testing.assert_array_equal(big[1], _oracle_row(99, 1, 20_000, 1.0))
        tails += int((np.abs(big[1]) > K._ZR).sum())
        assert tails > 0


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(2, 12), fs=st.floats(0.05, 50.0), cols=st.integers(1, 70),
       rows=st.integers(1, 5), noise=st.sampled_from([0.0, 0.3, 2.0]), seed=st.integers(0, 9))
def test_fused_adc_equals_the_numpy_steps(bits, fs, cols, rows, noise, seed):
    """kernels.adc_range (noise added, SAR closed form, int32 words, values from the
    clipped level) against converters' numpy steps on the same noise, with values on
    and next to every code boundary and beyond both ends of the range."""
    spec = load_spec("ambrogio2018").with_overrides(
        {"adc.bits": bits, "adc.full_scale": fs, "adc.noise": noise})
    lsb = conv.adc_lsb(spec)
    rng = np.random.default_rng(seed)
    edges = (np.arange(-2, 2 ** bits + 3) * lsb - fs).astype(np.float32)
    pool = np.concatenate([edges, np.nextafter(edges, np.float32(-np.inf)),
                           np.nextafter(edges, np.float32(np.inf)),
                           rng.uniform(-1.5 * fs, 1.5 * fs, 64).astype(np.float32)])
    analog = rng.choice(pool, (rows, cols)).astype(np.float32)
    noisy = analog.copy()
    if noise > 0:
        noisy += K.normals32(seed, rows, cols, conv.noise_scale(spec))
    want_words = conv.output_words(conv.signed_codes(conv.sar_codes(noisy, spec), spec)[None],
                                   spec)
    words = np.empty((rows, cols), np.int64)
    values = np.empty((rows, cols))
    kept = analog.copy()
    K.adc_range(analog, words, values, 0, rows, cols, np.uint64(seed), conv.noise_scale(spec)
                if noise > 0 else np.float32(0.0), np.float32(fs), np.float32(1.0 / lsb),
                2 ** bits - 1, 2 ** (bits - 1), lsb, K.ZIG_W, K.ZIG_K, K.ZIG_F)
    np.testing.assert_array_equal(words, want_words)
    np.testing.assert_array_equal(values, conv.words_to_values(want_words, spec))
    np.testing.assert_array_equal(analog, kept)          # the product is left as it was


# ---- the forward in one compiled call per thread (numpy's own cblas_sgemm) ---------------
def _spec(rows, cols, noise):
    return load_spec("ambrogio2018").with_overrides(
        {"array.rows": rows, "array.cols": cols, "adc.count": 1, "adc.bits": 7,
         "adc.noise": noise, "dac.encoding": "amplitude", "adc.full_scale": 4.0},
        source="test")


def test_direct_product_is_numpy_matmul_bit_for_bit():
    """kernels.sgemm through numpy's cblas_sgemm gives np.matmul's float32 products (BLAS
    on one thread, as the forward runs it) for both orientations of the weights and row
    slices; the address is found here (numpy's wheels bundle OpenBLAS)."""
    gemm, wide = conv._gemm(128, np.empty((2, 300)), np.empty((300, 70), np.float32))
    assert gemm, "numpy's cblas_sgemm not found"
    rng = np.random.default_rng(3)
    restore = conv._blas_one_thread()
    try:
        for m, k, n in ((2, 2, 2), (128, 512, 512), (37, 513, 129), (5, 64, 3)):
            a = rng.standard_normal((m + 4, k)).astype(np.float32)[2:m + 2]
            wb = rng.standard_normal((k, n)).astype(np.float32)
            for w in (wb, rng.standard_normal((n, k)).astype(np.float32).T):
                out = np.empty((m, n), np.float32)
                K.sgemm(gemm, wide, a, w, out)
                np.testing.assert_array_equal(out, a @ w)
    finally:
        conv._blas_restore(restore)


def test_finding_the_product_leaves_numpy_s_blas_threads(monkeypatch):
    """Looking up numpy's BLAS and checking its cblas_sgemm (once per process) leaves
    the BLAS thread count as it was: only the forward's own products run on one."""
    from threadpoolctl import threadpool_info, threadpool_limits
    monkeypatch.setattr(conv, "_GEMM", None)
    monkeypatch.setattr(conv, "_BLAS", None)

    def counts():
        return {i["filepath"]: i["num_threads"] for i in threadpool_info()
                if i["user_api"] == "blas"}
    with threadpool_limits(2, user_api="blas"):
        before = counts()
        gemm, _ = conv._gemm(128, np.empty((2, 300)), np.empty((300, 70), np.float32))
        assert gemm
        after = counts()          # (a library loaded meanwhile is not numpy's: ignored)
        assert 2 in before.values()
        assert {path: after[path] for path in before} == before


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("noise", [0.0, 0.7])
def test_compiled_forward_equals_the_matmul_path_and_numpy_steps(threads, noise,
                                                                monkeypatch):
    """mvm with the product inside the compiled call equals mvm with np.matmul between
    the kernels (no BLAS function found) and the numpy steps (mvm_reference), for
    batches that end in a one-vector chunk (numpy's matmul takes gemv there), both
    orientations, any thread count (ADC rows shared between threads)."""
    spec = _spec(70, 45, noise)
    rng = np.random.default_rng(4)
    w = rng.uniform(-1, 1, (70, 45)).astype(np.float32)
    with K.using_threads(threads, 0):
        for batch in (1, 2, 129, 300, 3 * conv.FWD_ROWS + 8):
            for transpose in (False, True):
                x = rng.uniform(-1.2, 1.2, (batch, 45 if transpose else 70))
                runs = [conv.mvm(w, x, spec, np.random.default_rng(9), transpose,
                                 check="x")]
                with monkeypatch.context() as m:
                    m.setattr(conv, "_GEMM", (0, False))
                    runs.append(conv.mvm(w, x, spec, np.random.default_rng(9), transpose,
                                         check="x"))
                runs.append(conv.mvm_reference(w, x, spec, np.random.default_rng(9),
                                               transpose))
                for values, words in runs[1:]:
                    np.testing.assert_array_equal(words, runs[0][1])
                    np.testing.assert_array_equal(values, runs[0][0])


def test_adc_rows_of_another_thread_s_chunk_are_converted_once_and_equal():
    """adc_help converts the blocks left of a chunk whose product is done (as a thread
    that finished its own chunks does), and nothing of a chunk not done; the result
    equals one adc_range over the rows."""
    rows, n = conv.FWD_ROWS, 33
    analog = np.random.default_rng(5).uniform(-5, 5, (2 * rows + 7, n)).astype(np.float32)
    args = (np.uint64(77), np.float32(0.3), np.float32(4.0), np.float32(16.0), 127, 64,
            0.0625, K.ZIG_W, K.ZIG_K, K.ZIG_F)
    ref_w, ref_v = np.empty(analog.shape, np.int64), np.empty(analog.shape)
    K.adc_range(analog, ref_w, ref_v, 0, analog.shape[0], n, *args)
    words = np.full(analog.shape, -999, np.int64)
    values = np.full(analog.shape, np.nan)
    claim = np.zeros(6, np.int64)
    claim[2 * 1] = 1                      # chunk 1's product done, two blocks taken
    claim[2 * 1 + 1] = 2
    K.adc_help(analog, words, values, claim, 0, 1, rows, *args)
    taken = slice(rows, rows + 2 * K.ADC_BLOCK)
    assert (words[:rows] == -999).all() and (words[2 * rows:] == -999).all()  # not done
    assert (words[taken] == -999).all()                   # the blocks another thread took
    np.testing.assert_array_equal(words[rows + 2 * K.ADC_BLOCK:2 * rows],
                                  ref_w[rows + 2 * K.ADC_BLOCK:2 * rows])
    K.adc_own(analog, words, values, claim, 2, rows, *args)
    K.adc_own(analog, words, values, claim, 0, rows, *args)
    words[taken], values[taken] = ref_w[taken], ref_v[taken]
    np.testing.assert_array_equal(words, ref_w)
    np.testing.assert_array_equal(values, ref_v)


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.Philox])
@pytest.mark.parametrize("batch", [1, 5, 300])
def test_nan_or_infinite_input_is_one_error_and_leaves_the_generator(bit_generator, batch):
    """The finite check runs in the DAC's pass: NaN or infinity anywhere gives the tile's
    one-line UserError, with the generator where it was (the next call draws the same
    noise as a tile that never saw the bad input)."""
    from codesign.errors import UserError
    from codesign.tile import AnalogTile
    spec = _spec(64, 48, 0.5)
    for bad, transpose in ((np.nan, False), (np.inf, True), (-np.inf, False)):
        a = AnalogTile(spec, np.random.Generator(bit_generator(1)))
        b = AnalogTile(spec, np.random.Generator(bit_generator(1)))
        x = np.random.default_rng(2).uniform(-1, 1, (batch, 48 if transpose else 64))
        x[-1, 3] = bad
        op = a.backward if transpose else a.forward
        with pytest.raises(UserError, match=r"^input: contains NaN or infinity; allowed"):
            op(x)
        np.testing.assert_equal(a.rng.bit_generator.state, b.rng.bit_generator.state)
        x[-1, 3] = 1e300                  # finite: accepted (clipped by the DAC)
        np.testing.assert_array_equal(op(x).codes,
                                      (b.backward if transpose else b.forward)(x).codes)
