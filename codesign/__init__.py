"""codesign: hardware co-design toolkit for analog in-memory PCM accelerators."""
import os as _os

# OpenBLAS' worker threads spin for 2^28 cycles (about 0.1 s) after every call, taking a
# core from the fast core's own threads and from other processes on a shared machine
# (issue 11); with this they sleep at once. OpenBLAS reads it when numpy loads, so it acts
# when codesign is imported before numpy (the CLI); an explicit setting wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"

#: The Python API (docs/api.md), imported on first use so that `import codesign` stays cheap.
_API = {
    "load_spec": "codesign.spec", "Spec": "codesign.spec",
    "AnalogTile": "codesign.tile",
    "load_network": "codesign.network", "map_network": "codesign.mapping",
    "estimate": "codesign.estimate", "load_components": "codesign.estimate",
    "price": "codesign.estimate",
}
__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        import importlib
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'codesign' has no attribute {name!r}")


def __dir__():
    return __all__
