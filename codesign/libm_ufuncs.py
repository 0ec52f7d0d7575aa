"""The compiled ufuncs behind codesign.libm: the C library's exp, log, expm1, log1p and
pow over float64 arrays (numba calls the C library for math.*, as every kernel in
codesign.kernels does). Cached on disk; loading them takes about 0.75 s with numba's
import (python -X importtime, on the 2-core machine), paid once by a process that uses
codesign.libm (a software-only training run, say) and does not need codesign.kernels,
which would add about 0.5 s more."""
from __future__ import annotations

import math

import numba as nb


@nb.vectorize(["float64(float64)"], nopython=True, cache=True)
def libm_exp(x):
    return math.exp(x)


@nb.vectorize(["float64(float64)"], nopython=True, cache=True)
def libm_log(x):
    return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


@nb.vectorize(["float64(float64)"], nopython=True, cache=True)
def libm_expm1(x):
    return math.expm1(x)


@nb.vectorize(["float64(float64)"], nopython=True, cache=True)
def libm_log1p(x):
    return math.log1p(x) if x > -1.0 else (-math.inf if x == -1.0 else math.nan)


@nb.vectorize(["float64(float64, float64)"], nopython=True, cache=True)
def libm_pow(x, y):
    return math.pow(x, y)
