"""Import an ONNX model into the network IR.

Weights are read only for their shapes (initializers or Constant nodes); the input
shape comes from the graph input (batch axis dropped; every other axis must have a
fixed size). After the IR has inferred its own shapes, they are checked against
ONNX's shape inference wherever ONNX knows a shape, so an operator whose semantics the
IR does not reproduce fails loudly instead of mapping a wrong network.

Operators: Conv, Gemm, MatMul (constant weight), the activations in ACT_OPS, MaxPool,
AveragePool, GlobalAveragePool, GlobalMaxPool, Add/Sum, Concat (channel axis), Flatten,
Reshape/Squeeze to a vector, BatchNormalization; Identity and Dropout pass through; an
Add of a constant right after a Gemm/MatMul/Conv without bias becomes its bias (one
extra row); other element-wise Mul/Add/Sub/Div by a constant become a ``norm`` layer.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .ir import INPUT, Network, build_network

ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Sigmoid": "sigmoid",
               "Tanh": "tanh", "Softmax": "softmax", "Gelu": "gelu", "HardSwish": "hardswish",
               "Clip": "relu6"}
PASS_THROUGH = ("Identity", "Dropout")
SUPPORTED = sorted(["Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
                    "GlobalMaxPool", "Add", "Sum", "Sub", "Mul", "Div", "Concat", "Flatten",
                    "Reshape", "Squeeze", "BatchNormalization", *ACTIVATIONS, *PASS_THROUGH])


def _dims(type_proto) -> list | None:
    """Dimensions of a tensor type: ints, or None for unknown/symbolic axes."""
    t = type_proto.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]


class _Importer:
    def __init__(self, model, source: str):
        import onnx
        from onnx import helper, shape_inference
        self.helper = helper
        self.src = source
        try:
            inferred = shape_inference.infer_shapes(model)
        except Exception:  # noqa: BLE001 - a model ONNX cannot infer still imports
            inferred = model
        self.graph = inferred.graph
        self.const = {t.name: tuple(t.dims) for t in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant" and node.output:
                for a in node.attribute:
                    if a.name == "value":
                        self.const[node.output[0]] = tuple(a.t.dims)
        self.shapes = {}
        for vi in list(self.graph.value_info) + list(self.graph.output) + \
                list(self.graph.input):
            self.shapes[vi.name] = _dims(vi.type)
        self.alias: dict[str, str] = {}
        self.layer_of: dict[str, str] = {}
        self.layers: list[dict] = []
        self.used_names: set[str] = set()
        # the ONNX node(s) behind each layer: its own node, then a bias Add folded into it
        # (codesign.nn.onnx_run reads the weights from them)
        self.nodes: dict[str, list] = {}
        self.onnx = onnx

    def fail(self, node, key: str, value, allowed: str):
        raise UserError(f"{self.src}: node {self._node_name(node)!r} ({node.op_type}): {key}: "
                        f"value {value!r} is not supported; allowed: {allowed}")

    def _node_name(self, node) -> str:
        return node.name or f"{node.op_type}_{list(self.graph.node).index(node)}"

    def attrs(self, node) -> dict:
        return {a.name: self.helper.get_attribute_value(a) for a in node.attribute}

    def data_inputs(self, node) -> list[str]:
        return [t for t in node.input if t and t not in self.const]

    # ---- graph input ----------------------------------------------------------------
    def input_shape(self) -> tuple[str, tuple[int, ...]]:
        data = [vi for vi in self.graph.input if vi.name not in self.const]
        if len(data) != 1:
            raise UserError(f"{self.src}: graph inputs: {[vi.name for vi in data]} is not "
                            "supported; allowed: exactly one data input (weights as "
                            "initializers)")
        vi = data[0]
        dims = _dims(vi.type)
        if dims is None or len(dims) not in (2, 4):
            raise UserError(f"{self.src}: input {vi.name!r}: shape {dims!r} is missing or "
                            "not allowed; allowed: [batch, features] or [batch, C, H, W] "
                            "with fixed sizes (export the model with a fixed input shape)")
        if any(d is None or d < 1 for d in dims[1:]):
            raise UserError(f"{self.src}: input {vi.name!r}: shape {dims!r} has missing "
                            "sizes; allowed: fixed sizes on every axis but the batch axis "
                            "(export the model with a fixed input shape)")
        return vi.name, tuple(dims[1:])

    # ---- nodes ------------------------------------------------------------------------
    def emit(self, node, kind: str, inputs: list[str], **fields) -> None:
        name = self._node_name(node)
        base, k = name, 1
        while name in self.used_names or name == INPUT:
            k += 1
            name = f"{base}_{k}"
        self.used_names.add(name)
        self.layers.append(dict(name=name, kind=kind, inputs=inputs, **fields))
        self.layer_of[node.output[0]] = name
        self.nodes[name] = [node]

    def weight_dims(self, node, tensor: str, rank: int) -> tuple:
        dims = self.const.get(tensor)
        if dims is None:
            self.fail(node, "weight input", tensor, "a constant initializer (weights stored "
                      "in the model)")
        if len(dims) != rank:
            self.fail(node, "weight shape", list(dims), f"a rank-{rank} tensor")
        return dims

    def convert(self, node) -> None:
        op, a = node.op_type, self.attrs(node)
        data = self.data_inputs(node)
        if op in PASS_THROUGH:
            self.alias[node.output[0]] = node.input[0]
        elif op == "Conv":
            w = self.weight_dims(node, node.input[1], 4)
            k = list(a.get("kernel_shape", w[2:]))
            pad = self.pads(node, a, k, a.get("strides", [1, 1]), a.get("dilations", [1, 1]))
            self.emit(node, "conv2d", data[:1], out_channels=int(w[0]), kernel=k,
                      stride=list(a.get("strides", [1, 1])), padding=pad,
                      dilation=list(a.get("dilations", [1, 1])), groups=int(a.get("group", 1)),
                      bias=len(node.input) > 2 and bool(node.input[2]))
        elif op in ("Gemm", "MatMul"):
            if a.get("transA", 0):
                self.fail(node, "transA", a["transA"], "0")
            w = self.weight_dims(node, node.input[1], 2)
            out = w[0] if a.get("transB", 0) else w[1]
            self.emit(node, "linear", data[:1], out_features=int(out),
                      bias=op == "Gemm" and len(node.input) > 2 and bool(node.input[2]))
        elif op in ACTIVATIONS:
            self.emit(node, "act", data[:1], op=ACTIVATIONS[op])
        elif op in ("MaxPool", "AveragePool"):
            if a.get("ceil_mode", 0):
                self.fail(node, "ceil_mode", a["ceil_mode"], "0")
            if any(d != 1 for d in a.get("dilations", [1, 1])):
                self.fail(node, "dilations", a["dilations"], "[1, 1]")
            k = list(a["kernel_shape"])
            self.emit(node, "pool", data[:1], mode="max" if op == "MaxPool" else "avg",
                      kernel=k, stride=list(a.get("strides", [1, 1])),
                      padding=self.pads(node, a, k, a.get("strides", [1, 1]), [1, 1]))
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            self.emit(node, "pool", data[:1], mode="avg" if "Average" in op else "max",
                      global_pool=True)
        elif op == "BatchNormalization":
            self.emit(node, "norm", data[:1])
        elif op in ("Add", "Sum", "Sub", "Mul", "Div") and len(data) == 1:
            self.elementwise_constant(node, data[0])
        elif op in ("Add", "Sum") and len(data) >= 2:
            self.emit(node, "add", data)
        elif op == "Concat":
            if a.get("axis") != 1:
                self.fail(node, "axis", a.get("axis"), "1 (the channel axis)")
            self.emit(node, "concat", data)
        elif op in ("Flatten", "Reshape", "Squeeze"):
            out = self.shapes.get(node.output[0])
            if op == "Flatten" and a.get("axis", 1) != 1:
                self.fail(node, "axis", a.get("axis"), "1")
            if op != "Flatten" and (out is None or len(out) != 2):
                self.fail(node, "output shape", out, "[batch, features] (a flatten); the "
                          "output shape must be known to ONNX shape inference")
            self.emit(node, "flatten", data[:1])
        else:
            self.fail(node, "op_type", op, ", ".join(SUPPORTED))

    def elementwise_constant(self, node, data: str) -> None:
        """x + b right after a bias-free weight layer is its bias; else a norm layer."""
        prev_name = self.layer_of.get(self.resolve(data))
        if node.op_type in ("Add", "Sum") and prev_name is not None:
            layer = next(l for l in self.layers if l["name"] == prev_name)
            if layer["kind"] in ("linear", "conv2d") and not layer["bias"]:
                layer["bias"] = True
                self.alias[node.output[0]] = data
                self.nodes[prev_name].append(node)
                return
        self.emit(node, "norm", [data])

    def pads(self, node, a: dict, k, s, d) -> list[int]:
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", "VALID"):
            p = list(a.get("pads", [0, 0, 0, 0])) if auto == "NOTSET" else [0, 0, 0, 0]
            if len(p) != 4:
                self.fail(node, "pads", p, "4 values (2-D operators only)")
            return [p[0], p[1], p[2], p[3]]  # ONNX: [y_begin, x_begin, y_end, x_end]
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            self.fail(node, "auto_pad", auto, "NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        shape = self.shapes.get(self.resolve(node.input[0]))
        if shape is None or len(shape) != 4 or None in shape[2:]:
            self.fail(node, "input shape", shape, "known to ONNX shape inference (needed "
                      "for auto_pad SAME)")
        begin, end = [], []
        for size, kk, ss, dd in zip(shape[2:], k, s, d):
            total = max((-(-size // ss) - 1) * ss + (kk - 1) * dd + 1 - size, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return [begin[0], begin[1], end[0], end[1]]

    def resolve(self, tensor: str) -> str:
        seen = set()
        while tensor in self.alias and tensor not in seen:
            seen.add(tensor)
            tensor = self.alias[tensor]
        return tensor

    def run(self, name: str) -> Network:
        input_name, in_shape = self.input_shape()
        for node in self.graph.node:
            if node.op_type == "Constant":
                continue
            self.convert(node)
        for layer in self.layers:
            ins = []
            for t in layer["inputs"]:
                t = self.resolve(t)
                if t == input_name:
                    ins.append(INPUT)
                elif t in self.layer_of:
                    ins.append(self.layer_of[t])
                else:
                    raise UserError(f"{self.src}: layer {layer['name']!r}: input tensor {t!r} "
                                    "is produced by no node; allowed: the graph input or a "
                                    "node output")
            layer["inputs"] = ins
        net = build_network(name, in_shape, self.layers, source=self.src)
        self.check_shapes(net)
        return net

    def check_shapes(self, net: Network) -> None:
        for tensor, lname in self.layer_of.items():
            onnx_dims = self.shapes.get(tensor)
            if not onnx_dims or None in onnx_dims[1:]:
                continue
            ours = net[lname].out_shape
            if tuple(onnx_dims[1:]) != ours:
                raise UserError(f"{self.src}: layer {lname!r}: output shape {list(ours)} "
                                f"differs from ONNX's {onnx_dims[1:]}; allowed: operators "
                                "whose shapes the IR reproduces (see docs/mapping.md)")


def read_onnx(path: str | Path):
    """The ModelProto of an ONNX file; a clear error if it is not one."""
    import onnx
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types
        raise UserError(f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})") \
            from None


def import_onnx(path: str | Path):
    """(Network, importer): the importer keeps each layer's ONNX nodes and the graph."""
    path = Path(path)
    model = read_onnx(path)
    importer = _Importer(model, str(path))
    return importer.run(model.graph.name or path.stem), importer


def load_network_onnx(path: str | Path) -> Network:
    """Import an ONNX file; errors name the file, the node, the field and the value."""
    return import_onnx(path)[0]
