"""Memory guards: a job whose tiles cannot fit in this machine's memory is refused with
its estimate, in one line, before anything large is allocated (instead of swapping the
machine to a halt or being killed by the kernel minutes later).

The estimate is measured, not assumed: the peak of Python-tracked allocations
(tracemalloc; numpy arrays are tracked) while a small tile of the same spec is built and
runs one forward, backward and update, at batch 1 and at a larger batch. That gives the
bytes per cell (device state, read-out cache, pulse counts, temporaries) and per batch
line (drive, outputs, noise per example and line), which scale linearly with
rows x cols and with batch x (rows + cols). Measured on ambrogio2018 cells: about 200 B per
cell and 12 B per batch line. Jobs whose size bound is far below the available memory
skip the measurement.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from .errors import UserError

#: Refuse jobs needing more than this fraction of the memory available right now.
FRACTION = 0.8
#: Sizes up to this many cells and batch lines are never measured (far below any machine
#: codesign runs on: at 1 kB per cell and per line, 64 MiB).
SMALL_CELLS = 1 << 16
SMALL_LINES = 1 << 16
#: The small tile and batches of the measurement.
PROBE_SIZE, PROBE_BATCH = 64, 64


def available_bytes() -> int:
    """Memory the system can give a new job without swapping (psutil's 'available')."""
    import psutil
    return int(psutil.virtual_memory().available)


def human(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1024:.0f} KiB"


@dataclass(frozen=True)
class TileCost:
    """Bytes of a tile job: per cell (rows x cols) and per batch line (batch x (rows+cols))."""
    per_cell: float
    per_line: float

    def bytes(self, shapes: list[tuple[int, int]], batch: int) -> float:
        return sum(self.per_cell * r * c + self.per_line * batch * (r + c)
                   for r, c in shapes)


def _peak(spec, rows: int, cols: int, batch: int, trace: bool = True) -> int:
    """Peak traced bytes of building a rows x cols tile and running one forward, backward
    and update of `batch` examples (trace=False: just run them, e.g. to compile)."""
    import tracemalloc

    import numpy as np

    from .tile import AnalogTile
    spec = spec.with_overrides({"array.rows": rows, "array.cols": cols, "adc.count": cols},
                               source="memory probe")
    rng = np.random.default_rng(0)
    if trace:
        tracemalloc.start()
    try:
        tile = AnalogTile(spec, rng)
        x, d = rng.uniform(-1, 1, (batch, rows)), rng.uniform(-1, 1, (batch, cols))
        tile.forward(x)
        tile.backward(d)
        tile.update(x, d, 0.01)
        return tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        if trace:
            tracemalloc.stop()


@functools.lru_cache(maxsize=16)
def _measure(spec_json: str) -> TileCost:
    from .spec import spec_from_dict
    spec = spec_from_dict(json.loads(spec_json), "memory probe")
    # untraced first: the first calls compile the numba kernels (slow under tracemalloc,
    # and the compiler's memory is not the job's)
    _peak(spec, 8, 8, 1, trace=False)
    _peak(spec, 8, 8, 4, trace=False)
    n = PROBE_SIZE
    one = _peak(spec, n, n, 1)
    many = _peak(spec, n, n, PROBE_BATCH)
    per_line = max(0.0, (many - one) / ((PROBE_BATCH - 1) * 2 * n))
    return TileCost(per_cell=one / (n * n), per_line=per_line)


def tile_cost(spec) -> TileCost:
    """Measured bytes per cell and per batch line for tiles of `spec`'s cell kind and
    converters (cached per spec)."""
    return _measure(json.dumps(spec.to_dict(), sort_keys=True, default=str))


def check_tiles(what: str, spec, shapes: list[tuple[int, int]], batch: int = 1,
                available: int | None = None) -> None:
    """Raise a one-line UserError when tiles of these (rows, cols) shapes running batches
    of `batch` need more than FRACTION of the available memory. `what` names the job."""
    cells = sum(r * c for r, c in shapes)
    lines = sum(batch * (r + c) for r, c in shapes)
    if cells <= SMALL_CELLS and lines <= SMALL_LINES:
        return
    avail = available_bytes() if available is None else available
    need = tile_cost(spec).bytes(shapes, batch)
    if need > FRACTION * avail:
        size = (f"{shapes[0][0]:,} x {shapes[0][1]:,}" if len(shapes) == 1 else
                f"{len(shapes):,} tiles, {cells:,} cells")
        raise UserError(f"{what}: {size}, batch {batch:,} needs about {human(need)} of "
                        f"memory, {human(avail)} available; allowed: a size that fits in "
                        f"{FRACTION:.0%} of it")
