"""The mini-batch update shared by the threads (codesign.kernels_minibatch, issue 11):
the same numbers as one thread whoever counts, draws or responds a block, and the
comparison that says so fails when a block's normals are drawn out of order, a block is
responded twice or not at all."""
import threading

import numpy as np
import pytest

from codesign import kernels as K
from codesign import kernels_minibatch as KM
from codesign import pulses as P
from codesign.devices.capacitor import CapacitorArray
from codesign.spec import load_spec
from codesign.tile import AnalogTile

SPEC = load_spec("ambrogio2018").with_overrides(
    {"array.rows": 150, "array.cols": 48, "adc.count": 1, "array.cell": "2pcm3t1c",
     "capacitor.leak_updates": 40.0})
RUNS = ((0.001, False), (0.4, False), (0.003, True), (-0.002, True))


def _train(threads: int, polarity: float = 1.0, bit_generator=np.random.PCG64):
    """Four mini-batch updates (the last two with counts growing along the rows, so
    that only devices of the last blocks take the closed form's exact branch, and more
    leak periods pending): weights, capacitor g, cycles of each update and the
    generator's next number."""
    data = np.random.default_rng(2)
    tile = AnalogTile(SPEC, np.random.Generator(bit_generator(3)), update_mode="minibatch")
    tile.program(data.uniform(-0.5, 0.5, tile.shape))
    tile.cells.polarity = polarity
    cycles = []
    with K.using_threads(threads, 0 if threads > 1 else None):
        for lr, ramp in RUNS:
            x = data.uniform(-1, 1, (48, tile.shape[0]))
            d = data.uniform(-1, 1, (48, tile.shape[1]))
            if ramp:
                x *= (np.arange(tile.shape[0]) / (tile.shape[0] - 1.0)) ** 3
                tile.cells.tick(2)      # with the update's own: three leak periods pending
                tile.cells.tick(3)
            cycles.append(tile.update(x, d, lr).cycles)
        return tile.weights(), tile.cells.cap.g.copy(), cycles, tile.rng.random()


def _same(a, b) -> bool:
    return np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and \
        a[2] == b[2] and a[3] == b[3]


@pytest.fixture
def dense(monkeypatch):
    """The row-block count (the path the shared update serves), and a count of the
    shared count's calls."""
    monkeypatch.setattr(P, "FIRES_MAX_WORDS", 0)
    calls = {"count": 0}
    count = KM.count_phase

    def spy(*args):
        calls["count"] += 1
        count(*args)
    monkeypatch.setattr(KM, "count_phase", spy)
    return calls


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("polarity", [1.0, -1.0])
@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.Philox])
def test_shared_update_gives_one_threads_numbers(threads, polarity, bit_generator, dense):
    """PCG64: the normals drawn in the kernels, block by block; Philox: by numpy after
    the count. Weights, conductances, cycles and the generator's state as one thread's."""
    one = _train(1, polarity, bit_generator)
    assert dense["count"] == 0
    many = _train(threads, polarity, bit_generator)
    assert dense["count"] >= len(RUNS)
    assert _same(one, many)


def _once(fn):
    """fn run by the first caller only (the workers call the phase's kernel at once)."""
    lock, done = threading.Lock(), []

    def run(*args) -> None:
        with lock:
            if not done:
                done.append(True)
                fn(*args)
    return run


def _swap_first_normals(ctl, nblk, base, g, idx, up, down, z, *rest):
    n = min(nblk[0], nblk[1])
    a, b = z[base[0]:base[0] + n].copy(), z[base[1]:base[1] + n].copy()
    z[base[0]:base[0] + n], z[base[1]:base[1] + n] = b, a


def _skip_block(ctl, nblk, *rest):
    nblk[1] = 0


def _respond_again(ctl, nblk, *rest):
    KM.respond_phase.__wrapped__(np.zeros_like(ctl), nblk[:1].copy(), *rest)


@pytest.mark.parametrize("bug", [None, "normals out of order", "block skipped",
                                 "block responded twice"])
def test_the_comparison_fails_on_an_injected_bug(bug, dense, monkeypatch):
    """The threads' result against one thread's, with a bug injected into the shared
    update (before or after the response phase): equal only without it."""
    respond = KM.respond_phase
    before = _once(_swap_first_normals if bug == "normals out of order" else
                   _skip_block if bug == "block skipped" else lambda *a: None)
    after = _once(_respond_again if bug == "block responded twice" else lambda *a: None)

    def injected(*args):
        before(*args)
        respond(*args)
        after(*args)
    injected.__wrapped__ = respond
    monkeypatch.setattr(KM, "respond_phase", injected)
    one = _train(1)
    many = _train(2)
    assert _same(one, many) == (bug is None)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.Philox])
@pytest.mark.parametrize("scale", [1, 400])
def test_chunked_response_of_known_counts_equals_one_call(threads, bit_generator, scale,
                                                          monkeypatch):
    """CapacitorArray.pulses of sparse counts on threads (kernels_minibatch.draw_respond,
    chunks of 37 devices: the chain of normals extended by whichever thread needs it)
    equals the one-thread call; scale 400: counts large enough for the exact branch."""
    monkeypatch.setattr(K, "DEVICE_CHUNK", 37)
    shape = (40, 30)
    rng = np.random.default_rng(7)
    idx = np.sort(rng.choice(shape[0] * shape[1], 700, replace=False)).astype(np.int64)
    up = (rng.integers(0, 3, idx.size) * scale).astype(np.int32)
    down = (rng.integers(0, 3, idx.size) * scale).astype(np.int32)
    n_up, n_down = P.PulseCounts(shape, idx, up), P.PulseCounts(shape, idx, down)

    def run(n_threads):
        cap = CapacitorArray(SPEC.capacitor, shape, np.random.default_rng(1), 5e-6)
        gen = np.random.Generator(bit_generator(9))
        with K.using_threads(n_threads, 0 if n_threads > 1 else None):
            cap.pulses(n_up, n_down, gen)
            cap.pulses(n_down, n_up, gen)
        return cap.g.copy(), gen.random()
    one, many = run(1), run(threads)
    np.testing.assert_array_equal(one[0], many[0])
    assert one[1] == many[1]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("bl,examples,cols", [(31, (0, 70), 90), (100, (5, 99), 90),
                                              (1, (2, 40), 90), (64, (0, 40), 128)])
def test_column_words_equal_the_trains_turned_around(threads, bl, examples, cols):
    """pulses.column_words (chunks of EXAMPLE_BLOCK examples, over threads): bit i of
    word [(b - b0) BL + t, g, s] says whether column 64 g + i fires in slot t of example
    b with sign s, as the packed trains say (unpacked here one bit at a time); BL 100:
    two words per train; 90 columns: a partial group."""
    rng = np.random.default_rng(5)
    nw = -(-bl // 64)
    words = rng.integers(0, 2 ** 63, (cols, 100, nw), dtype=np.int64).view(np.uint64)
    words &= rng.integers(0, 2 ** 63, words.shape, dtype=np.int64).view(np.uint64)
    words[:, :, nw - 1] &= np.uint64(2 ** (bl - 64 * (nw - 1)) - 1) if bl % 64 else \
        np.uint64(2 ** 64 - 1)
    neg = rng.integers(0, 2, (cols, 100)).astype(np.uint8)
    b0, b1 = examples
    want = np.zeros(((b1 - b0) * bl, -(-cols // 64), 2), dtype=np.uint64)
    fires = np.unpackbits(words.view(np.uint8), axis=2, bitorder="little")[:, :, :bl]
    for c, b, t in zip(*np.nonzero(fires[:, b0:b1])):
        want[b * bl + t, c // 64, neg[c, b + b0]] |= np.uint64(1) << np.uint64(c % 64)
    assert want.any()
    with K.using_threads(threads, 0):
        got = P.column_words(K, words, neg, b0, b1, bl)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("polarity", [1.0, -1.0])
@pytest.mark.parametrize("bl,batch", [(31, 64), (1, 16)])
def test_minibatch_response_block_by_block_equals_one_thread(threads, polarity, bl, batch,
                                                             dense):
    """The dense mini-batch count and device response shared by the threads
    (codesign.devices.capacitor.PulseStream, codesign.kernels_minibatch) gives one
    thread's weights and generator state: with the closed form's series, with its
    exact branch in every block, and with the exact branch only in the last blocks
    (rows scaled up by row); BL 1, batch 16: the series throughout."""
    spec = load_spec("ambrogio2018").with_overrides(
        {"array.rows": 100, "array.cols": 40, "adc.count": 1, "array.cell": "2pcm3t1c",
         "capacitor.leak_updates": 30.0, "update.bl": bl})

    def train(n_threads):
        data = np.random.default_rng(2)
        tile = AnalogTile(spec, np.random.default_rng(3), update_mode="minibatch")
        tile.program(data.uniform(-0.5, 0.5, tile.shape))
        tile.cells.polarity = polarity
        with K.using_threads(n_threads, 0 if n_threads > 1 else None):
            for lr, ramp in RUNS:
                x = data.uniform(-1, 1, (batch, 100))
                d = data.uniform(-1, 1, (batch, 40))
                if ramp:        # the first blocks' counts small, the last ones' large
                    x *= (np.arange(100) / 99.0) ** 3
                tile.update(x, d, lr)
            return tile.weights(), tile.rng.random()
    one = train(1)
    assert dense["count"] == 0
    many = train(threads)
    assert 4 <= dense["count"] <= 4 * threads     # every update, one call per worker
    np.testing.assert_array_equal(one[0], many[0])
    assert one[1] == many[1]
