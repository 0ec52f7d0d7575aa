"""Write a network of the IR with its weights as an ONNX model (opset 17), the inverse of
codesign.nn.onnx_run: Conv/Gemm with the crossbar matrices reshaped back (bias row to
the bias input), norm as Mul + Add, pools, Add, Concat, Flatten, activations. A model
trained here can then be run by `codesign infer --onnx` or by any ONNX runtime.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from ..network import INPUT, Network

OPSET = 17
_ACT_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
            "leaky_relu": "LeakyRelu", "gelu": None, "hardswish": "HardSwish",
            "relu6": "Clip", "identity": "Identity"}


def to_onnx(net: Network, weights: dict, params: dict | None = None):
    """A ModelProto of `net` with crossbar matrices `weights` (fan_in [+ bias], out) and
    digital parameters `params` (as codesign.nn.onnx_run.load_onnx_model returns)."""
    from onnx import TensorProto, helper, numpy_helper
    params = params or {}
    inits, nodes = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def t(name):
        return "x" if name == INPUT else name

    for layer in net.layers:
        ins, out, n = [t(i) for i in layer.inputs], layer.name, layer.name
        p = params.get(n, {})
        if layer.kind in ("conv2d", "linear"):
            w = np.asarray(weights[n], dtype=np.float64)
            m, b = (w[:-1], w[-1]) if layer.bias else (w, None)
            if layer.kind == "conv2d":
                c = layer.in_shape[0] // layer.groups
                kernel = m.T.reshape(layer.out_features, c, *layer.kernel)
                args = [ins[0], const(n + ".weight", kernel)]
                if b is not None:
                    args.append(const(n + ".bias", b))
                pd = layer.padding
                nodes.append(helper.make_node(
                    "Conv", args, [out], name=n, kernel_shape=list(layer.kernel),
                    strides=list(layer.stride), dilations=list(layer.dilation),
                    pads=[pd[0], pd[1], pd[2], pd[3]], group=layer.groups))
            else:
                args = [ins[0], const(n + ".weight", m)]
                if b is not None:
                    args.append(const(n + ".bias", b))
                nodes.append(helper.make_node("Gemm", args, [out], name=n))
        elif layer.kind == "act":
            op = _ACT_OPS[layer.op]
            if layer.op == "gelu":
                raise UserError(f"layer {n!r}: gelu is not exported (ONNX Gelu needs opset "
                                "20); allowed: the other activations")
            extra = {}
            args = list(ins)
            if layer.op == "leaky_relu":
                extra["alpha"] = float(p.get("alpha", 0.01))
            if layer.op == "relu6":
                args += [const(n + ".min", 0.0), const(n + ".max", 6.0)]
            if layer.op == "softmax":
                extra["axis"] = 1
            nodes.append(helper.make_node(op, args, [out], name=n, **extra))
        elif layer.kind == "pool":
            if layer.global_pool:
                op = "GlobalMaxPool" if layer.op == "max" else "GlobalAveragePool"
                nodes.append(helper.make_node(op, ins, [out], name=n))
            else:
                pd = layer.padding
                extra = dict(kernel_shape=list(layer.kernel), strides=list(layer.stride),
                             pads=[pd[0], pd[1], pd[2], pd[3]])
                if layer.op == "avg":
                    extra["count_include_pad"] = int(p.get("count_include_pad", False))
                nodes.append(helper.make_node("MaxPool" if layer.op == "max" else
                                              "AveragePool", ins, [out], name=n, **extra))
        elif layer.kind == "norm":
            scale = np.broadcast_to(np.asarray(p.get("scale", 1.0)), layer.in_shape)
            shift = np.broadcast_to(np.asarray(p.get("shift", 0.0)), layer.in_shape)
            nodes.append(helper.make_node("Mul", [ins[0], const(n + ".scale", scale)],
                                          [n + ".scaled"], name=n + ".mul"))
            nodes.append(helper.make_node("Add", [n + ".scaled", const(n + ".shift", shift)],
                                          [out], name=n))
        elif layer.kind == "add":
            nodes.append(helper.make_node("Sum", ins, [out], name=n))
        elif layer.kind == "concat":
            nodes.append(helper.make_node("Concat", ins, [out], name=n, axis=1))
        elif layer.kind == "flatten":
            nodes.append(helper.make_node("Flatten", ins, [out], name=n, axis=1))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, *net.input_shape])
    y = helper.make_tensor_value_info(net.layers[-1].name, TensorProto.FLOAT,
                                      [None, *net.output_shape])
    graph = helper.make_graph(nodes, net.name, [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="codesign")
    return model


def save_onnx(path: str | Path, net: Network, weights: dict, params: dict | None = None,
              what: str = "path") -> None:
    """Write to_onnx(...) to `path` (a temporary file renamed: nothing half-written); an
    error names `what` the path is (codesign.fileio)."""
    import onnx
    from ..fileio import atomic_path, check_output
    path = check_output(path, what, ".onnx")
    model = to_onnx(net, weights, params)
    onnx.checker.check_model(model)
    with atomic_path(path, what) as tmp:
        onnx.save(model, str(tmp))


def export_saved_weights(weights_path: str | Path, out_path: str | Path) -> Network:
    """Write the weights saved by `codesign train --save W.npz` (any network of the IR) as
    an ONNX model; returns the network."""
    from .build import resolve_network
    from .store import load_weights
    weights, meta = load_weights(weights_path)
    net = resolve_network(meta["net"])
    names = [l.name for l in net.weight_layers]
    shapes = [net[n].matrix_shape for n in names]
    if [w.shape for w in weights] != shapes:
        raise UserError(f"weights {weights_path}: layer shapes {[w.shape for w in weights]} "
                        f"do not match net {meta['net']} {shapes}", field="weights")
    save_onnx(out_path, net, dict(zip(names, weights)), what="out_path")
    return net
