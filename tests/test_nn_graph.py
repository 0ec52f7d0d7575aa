"""Networks of the IR on tiles (codesign.nn.graph, codesign.nn.conv): every layer kind's
forward against a direct numpy reference, gradients against finite differences, the
tiles' products against the float ones, and training. Small shapes only."""
import copy

from pathlib import Path

import numpy as np
import pytest

from codesign.errors import UserError
from codesign.mapping.partition import partition
from codesign.network import build_network, load_network
from codesign.nn import conv as C
from codesign.nn.build import streams
from codesign.nn.graph import ACTS, GraphModel, build_graph
from codesign.nn.mlp import softmax
from codesign.spec import load_spec

SPEC = load_spec("ambrogio2018")
# tiles whose read is the float product up to fine quantization: ideal cells, no ADC
# noise, 14-bit DACs and 16-bit ADCs, small arrays so every layer splits into several blocks
FINE = SPEC.with_overrides({"array.cell": "ideal", "array.rows": 16, "array.cols": 8,
                            "adc.count": 8, "dac.bits": 14, "adc.bits": 16,
                            "update.rng": "per_line",   # 13-bit windows: too wide to share
                            "adc.noise": 0.0, "adc.full_scale": 8.0})


def conv_reference(x, w, b, stride, pad, dil, groups):
    """Direct convolution (loops over output pixels: a test oracle, not the model)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    t, l, bo, r = pad
    xp = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)))
    ho = (h + t + bo - dil[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + l + r - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for i in range(ho):
        for j in range(wo):
            ys, xs = i * stride[0], j * stride[1]
            patch = xp[:, :, ys:ys + dil[0] * (kh - 1) + 1:dil[0],
                       xs:xs + dil[1] * (kw - 1) + 1:dil[1]]
            for g in range(groups):
                pg = patch[:, g * cg:(g + 1) * cg]
                out[:, g * og:(g + 1) * og, i, j] = np.einsum(
                    "nckl,ockl->no", pg, w[g * og:(g + 1) * og])
    return out + (0 if b is None else b[None, :, None, None])


def matrix_of(w, b):
    """A conv kernel (O, C/g, kh, kw) as the crossbar holds it (rows c*kh*kw+ky*kw+kx)."""
    m = w.reshape(w.shape[0], -1).T
    return m if b is None else np.vstack([m, b[None]])


@pytest.mark.parametrize("stride,pad,dil,groups", [
    ((1, 1), (0, 0, 0, 0), (1, 1), 1), ((2, 1), (1, 2, 0, 1), (1, 1), 1),
    ((1, 2), (2, 2, 2, 2), (2, 1), 2), ((2, 2), (1, 1, 1, 1), (1, 1), 4)])
def test_conv_layer_equals_direct_convolution(stride, pad, dil, groups):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((8, 4 // groups, 3, 2))
    b = rng.standard_normal(8)
    net = build_network("c", (4, 7, 6), [dict(name="conv", kind="conv2d", out_channels=8,
                                               kernel=[3, 2], stride=list(stride),
                                               padding=list(pad), dilation=list(dil),
                                               groups=groups)])
    model = build_graph(net, SPEC, "software", streams(0), weights={"conv": matrix_of(w, b)})
    ref = conv_reference(x, w, b, stride, pad, dil, groups)
    got = model.forward(x).reshape(ref.shape)
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_pooling_equals_direct_reference():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 7))
    out, _ = C.pool_forward(x, "max", (3, 3), (2, 2), (1, 1, 1, 1), (4, 4))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    ref = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(4)]
                      for i in range(4)] for c in range(3)] for n in range(2)])
    np.testing.assert_array_equal(out, ref)
    out, _ = C.pool_forward(x, "avg", (3, 3), (2, 2), (1, 1, 1, 1), (4, 4))
    xz = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ones = np.pad(np.ones((7, 7)), 1)
    ref = np.array([[[[xz[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].sum()
                       / ones[2 * i:2 * i + 3, 2 * j:2 * j + 3].sum() for j in range(4)]
                      for i in range(4)] for c in range(3)] for n in range(2)])
    np.testing.assert_allclose(out, ref)


# a network with every layer kind: grouped, strided, dilated and bias-free convs, a norm,
# a residual add, max, average and global pooling, a concat, a flatten, linear layers
ALL_KINDS = [
    dict(name="c1", kind="conv2d", out_channels=4, kernel=3, stride=2, padding=1, groups=2),
    dict(name="bn", kind="norm"),
    dict(name="a1", kind="act", op="tanh"),
    dict(name="c2", kind="conv2d", out_channels=4, kernel=3, padding=2, dilation=2,
         bias=False),
    dict(name="a2", kind="act", op="sigmoid"),
    dict(name="add", kind="add", inputs=["a1", "a2"]),
    dict(name="pmax", kind="pool", mode="max", kernel=2),
    dict(name="pavg", kind="pool", mode="avg", kernel=3, stride=2, padding=1, inputs=["add"]),
    dict(name="cat", kind="concat", inputs=["pmax", "pavg"]),
    dict(name="c3", kind="conv2d", out_channels=6, kernel=1),
    dict(name="a3", kind="act", op="gelu"),
    dict(name="gp", kind="pool", mode="avg", global_pool=True, inputs=["a3"]),
    dict(name="gm", kind="pool", mode="max", global_pool=True, inputs=["a3"]),
    dict(name="cat2", kind="concat", inputs=["gp", "gm"]),
    dict(name="flat", kind="flatten"),
    dict(name="fc1", kind="linear", out_features=5),
    dict(name="a4", kind="act", op="leaky_relu"),
    dict(name="fc2", kind="linear", out_features=3),
    dict(name="sm", kind="act", op="softmax"),
]


def _all_kinds(cell="software", spec=SPEC, seed=0):
    net = build_network("all", (2, 8, 8), ALL_KINDS)
    rng = np.random.default_rng(seed)
    params = {"bn": {"scale": rng.uniform(0.5, 1.5, (4, 1, 1)),
                     "shift": rng.normal(size=(4, 1, 1))}, "a4": {"alpha": 0.1}}
    w = {l.name: rng.uniform(-0.5, 0.5, l.matrix_shape) for l in net.weight_layers}
    return net, build_graph(net, spec, cell, streams(seed), range_factor=4, weights=w,
                            params=params)


def _loss(model, x, y):
    z = model.forward(x)
    z = z - z.max(axis=1, keepdims=True)
    return float((np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]).sum())


def test_gradients_of_every_layer_kind_match_finite_differences():
    net, model = _all_kinds()
    rng = np.random.default_rng(4)
    x, y = rng.random((3, 128)), np.array([0, 2, 1])
    cache = {}
    p = softmax(model.forward(x, cache))
    p[np.arange(3), y] -= 1.0
    grads = model.backward(p, cache)
    eps = 1e-6
    # the loss' gradient with respect to each layer's output, probed at a few entries
    for name in ("c1", "a1", "add", "cat", "c3", "flat", "fc1"):
        g = grads[name]
        for flat in rng.choice(g.size, 3, replace=False):
            idx = np.unravel_index(flat, g.shape)
            layer = net[name]
            original = GraphModel._forward_layer     # add delta to one output entry

            def bumped(self, lay, ins, cache):
                out = original(self, lay, ins, cache)
                if lay.name == name:
                    out = out.copy()
                    out[idx] += bumped.delta
                return out
            vals = []
            for delta in (eps, -eps):
                bumped.delta = delta
                GraphModel._forward_layer = bumped
                try:
                    vals.append(_loss(model, x, y))
                finally:
                    GraphModel._forward_layer = original
            assert np.isclose(g[idx], (vals[0] - vals[1]) / (2 * eps), rtol=1e-4, atol=1e-7), \
                (name, layer.kind, idx)
    # the weight updates are -lr times the finite-difference gradients (mean over batch)
    for name in ("c1", "c2", "c3", "fc1", "fc2"):
        w = model.engines[name].w
        for flat in rng.choice(w.size, 3, replace=False):
            i, j = np.unravel_index(flat, w.shape)
            w[i, j] += eps
            up = _loss(model, x, y)
            w[i, j] -= 2 * eps
            down = _loss(model, x, y)
            w[i, j] += eps
            trial = model.with_engines(copy.deepcopy(model.engines))
            cache = {}
            p = softmax(trial.forward(x, cache))
            p[np.arange(3), y] -= 1.0
            trial.backward(p, cache, lr=1.0, n=3)
            step = w[i, j] - trial.engines[name].w[i, j]
            assert np.isclose(step * 3, (up - down) / (2 * eps), rtol=1e-4, atol=1e-8), \
                (name, i, j)


@pytest.mark.parametrize("op", sorted(set(ACTS) - {"identity"}))
def test_activation_derivatives(op):
    z = np.linspace(-4.1, 4.3, 37)
    f, df = ACTS[op]
    p = {"alpha": 0.2}
    num = (f(z + 1e-6, p) - f(z - 1e-6, p)) / 2e-6
    np.testing.assert_allclose(df(z, f(z, p), p), num, rtol=1e-5, atol=1e-6)


def test_tiles_forward_backward_update_match_float_with_ideal_cells():
    """Ideal cells and fine converters: the tiles' forward, transposed read and update
    equal the float network's, every weight layer split into several tile blocks."""
    net, soft = _all_kinds()
    _, tiles = _all_kinds("ideal", FINE)
    parts = partition(net, FINE)
    assert max(parts[n].blocks for n in ("c1", "c2", "c3", "fc1")) > 1
    rng = np.random.default_rng(5)
    x, y = rng.random((2, 128)), np.array([1, 0])
    cs, ct = {}, {}
    zs, zt = soft.forward(x, cs), tiles.forward(x, ct)
    np.testing.assert_allclose(zt, zs, atol=2e-3 * np.abs(zs).max())
    p = softmax(zs)
    p[np.arange(2), y] -= 1.0
    gs, gt = soft.backward(p, cs), tiles.backward(p, ct)
    for name in ("c1", "add", "cat", "flat"):
        np.testing.assert_allclose(gt[name], gs[name], atol=5e-3 * np.abs(gs[name]).max())


TINY_CNN = (Path(__file__).parent / "data" / "tiny-cnn.yaml").read_text()


@pytest.mark.parametrize("cell,limit,floor", [("software", 1437, 0.8), ("ideal", 500, 0.6),
                                              ("2pcm3t1c", 300, 0.3)])
def test_in_situ_training_of_a_conv_net_learns_digits(tmp_path, cell, limit, floor):
    """`codesign train` trains a conv net (scikit-learn's 8x8 digits) in software and in
    situ on tiles, through the same training loop as the perceptrons."""
    from codesign.nn.train import TrainConfig, train
    path = tmp_path / "tiny-cnn.yaml"
    path.write_text(TINY_CNN)
    r = train(TrainConfig(net=str(path), dataset="digits", cell=cell, epochs=1, lr=0.05,
                          limit=limit), progress=False)
    assert r.test_accuracy[-1] > floor
    if cell != "software":
        ev = r.summary()["events"]
        assert ev["update_pulses"] > 0 and ev["adc_conversions"] > 0


def test_graph_errors_name_the_layer():
    net = build_network("two", (4,), [dict(name="a", kind="linear", out_features=2),
                                      dict(name="b", kind="linear", out_features=2,
                                           inputs=["input"])])
    with pytest.raises(UserError, match="exactly one output"):
        build_graph(net, SPEC, "software", streams(0))
    net = load_network("lenet5")
    model = build_graph(net, SPEC, "software", streams(0))
    with pytest.raises(UserError, match=r"input: images of shape \[64\]"):
        model.forward(np.zeros((1, 64)))


def test_weight_layers_sit_on_the_mappings_blocks():
    """The blocks a layer trains on are the partition's (one source with the mapper)."""
    net = load_network("lenet5")
    model = build_graph(net, FINE, "ideal", streams(0))
    parts = partition(net, FINE)
    for layer in net.weight_layers:
        eng = model.engines[layer.name]
        lp = parts[layer.name]
        assert (eng.row_edges, eng.col_edges) == (lp.row_edges, lp.col_edges)
        assert len(eng.tiles) * len(eng.tiles[0]) == lp.blocks
    assert model.sizes == [784, 6, 16, 120, 84, 10]


def test_train_save_infer_and_export_a_conv_net(tmp_path, capsys):
    """`train --save` a conv net, `infer --weights` it with drift, and `--export-onnx` it:
    the ONNX file runs the same network (same digital accuracy)."""
    import json

    from codesign.cli import main
    net = tmp_path / "tiny-cnn.yaml"
    net.write_text(TINY_CNN)
    w = tmp_path / "w.npz"
    assert main(["train", "--net", str(net), "--dataset", "digits", "--cell", "software",
                 "--epochs", "1", "--lr", "0.05", "--limit", "300", "--save", str(w),
                 "--quiet"]) == 0
    capsys.readouterr()
    common = ["--spec", "ambrogio2018", "--dataset", "digits", "--times", "1,86400", "--json"]
    assert main(["infer", "--weights", str(w)] + common) == 0
    direct = json.loads(capsys.readouterr().out)
    onnx_path = tmp_path / "tiny.onnx"
    assert main(["infer", "--weights", str(w), "--export-onnx", str(onnx_path)] + common) == 0
    exported = json.loads(capsys.readouterr().out)
    assert onnx_path.stat().st_size > 0
    assert direct["accuracy_digital"] == exported["accuracy_digital"] > 0.5
    assert len(direct["accuracy_compensated"]) == 2
    assert main(["infer", "--export-onnx", str(onnx_path)] + common) == 2
    assert "needs --weights" in capsys.readouterr().err


def test_bench_train_row_for_lenet5(capsys):
    """`codesign bench train --net lenet5` reports the minutes of one mnist5k epoch (the
    speed target is a benchmark, not asserted here)."""
    import json

    from codesign.cli import main
    assert main(["bench", "train", "--net", "lenet5", "--images", "10", "--json",
                 "--transfer-interval", "1000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["net"] == "lenet5" and out["analog_images_per_s"] > 0
    # the epoch's 4 transfers (one every 1,000 images) are part of its time
    assert out["transfer_interval"] == 1000 and out["transfers_per_epoch"] == 4
    assert out["transfer_seconds"] > 0
    assert out["analog_epoch_minutes_mnist5k"] == pytest.approx(
        (4000 / out["analog_images_per_s"] + 4 * out["transfer_seconds"]) / 60)
    assert main(["bench", "train", "--net", "mlp-2018", "--images", "10"]) == 2
    assert "--net" in capsys.readouterr().err


def test_conv_kernel_update_writes_the_summed_gradient_row_by_row():
    """conv_update "kernel": one UPDATE command per crossbar row with a non-zero change
    (not one per output position); only those rows' cells and the columns with a change
    move; on ideal cells the mean change over repetitions is -lr * g."""
    from codesign.nn.graph import ConvDense
    from codesign.nn.mlp import init_bound
    rng = np.random.default_rng(3)
    w0 = np.zeros((21, 10))                       # 20 inputs + bias: 2 x 2 blocks of FINE
    eng = ConvDense(w0, FINE, "ideal", rng, (0, 16, 21), (0, 8, 10), 8.0)
    g = rng.standard_normal((21, 10)) * 0.02
    g[3] = 0.0                                    # a row without change
    g[:, 9] = 0.0                                 # a column without change
    reps, lr = 200, 0.01
    for _ in range(reps):
        eng.update_rows(g, lr)
    change = eng.weights() / reps
    assert eng.update_commands == reps * (20 + 20)  # 20 live rows, each in 2 column blocks
    assert not change[3].any() and not change[:, 9].any()
    want = -lr * g
    assert eng.alpha == pytest.approx(8.0 * init_bound(20))
    slope = float((change * want).sum() / (want * want).sum())
    assert slope == pytest.approx(1.0, abs=0.05)


def test_conv_update_modes_count_their_update_commands(tmp_path):
    """A conv layer on tiles sends fan_in + 1 UPDATE commands per image in "kernel" mode
    and one per output position in "positions" mode; software engines ignore the mode."""
    path = tmp_path / "tiny-cnn.yaml"
    path.write_text(TINY_CNN)
    net = load_network(str(path))
    counts = {}
    for mode in ("kernel", "positions"):
        model = build_graph(net, SPEC, "ideal", streams(0))
        model.conv_update = mode
        x = np.random.default_rng(0).random((1, 64))
        model.train_step(x, np.array([3]), 0.05)
        counts[mode] = model.engines["conv1"].update_commands
    assert counts == {"kernel": 3 * 3 + 1, "positions": 8 * 8}
    with pytest.raises(UserError, match="conv_update"):
        model.conv_update = "rows"
    soft = [build_graph(net, SPEC, "software", streams(0)) for _ in range(2)]
    soft[1].conv_update = "positions"
    for m in soft:
        m.train_step(np.full((1, 64), 0.5), np.array([3]), 0.05)
    np.testing.assert_array_equal(soft[0].engines["conv1"].weights(),
                                  soft[1].engines["conv1"].weights())


def test_transposed_reads_of_graph_layers_use_the_range_as_output_gain():
    """A graph network's engines read their transposed products at an output gain equal
    to their weight range factor (the ADC's full scale divided by it); perceptrons keep
    gain 1. A gained read equals a read through an ADC of full scale / gain, and resolves
    a small transposed product more finely."""
    from codesign.nn.build import build_mlp
    from codesign.nn.graph import BACKWARD_GAIN_PER_RANGE
    from codesign.nn.mlp import init_bound
    from codesign.tile import AnalogTile
    model = build_graph(load_network("lenet5"), SPEC, "ideal", streams(0))
    for eng in model.layers:
        assert eng.backward_gain == pytest.approx(
            max(1.0, BACKWARD_GAIN_PER_RANGE * eng.alpha / init_bound(eng.n_in)))
        assert eng.backward_gain > 1.0
    mlp = build_mlp(load_network("mlp-2018"), SPEC, "2pcm3t1c", streams(0))
    assert all(layer.backward_gain == 1.0 for layer in mlp.layers)
    spec = SPEC.with_overrides({"array.cell": "ideal"}, source="test")
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.1, 0.1, (40, 10))
    d = np.zeros((5, 10))
    d[np.arange(5), rng.integers(0, 10, 5)] = 1.0           # sparse error vectors
    tile = AnalogTile(spec, np.random.default_rng(1), shape=(40, 10))
    tile.program(w)
    narrow = AnalogTile(spec.with_overrides({"adc.full_scale": spec.adc.full_scale / 8},
                                            source="test"), np.random.default_rng(1),
                        shape=(40, 10))
    narrow.program(w)
    gained = tile.backward(d, gain=8.0)
    np.testing.assert_array_equal(gained.values, narrow.backward(d).values)
    exact = d @ w.T
    assert np.abs(gained.values - exact).max() < np.abs(tile.backward(d).values - exact).max()
    assert gained.cycles == tile.backward(d).cycles
    with pytest.raises(UserError, match="gain"):
        tile.backward(d, gain=0.5)


def test_grouped_conv_reads_only_the_column_blocks_of_its_groups():
    """A grouped conv over several column blocks: each group's vectors are read,
    transposed-read and updated only on the blocks that hold its kernels (half the MVMs
    here: 4 groups of 4 kernels on two 8-column blocks), with the same outputs."""
    net = build_network("grouped", (4, 5, 5), [
        dict(name="c", kind="conv2d", out_channels=16, kernel=3, padding=1, groups=4),
        dict(name="flat", kind="flatten"), dict(name="fc", kind="linear", out_features=3)])
    model = build_graph(net, FINE, "ideal", streams(0))
    model.conv_update = "positions"
    eng = model.engines["c"]
    assert eng.groups == 4 and len(eng.tiles[0]) == 2
    x = np.random.default_rng(0).random((2, 100))
    ops = ("forward", "backward", "update")
    counts = []
    outs = []
    for groups in (4, 1):                     # 1: every vector to every block
        eng.groups = groups
        before = dict(eng.cycles)
        outs.append(model.forward(x, cache := {}))
        p = softmax(outs[-1])
        p[np.arange(2), [0, 2]] -= 1.0
        model.backward(p, cache, lr=1e-9, n=2)
        counts.append({op: eng.cycles[op] - before[op] for op in ops})
    np.testing.assert_array_equal(outs[0], outs[1])
    for op in ops:
        assert 2 * counts[0][op] == counts[1][op], op


def test_conv_reads_skip_all_zero_vectors():
    """A conv's all-zero error vectors (positions a pool or ReLU did not pass) are not
    read: their rows are exactly 0 (an ADC without a zero code would return half a step
    for each, which the kernel's gradient sums over positions) and no MVM is counted."""
    from codesign.nn.graph import ConvDense
    rng = np.random.default_rng(2)
    w0 = rng.uniform(-0.2, 0.2, (10, 4))
    eng = ConvDense(w0, SPEC, "ideal", rng, (0, 10), (0, 4), 8.0, bias=False)
    d = rng.standard_normal((6, 4))
    d[[1, 4]] = 0.0
    before = eng.cycles["backward"]
    z = eng.backward(d)
    one = eng.cycles["backward"] - before
    assert not z[[1, 4]].any() and np.abs(z[[0, 2, 3, 5]]).min() > 0
    eng.backward(d[:1])
    assert one == 4 * (eng.cycles["backward"] - before - one)
    np.testing.assert_array_equal(eng.forward(np.zeros((2, 10))), 0.0)  # no bias: skipped
