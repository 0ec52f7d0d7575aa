"""Memory guards: sizes that cannot fit are refused with the estimated memory, one line,
exit 2, before anything large is allocated; the estimate follows the real peak."""
from __future__ import annotations

import pytest

from codesign import memory
from codesign.cli import main
from codesign.errors import UserError
from codesign.spec import load_spec

SPEC = load_spec("ambrogio2018")


def test_estimate_follows_the_measured_peak_of_a_larger_tile():
    cost = memory.tile_cost(SPEC)
    assert 20 < cost.per_cell < 5000 and cost.per_line >= 0
    rows, cols, batch = 256, 192, 48
    # untraced first, as the probe does: a kernel this shape needs that this process has
    # not loaded yet would be compiled (or read from numba's cache) under tracemalloc,
    # whose peak then counts the compiler's objects (seen once in a whole-suite run on a
    # fresh cache: 29.8 MB against 10.2 predicted; the job itself measures about 10)
    memory._peak(SPEC, rows, cols, batch, trace=False)
    real = memory._peak(SPEC, rows, cols, batch)
    predicted = cost.bytes([(rows, cols)], batch)
    assert 0.6 < predicted / real < 1.6, (predicted, real)


def test_too_big_is_one_line_with_the_estimate():
    with pytest.raises(UserError) as err:
        memory.check_tiles("train", SPEC, [(4096, 4096)] * 3, batch=64,
                           available=512 << 20)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("train: 3 tiles, 50,331,648 cells, batch 64 needs about ")
    assert "GiB of memory, 512.0 MiB available" in text
    memory.check_tiles("train", SPEC, [(4096, 4096)], available=1 << 40)   # fits
    memory.check_tiles("sim", SPEC, [(64, 64)], available=1)    # small: not even measured


def test_cli_refuses_a_huge_batch_before_allocating(capsys):
    assert main(["bench", "core", "--size", "1024", "--batch", "2000000000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bench core: 1,024 x 1,024, batch 2,000,000,000 needs about " \
        in err[0] and "available" in err[0], err
