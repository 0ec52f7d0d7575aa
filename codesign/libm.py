"""exp, log, expm1, log1p and power of float64 values with the C library's results on
every machine, for the model's device and network arithmetic.

Why: numpy 2.x computes these float64 functions with its own AVX-512 code on CPUs that
have it (numpy.lib.introspect.opt_func_info shows X86_V4) and with the C library's on
others, and the two differ in the last bit for some inputs (on the 2-core AVX-512
machine, 200,000 uniform inputs: exp 4.6 %, expm1 8.5 %, log1p 4.7 %, power 5.5 %, log
0.03 % of the values). So the same seed gave conductances that differ in the last bits
between machines, and between numpy's and the compiled kernels' paths on one machine
(codesign.kernels call the C library). These call compiled ufuncs
(codesign.libm_ufuncs) that call the C library, as the kernels do, for float64 inputs;
float32 exp, log and tanh, sqrt, float64 tanh and the trigonometric functions give the
same bits on both numpy paths (checked the same way) and stay numpy's, as do float32
inputs here. Cost: 12-21 ns per value against numpy's AVX-512 6-7 ns (262,144 values;
pow is the slowest) plus about 1.6 us per call. Most uses run once per tile, per
transfer or on 10 logits; PCM-pair cells called power twice per update on their pulsed
devices (set_curve), which took 12 % of a PCM-pair training run's profile on the AVX-512
machine (1,500 images, one thread), and such training ran about 10 % slower there
(median 454 against 514 images/s over four alternating pairs); a tile's PCM update now
runs compiled (kernels.pcm_set_pulses, the C library's pow as here; 795-823 against
668-696 images/s, EPYC, 2026-12-01). On machines without AVX-512 numpy's float64 pow is
the C library's already.
"""
from __future__ import annotations

import numpy as np

_UFUNCS = None


def _ufuncs():
    """codesign.libm_ufuncs, loaded on first use (numba's import is not free)."""
    global _UFUNCS
    if _UFUNCS is None:
        from . import libm_ufuncs
        _UFUNCS = libm_ufuncs
    return _UFUNCS


def _c_library(a: np.ndarray) -> bool:
    """float64 (and integers and bools, which numpy computes in float64) go to the C
    library; float32 and other floats keep numpy's (the same on both paths)."""
    return a.dtype == np.float64 or a.dtype.kind in "biu"


def _one(numpy_fn, name: str):
    def fn(x):
        a = np.asarray(x)
        if _c_library(a):
            return getattr(_ufuncs(), name)(a.astype(np.float64, copy=False))
        return numpy_fn(a)
    fn.__name__ = numpy_fn.__name__
    fn.__doc__ = f"numpy.{numpy_fn.__name__} with the C library's float64 results."
    return fn


exp = _one(np.exp, "libm_exp")
log = _one(np.log, "libm_log")
expm1 = _one(np.expm1, "libm_expm1")
log1p = _one(np.log1p, "libm_log1p")


def power(x, y):
    """numpy.power with the C library's float64 results (float64 when numpy would give
    float64)."""
    a, b = np.asarray(x), np.asarray(y)
    if np.result_type(a, b) == np.float64:
        return _ufuncs().libm_pow(a.astype(np.float64, copy=False),
                                   b.astype(np.float64, copy=False))
    return np.power(a, b)
