"""Checked number types for command-line options (argparse ``type=``).

argparse reports the message of an ArgumentTypeError as "error: argument --x: MESSAGE"
and exits 2, so a bad count, seed or rate never reaches the code that would divide by
it, allocate a negative array or loop forever. Used by the CLI and the benchmarks'
``add_arguments``; kept out of codesign.cli so library modules may use it too.
"""
from __future__ import annotations

import argparse
import math

# numpy.random.default_rng takes any integer >= 0; SQLite, JSON readers in other
# languages and the RTL benches keep a seed in a signed 64-bit integer.
MAX_SEED = 2 ** 63 - 1


def _int(text: str, lo: int, hi: int | None, allowed: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"value {text!r}; allowed: {allowed}") from None
    if value < lo or (hi is not None and value > hi):
        raise argparse.ArgumentTypeError(f"value {text!r}; allowed: {allowed}")
    return value


def positive_int(text: str) -> int:
    return _int(text, 1, None, "an integer >= 1")


def nonneg_int(text: str) -> int:
    return _int(text, 0, None, "an integer >= 0")


def seed(text: str) -> int:
    return _int(text, 0, MAX_SEED, f"an integer from 0 to {MAX_SEED}")


def int_range(lo: int, hi: int):
    """An integer type with bounds lo..hi."""
    def check(text: str) -> int:
        return _int(text, lo, hi, f"an integer from {lo} to {hi:,}")
    return check


def _float(text: str, ok, allowed: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not ok(value):
        raise argparse.ArgumentTypeError(f"value {text!r}; allowed: {allowed}")
    return value


def positive_float(text: str) -> float:
    return _float(text, lambda v: v > 0, "a finite number > 0")


def nonneg_float(text: str) -> float:
    return _float(text, lambda v: v >= 0, "a finite number >= 0")
