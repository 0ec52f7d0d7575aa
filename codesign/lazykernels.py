"""codesign.kernels on first use: numba loads when the fast core first runs, not when a
module that may call it is imported (``import codesign.tile`` stays light). After the
first call this is a global lookup; an import statement inside a function costs
microseconds per call, which adds up in a training step (hundreds of calls per image)."""
from __future__ import annotations

_KERNELS = None


def kernels_():
    """The codesign.kernels module."""
    global _KERNELS
    if _KERNELS is None:
        from . import kernels
        _KERNELS = kernels
    return _KERNELS


_MINIBATCH = None


def minibatch_kernels_():
    """The codesign.kernels_minibatch module (the threaded mini-batch update's kernels)."""
    global _MINIBATCH
    if _MINIBATCH is None:
        from . import kernels_minibatch
        _MINIBATCH = kernels_minibatch
    return _MINIBATCH
