"""Test-session settings that must precede numpy's import.

numpy dispatches exp, log and friends to AVX-512 code on CPUs that have it (X86_V4); those
results differ from its AVX2 path and from libm (which the compiled kernels call) in the
last bit. The saved bit-exact references (tests/core_reference.py) and the kernel-versus-
numpy equality tests were made on the AVX2 path, so on an AVX-512 machine 19 of them
failed (measured 2026-12-01, numpy 2.4.6 and 2.5.5, numba 0.67 and 0.68, also on the code
before that day's changes). pytest imports this file before any test module imports numpy
(checked with and without xdist: tests/test_fast_core.py's 115 pass); a variable already
set is left alone. On a machine without AVX-512 it changes nothing.
"""
import os

os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4")
