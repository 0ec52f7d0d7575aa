"""ONNX models with their weights on tiles (codesign.nn.onnx_run, `codesign infer --onnx`).
Models are built here with onnx.helper (no download); onnx's own reference evaluator is
the oracle."""
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from codesign.cli import main
from codesign.errors import UserError
from codesign.nn.build import streams
from codesign.nn.graph import build_graph
from codesign.nn.onnx_run import digital_model, drift_accuracy_graph, load_onnx_model
from codesign.spec import load_spec

SPEC = load_spec("ambrogio2018")
FINE = SPEC.with_overrides({"array.cell": "ideal", "array.rows": 32, "array.cols": 16,
                            "adc.count": 16, "dac.bits": 14, "adc.bits": 16,
                            "update.rng": "per_line",   # 13-bit windows: too wide to share
                            "adc.noise": 0.0, "adc.full_scale": 16.0})


def _init(rng, name, shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                   name)


def residual_model(rng, classes=10, shape=(1, 8, 8)):
    """Conv+BN+ReLU, a residual block (bias-free convs, Add), a strided grouped conv,
    max pool, a Concat with an average pool, Flatten, Gemm (transB), MatMul + bias Add,
    LeakyRelu, Softmax: the operators a PyTorch or Keras export uses."""
    c = shape[0]
    inits = [_init(rng, "w1", (4, c, 3, 3)), _init(rng, "b1", (4,)),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "g"),
             _init(rng, "be", (4,)), _init(rng, "mu", (4,), 0.1),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "var"),
             _init(rng, "w2", (4, 4, 3, 3)), _init(rng, "w3", (8, 2, 3, 3)),
             _init(rng, "b3", (8,)), _init(rng, "wf", (6, 8 * 2 * 2 * 2)), _init(rng, "bf", (6,)),
             _init(rng, "wm", (6, classes)), _init(rng, "bm", (classes,)),
             numpy_helper.from_array(np.float32([2.0]), "two")]
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
        n("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn1"], epsilon=1e-3, name="bn1"),
        n("Relu", ["bn1"], ["r1"], name="relu1"),
        n("Conv", ["r1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv2"),
        n("Add", ["c2", "r1"], ["s1"], name="add1"),
        n("Mul", ["s1", "two"], ["m1"], name="scale"),
        n("Relu", ["m1"], ["r2"], name="relu2"),
        n("Conv", ["r2", "w3", "b3"], ["c3"], kernel_shape=[3, 3], strides=[2, 2],
          pads=[1, 1, 1, 1], group=2, name="conv3"),
        n("MaxPool", ["c3"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="maxpool"),
        n("AveragePool", ["c3"], ["p2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
          name="avgpool"),
        n("Concat", ["p1", "p2"], ["cat"], axis=1, name="cat"),
        n("Flatten", ["cat"], ["f"], axis=1, name="flatten"),
        n("Gemm", ["f", "wf", "bf"], ["g1"], transB=1, alpha=0.5, name="fc1"),
        n("LeakyRelu", ["g1"], ["l1"], alpha=0.1, name="leaky"),
        n("MatMul", ["l1", "wm"], ["mm"], name="fc2"),
        n("Add", ["mm", "bm"], ["logits"], name="fc2_bias"),
        n("Softmax", ["logits"], ["y"], axis=1, name="softmax"),
    ]
    graph = helper.make_graph(
        nodes, "residual-test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, *shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, classes])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def model_file(tmp_path):
    import onnx
    path = tmp_path / "res.onnx"
    onnx.save(residual_model(np.random.default_rng(0)), str(path))
    return path


def test_weights_and_graph_equal_onnx_reference(model_file):
    import onnx
    net, weights, params = load_onnx_model(model_file)
    assert [l.name for l in net.weight_layers] == ["conv1", "conv2", "conv3", "fc1", "fc2"]
    assert not net["conv2"].bias and net["fc2"].bias          # the Add became fc2's bias
    x = np.random.default_rng(1).random((5, 1, 8, 8))
    ref = ReferenceEvaluator(onnx.load(str(model_file))).run(None, {"x": x.astype(np.float32)})[0]
    logits = digital_model(net, weights, params).forward(x)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(axis=1, keepdims=True), ref, atol=1e-5)
    # on ideal tiles without noise (fine converters), the tiles' forward equals it too
    # (each layer's cell range set to its largest weight, as inference maps them)
    peaks = [float(np.abs(weights[l.name]).max() * np.sqrt(l.fan_in + 1))
             for l in net.weight_layers]
    tiles = build_graph(net, FINE, "ideal", streams(0), weights=weights, params=params,
                        range_factor=peaks)
    z = tiles.forward(x)
    np.testing.assert_allclose(z, logits, atol=2e-3 * np.abs(logits).max())


def test_inference_with_drift_on_pcm_tiles(model_file):
    net, weights, params = load_onnx_model(model_file)
    rng = np.random.default_rng(2)
    x = rng.random((40, 64))
    y = digital_model(net, weights, params).predict(x)       # labels = the float model's
    out = drift_accuracy_graph(net, weights, params, SPEC, x, y, (1.0, 31536000.0),
                               streams(0).inference)
    assert out["accuracy_digital"] == 1.0
    assert len(out["accuracy"]) == len(out["accuracy_compensated"]) == 2
    assert 0.3 < out["accuracy_compensated"][0] <= 1.0
    again = drift_accuracy_graph(net, weights, params, SPEC, x, y, (1.0, 31536000.0),
                                 streams(0).inference)
    assert again == out                                        # same seed, same numbers


def test_infer_command_with_onnx(model_file, tmp_path, capsys):
    png = tmp_path / "drift.png"
    argv = ["infer", "--onnx", str(model_file), "--spec", "ambrogio2018", "--dataset",
            "digits", "--times", "1,86400", "--images", "30", "--png", str(png)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "digital accuracy" in text and "1 day" in text and png.stat().st_size > 0
    assert main(argv[:-2] + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["test_images"] == 30 and out["times"] == [1.0, 86400.0]


def _save(tmp_path, model):
    import onnx
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    return path


def test_models_that_do_not_fit_give_one_line_naming_the_layer(tmp_path, model_file, capsys):
    rng = np.random.default_rng(0)
    m = residual_model(rng)
    for t in m.graph.initializer:            # a NaN weight
        if t.name == "w2":
            t.CopyFrom(numpy_helper.from_array(np.full((4, 4, 3, 3), np.nan, np.float32), "w2"))
    with pytest.raises(UserError, match="layer 'conv2'.*NaN"):
        load_onnx_model(_save(tmp_path, m))
    m = residual_model(rng)
    for node in m.graph.node:                # kernel_shape that disagrees with the weights
        if node.name == "conv1":
            node.attribute[0].CopyFrom(helper.make_attribute("kernel_shape", [3, 3]))
    m.graph.initializer[0].CopyFrom(_init(rng, "w1", (4, 1, 2, 2)))
    path = _save(tmp_path, m)
    assert main(["infer", "--onnx", str(path), "--spec", "ambrogio2018", "--dataset",
                 "digits"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "conv1" in err and "Traceback" not in err
    # images that do not fit the model's input
    assert main(["infer", "--onnx", str(model_file), "--spec", "ambrogio2018", "--dataset",
                 "mnist5k"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "784" in err and "64" in err
    # too few outputs for the data set's classes
    path = _save(tmp_path, residual_model(rng, classes=3))
    assert main(["infer", "--onnx", str(path), "--spec", "ambrogio2018", "--dataset",
                 "digits"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3 outputs" in err and "10 classes" in err


def test_export_round_trip_equals_onnx_reference(tmp_path):
    """A zoo network written to ONNX (codesign.nn.onnx_export) reads back to the same
    weights, and onnx's reference evaluator computes what the graph computes."""
    import onnx
    from codesign.network import load_network
    from codesign.nn.graph import initial_weights
    from codesign.nn.onnx_export import save_onnx
    net = load_network("resnet-mini")
    weights = initial_weights(net, np.random.default_rng(3))
    path = tmp_path / "rm.onnx"
    save_onnx(path, net, weights)
    net2, weights2, params2 = load_onnx_model(path)
    assert [l.name for l in net2.weight_layers] == [l.name for l in net.weight_layers]
    for name, w in weights.items():
        np.testing.assert_allclose(weights2[name], w, rtol=1e-6)    # float32 in the file
    x = np.random.default_rng(4).random((3, 1, 28, 28))
    ref = ReferenceEvaluator(onnx.load(str(path))).run(None, {"x": x.astype(np.float32)})[0]
    np.testing.assert_allclose(digital_model(net2, weights2, params2).forward(x), ref,
                               atol=1e-5)
    with pytest.raises(UserError, match="^path: .*allowed: a file name ending in .onnx"):
        save_onnx(tmp_path / "rm.txt", net, weights)


def test_users_own_npz_of_colour_images(tmp_path, capsys):
    """A user's .npz of colour images saved channel-last (as Keras keeps CIFAR-10) runs
    the same command; rows are channel-first, the model's layout."""
    import onnx
    rng = np.random.default_rng(6)
    path = tmp_path / "rgb.onnx"
    model = residual_model(rng, classes=4, shape=(3, 8, 8))
    onnx.save(model, str(path))
    x = rng.integers(0, 256, (40, 8, 8, 3)).astype(np.uint8)
    net, weights, params = load_onnx_model(path)
    y = digital_model(net, weights, params).predict(x.transpose(0, 3, 1, 2) / 255.0)
    data = tmp_path / "mine.npz"
    np.savez(data, x_train=x[:20], y_train=y[:20], x_test=x[20:], y_test=y[20:])
    assert main(["infer", "--onnx", str(path), "--spec", "ambrogio2018", "--dataset",
                 str(data), "--times", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["test_images"] == 20 and out["accuracy_digital"] == 1.0
