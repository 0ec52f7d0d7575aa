"""ONNX models with their weights on simulated tiles (inference with PCM drift).

The graph is imported by codesign.network.onnx_import (the same IR the mapper places
and the estimate prices); this module reads the numbers behind each layer from the
ONNX initializers and Constant nodes:

* Conv: kernel (O, C/g, kh, kw) as the crossbar matrix ``W.reshape(O, -1).T`` (rows
  c*kh*kw + ky*kw + kx, the IR's order), the bias as the last row.
* Gemm: ``alpha * B`` (transposed when transB), ``beta * C`` as the bias row; MatMul: B.
  A bias Add the importer folded into a Gemm/MatMul/Conv becomes its bias row.
* BatchNormalization: ``scale = gamma / sqrt(var + epsilon)``, ``shift = beta -
  mean * scale`` per channel, applied digitally to the preceding layer's outputs (the
  scale that follows the ADC). Mul/Add/Sub/Div by a constant: the same affine form.
* LeakyRelu's alpha, AveragePool's count_include_pad; Clip only as ReLU6 (0..6).

Inference then programs every weight layer into PCM tiles (codesign.nn.infer's
InferenceLayer: program-and-verify, then the statistical model's programming noise,
drift and read noise) and reads them at the times asked, with and without global drift
compensation (drift_accuracy_graph).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from ..network import Network
from .graph import ACTS, GraphModel
from .infer import InferenceLayer
from .mlp import SoftwareDense


def _const_values(graph) -> dict[str, np.ndarray]:
    from onnx import numpy_helper
    out = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            for a in node.attribute:
                if a.name == "value":
                    out[node.output[0]] = numpy_helper.to_array(a.t)
    return out


class _Reader:
    def __init__(self, net: Network, importer):
        self.net, self.imp, self.src = net, importer, importer.src
        self.values = _const_values(importer.graph)

    def fail(self, layer: str, what: str, value, allowed: str):
        raise UserError(f"{self.src}: layer {layer!r}: {what}: value {value} does not fit; "
                        f"allowed: {allowed}")

    def const(self, layer: str, tensor: str) -> np.ndarray:
        if tensor not in self.values:
            self.fail(layer, "input", repr(tensor), "a constant initializer")
        v = np.asarray(self.values[tensor], dtype=np.float64)
        if not np.isfinite(v).all():
            self.fail(layer, f"tensor {tensor!r}", "NaN or infinity", "finite numbers")
        return v

    def vector(self, layer: str, v: np.ndarray, n: int, what: str) -> np.ndarray:
        """A per-output constant (bias): n values, or one broadcast to n."""
        flat = v.reshape(-1)
        if flat.size == 1:
            return np.full(n, float(flat[0]))
        if flat.size != n or max(v.shape) != n:
            self.fail(layer, f"{what} shape", list(v.shape), f"{n} values (one per output)")
        return flat

    def matrix(self, layer) -> np.ndarray:
        nodes = self.imp.nodes[layer.name]
        node = nodes[0]
        a = self.imp.attrs(node)
        w = self.const(layer.name, node.input[1])
        bias = None
        if node.op_type == "Conv":
            want = (layer.out_features, layer.in_shape[0] // layer.groups) + layer.kernel
            if w.shape != want:
                self.fail(layer.name, "weight shape", list(w.shape), f"{list(want)} (out, "
                          "in/groups, kh, kw) for the layer's kernel and channels")
            m = w.reshape(w.shape[0], -1).T
            if len(node.input) > 2 and node.input[2]:
                bias = self.const(layer.name, node.input[2])
        else:
            m = w.T if a.get("transB", 0) else w
            if node.op_type == "Gemm":
                m = m * float(a.get("alpha", 1.0))
                if len(node.input) > 2 and node.input[2]:
                    bias = self.const(layer.name, node.input[2]) * float(a.get("beta", 1.0))
            if m.shape != (layer.fan_in, layer.out_features):
                self.fail(layer.name, "weight shape", list(m.shape),
                          f"{[layer.fan_in, layer.out_features]} (inputs, outputs)")
        for extra in nodes[1:]:          # a bias Add folded into this layer
            t = next(i for i in extra.input if i in self.values)
            b = self.const(layer.name, t)
            bias = b if bias is None else bias + b
        if layer.bias:
            b = self.vector(layer.name, bias, layer.out_features, "bias")
            m = np.vstack([m, b[None]])
        return np.ascontiguousarray(m, dtype=np.float64)

    def params(self, layer) -> dict | None:
        node = self.imp.nodes[layer.name][0]
        a = self.imp.attrs(node)
        op = node.op_type
        shape = (1,) + layer.in_shape
        if op == "BatchNormalization":
            gamma, beta, mean, var = (self.const(layer.name, t) for t in node.input[1:5])
            c = layer.in_shape[0]
            for what, v in (("scale", gamma), ("B", beta), ("mean", mean), ("var", var)):
                if v.size != c:
                    self.fail(layer.name, f"{what} shape", list(v.shape), f"{c} values")
            scale = gamma / np.sqrt(var + float(a.get("epsilon", 1e-5)))
            tail = (1,) * (len(layer.in_shape) - 1)
            return {"scale": scale.reshape((c,) + tail),
                    "shift": (beta - mean * scale).reshape((c,) + tail)}
        if layer.kind == "norm":
            data = [t for t in node.input if t not in self.values][0]
            t = next(i for i in node.input if i in self.values)
            c = self.const(layer.name, t)
            first = node.input[0] == data
            if np.broadcast_shapes(shape, c.shape) != shape:
                self.fail(layer.name, "constant shape", list(c.shape),
                          f"a shape that broadcasts to {list(shape)}")
            if op in ("Add", "Sum"):
                return {"scale": 1.0, "shift": c}
            if op == "Sub":
                return {"scale": 1.0, "shift": -c} if first else {"scale": -1.0, "shift": c}
            if op == "Mul":
                return {"scale": c, "shift": 0.0}
            if op == "Div" and first:
                if np.any(c == 0):
                    self.fail(layer.name, "divisor", "0", "non-zero constants")
                return {"scale": 1.0 / c, "shift": 0.0}
            self.fail(layer.name, "op", op, "x + c, x - c, c - x, x * c, x / c")
        if op == "LeakyRelu":
            return {"alpha": float(a.get("alpha", 0.01))}
        if op == "Clip":
            lo = a.get("min", self._clip_bound(layer, node, 1, -np.inf))
            hi = a.get("max", self._clip_bound(layer, node, 2, np.inf))
            if (lo, hi) != (0.0, 6.0):
                self.fail(layer.name, "Clip bounds", [lo, hi], "[0, 6] (ReLU6)")
        if op == "AveragePool":
            return {"count_include_pad": bool(a.get("count_include_pad", 0))}
        if layer.kind == "act" and layer.op not in ACTS and layer.op != "softmax":
            self.fail(layer.name, "activation", layer.op, ", ".join(ACTS))
        return None

    def _clip_bound(self, layer, node, i: int, default: float) -> float:
        if len(node.input) > i and node.input[i]:
            return float(self.const(layer.name, node.input[i]).reshape(-1)[0])
        return default


def load_onnx_model(path: str | Path) -> tuple[Network, dict, dict]:
    """(network, crossbar matrices by weight layer, digital parameters by layer) of an
    ONNX file; a layer whose numbers do not fit gives one line naming it."""
    from ..network.onnx_import import import_onnx
    net, importer = import_onnx(path)
    reader = _Reader(net, importer)
    weights = {l.name: reader.matrix(l) for l in net.weight_layers}
    params = {}
    for layer in net.layers:
        if not layer.has_weights:
            p = reader.params(layer)
            if p:
                params[layer.name] = p
    GraphModel(net, weights, params)          # one output, softmax last
    return net, weights, params


def digital_model(net: Network, weights: dict, params: dict) -> GraphModel:
    """The network with float weights (no devices): the reference."""
    return GraphModel(net, {n: SoftwareDense(w, bias=net[n].bias)
                            for n, w in weights.items()}, params)


class _ReadEngine:
    """An inference layer bound to one read of its tiles (forward only)."""

    def __init__(self, layer: InferenceLayer, blocks):
        self.layer, self.blocks = layer, blocks

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.layer.forward(x, self.blocks)


def drift_accuracy_graph(net: Network, weights: dict, params: dict, spec, x: np.ndarray,
                         y: np.ndarray, times, rng: np.random.Generator,
                         batch: int = 100) -> dict:
    """Test accuracy at each time after programming, with and without global drift
    compensation; weights programmed into PCM tiles cut as the mapping cuts them."""
    from ..mapping.partition import partition
    parts = partition(net, spec)
    digital = digital_model(net, weights, params)
    layers = {n: InferenceLayer(w, spec, rng, parts[n].row_edges, parts[n].col_edges,
                                bias=net[n].bias) for n, w in weights.items()}
    out = {"times": [float(t) for t in times], "accuracy": [], "accuracy_compensated": [],
           "accuracy_digital": digital.accuracy(x, y),
           "tiles": int(sum(parts[n].tiles for n in weights))}
    for t in times:
        for key, comp in (("accuracy", False), ("accuracy_compensated", True)):
            engines = {n: _ReadEngine(l, l.read(t, comp)) for n, l in layers.items()}
            out[key].append(digital.with_engines(engines).accuracy(x, y))
    return out


def onnx_inference(path: str | Path, spec, dataset: str, times, seed: int = 0,
                   images: int | None = None) -> dict:
    """`codesign infer --onnx`: the model's accuracy on the test images of `dataset` with
    float weights and on PCM tiles of `spec` at each time (seconds after programming)."""
    from .build import streams
    from .datasets import dataset_for_inputs
    from .infer import time_label
    net, weights, params = load_onnx_model(path)
    n_in = int(np.prod(net.input_shape))
    data = dataset_for_inputs(dataset, n_in)
    x, y = data.x_test, data.y_test
    if images is not None:
        x, y = x[:images], y[:images]
    classes = net.output_shape[0] if len(net.output_shape) == 1 else 0
    if data.n_classes > classes:
        raise UserError(f"{path}: layer {net.layers[-1].name!r}: {classes} outputs but "
                        f"{data.name} has {data.n_classes} classes; allowed: a model with at "
                        f"least {data.n_classes} outputs")
    out = drift_accuracy_graph(net, weights, params, spec, x, y, times,
                               streams(seed).inference)
    out.update(net=net.name, dataset=data.name, spec=spec.name,
               noise_model=spec.pcm.noise_model, weights_from=str(path),
               test_images=int(len(y)), weight_layers=len(weights),
               time_labels=[time_label(t) for t in times],
               test_accuracy=out["accuracy"][-1],
               test_accuracy_compensated=out["accuracy_compensated"][-1])
    return out
