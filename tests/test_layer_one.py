"""A layer's product of one vector in one compiled call (converters.mvm_layer_one,
kernels.layer_mvm_one, used by AnalogDense.forward/backward at batch 1): the same values
and the same generator draws as the per-tile path (scaling, converters.mvm per tile,
tiled_mvm), which these tests reach by switching the one-call path off."""
import numpy as np
import pytest

from codesign import converters as conv
from codesign import kernels as K
from codesign.errors import UserError
from codesign.nn.analog import AnalogDense
from codesign.spec import load_spec

BASE = load_spec("ambrogio2018")


def _layer(rng, noise=True, bias=True, rows=(0, 16, 30), cols=(0, 12, 20)):
    spec = BASE.with_overrides({"array.rows": 16, "array.cols": 12, "adc.count": 1,
                                "adc.noise": 0.7 if noise else 0.0})   # in LSB
    n_in = rows[-1] - int(bias)
    w0 = np.random.default_rng(0).uniform(-0.1, 0.1, (n_in + int(bias), cols[-1]))
    return AnalogDense(w0, spec, "2pcm3t1c", rng, rows, cols, bias=bias)


def _run(one_call: bool, monkeypatch, rng_factory, calls=None, **kw):
    """Forwards and backwards of single vectors (gain 1 and 2), an update between them;
    the outputs, the weights and the generator's next draw."""
    if not one_call:
        monkeypatch.setattr(conv, "mvm_layer_one", lambda *a, **k: None)
    elif calls is not None:
        real = K.layer_mvm_one

        def spy(*a):
            calls.append(len(a[2]))
            return real(*a)
        monkeypatch.setattr(K, "layer_mvm_one", spy)
    rng = rng_factory()
    layer = _layer(rng, **kw)
    data = np.random.default_rng(4)
    outs = []
    for step in range(6):
        layer.backward_gain = 2.0 if step % 2 else 1.0
        x = data.uniform(-1, 1, (1, layer.n_in)) * (3.0 if step == 4 else 1.0)
        d = data.uniform(-1, 1, (1, layer.n_out)) * 0.1
        outs.append(layer.forward(x))
        outs.append(layer.backward(d))
        layer.update(x, d, 0.1)
    outs.append(layer.weights())
    outs.append(rng.standard_normal(3))
    monkeypatch.undo()
    return outs, layer


@pytest.mark.parametrize("noise", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_one_call_equals_the_per_tile_path(monkeypatch, noise, bias):
    calls = []
    rows = (0, 16, 30) if bias else (0, 16, 29)
    one, layer = _run(True, monkeypatch, lambda: np.random.default_rng(1), calls,
                      noise=noise, bias=bias, rows=rows)
    per_tile, twin = _run(False, monkeypatch, lambda: np.random.default_rng(1),
                          noise=noise, bias=bias, rows=rows)
    assert calls == [4] * 12              # every forward and backward took one call
    for a, b in zip(one, per_tile):
        np.testing.assert_array_equal(a, b)
    assert layer.events == twin.events and layer.cycles == twin.cycles


def test_one_tile_and_threads(monkeypatch):
    """One tile (no sums), and two threads (the update's device work on the worker)."""
    with K.using_threads(2):
        one, _ = _run(True, monkeypatch, lambda: np.random.default_rng(2),
                      rows=(0, 16), cols=(0, 12))
        per_tile, _ = _run(False, monkeypatch, lambda: np.random.default_rng(2),
                           rows=(0, 16), cols=(0, 12))
    for a, b in zip(one, per_tile):
        np.testing.assert_array_equal(a, b)


def test_other_generators_take_the_per_tile_path(monkeypatch):
    """A generator other than PCG64 (no state view): the per-tile path, same numbers."""
    calls = []
    one, _ = _run(True, monkeypatch, lambda: np.random.Generator(np.random.Philox(1)),
                  calls)
    per_tile, _ = _run(False, monkeypatch, lambda: np.random.Generator(np.random.Philox(1)))
    assert calls == []
    for a, b in zip(one, per_tile):
        np.testing.assert_array_equal(a, b)


def test_bad_input_draws_nothing():
    rng = np.random.default_rng(3)
    layer = _layer(rng)
    state = rng.bit_generator.state
    x = np.zeros((1, layer.n_in))
    x[0, 5] = np.nan
    with pytest.raises(UserError, match="input: contains NaN or infinity"):
        layer.forward(x)
    d = np.full((1, layer.n_out), np.inf)
    with pytest.raises(UserError, match="input: contains NaN or infinity"):
        layer.backward(d)
    assert rng.bit_generator.state == state


def test_gemv_check_fails_a_wrong_product(monkeypatch):
    """_gemv_agrees compares with np.matmul bit for bit: a product that sums in
    another order (float64, rounded once) or reads the weights the other way fails it."""
    gemv = conv._find_gemv()
    assert gemv[0] and conv._gemv_agrees(*gemv)
    real = K.sgemv

    def other_order(fn, wide, x, w, transpose, y):
        y[:] = (x.astype(np.float64) @ (w.T if transpose else w).astype(np.float64))
    monkeypatch.setattr(K, "sgemv", other_order)
    assert not conv._gemv_agrees(*gemv)
    monkeypatch.setattr(K, "sgemv", lambda fn, wide, x, w, t, y: (
        real(fn, wide, x, w, t, y), y.__setitem__(-1, np.float32(0.0))))
    assert not conv._gemv_agrees(*gemv)


@pytest.mark.parametrize("batch", [1, 3])
def test_a_wrong_width_is_one_clear_error(batch):
    """The one-call path reads the input by the tiles' edges: a vector of another width
    is refused with one line (before, at batch 1, it gave outputs from the wrong
    elements), and nothing is drawn."""
    rng = np.random.default_rng(3)
    layer = _layer(rng)
    state = rng.bit_generator.state
    for wrong in (layer.n_in - 9, layer.n_in + 10):
        with pytest.raises(UserError, match=rf"input: shape \({batch}, {wrong}\) does not "
                                            rf"match; allowed: B x {layer.n_in}"):
            layer.forward(np.ones((batch, wrong)))
    for wrong in (layer.n_out - 7, layer.n_out + 5):
        with pytest.raises(UserError, match=rf"allowed: B x {layer.n_out}"):
            layer.backward(np.ones((batch, wrong)))
    assert rng.bit_generator.state == state
