"""Software baseline and analog layers: learning, splitting across tiles, transfer,
determinism, saved weights and inference with drift. Small sizes (sklearn digits)."""
import numpy as np
import pytest

from codesign.errors import UserError
from codesign.nn.analog import AnalogDense, tiled_mvm
from codesign.nn.build import build_mlp, mlp_layout, resolve_network, streams
from codesign.nn.infer import drift_accuracy, parse_times
from codesign.nn.mlp import MLP, SoftwareDense, init_weights
from codesign.nn.store import load_weights, save_weights
from codesign.nn.train import TrainConfig, train
from codesign.spec import load_spec
from codesign.tile import AnalogTile

SPEC = load_spec("ambrogio2018")


def test_software_baseline_learns_digits():
    r = train(TrainConfig(net="64-32-10", dataset="digits", cell="software", epochs=3,
                          lr=0.05, hidden="tanh"), progress=False)
    assert r.test_accuracy[-1] > 0.9
    assert r.loss[-1] < r.loss[0]


def test_software_minibatch_matches_mean_gradient():
    rng = np.random.default_rng(0)
    w0 = init_weights(5, 3, rng)
    a, b = SoftwareDense(w0), SoftwareDense(w0)
    x, d = rng.random((4, 5)), rng.standard_normal((4, 3))
    a.update(x, d, 0.1)
    for i in range(4):          # four batch-1 steps of lr/4 on the unchanged gradient
        b.w[:-1] -= 0.1 / 4 * np.outer(x[i], d[i])
        b.w[-1] -= 0.1 / 4 * d[i]
    assert np.allclose(a.weights(), b.weights())


def test_gradient_matches_finite_differences():
    """The MLP's backward pass is the gradient of the cross-entropy (tanh and sigmoid)."""
    rng = np.random.default_rng(3)
    layers = [SoftwareDense(init_weights(4, 5, rng)), SoftwareDense(init_weights(5, 3, rng))]
    for hidden in ("tanh", "sigmoid"):
        net = MLP(layers, [hidden])
        x, y = rng.random((1, 4)), np.array([2])
        w = layers[0].w

        def loss():
            z = net.forward(x)[-1]
            return float(np.log(np.exp(z).sum()) - z[0, y[0]])
        eps, (i, j) = 1e-6, (1, 3)
        w[i, j] += eps
        up = loss()
        w[i, j] -= 2 * eps
        down = loss()
        w[i, j] += eps
        before = w[i, j]
        net.train_step(x, y, 1.0)
        assert np.isclose(before - w[i, j], (up - down) / (2 * eps), rtol=1e-4)


def test_analog_ideal_starts_from_software_init_and_learns():
    net = resolve_network("64-16-10")
    sw = build_mlp(net, SPEC, "software", streams(5))
    an = build_mlp(net, SPEC, "ideal", streams(5), range_factor=8)
    for s, a in zip(sw.layers, an.layers):
        assert np.allclose(s.weights(), a.weights())
    r = train(TrainConfig(net="64-16-10", dataset="digits", cell="ideal", epochs=1, lr=0.05,
                          hidden="tanh", range_factor=8, limit=700), progress=False)
    assert r.test_accuracy[-1] > 0.8


def test_2pcm3t1c_learns_digits_with_transfers():
    r = train(TrainConfig(net="64-16-10", dataset="digits", cell="2pcm3t1c", epochs=1,
                          lr=0.05, hidden="tanh", range_factor=8, transfer_interval=200,
                          limit=700), progress=False)
    assert r.test_accuracy[-1] > 0.75
    ev = r.events_by_op()
    assert ev["transfer"].verify_reads > 0 and ev["update"].update_pulses > 0
    assert r.summary()["events"]["adc_conversions"] > 0


def test_layer_split_across_tiles_equals_one_tile():
    """Row blocks add partial sums, column blocks concatenate (forward and backward)."""
    small = SPEC.with_overrides({"array.rows": 8, "array.cols": 4, "adc.count": 4})
    rng = np.random.default_rng(1)
    w0 = init_weights(20, 10, rng)          # 21 x 10 matrix: 3 row blocks x 3 col blocks
    split = AnalogDense(w0, small, "ideal", np.random.default_rng(2), (0, 8, 16, 21),
                        (0, 4, 8, 10), range_factor=4)
    whole = AnalogDense(w0, SPEC, "ideal", np.random.default_rng(2), (0, 21), (0, 10),
                        range_factor=4)
    assert len(split.tiles) == 3 and len(split.tiles[0]) == 3
    assert np.allclose(split.weights(), whole.weights())
    x = rng.random((6, 20))
    lsb = 2 * SPEC.adc.full_scale / 2 ** SPEC.adc.bits * split.alpha
    assert np.allclose(split.forward(x), whole.forward(x), atol=3 * lsb)
    d = rng.standard_normal((6, 10))
    assert np.allclose(split.backward(d), whole.backward(d),
                       atol=3 * lsb * np.abs(d).max())
    one_tile = AnalogTile(small, np.random.default_rng(0)).forward(x[:, :8]).events
    assert split.events["forward"].adc_conversions == 9 * one_tile.adc_conversions


def test_tiled_mvm_is_block_matrix_product():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 5))
    x = rng.standard_normal((3, 7))
    rows, cols = (0, 3, 7), (0, 2, 5)

    def block(i, j, xs):
        return xs @ w[rows[i]:rows[i + 1], cols[j]:cols[j + 1]]
    assert np.allclose(tiled_mvm(x, rows, cols, 5, block), x @ w)
    d = rng.standard_normal((3, 5))

    def back(i, j, ds):
        return ds @ w[rows[i]:rows[i + 1], cols[j]:cols[j + 1]].T
    assert np.allclose(tiled_mvm(d, rows, cols, 7, back, transpose=True), d @ w.T)


def test_transfer_happens_at_interval_boundaries():
    rng = np.random.default_rng(0)
    layer = AnalogDense(init_weights(6, 4, rng), SPEC, "2pcm3t1c", rng, (0, 7), (0, 4),
                        transfer_interval=10)
    for n in (4, 4):
        layer.end_of_images(n)
    assert layer.cycles["transfer"] == 0
    layer.end_of_images(4)                       # 12 images: crossed 10
    first = layer.cycles["transfer"]
    assert first > 0
    layer.end_of_images(25)                      # 37: crossed 20 and 30 -> one transfer
    assert layer.cycles["transfer"] > first
    before = layer.tiles[0][0].cells.polarity
    layer.transfer()
    assert layer.tiles[0][0].cells.polarity == -before    # polarity inversion


def test_training_is_deterministic():
    cfg = TrainConfig(net="64-8-10", dataset="digits", cell="2pcm3t1c", epochs=1, lr=0.05,
                      limit=150, transfer_interval=100)
    a, b = train(cfg, progress=False), train(cfg, progress=False)
    assert a.test_accuracy == b.test_accuracy
    for la, lb in zip(a.model.layers, b.model.layers):
        assert np.array_equal(la.weights(), lb.weights())
    c = train(TrainConfig(**{**cfg.__dict__, "seed": 1}), progress=False)
    assert not np.array_equal(c.model.layers[0].weights(), a.model.layers[0].weights())


def test_mlp_layout_rejects_unsupported_networks():
    lay = mlp_layout(resolve_network("mlp-2018"))
    assert lay.sizes == (528, 250, 125, 10) and lay.hidden == ("tanh", "tanh")
    with pytest.raises(UserError, match="not supported for training"):
        mlp_layout(resolve_network("lenet5"))
    with pytest.raises(UserError, match="^cell: value 'magic'"):
        build_mlp(resolve_network("4-2"), SPEC, "magic", streams(0))


def test_per_layer_weight_ranges():
    net = resolve_network("6-4-3")
    m = build_mlp(net, SPEC, "ideal", streams(0), range_factor=(2, 8))
    assert m.layers[0].alpha == pytest.approx(2 / np.sqrt(7))
    assert m.layers[1].alpha == pytest.approx(8 / np.sqrt(5))
    with pytest.raises(UserError, match="one per layer"):
        build_mlp(net, SPEC, "ideal", streams(0), range_factor=(2, 8, 3))


def test_save_and_load_weights(tmp_path):
    w = [np.arange(6.0).reshape(3, 2), np.ones((3, 1))]
    save_weights(tmp_path / "w.npz", w, {"net": "2-2-1"})
    back, meta = load_weights(tmp_path / "w.npz")
    assert meta["net"] == "2-2-1" and all(np.array_equal(a, b) for a, b in zip(w, back))
    with pytest.raises(UserError, match=".npz"):
        save_weights(tmp_path / "w.txt", w, {})
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with pytest.raises(UserError, match="not a codesign weights file"):
        load_weights(tmp_path / "other.npz")


def test_drift_lowers_accuracy_and_compensation_helps():
    r = train(TrainConfig(net="64-16-10", dataset="digits", cell="software", epochs=3,
                          lr=0.05, hidden="tanh"), progress=False)
    weights = [l.weights() for l in r.model.layers]
    parts = [((0, 65), (0, 16)), ((0, 17), (0, 10))]
    out = drift_accuracy(weights, ["tanh"], SPEC, parts, r.dataset.x_test, r.dataset.y_test,
                         parse_times("1,31536000"), np.random.default_rng(0))
    assert abs(out["accuracy_digital"] - r.test_accuracy[-1]) < 1e-12
    assert out["accuracy_compensated"][0] > out["accuracy_digital"] - 0.1
    assert out["accuracy_compensated"][1] >= out["accuracy"][1]
    with pytest.raises(UserError, match="^times: "):
        parse_times("1,abc")


def test_reproduce_table_from_saved_runs(tmp_path, capsys):
    import json
    from codesign.nn import reproduce
    main_run = {"seeds": [0, 1], "rows": {
        "software": {"per_seed": {"0": 0.9, "1": 0.92}, "mean": 0.91, "std": 0.014},
        "pcm": {"per_seed": {"0": 0.85, "1": 0.87}, "mean": 0.86, "std": 0.014}}}
    extra = {"seeds": [0, 1], "rows": {
        "tol": {"per_seed": {"0": 0.91, "1": 0.91}, "mean": 0.91, "std": 0.0}}}
    for name, run in (("a.json", main_run), ("b.json", extra)):
        (tmp_path / name).write_text(json.dumps(run))
    assert reproduce.main(["--from-json", str(tmp_path / "a.json"),
                           str(tmp_path / "b.json")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5
    assert "| pcm | 86.00 ± 1.40 | -5.00 | 85.00, 87.00 |" in lines
    assert lines[-1].startswith("| tol | 91.00 ± 0.00 | +0.00 |")
