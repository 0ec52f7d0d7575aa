"""From a network description to a trainable MLP in software or on tiles.

Networks come from codesign.network (zoo names such as ``mlp-2018`` = 528-250-125-10,
``mlp-784``, YAML or ONNX files) or from a layer-size string such as ``64-32-10``
(built by the zoo's perceptron builder: linear layers with bias, tanh hidden units,
softmax output). Training supports chains of linear layers (an optional flatten first).

Random streams: one SeedSequence per run, spawned into independent generators for the
initial weights, the devices (variation, noise), the order of the training images and
inference (drift) reads,
so the software baseline and every cell start from the same weights and see the images
in the same order for the same seed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..mapping.partition import partition
from ..network import Network, load_network
from ..network.zoo import perceptron
from ..spec import Spec
from .analog import DEFAULT_OUTPUT_RANGE, DEFAULT_RANGE, AnalogDense
from .hwaware import HardwareAwareDense
from .mlp import ACTIVATIONS, MLP, SoftwareDense, init_weights

CELL_CHOICES = ("2pcm3t1c", "pcm-pair", "4pcm-diff", "ideal", "software")
_SIZES = re.compile(r"^\d+(-\d+)+$")


def resolve_network(name: str) -> Network:
    """A codesign.network name or file, or a layer-size string like ``64-32-10``."""
    if _SIZES.match(name):
        sizes = [int(s) for s in name.split("-")]
        if min(sizes) < 1:
            raise UserError(f"net {name}: layer sizes must be >= 1", field="net")
        return perceptron(name, tuple(sizes), source=f"net {name}")
    return load_network(name)


@dataclass(frozen=True)
class Layout:
    """An MLP read from the IR: sizes (inputs first), hidden activations, layer names."""
    sizes: tuple[int, ...]
    hidden: tuple[str, ...]
    names: tuple[str, ...]


def mlp_layout(net: Network) -> Layout:
    """Check that `net` is a chain of biased linear layers with supported activations."""
    allowed = ("a chain of linear layers with bias, each optionally followed by an act "
               f"({', '.join(ACTIVATIONS)}; softmax last), an optional flatten first")
    sizes = [math.prod(net.input_shape)]
    hidden: list[str] = []
    names: list[str] = []
    acts: list[str | None] = []
    previous = "input"
    for layer in net.layers:
        if tuple(layer.inputs) != (previous,):
            raise UserError(f"net {net.name}: layer {layer.name!r} is not in a chain; "
                            f"allowed: {allowed}", field="net")
        previous = layer.name
        if layer.kind == "flatten" and not names:
            continue
        if layer.kind == "linear":
            if not layer.bias:
                raise UserError(f"net {net.name}: layer {layer.name!r}: bias: value False; "
                                f"allowed: {allowed}", field="net")
            if len(acts) < len(names):
                acts.append("identity")
            names.append(layer.name)
            sizes.append(layer.out_features)
        elif layer.kind == "act" and names and len(acts) < len(names):
            acts.append(layer.op)
        else:
            raise UserError(f"net {net.name}: layer {layer.name!r} ({layer.kind}) is not "
                            f"supported for training; allowed: {allowed}", field="net")
    if not names:
        raise UserError(f"net {net.name}: no linear layers; allowed: {allowed}", field="net")
    acts += ["identity"] * (len(names) - len(acts))
    for name, op in zip(names[:-1], acts[:-1]):
        if op not in ACTIVATIONS:
            raise UserError(f"net {net.name}: activation after {name!r}: value {op!r}; "
                            f"allowed: {', '.join(ACTIVATIONS)}", field="net")
        hidden.append(op)
    if acts[-1] not in ("softmax", "identity"):
        raise UserError(f"net {net.name}: output activation {acts[-1]!r}; allowed: "
                        "softmax or none (the loss is softmax cross-entropy)", field="net")
    return Layout(tuple(sizes), tuple(hidden), tuple(names))


@dataclass(frozen=True)
class Streams:
    init: np.random.Generator
    devices: np.random.Generator
    order: np.random.Generator
    inference: np.random.Generator   # programming and reads for inference with drift


def streams(seed: int) -> Streams:
    return Streams(*(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)))


def layer_ranges(range_factor, n_layers: int) -> list[float]:
    """One weight-range factor per layer from a number (all layers), a sequence, or None
    (DEFAULT_RANGE for hidden layers, DEFAULT_OUTPUT_RANGE for the output layer)."""
    if range_factor is None:
        return [DEFAULT_RANGE] * (n_layers - 1) + [DEFAULT_OUTPUT_RANGE]
    values = list(range_factor) if isinstance(range_factor, (list, tuple)) else \
        [range_factor] * n_layers
    if len(values) != n_layers or not all(isinstance(v, (int, float)) and v > 0
                                          for v in values):
        per_layer = f" or {n_layers} numbers > 0 (one per layer)" if n_layers > 1 else ""
        raise UserError(f"range_factor: value {range_factor!r}; allowed: a number > 0"
                        + per_layer, field="range_factor")
    return [float(v) for v in values]


def is_perceptron(net: Network) -> bool:
    """True when `net` is a chain of biased linear layers (trained as an MLP)."""
    try:
        mlp_layout(net)
    except UserError:
        return False
    return True


def model_layout(net: Network) -> Layout:
    """The perceptron layout of `net`, or for any other network (convolutions, residual
    blocks, ...) its graph layout (codesign.nn.graph): trained as a GraphModel."""
    try:
        return mlp_layout(net)
    except UserError:
        from .graph import graph_layout
        return graph_layout(net)


def check_cell(cell: str, transfer_interval: int | None) -> None:
    if cell not in CELL_CHOICES:
        raise UserError(f"cell: value {cell!r}; allowed: {', '.join(CELL_CHOICES)}",
                        field="cell")
    if transfer_interval is not None and transfer_interval < 1:
        raise UserError(f"transfer_interval: value {transfer_interval!r}; allowed: int >= 1",
                        field="transfer_interval")


def build_model(net: Network, spec: Spec, cell: str, rngs: Streams, range_factor=None,
                transfer_interval: int | None = None, hidden: str | None = None,
                hw_aware: bool = False):
    """build_mlp for perceptrons, codesign.nn.graph.build_graph for any other network."""
    if is_perceptron(net):
        return build_mlp(net, spec, cell, rngs, range_factor, transfer_interval, hidden,
                         hw_aware)
    from .graph import build_graph, graph_layout
    graph_layout(net)
    check_cell(cell, transfer_interval)
    if hw_aware:
        raise UserError(f"hw_aware: with net {net.name}; allowed: only with a perceptron "
                        "net (hardware-aware layers are dense layers)", field="hw_aware")
    if hidden is not None:
        raise UserError(f"hidden: value {hidden!r}; allowed: only with a perceptron net "
                        f"({net.name} has its own activations)", field="hidden")
    return build_graph(net, spec, cell, rngs, range_factor, transfer_interval)


def build_mlp(net: Network, spec: Spec, cell: str, rngs: Streams,
              range_factor=None, transfer_interval: int | None = None,
              hidden: str | None = None, hw_aware: bool = False) -> MLP:
    """An MLP of `net` with software layers (cell="software") or analog layers on tiles
    of `spec` with the given cell; `hidden` overrides every hidden activation;
    `range_factor`: one number or one per layer (see codesign.nn.analog); `hw_aware`
    (software only): hardware-aware training layers (codesign.nn.hwaware)."""
    check_cell(cell, transfer_interval)
    if hidden is not None and hidden not in ACTIVATIONS:
        raise UserError(f"hidden: value {hidden!r}; allowed: {', '.join(ACTIVATIONS)}",
                        field="hidden")
    layout = mlp_layout(net)
    ranges = layer_ranges(range_factor, len(layout.names))
    w0 = [init_weights(a, b, rngs.init) for a, b in zip(layout.sizes[:-1], layout.sizes[1:])]
    acts = [hidden] * len(layout.hidden) if hidden else list(layout.hidden)
    if hw_aware and cell != "software":
        raise UserError(f"hw_aware: with cell {cell}; allowed: only with cell software "
                        "(hardware-aware training is software training with the inference "
                        "hardware's noise injected)", field="hw_aware")
    if cell == "software" and not hw_aware:
        return MLP([SoftwareDense(w) for w in w0], acts)
    parts = partition(net, spec)
    if hw_aware:
        return MLP([HardwareAwareDense(w, spec, rngs.devices, parts[n].row_edges,
                                       parts[n].col_edges)
                    for w, n in zip(w0, layout.names)], acts)
    layers = []
    for w, name, r in zip(w0, layout.names, ranges):
        lp = parts[name]
        layers.append(AnalogDense(w, spec, cell, rngs.devices, lp.row_edges, lp.col_edges,
                                  r, transfer_interval))
    return MLP(layers, acts)
