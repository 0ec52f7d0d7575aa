"""Network IR, zoo, YAML format and ONNX import."""
from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from codesign.errors import UserError
from codesign.network import (ZOO, build_network, load_network, network_from_dict,
                              network_names)


# ---------------------------------------------------------------- zoo
def test_zoo_names_and_topological_order():
    assert set(ZOO) == {"mlp-2018", "mlp-784", "lenet5", "vgg8", "resnet18", "resnet-mini",
                         "mobilenet"}
    assert set(ZOO) <= set(network_names())
    for name in ZOO:
        net = load_network(name)
        assert net.name == name
        seen = {"input"}
        for layer in net.layers:
            assert set(layer.inputs) <= seen, f"{name}: {layer.name} reads a later layer"
            seen.add(layer.name)


def test_mlp_2018_has_the_published_synapse_count():
    # 528-250-125-10 with biases = 164,885 synapses (Ambrogio 2018, devices.md)
    net = load_network("mlp-2018")
    shapes = [l.matrix_shape for l in net.weight_layers]
    assert shapes == [(529, 250), (251, 125), (126, 10)]
    assert net.weights == 164_885
    assert [l.mvms_per_inference for l in net.weight_layers] == [1, 1, 1]
    assert net.macs == 528 * 250 + 250 * 125 + 125 * 10
    assert load_network("mlp-784").weight_layers[0].matrix_shape == (785, 250)


def test_lenet5_shapes_and_parameters():
    net = load_network("lenet5")
    conv1, conv2 = net["conv1"], net["conv2"]
    assert conv1.out_shape == (6, 28, 28) and conv1.matrix_shape == (26, 6)
    assert conv1.mvms_per_inference == 28 * 28
    assert conv2.out_shape == (16, 10, 10) and conv2.matrix_shape == (151, 16)
    assert net["flatten"].out_shape == (400,)
    assert net.weights == 61_706   # LeNet-5's classic parameter count
    assert net.output_shape == (10,)


@pytest.mark.parametrize("name, macs, weights", [
    ("resnet18", 1_814_073_344, 11_679_912),   # 1.8 GMAC, 11.7 M weights (He 2016)
    ("mobilenet", 568_740_352, 4_210_088),     # 569 M mult-adds, 4.2 M (Howard 2017)
])
def test_imagenet_networks_match_their_papers(name, macs, weights):
    net = load_network(name)
    assert net.macs == macs and net.weights == weights
    assert net.output_shape == (1000,)


def test_vgg8_is_neurosim_vgg8():
    net = load_network("vgg8")
    kinds = [l.kind for l in net.weight_layers]
    assert kinds == ["conv2d"] * 6 + ["linear"] * 2
    assert net["flatten"].out_shape == (8192,)
    assert net["fc1"].matrix_shape == (8193, 1024)


def test_depthwise_conv_is_packed_and_needs_one_mvm_per_group():
    net = load_network("mobilenet")
    dw = net["dw2"]
    assert dw.groups == dw.in_shape[0] == 64
    assert dw.matrix_shape == (9, 64)              # k*k*C_in/groups rows, C_out columns
    assert dw.mvm_shape == (9, 1)                  # each MVM reads its group's columns
    assert dw.mvms_per_inference == 56 * 56 * 64   # one MVM per group per position
    assert dw.macs == 56 * 56 * 64 * 9


def test_resnet_residuals_and_projection_shortcuts():
    net = load_network("resnet18")
    add = net["layer2.0.add"]
    assert add.inputs == ("layer2.0.conv2_bn", "layer2.0.downsample_bn")
    assert net["layer2.0.downsample"].matrix_shape == (64, 128)
    assert net["layer1.0.add"].inputs == ("layer1.0.conv2_bn", "maxpool")
    assert net["avgpool"].out_shape == (512, 1, 1)


def test_zoo_round_trips_through_the_yaml_format(tmp_path):
    for name in ZOO:
        net = load_network(name)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(net.to_dict(), sort_keys=False))
        back = load_network(str(path))
        assert [l.describe() for l in back.layers] == [l.describe() for l in net.layers]
        assert [l.out_shape for l in back.layers] == [l.out_shape for l in net.layers]


# ---------------------------------------------------------------- shapes (property)
@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 8), h=st.integers(3, 20), w=st.integers(3, 20),
       k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2), g=st.sampled_from([1, 2]),
       n=st.integers(1, 6))
def test_conv_shape_and_unrolled_matrix(c, h, w, k, s, p, g, n):
    c, n = c * g, n * g
    net = build_network("t", (c, h, w), [dict(name="conv", kind="conv2d", out_channels=n,
                                              kernel=k, stride=s, padding=p, groups=g)])
    layer = net["conv"]
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    assert layer.out_shape == (n, ho, wo)
    assert layer.matrix_shape == (k * k * c // g + 1, n)
    assert layer.mvms_per_inference == ho * wo * g
    assert layer.macs == ho * wo * n * k * k * c // g


# ---------------------------------------------------------------- YAML
GOOD = """
name: small
input: [1, 12, 12]
layers:
  - {name: conv1, kind: conv2d, out_channels: 4, kernel: 3, padding: 1}
  - {name: relu1, kind: act, op: relu}
  - {name: conv2, kind: conv2d, out_channels: 4, kernel: 3, padding: 1, bias: false}
  - {name: add, kind: add, inputs: [conv2, relu1]}
  - {name: pool, kind: pool, mode: avg, kernel: 2}
  - {name: flat, kind: flatten}
  - {name: fc, kind: linear, out_features: 10}
"""


def test_yaml_network_loads(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(GOOD)
    net = load_network(str(path))
    assert [l.name for l in net.layers] == ["conv1", "relu1", "conv2", "add", "pool", "flat",
                                            "fc"]
    assert net["fc"].matrix_shape == (4 * 6 * 6 + 1, 10)
    assert net["conv2"].matrix_shape == (36, 4)


def test_yaml_layers_may_come_in_any_order():
    data = yaml.safe_load(GOOD)
    data["layers"] = [dict(l, inputs=[p]) if "inputs" not in l else l
                      for l, p in zip(data["layers"], ["input", "conv1", "relu1", None,
                                                       "add", "pool", "flat"])]
    shuffled = dict(data, layers=data["layers"][::-1])
    net = network_from_dict(shuffled, "shuffled.yaml")
    assert [l.name for l in net.layers] == ["conv1", "relu1", "conv2", "add", "pool", "flat",
                                            "fc"]


def test_shipped_example_network():
    net = load_network("example-cnn")
    assert net.weight_layers and net.output_shape == (10,)


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.pop("input"), ["input", "missing", "channels"]),
    (lambda d: d.update(input=[1, 12]), ["input", "[1, 12]", "allowed"]),
    (lambda d: d["layers"][1].update(kind="swish"), ["relu1", "kind", "'swish'", "conv2d"]),
    (lambda d: d["layers"][1].update(kind="act", op="swish"), ["relu1", "op", "'swish'",
                                                               "sigmoid"]),
    (lambda d: d["layers"][0].pop("out_channels"), ["conv1", "out_channels", "None", ">= 1"]),
    (lambda d: d["layers"][0].update(kernel=[3]), ["conv1", "kernel", "[3]"]),
    (lambda d: d["layers"][0].update(groups=3), ["conv1", "groups", "3", "dividing"]),
    (lambda d: d["layers"][0].update(color="red"), ["conv1", "color", "'red'", "out_channels"]),
    (lambda d: d["layers"][3].update(inputs=["conv2", "nowhere"]), ["add", "inputs",
                                                                    "'nowhere'"]),
    (lambda d: d["layers"][0].update(inputs=["fc"]), ["cycle", "conv1", "->", "acyclic"]),
    (lambda d: d["layers"][6].update(inputs=["pool"]), ["fc", "input shape", "flatten"]),
    (lambda d: d["layers"][3].update(inputs=["conv2", "input"]), ["add", "equal shapes"]),
    (lambda d: d["layers"][2].update(name="conv1"), ["conv1", "name", "one layer"]),
])
def test_bad_yaml_gives_one_clear_line(tmp_path, edit, words):
    data = yaml.safe_load(GOOD)
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(UserError) as exc:
        load_network(str(path))
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg
    for word in words:
        assert word in msg, (word, msg)


def test_bad_yaml_syntax_and_unknown_names(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nlayers: [\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_network(str(path))
    with pytest.raises(UserError, match="not a known network"):
        load_network("resnet-1000")
    with pytest.raises(UserError, match="no such file"):
        load_network(str(tmp_path / "missing.onnx"))


# ---------------------------------------------------------------- ONNX
def _init(name, shape, rng):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _lenet_like_onnx(path, batch="N"):
    """conv(5x5, pad 2) -> relu -> maxpool -> conv(3x3, groups 2) -> BN -> add(residual
    1x1 conv) -> global avg pool -> flatten -> gemm (transB) -> dropout -> matmul + bias."""
    rng = np.random.default_rng(0)
    inits = [_init("w1", (8, 1, 5, 5), rng), _init("b1", (8,), rng),
             _init("w2", (8, 4, 3, 3), rng), _init("w3", (8, 8, 1, 1), rng),
             _init("g", (8,), rng), _init("beta", (8,), rng), _init("mean", (8,), rng),
             _init("var", (8,), rng), _init("wfc", (16, 8), rng), _init("bfc", (16,), rng),
             _init("wmm", (16, 10), rng), _init("bmm", (10,), rng)]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1],
                         group=2),
        helper.make_node("BatchNormalization", ["c2", "g", "beta", "mean", "var"], ["n2"],
                         name="bn2"),
        helper.make_node("Conv", ["p1", "w3"], ["c3"], name="proj"),
        helper.make_node("Add", ["n2", "c3"], ["a"], name="add"),
        helper.make_node("GlobalAveragePool", ["a"], ["gp"], name="gap"),
        helper.make_node("Flatten", ["gp"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wfc", "bfc"], ["fc"], name="fc", transB=1),
        helper.make_node("Dropout", ["fc"], ["d"], name="drop"),
        helper.make_node("MatMul", ["d", "wmm"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "bmm"], ["y"], name="bias"),
    ]
    graph = helper.make_graph(
        nodes, "tiny_onnx",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return model


def test_onnx_import_reads_shapes_from_the_graph(tmp_path):
    path = tmp_path / "tiny.onnx"
    _lenet_like_onnx(path)
    net = load_network(str(path))
    assert net.name == "tiny_onnx" and net.input_shape == (1, 28, 28)
    kinds = {l.name: l.kind for l in net.layers}
    assert kinds == {"conv1": "conv2d", "relu1": "act", "pool1": "pool", "conv2": "conv2d",
                     "bn2": "norm", "proj": "conv2d", "add": "add", "gap": "pool",
                     "flat": "flatten", "fc": "linear", "mm": "linear"}
    assert net["conv1"].matrix_shape == (26, 8) and net["conv1"].out_shape == (8, 28, 28)
    assert net["conv2"].groups == 2 and net["conv2"].matrix_shape == (36, 8)
    assert net["proj"].matrix_shape == (8, 8)
    assert net["fc"].matrix_shape == (9, 16)
    assert net["mm"].matrix_shape == (17, 10)        # the constant Add became its bias row
    assert net["mm"].inputs == ("fc",)               # Dropout passed through
    assert net.output_shape == (10,)


def _model_with(nodes, inits, in_shape, out_shape, name="bad"):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_onnx_bad_files(tmp_path):
    rng = np.random.default_rng(1)
    w = _init("w", (4, 6), rng)
    cases = {
        "missing_shape.onnx": (_model_with([helper.make_node("MatMul", ["x", "w"], ["y"])],
                                           [w], ["N", None], ["N", 6]),
                               ["input 'x'", "missing", "fixed"]),
        "unknown_op.onnx": (_model_with([helper.make_node("Erf", ["x"], ["y"], name="e")],
                                        [], [1, 4], [1, 4]),
                            ["node 'e'", "op_type", "'Erf'", "Conv"]),
        "cycle.onnx": (_model_with([helper.make_node("Relu", ["z"], ["a"], name="r1"),
                                    helper.make_node("Add", ["x", "a"], ["z"], name="add"),
                                    helper.make_node("Relu", ["z"], ["y"], name="r2")],
                                   [], [1, 4], [1, 4]),
                       ["cycle", "->"]),
        "data_weights.onnx": (_model_with([helper.make_node("MatMul", ["x", "x"], ["y"],
                                                            name="mm")],
                                          [], [4, 4], [4, 4]),
                              ["node 'mm'", "weight input", "constant"]),
    }
    for fname, (model, words) in cases.items():
        path = tmp_path / fname
        onnx.save(model, str(path))
        with pytest.raises(UserError) as exc:
            load_network(str(path))
        msg = str(exc.value)
        assert str(path) in msg and "\n" not in msg
        for word in words:
            assert word in msg, (fname, word, msg)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a protobuf at all" * 3)
    with pytest.raises(UserError, match="junk.onnx"):
        load_network(str(junk))


def test_onnx_import_agrees_with_the_zoo(tmp_path):
    """An ONNX export of the zoo's mlp-784 imports to the same matrices."""
    rng = np.random.default_rng(2)
    sizes = (784, 250, 125, 10)
    nodes, inits, prev = [], [], "x"
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        inits += [_init(f"w{i}", (b, a), rng), _init(f"b{i}", (b,), rng)]
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"z{i}"],
                                      name=f"fc{i}", transB=1))
        prev = f"z{i}"
        nodes.append(helper.make_node("Sigmoid", [prev], [f"s{i}"], name=f"act{i}"))
        prev = f"s{i}"
    nodes[-1] = helper.make_node("Softmax", ["z3"], ["y"], name="act3")
    path = tmp_path / "mlp.onnx"
    onnx.save(_model_with(nodes, inits, [1, 784], [1, 10], "mlp"), str(path))
    net, zoo = load_network(str(path)), load_network("mlp-784")
    assert [l.matrix_shape for l in net.weight_layers] == \
        [l.matrix_shape for l in zoo.weight_layers]
    assert math.prod(net.input_shape) == 784
