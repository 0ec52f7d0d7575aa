"""codesign: hardware co-design toolkit for analog in-memory PCM accelerators."""
import os as _os

# OpenBLAS' worker threads spin for 2^28 cycles (about 0.1 s) after every call, taking a
# core from the fast core's own threads and from other processes on a shared machine
# (issue 11); with this they sleep at once. OpenBLAS reads it when numpy loads, so it acts
# when codesign is imported before numpy (the CLI); an explicit setting wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"
