"""Network IR: a directed acyclic graph of layers with inferred shapes.

Tensors are per example (no batch axis): ``(C, H, W)`` for feature maps, ``(F,)`` for
vectors. A network is built from plain layer descriptions (dicts, the same keys as the
YAML format, see docs/mapping.md) by :func:`build_network`, which checks every field,
sorts the layers topologically and infers every shape, raising
:class:`~codesign.errors.UserError` with one line naming the source, layer, field, value
and what is allowed.

How a layer sits on crossbar tiles (read by codesign.mapping and codesign.nn):

* ``linear``: a ``(fan_in + bias) x out_features`` matrix, one matrix-vector product
  (MVM) per example.
* ``conv2d``: unrolled (im2col) into a ``(kh*kw*C_in/groups + bias) x C_out`` matrix,
  rows ordered channel-major (row = c*kh*kw + ky*kw + kx), one MVM per output position.
  Grouped and depthwise convolutions are *packed*: the kernels of all groups share the
  same ``kh*kw*C_in/groups`` word lines and sit side by side in the columns, so the
  tiles hold exactly the layer's weights (no block-diagonal zeros). The price is time:
  each group needs its own input vector on the shared rows, so a grouped conv does
  ``groups`` MVMs per output position, each reading ``C_out/groups`` columns
  (``mvm_shape``). A depthwise 3x3 conv over 512 channels is a 9 x 512 matrix on one
  tile but 512 MVMs per position.
* A bias is one extra word line driven with the constant input 1, so it costs a row:
  528-250-125-10 with biases holds 164,885 weights, the synapse count Ambrogio et al.
  (Nature 2018) quote for IBM's earlier PCM experiment.
* ``pool``, ``act``, ``norm`` (batch norm: a per-channel scale and shift, folded or done
  digitally), ``add``, ``concat`` and ``flatten`` hold no crossbar weights; they run in
  the tiles' digital periphery.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import networkx as nx

from ..errors import UserError

#: Name a layer uses in ``inputs`` to read the network input.
INPUT = "input"

ACT_OPS = ("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax", "gelu",
           "hardswish", "identity")
POOL_MODES = ("max", "avg")

#: Allowed keys per kind (besides name, kind, inputs); value = (default, description).
FIELDS: dict[str, dict[str, tuple[Any, str]]] = {
    "linear": {"out_features": (None, "int >= 1"), "bias": (True, "true or false")},
    "conv2d": {"out_channels": (None, "int >= 1"), "kernel": (None, "int or [kh, kw]"),
               "stride": (1, "int or [sh, sw]"),
               "padding": (0, "int, [ph, pw] or [top, left, bottom, right]"),
               "dilation": (1, "int or [dh, dw]"),
               "groups": (1, "int >= 1 dividing in and out channels"),
               "bias": (True, "true or false")},
    "pool": {"mode": ("max", "one of " + ", ".join(POOL_MODES)),
             "kernel": (None, "int or [kh, kw] (not with global_pool)"),
             "stride": (None, "int or [sh, sw] (default: the kernel)"),
             "padding": (0, "int, [ph, pw] or [top, left, bottom, right]"),
             "global_pool": (False, "true or false")},
    "act": {"op": ("relu", "one of " + ", ".join(ACT_OPS))},
    "norm": {},
    "add": {},
    "concat": {},
    "flatten": {},
}
KINDS = tuple(FIELDS)
WEIGHT_KINDS = ("linear", "conv2d")


def _fail(source: str, layer: str, key: str, value: Any, allowed: str) -> None:
    raise UserError(f"{source}: layer {layer!r}: {key}: value {value!r} is not allowed; "
                    f"allowed: {allowed}")


@dataclass(frozen=True)
class Layer:
    """One node of the network. Shapes are inferred; attributes unused by a kind keep
    their defaults. ``padding`` is (top, left, bottom, right)."""
    name: str
    kind: str
    inputs: tuple[str, ...]
    in_shapes: tuple[tuple[int, ...], ...]
    out_shape: tuple[int, ...]
    out_features: int = 0          # linear: outputs; conv2d: out_channels
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    bias: bool = False
    op: str = ""                   # act: the function; pool: "max" or "avg"
    global_pool: bool = False

    @property
    def in_shape(self) -> tuple[int, ...]:
        return self.in_shapes[0]

    @property
    def has_weights(self) -> bool:
        return self.kind in WEIGHT_KINDS

    @property
    def fan_in(self) -> int:
        """Inputs feeding one output (bias excluded)."""
        if self.kind == "linear":
            return self.in_shape[0]
        if self.kind == "conv2d":
            return self.kernel[0] * self.kernel[1] * self.in_shape[0] // self.groups
        return 0

    @property
    def matrix_shape(self) -> tuple[int, int] | None:
        """(rows, cols) of the crossbar matrix (bias row included), None without weights."""
        if not self.has_weights:
            return None
        return self.fan_in + int(self.bias), self.out_features

    @property
    def weights(self) -> int:
        """Weights stored on crossbars (the bias row included)."""
        shape = self.matrix_shape
        return shape[0] * shape[1] if shape else 0

    @property
    def positions(self) -> int:
        """Output positions (H*W for feature maps, 1 for vectors)."""
        return math.prod(self.out_shape[1:]) if len(self.out_shape) == 3 else 1

    @property
    def mvms_per_inference(self) -> int:
        """Matrix-vector products per example: 1 for linear, H_out*W_out*groups for conv
        (a packed grouped conv runs one MVM per group per position, see module doc)."""
        if self.kind == "linear":
            return 1
        if self.kind == "conv2d":
            return self.positions * self.groups
        return 0

    @property
    def mvm_shape(self) -> tuple[int, int] | None:
        """(rows driven, columns read) by one MVM."""
        if not self.has_weights:
            return None
        rows, cols = self.matrix_shape
        return rows, cols // self.groups

    @property
    def macs(self) -> int:
        """Multiply-accumulates per example (bias additions not counted)."""
        if not self.has_weights:
            return 0
        return self.positions * self.fan_in * self.out_features

    def describe(self) -> dict:
        """The layer as a YAML-format dict (only the fields its kind uses)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind,
                               "inputs": list(self.inputs)}
        if self.kind == "linear":
            out.update(out_features=self.out_features, bias=self.bias)
        elif self.kind == "conv2d":
            out.update(out_channels=self.out_features, kernel=list(self.kernel),
                       stride=list(self.stride), padding=list(self.padding),
                       dilation=list(self.dilation), groups=self.groups, bias=self.bias)
        elif self.kind == "pool":
            out.update(mode=self.op, global_pool=self.global_pool)
            if not self.global_pool:
                out.update(kernel=list(self.kernel), stride=list(self.stride),
                           padding=list(self.padding))
        elif self.kind == "act":
            out.update(op=self.op)
        return out


@dataclass(frozen=True)
class Network:
    """A validated network: ``layers`` in topological order, shapes inferred."""
    name: str
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    source: str = ""
    _index: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {l.name: l for l in self.layers})

    def __getitem__(self, name: str) -> Layer:
        return self._index[name]

    def __contains__(self, name: str) -> bool:
        return name in self._index

    @property
    def weight_layers(self) -> list[Layer]:
        return [l for l in self.layers if l.has_weights]

    @property
    def outputs(self) -> list[Layer]:
        """Layers no other layer reads (the network's results)."""
        used = {i for l in self.layers for i in l.inputs}
        return [l for l in self.layers if l.name not in used]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape if self.layers else self.input_shape

    def consumers(self, name: str) -> list[Layer]:
        return [l for l in self.layers if name in l.inputs]

    @property
    def macs(self) -> int:
        return sum(l.macs for l in self.layers)

    @property
    def weights(self) -> int:
        return sum(l.weights for l in self.layers)

    def to_dict(self) -> dict:
        """The YAML network format (load_network reads it back)."""
        return {"name": self.name, "input": list(self.input_shape),
                "layers": [l.describe() for l in self.layers]}


# ---- building and shape inference ------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _pair(v: Any, src: str, layer: str, key: str, lo: int) -> tuple[int, int]:
    vals = [v, v] if _is_int(v) else v
    if not isinstance(vals, (list, tuple)) or len(vals) != 2 or \
            not all(_is_int(x) and x >= lo for x in vals):
        _fail(src, layer, key, v, f"an int >= {lo} or a list of two")
    return int(vals[0]), int(vals[1])


def _padding(v: Any, src: str, layer: str) -> tuple[int, int, int, int]:
    if _is_int(v) or (isinstance(v, (list, tuple)) and len(v) == 2):
        ph, pw = _pair(v, src, layer, "padding", 0)
        return ph, pw, ph, pw
    if isinstance(v, (list, tuple)) and len(v) == 4 and all(_is_int(x) and x >= 0 for x in v):
        return tuple(int(x) for x in v)
    _fail(src, layer, "padding", v, FIELDS["conv2d"]["padding"][1] + " (ints >= 0)")


def _window_out(size: int, k: int, s: int, p0: int, p1: int, d: int = 1) -> int:
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _infer(spec: dict, in_shapes: list[tuple[int, ...]], src: str) -> dict:
    """Check a layer's fields against its input shapes; return Layer keyword arguments."""
    name, kind = spec["name"], spec["kind"]
    get = lambda key: spec.get(key, FIELDS[kind][key][0])  # noqa: E731
    shape = in_shapes[0]
    if kind not in ("add", "concat") and len(in_shapes) != 1:
        _fail(src, name, "inputs", list(spec["inputs"]), f"exactly one input for {kind}")
    if kind in ("add", "concat") and len(in_shapes) < 2:
        _fail(src, name, "inputs", list(spec["inputs"]), f"two or more inputs for {kind}")
    for key in ("bias", "global_pool"):
        if key in FIELDS[kind] and not isinstance(get(key), bool):
            _fail(src, name, key, get(key), "true or false")
    kw: dict[str, Any] = {}
    if kind == "linear":
        n = get("out_features")
        if not _is_int(n) or n < 1:
            _fail(src, name, "out_features", n, "an int >= 1")
        if len(shape) != 1:
            _fail(src, name, "input shape", list(shape), "a vector (F,); add a flatten layer")
        kw.update(out_features=n, bias=get("bias"), out_shape=(n,))
    elif kind in ("conv2d", "pool"):
        if len(shape) != 3:
            _fail(src, name, "input shape", list(shape), "a feature map (C, H, W)")
        c, h, w = shape
        if kind == "pool" and get("global_pool"):
            kw.update(op=get("mode"), global_pool=True, kernel=(h, w), stride=(h, w),
                      out_shape=(c, 1, 1))
            if get("mode") not in POOL_MODES:
                _fail(src, name, "mode", get("mode"), FIELDS["pool"]["mode"][1])
            return kw
        if get("kernel") is None:
            _fail(src, name, "kernel", None, "an int >= 1 or a list of two")
        k = _pair(get("kernel"), src, name, "kernel", 1)
        s = _pair(get("stride") if get("stride") is not None else k, src, name, "stride", 1)
        p = _padding(get("padding"), src, name)
        d = _pair(get("dilation"), src, name, "dilation", 1) if kind == "conv2d" else (1, 1)
        ho = _window_out(h, k[0], s[0], p[0], p[2], d[0])
        wo = _window_out(w, k[1], s[1], p[1], p[3], d[1])
        if ho < 1 or wo < 1:
            _fail(src, name, "kernel", list(k), f"a window that fits the padded {h}x{w} input")
        kw.update(kernel=k, stride=s, padding=p, dilation=d)
        if kind == "pool":
            if get("mode") not in POOL_MODES:
                _fail(src, name, "mode", get("mode"), FIELDS["pool"]["mode"][1])
            kw.update(op=get("mode"), out_shape=(c, ho, wo))
        else:
            n, g = get("out_channels"), get("groups")
            if not _is_int(n) or n < 1:
                _fail(src, name, "out_channels", n, "an int >= 1")
            if not _is_int(g) or g < 1 or c % g or n % g:
                _fail(src, name, "groups", g, f"an int >= 1 dividing in_channels={c} and "
                      f"out_channels={n}")
            kw.update(out_features=n, groups=g, bias=get("bias"), out_shape=(n, ho, wo))
    elif kind == "act":
        if get("op") not in ACT_OPS:
            _fail(src, name, "op", get("op"), FIELDS["act"]["op"][1])
        kw.update(op=get("op"), out_shape=shape)
    elif kind == "norm":
        kw.update(out_shape=shape)
    elif kind == "flatten":
        kw.update(out_shape=(math.prod(shape),))
    elif kind == "add":
        if any(s != shape for s in in_shapes):
            _fail(src, name, "input shapes", [list(s) for s in in_shapes], "equal shapes")
        kw.update(out_shape=shape)
    elif kind == "concat":
        if any(len(s) != len(shape) or s[1:] != shape[1:] for s in in_shapes):
            _fail(src, name, "input shapes", [list(s) for s in in_shapes],
                  "shapes equal except the channel (first) axis")
        kw.update(out_shape=(sum(s[0] for s in in_shapes),) + tuple(shape[1:]))
    return kw


# Largest size of one axis of a layer's input or output, and most weights of one layer:
# far above any network of the zoo (ResNet-18: 512 channels, 2.4M weights in one layer)
# and small enough that partitioning and mapping the layer stays in memory.
MAX_DIM = 2 ** 24
MAX_LAYER_WEIGHTS = 2 ** 34


def _check_shape(shape: Any, src: str) -> tuple[int, ...]:
    if not isinstance(shape, (list, tuple)) or len(shape) not in (1, 3) or \
            not all(_is_int(v) and 1 <= v <= MAX_DIM for v in shape):
        raise UserError(f"{src}: input: value {shape!r} is not a shape; allowed: [features] "
                        f"or [channels, height, width], ints from 1 to {MAX_DIM:,} (batch "
                        "axis excluded)")
    return tuple(int(v) for v in shape)


def build_network(name: str, input_shape: Sequence[int], layers: Iterable[Mapping],
                  source: str = "") -> Network:
    """Validate layer descriptions and return a Network in topological order.

    Each description is a mapping with ``name``, ``kind``, optional ``inputs`` (a list of
    layer names or ``"input"``; default: the previous layer, or the network input for
    the first) and the kind's fields (see FIELDS). Errors name `source` (a file or
    network name), the layer, the field, the value and what is allowed.
    """
    src = source or name
    in_shape = _check_shape(input_shape, src)
    specs: list[dict] = []
    previous = INPUT
    for pos, raw in enumerate(layers):
        if not isinstance(raw, Mapping):
            raise UserError(f"{src}: layers[{pos}]: value {raw!r} is not a mapping; allowed: "
                            "a mapping with name, kind and the kind's fields")
        spec = dict(raw)
        lname = spec.get("name", f"layer{pos}")
        if not isinstance(lname, str) or not lname or lname == INPUT:
            _fail(src, f"layers[{pos}]", "name", lname, f"a non-empty string other than "
                  f"{INPUT!r}")
        kind = spec.get("kind")
        if kind not in FIELDS:
            _fail(src, lname, "kind", kind, "one of " + ", ".join(KINDS))
        unknown = sorted(set(spec) - set(FIELDS[kind]) - {"name", "kind", "inputs"})
        if unknown:
            _fail(src, lname, unknown[0], spec[unknown[0]], "keys name, kind, inputs, "
                  + ", ".join(FIELDS[kind]) if FIELDS[kind] else "keys name, kind, inputs")
        inputs = spec.get("inputs", [previous])
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, (list, tuple)) or not inputs or \
                not all(isinstance(i, str) for i in inputs):
            _fail(src, lname, "inputs", inputs, "a list of layer names or 'input'")
        spec.update(name=lname, inputs=tuple(inputs))
        specs.append(spec)
        previous = lname
    by_name: dict[str, dict] = {}
    for spec in specs:
        if spec["name"] in by_name:
            _fail(src, spec["name"], "name", spec["name"], "a name used by one layer only")
        by_name[spec["name"]] = spec
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(specs)))
    index = {s["name"]: i for i, s in enumerate(specs)}
    for i, spec in enumerate(specs):
        for inp in spec["inputs"]:
            if inp != INPUT and inp not in index:
                _fail(src, spec["name"], "inputs", inp,
                      f"{INPUT!r} or a layer name ({', '.join(list(index)[:8])}"
                      f"{', ...' if len(index) > 8 else ''})")
            if inp != INPUT:
                graph.add_edge(index[inp], i)
    try:
        order = list(nx.lexicographical_topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = [specs[u]["name"] for u, _ in nx.find_cycle(graph)]
        raise UserError(f"{src}: layer {cycle[0]!r}: inputs: the graph has a cycle "
                        f"{' -> '.join(cycle + cycle[:1])}; allowed: an acyclic graph "
                        "(every layer reads only earlier results)") from None
    shapes: dict[str, tuple[int, ...]] = {INPUT: in_shape}
    built = []
    for i in order:
        spec = specs[i]
        in_shapes = [shapes[n] for n in spec["inputs"]]
        kw = _infer(spec, in_shapes, src)
        if max(kw["out_shape"]) > MAX_DIM:
            key = "out_features" if spec["kind"] == "linear" else "out_channels"
            _fail(src, spec["name"], key if key in spec else "output shape",
                  list(kw["out_shape"]), f"outputs of at most {MAX_DIM:,} per axis")
        layer = Layer(name=spec["name"], kind=spec["kind"], inputs=spec["inputs"],
                      in_shapes=tuple(in_shapes), **kw)
        if layer.weights > MAX_LAYER_WEIGHTS:
            _fail(src, layer.name, "weights", layer.weights,
                  f"at most {MAX_LAYER_WEIGHTS:,} weights in one layer")
        shapes[layer.name] = layer.out_shape
        built.append(layer)
    return Network(name=name, input_shape=in_shape, layers=tuple(built), source=src)
