"""numba's on-disk cache, kept honest across modules.

numba checks a cached function against its own source file only (its stamp: mtime and
size; numba docs, "Cache invalidation"). A compiled function that calls functions of
another module carries their compiled code, so after that other file changes its
cached copy still runs the old code: after an edit of codesign/kernels.py, the cached
kernels of codesign/kernels_minibatch.py kept the old device response and the threaded
mini-batch update gave other numbers than one thread (seen 2026-12-01). A module whose
kernels call another module's, or read another module's constants (numba freezes a
global's value into the compiled code), calls :func:`flush_on_change` at its end: the
caches of its kernels are emptied whenever the files they depend on differ from what
was recorded beside the cache, so numba compiles them again."""
from __future__ import annotations

import hashlib
import os


def _digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def flush_on_change(namespace: dict, deps: list[str]) -> None:
    """Empty the on-disk caches of the cached numba kernels defined in ``namespace``
    (a module's globals()) if the files ``deps`` changed since they were recorded (a
    ``<module>.deps`` file in the cache folder, written after the flush). Where the
    cache folder cannot be written, numba does not cache either: nothing to do."""
    module = namespace["__name__"]
    kernels = [v for v in namespace.values()
               if getattr(v, "__module__", None) == module and
               getattr(getattr(v, "_cache", None), "cache_path", None) is not None]
    if not kernels:         # no on-disk cache (NUMBA_DISABLE_JIT, cache=False)
        return
    stamp = os.path.join(kernels[0]._cache.cache_path, module.rsplit(".", 1)[-1] + ".deps")
    digest = _digest(deps)
    try:
        with open(stamp) as f:
            if f.read() == digest:
                return
    except OSError:
        pass
    for k in kernels:
        k._cache.flush()
    try:
        tmp = f"{stamp}.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(digest)
        os.replace(tmp, stamp)      # atomic: a concurrent reader sees old or new
    except OSError:
        pass
