"""Batch-1 training of a network whose tiles share their device work with the crew
(codesign.tile._Backlog): the same losses, weights, pulses and generator state at 1, 2
and 3 threads, whoever runs the work and when."""
import threading
import time

import numpy as np
import pytest

from codesign import kernels as K
from codesign import tile as tile_module
from codesign.nn.analog import AnalogDense
from codesign.nn.mlp import MLP
from codesign.spec import load_spec


@pytest.fixture(autouse=True)
def fresh_backlogs(monkeypatch):
    """Each test's threads start with backlogs of their own (tile._backlog): one left by
    earlier tests on this thread may still have a worker running or a timed window
    going alone (tile._Backlog._timed), and a test of a variant would then run another."""
    monkeypatch.setattr(tile_module, "_BACKLOGS", threading.local())


def _train(threads: int, steps: int = 12):
    """A 29-20-9 network on 16 x 12 tiles (4 tiles, then 2; one generator for all of
    them, as codesign.nn.build gives), trained one image at a time with leakage and a
    transfer on the way."""
    spec = load_spec("ambrogio2018").with_overrides(
        {"array.rows": 16, "array.cols": 12, "adc.count": 1, "capacitor.leak_updates": 40.0})
    rng = np.random.default_rng(1)
    init = np.random.default_rng(0)
    net = MLP([AnalogDense(init.uniform(-0.2, 0.2, (30, 20)), spec, "2pcm3t1c", rng,
                           (0, 16, 30), (0, 12, 20), range_factor=2.0),
               AnalogDense(init.uniform(-0.2, 0.2, (21, 9)), spec, "2pcm3t1c", rng,
                           (0, 16, 21), (0, 9), range_factor=2.0)], ["tanh"])
    data = np.random.default_rng(4)
    out = []
    with K.using_threads(threads):
        for step in range(steps):
            x = data.uniform(-1, 1, (1, 29))
            y = data.integers(0, 9, 1)
            out.append(np.array(net.train_step(x, y, 0.5)))
            if step == 7:
                for layer in net.layers:
                    layer.transfer()
        out += [layer.weights() for layer in net.layers]
        out += [np.array(layer.events["update"].update_pulses) for layer in net.layers]
        out.append(np.array(rng.random()))
        return out


@pytest.mark.parametrize("threads,helper", [(2, None), (3, None), (2, "idle"), (2, "done"),
                                            (2, "late"), (3, "late"), (2, "switching")])
def test_network_training_with_shared_device_work_equals_one_thread(threads, helper,
                                                                      monkeypatch):
    """The backlog drained by the crew (None), by nobody (every tile's work done by the
    network's thread when it needs the tile: "idle"), at once as it is offered
    ("done"), by a thread that starts late and runs beside the network ("late"), or
    with the way (worker or not, tile._Backlog._timed) changed every few updates
    ("switching")."""
    ref = _train(1)
    monkeypatch.setattr(tile_module, "SHARED_MIN_DEVICES", 0)
    if helper == "switching":
        monkeypatch.setattr(tile_module, "WINDOW_UPDATES", 2)
        monkeypatch.setattr(tile_module, "PROBE_WINDOWS", 2)   # every other window probes
        monkeypatch.setattr(tile_module, "PROBE_WINDOWS_MAX", 2)
        monkeypatch.setattr(tile_module, "WINDOW_GAP_S", 60.0)
        run = _train(threads)
        assert tile_module._backlog().windows >= 8             # both ways, four times
    elif helper is not None:
        class Helper:
            given = helper != "idle"     # whether a helper took it (kernels.Offered)

            def __init__(self, fn):
                if helper == "done":
                    fn()
                elif helper == "late":
                    threading.Thread(target=lambda: (time.sleep(2e-4), fn())).start()
        monkeypatch.setattr(K, "offer", Helper)
    if helper != "switching":
        run = _train(threads)
    assert len(ref) == len(run)
    for a, b in zip(ref, run):
        np.testing.assert_array_equal(a, b)


def test_two_threads_training_two_networks_at_once_equal_one_thread(monkeypatch):
    """Two threads of one process each training a network with threads: each gets its
    own backlog (tile._backlog: a mailbox takes posts from one thread), so both equal
    the one-thread run."""
    ref = _train(1, steps=20)
    monkeypatch.setattr(tile_module, "SHARED_MIN_DEVICES", 0)
    runs: dict = {}
    workers = [threading.Thread(target=lambda k=k: runs.__setitem__(k, _train(2, 20)))
               for k in range(2)]
    with K.using_threads(2):                     # _train in each thread sets the same
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
    assert sorted(runs) == [0, 1]
    for run in runs.values():
        for a, b in zip(ref, run):
            np.testing.assert_array_equal(a, b)


def test_the_caller_waits_for_a_block_the_worker_has_taken(monkeypatch):
    """A tile's next use (_Shared.result) runs the blocks left and then waits for a
    block another thread took and has not finished: here this test's thread takes
    block 0, holds it while the tile is used on another thread, then does it."""
    spec = load_spec("ambrogio2018").with_overrides(
        {"array.rows": 100, "array.cols": 100, "adc.count": 1,
         "capacitor.leak_updates": 40.0})
    data = np.random.default_rng(4)
    x, d = data.uniform(-1, 1, (1, 100)), data.uniform(-1, 1, (1, 100))
    monkeypatch.setattr(tile_module, "SHARED_MIN_DEVICES", 0)

    class Nobody:                                # no worker: the blocks wait for us
        given = False

        def __init__(self, fn):
            pass
    monkeypatch.setattr(K, "offer", Nobody)
    tiles = []
    with K.using_threads(K.get_threads()):      # the count as it was afterwards
        for threads in (1, 2):
            K.set_threads(threads)
            tile = tile_module.AnalogTile(spec, np.random.default_rng(2))
            tile._read_weights()
            tile.train_one(x, d, 0.4)
            tiles.append(tile)
        job = tiles[1]._job
        assert job.blocks >= 2
        assert K.take(job.taken, 0) == 0         # block 0 is ours
        used = threading.Thread(target=tiles[1]._read_weights)
        used.start()
        used.join(0.05)
        assert used.is_alive()                   # waiting for block 0
        args, g = job.args, job.args[0]
        starts = args[-2]                        # args: the work's, starts, taken
        K._respond_block(*args[:-2], 0, min(K.FUSED_CHUNK, g.size), starts[0], starts[1])
        K.take(job.taken, 1)
        used.join(10)
        assert not used.is_alive()
    np.testing.assert_array_equal(tiles[0]._read_weights(), tiles[1]._read_weights())
    np.testing.assert_array_equal(tiles[0].weights(), tiles[1].weights())
    assert tiles[0].rng.random() == tiles[1].rng.random()


def test_probes_back_off_while_the_choice_holds_and_return_when_it_changes(monkeypatch):
    """tile._Backlog._timed on a made-up clock: an update takes 1 unit with the worker and
    2 alone, then (from window 300) 1 alone and 2 with the worker. The probes (windows
    going the way not chosen) come after 8, 16, 32, 64, 64, ... windows while the worker
    wins; the first probe after the change turns the choice to going alone, and probes
    come after 8 windows again."""
    monkeypatch.setattr(tile_module, "WINDOW_UPDATES", 2)
    monkeypatch.setattr(tile_module, "WINDOW_GAP_S", 1e9)
    clock = [0.0]
    monkeypatch.setattr(tile_module.time, "perf_counter", lambda: clock[0])
    backlog = tile_module._Backlog()
    ways = []                           # the way each window went (True: alone)
    while backlog.windows < 500:
        before = backlog.windows
        alone = backlog.alone
        slow = alone if backlog.windows < 300 else not alone
        clock[0] += 2.0 if slow else 1.0
        backlog.share()
        if backlog.windows > before:
            ways.append(alone)
    first = [w for w, a in enumerate(ways[:300]) if a]
    assert first[:6] == [1, 9, 25, 57, 121, 185]
    after = ways[300:]
    turn = after.index(True)            # the first probe after the change
    assert turn < 64 and all(after[turn:turn + 8])
    probes = [w for w, a in enumerate(after[turn:]) if not a]
    assert probes[:4] == [8, 16, 32, 64]
