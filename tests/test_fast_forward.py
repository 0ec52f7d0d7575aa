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
    before, min_ns = K.get_threads(), K.PARALLEL_NS
    K.set_threads(threads)
    K.PARALLEL_NS = 0
    try:
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
    finally:
        K.set_threads(before)
        K.PARALLEL_NS = min_ns


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
