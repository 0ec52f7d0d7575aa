"""AnalogTile.update at batch 1 with threads on a 2PCM+3T1C tile of at least
SHARED_MIN_DEVICES devices (codesign.tile.AnalogTile._update_shared): the device
response, leakage and read-out shared block by block with the crew's respond worker.
The same cycles, codes, conductances, weights and generator state as one thread,
whoever runs the blocks and when."""
import threading
import time

import numpy as np
import pytest

from codesign import kernels as K
from codesign import tile as tile_module
from codesign.spec import load_spec


@pytest.fixture(autouse=True)
def fresh_backlogs(monkeypatch):
    """Backlogs of this test's own (as tests/test_training_threads.py)."""
    monkeypatch.setattr(tile_module, "_BACKLOGS", threading.local())


def _updates(threads: int, steps: int = 14) -> tuple[list, list]:
    """A 96 x 96 tile (9,216 devices) with leakage: updates with and without a forward
    between them (read-out or leakage alone), both signs of lr, a pending leak period,
    a transfer (the polarity flips: up and down pulses swap) on the way. Returns the
    outputs and the kinds of job the updates left in flight."""
    spec = load_spec("ambrogio2018").with_overrides(
        {"array.rows": 96, "array.cols": 96, "adc.count": 1,
         "capacitor.leak_updates": 40.0})
    rng = np.random.default_rng(3)
    tile = tile_module.AnalogTile(spec, rng)
    tile.program(np.random.default_rng(0).uniform(-0.3, 0.3, tile.shape))
    data = np.random.default_rng(5)
    out, jobs = [], []
    with K.using_threads(threads):
        for step in range(steps):
            x, d = data.uniform(-1, 1, (1, 96)), data.uniform(-1, 1, (1, 96)) * 0.5
            res = tile.update(x, d, 0.05 if step % 3 else -0.05)
            jobs.append(type(tile._job).__name__)
            out += [np.array(res.cycles), res.codes["x_mag"], res.codes["d_mag"],
                    res.codes["row_fire"], res.codes["col_fire"]]
            if step % 2:
                out.append(tile.forward(x).values)
            if step == 4:
                tile.cells.tick(2)           # leakage pending at the next update
            if step == 8:
                tile.transfer()
        out += [tile.cells.cap.g, tile.weights(), np.array(rng.random())]
    assert tile.cells.polarity == (-1 if steps > 8 else 1)   # the transfer flips it
    return out, jobs


@pytest.mark.parametrize("threads,helper", [(2, None), (3, None), (2, "idle"),
                                            (2, "late"), (2, "alone")])
def test_update_at_batch1_shared_with_the_worker_equals_one_thread(threads, helper,
                                                                   monkeypatch):
    """Blocks run by the worker (None), by nobody but the caller when it syncs ("idle"),
    by a worker that starts late beside the caller ("late"), or the caller doing the
    update in one call (the timed choice says alone)."""
    ref, _ = _updates(1)
    if helper == "alone":
        monkeypatch.setattr(tile_module._Backlog, "share", lambda self: False)
    elif helper is not None:
        class Helper:
            given = helper != "idle"     # whether a helper took it (kernels.Offered)

            def __init__(self, fn):
                if helper == "late":
                    threading.Thread(target=lambda: (time.sleep(2e-4), fn())).start()
        monkeypatch.setattr(K, "offer", Helper)
    run, jobs = _updates(threads)
    if helper == "alone":
        assert set(jobs) == {"NoneType"}
    else:
        assert set(jobs) == {"_Shared"}          # the shared path, every update
    assert len(ref) == len(run)
    for a, b in zip(ref, run):
        np.testing.assert_array_equal(a, b)


def test_small_tiles_keep_the_pipelined_update(monkeypatch):
    """Below SHARED_MIN_DEVICES the whole device pass goes to one helper
    (_update_pipelined), with the same numbers."""
    ref, _ = _updates(1, steps=6)
    monkeypatch.setattr(tile_module, "SHARED_MIN_DEVICES", 96 * 96 + 1)
    run, jobs = _updates(2, steps=6)
    assert "_Once" in jobs and "_Shared" not in jobs   # (pending leakage: in one call)
    for a, b in zip(ref, run):
        np.testing.assert_array_equal(a, b)
