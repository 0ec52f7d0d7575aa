"""Any network of the IR (codesign.network) on tiles: convolutions, pooling, residual adds,
concatenations, per-channel scales (batch norm), activations; forward, backward and
update for in-situ training, forward alone for inference.

Every weight layer is one crossbar matrix cut into tile blocks by the mapping's own
partition (codesign.mapping.partition, the same row and column edges the mapper places
and the estimate prices), held by an *engine* with the dense-layer interface of
codesign.nn: AnalogDense (tiles that train), SoftwareDense (float baseline, or the
digital reference of inference), or a bound inference read (codesign.nn.infer).

* ``linear``: the engine's product, one MVM per example.
* ``conv2d``: the input is unrolled (codesign.nn.conv.im2col) into one row per output
  position, rows ordered as the crossbar holds them (c*kh*kw + ky*kw + kx), so a conv is
  H_out*W_out MVMs per example, as the IR counts. Grouped convs are packed as the IR
  packs them (all groups share the word lines, group g's kernels in columns
  g*C_out/G .. (g+1)*C_out/G): group g's unrolled input is applied to the whole array and
  only its own columns are kept; its error is applied only on its own columns, so the
  transposed read and the outer-product update touch only group g's kernels. That is
  ``groups`` MVMs per position, as the IR counts (mvms_per_inference).
  Update of the shared kernel (``conv_update``): "kernel" (default on tiles) -- the
  digital periphery sums the outer products of all positions of the batch's images (the
  kernel's gradient, (fan_in + 1) x C_out, P * fan_in * C_out multiply-adds per image)
  and writes it row by row, one UPDATE command per crossbar row with that row's line
  alone driven and the columns carrying its row of the gradient (ConvDense), as
  mixed-precision training writes a digitally computed update (Nandakumar et al.,
  Front. Neurosci. 14:406, 2020; aihwkit's MixedPrecisionCompound writes its digital
  matrix row by row too). "positions" -- one outer-product UPDATE per output position
  with the full learning rate (the engine's average times the MVMs per example), as
  aihwkit trains an unfolded convolution: the same expected change, but every cell takes
  the pulses of all positions, whose signs mostly cancel (Sum_p |x_p d_p| against
  |Sum_p x_p d_p|: 5x the pulses of "kernel" on LeNet-5's conv1, 3x on conv2), which
  the capacitor's up/down asymmetry turns into drift and the stochastic pulses into
  noise; and P UPDATE commands per image instead of fan_in + 1 (LeNet-5: 884 against
  177).
* Transposed reads of every weight layer on tiles are converted at an output gain equal
  to the layer's weight range factor R (BACKWARD_GAIN_PER_RANGE x R; the ADC's full
  scale divided by R, codesign.tile.AnalogTile.backward): the weights use 1/R of the
  cell's swing and an error vector (abs-max scaled) is sparse, so d W^T is a few ADC
  steps at the spec's full scale -- on LeNet-5 the error reaching conv1 was more
  quantization than signal (relative error 1.3 after one image, measured) and in-situ
  training stayed at 58 %. The forward reads keep gain 1: their inputs are dense
  (pixels, ReLU maps) and their sums use the ADC's range; a forward gain of R would clip
  the logits. Perceptrons (codesign.nn.analog) keep gain 1 (docs/reproduction.md).
* Reads of all-zero vectors are skipped on conv layers (their product is 0 and the
  periphery knows it): a conv's error is exactly 0 wherever a max pool or ReLU did not
  pass it, and the ADC, a mid-rise quantizer without a zero code, returns half a step
  for each such read, an offset the kernel's gradient sums over the positions.
* ``norm``: a per-channel scale and shift in the digital periphery (batch norm folded
  to ``gamma / sqrt(var + eps)`` and ``beta - mean * scale``; element-wise constant
  multiplications and additions likewise). Built from scratch, a norm is the identity
  and is not trained (there are no batch statistics on the tiles).
* ``pool`` (max, average, global), ``add``, ``concat``, ``flatten``, ``act``: digital.

The loss is softmax cross-entropy on the single output (a trailing softmax is the loss's
own). Batches are (N, C, H, W) arrays, ONNX's layout; images arrive as rows and are
reshaped to the network's input shape.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from .. import libm
from ..errors import UserError
from ..network import INPUT, Network
from . import conv as C
from .analog import AnalogDense, abs_max, tiled_mvm
from .mlp import SoftwareDense, init_weights, softmax, with_bias

# activation: f(z, p) and df/dz given (z, a=f(z), p); p: the layer's parameters
_SQRT2 = math.sqrt(2.0)


def _gelu_grad(z, a, p):
    return 0.5 * (1.0 + erf(z / _SQRT2)) + z * libm.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


ACTS = {
    "relu": (lambda z, p: np.maximum(z, 0.0), lambda z, a, p: (z > 0).astype(np.float64)),
    "relu6": (lambda z, p: np.clip(z, 0.0, 6.0),
              lambda z, a, p: ((z > 0) & (z < 6)).astype(np.float64)),
    "leaky_relu": (lambda z, p: np.where(z > 0, z, p.get("alpha", 0.01) * z),
                   lambda z, a, p: np.where(z > 0, 1.0, p.get("alpha", 0.01))),
    "sigmoid": (lambda z, p: 0.5 * (1.0 + np.tanh(0.5 * z)), lambda z, a, p: a * (1.0 - a)),
    "tanh": (lambda z, p: np.tanh(z), lambda z, a, p: 1.0 - a * a),
    "gelu": (lambda z, p: 0.5 * z * (1.0 + erf(z / _SQRT2)), _gelu_grad),
    "hardswish": (lambda z, p: z * np.clip(z + 3.0, 0.0, 6.0) / 6.0,
                  lambda z, a, p: np.where(z < -3, 0.0, np.where(z > 3, 1.0,
                                                                 (2.0 * z + 3.0) / 6.0))),
    "identity": (lambda z, p: z, lambda z, a, p: np.ones_like(z)),
}


CONV_UPDATES = ("kernel", "positions")
# Output gain of a layer's transposed reads per unit of its weight range factor R (module
# doc): the weights use 1/R of the cell's swing, so a gain of R restores the signal a
# full-swing mapping would give the ADC (at least 1; 0 turns the gain off, as before
# issue 12's LeNet-5 diagnosis, docs/networks.md).
BACKWARD_GAIN_PER_RANGE = 1.0


def _nonzero_rows(read, v: np.ndarray, n_out: int, skip: bool) -> np.ndarray:
    """read(v) for the rows of v that are not all zero; zero rows give 0 without a read
    (skip). The periphery knows such a product is 0 and issues no MVM: a conv's error
    is exactly 0 at every position a max pool or a ReLU did not pass, and an ADC (a
    mid-rise quantizer: no zero code) would return +-half a step for each of them, an
    offset that the kernel's gradient sums over positions into a systematic push (it
    killed conv1's ReLUs of LeNet-5 within 100 images for seed 1 on ideal cells)."""
    if not skip:
        return read(v)
    live = np.flatnonzero(np.any(v != 0, axis=1))
    if live.size == len(v):
        return read(v)
    out = np.zeros((len(v), n_out))
    if live.size:
        out[live] = read(v[live])
    return out


class ConvDense(AnalogDense):
    """AnalogDense of a conv layer: it can write a weight change computed in the digital
    periphery row by row (the shared kernel's update, module doc), and with ``groups`` > 1
    it sends each group's vectors (group-major, as im2col orders them) only to the column
    blocks that hold that group's kernels: a block without them is neither read nor
    updated, and its MVMs and UPDATE commands are not counted."""

    groups = 1

    def _group_rows(self, c0: int, c1: int, n: int) -> slice:
        """The vectors (of n, group-major) whose group has columns in [c0, c1)."""
        if self.groups == 1:
            return slice(0, n)
        cg, per = self.n_out // self.groups, n // self.groups
        return slice((c0 // cg) * per, ((c1 - 1) // cg + 1) * per)

    def _block_read(self, op: str, i: int, j: int, vecs: np.ndarray, width: int):
        c0, c1 = self._cols()[j]
        sl = self._group_rows(c0, c1, len(vecs))
        out = np.zeros((len(vecs), width))
        tile = self.tiles[i][j]

        def read(v):
            res = tile.forward(v) if op == "forward" else tile.backward(v, self.backward_gain)
            self._count(op, res)
            return res.values
        out[sl] = _nonzero_rows(read, vecs[sl], width, op == "backward" or not self.bias)
        return out

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.groups > 1:       # zero rows are skipped block by block (_block_read)
            return self._forward(x)
        return _nonzero_rows(self._forward, x, self.n_out, not self.bias)

    def backward(self, d: np.ndarray) -> np.ndarray:
        if self.groups > 1:
            return self._backward(d)
        return _nonzero_rows(self._backward, d, self.n_in, True)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self.groups == 1:
            return super().forward(x)
        xb = with_bias(x) if self.bias else x
        m = abs_max(xb)
        cols = self._cols()

        def block(i, j, xs):
            return self._block_read("forward", i, j, xs, cols[j][1] - cols[j][0])
        return tiled_mvm(xb / m, self.row_edges, self.col_edges, self.n_out, block) * \
            (self.alpha * m)

    def _backward(self, d: np.ndarray) -> np.ndarray:
        if self.groups == 1:
            return super().backward(d)
        m = abs_max(d)
        rows = self._rows()

        def block(i, j, ds):
            return self._block_read("backward", i, j, ds, rows[i][1] - rows[i][0])
        out = tiled_mvm(d / m, self.row_edges, self.col_edges, self.n_in + int(self.bias),
                        block, transpose=True)
        return out[:, :self.n_in] * (self.alpha * m)

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        if self.groups == 1:
            return super().update(x, d, lr)
        xb = with_bias(x) if self.bias else x
        tile_lr = -lr / (self.alpha * x.shape[0])
        for (r0, r1), row in zip(self._rows(), self.tiles):
            for (c0, c1), tile in zip(self._cols(), row):
                sl = self._group_rows(c0, c1, len(x))
                self._count("update", tile.update(xb[sl, r0:r1], d[sl, c0:c1], tile_lr))
                self.update_commands += sl.stop - sl.start

    def update_rows(self, g: np.ndarray, lr: float) -> None:
        """Change the real weights by -lr * g, g (n_in [+ 1 bias row], n_out): one UPDATE
        command per crossbar row with a non-zero change, that row's line alone driven at
        full scale and the columns carrying its row of g, so a cell is pulsed for its own
        change only (a grouped conv's rows are zero outside their group's columns, so no
        block is pulsed for another group). The tile's update management and stochastic
        pulses are the ones of every update (codesign.tile.AnalogTile.update)."""
        tile_lr = -lr / self.alpha
        for (r0, r1), row in zip(self._rows(), self.tiles):
            for (c0, c1), tile in zip(self._cols(), row):
                block = g[r0:r1, c0:c1]
                live = np.flatnonzero(np.abs(block).max(axis=1) > 0)
                if live.size == 0:
                    continue
                x = np.zeros((live.size, r1 - r0))
                x[np.arange(live.size), live] = 1.0
                self._count("update", tile.update(x, block[live], tile_lr))
                self.update_commands += int(live.size)


class GraphModel:
    """A network of the IR whose weight layers are engines (see module doc).

    engines: {weight layer name: engine}; params: {layer name: dict} for digital layers
    that carry numbers (norm: scale, shift; act: alpha; pool: count_include_pad)."""

    def __init__(self, net: Network, engines: dict, params: dict | None = None,
                 conv_update: str = "kernel"):
        outs = net.outputs
        if len(outs) != 1:
            raise UserError(f"{net.source or net.name}: outputs {[l.name for l in outs]}; "
                            "allowed: exactly one output layer")
        self.net, self.engines, self.params = net, dict(engines), dict(params or {})
        self.conv_update = conv_update
        last = outs[0]
        # the trailing softmax is the loss's (and argmax does not need it)
        self.run_layers = [l for l in net.layers
                           if not (l is last and l.kind == "act" and l.op == "softmax")]
        self.logits = self.run_layers[-1].name if self.run_layers else INPUT
        # the last layer reading each result: inference frees it there
        self._last_use = {i: l.name for l in self.run_layers for i in l.inputs}
        self._last_use[self.logits] = None
        for l in net.layers:
            if l.kind == "act" and l.op == "softmax" and l is not last:
                raise UserError(f"{net.source or net.name}: layer {l.name!r}: softmax inside "
                                "the network; allowed: softmax as the last layer only")
        missing = [l.name for l in net.weight_layers if l.name not in self.engines]
        if missing:
            raise ValueError(f"no engine for weight layers {missing}")

    # the model interface of codesign.nn (TrainResult, train_cmd --save)
    @property
    def layers(self) -> list:
        return [self.engines[l.name] for l in self.net.weight_layers]

    @property
    def hidden(self) -> list[str]:
        return [l.op for l in self.run_layers if l.kind == "act"]

    @property
    def sizes(self) -> list[int]:
        return [math.prod(self.net.input_shape)] + \
            [l.out_features for l in self.net.weight_layers]

    @property
    def conv_update(self) -> str:
        """How conv layers on tiles are updated (module doc): "kernel" or "positions"."""
        return self._conv_update

    @conv_update.setter
    def conv_update(self, mode: str) -> None:
        if mode not in CONV_UPDATES:
            raise UserError(f"conv_update: value {mode!r}; allowed: {', '.join(CONV_UPDATES)}")
        self._conv_update = mode

    def with_engines(self, engines: dict) -> "GraphModel":
        return GraphModel(self.net, engines, self.params, self.conv_update)

    # ---- forward ------------------------------------------------------------------
    def _input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        shape = self.net.input_shape
        if x.ndim == 2 and x.shape[1] == math.prod(shape):
            return x.reshape((len(x),) + shape)
        if x.shape[1:] != shape:
            raise UserError(f"{self.net.source or self.net.name}: input: images of shape "
                            f"{list(x.shape[1:])}; allowed: {list(shape)} "
                            f"({math.prod(shape)} values per image)")
        return x

    def forward(self, x: np.ndarray, cache: dict | None = None) -> np.ndarray:
        """Logits (N, classes); cache (a dict) receives what backward needs."""
        vals = {INPUT: self._input(x)}
        for layer in self.run_layers:
            ins = [vals[i] for i in layer.inputs]
            vals[layer.name] = self._forward_layer(layer, ins, cache)
            if cache is None:   # free what no later layer reads
                for i in layer.inputs:
                    if i != INPUT and self._last_use[i] == layer.name:
                        vals.pop(i, None)
        out = vals[self.logits]
        return out.reshape(len(out), -1)

    def _forward_layer(self, layer, ins, cache):
        p = self.params.get(layer.name, {})
        x = ins[0]
        kind = layer.kind
        if kind == "linear":
            if cache is not None:
                cache[layer.name] = x
            return self.engines[layer.name].forward(x)
        if kind == "conv2d":
            return self._conv_forward(layer, x, cache)
        if kind == "act":
            a = ACTS[layer.op][0](x, p)
            if cache is not None:
                cache[layer.name] = (x, a)
            return a
        if kind == "pool":
            if layer.global_pool:
                return self._global_pool(layer, x, cache)
            out, saved = C.pool_forward(x, layer.op, layer.kernel, layer.stride, layer.padding,
                                        layer.out_shape[1:], p.get("count_include_pad", False))
            if cache is not None:
                cache[layer.name] = saved
            return out
        if kind == "norm":
            return x * p.get("scale", 1.0) + p.get("shift", 0.0)
        if kind == "add":
            return sum(ins[1:], ins[0].copy())
        if kind == "concat":
            return np.concatenate(ins, axis=1)
        if kind == "flatten":
            return x.reshape(len(x), -1)
        raise ValueError(kind)

    def _global_pool(self, layer, x, cache):
        if layer.op == "max":
            flat = x.reshape(x.shape[0], x.shape[1], -1)
            arg = flat.argmax(axis=2)
            if cache is not None:
                cache[layer.name] = arg
            return np.take_along_axis(flat, arg[..., None], axis=2)[..., None]
        return x.mean(axis=(2, 3), keepdims=True)

    def _conv_forward(self, layer, x, cache):
        g = layer.groups
        ho, wo = layer.out_shape[1:]
        cols = C.im2col(x, layer.kernel, layer.stride, layer.padding, layer.dilation, g,
                        (ho, wo))
        rows = cols.reshape(-1, cols.shape[2])           # (G * N * P, fan_in)
        y = self.engines[layer.name].forward(rows)       # (G * N * P, C_out)
        n, cg = len(x), layer.out_features // g
        if g > 1:   # group k keeps its own columns of its own input
            k = np.arange(g)
            y = y.reshape(g, n * ho * wo, g, cg)[k, :, k, :]          # (G, NP, cg)
            y = y.transpose(1, 0, 2).reshape(n * ho * wo, layer.out_features)
        if cache is not None:
            cache[layer.name] = rows
        return y.reshape(n, ho, wo, layer.out_features).transpose(0, 3, 1, 2)

    # ---- backward and update -------------------------------------------------------
    def backward(self, d_logits: np.ndarray, cache: dict, lr: float | None = None,
                 n: int = 1) -> dict:
        """Back-propagate d(loss)/d(logits) (per example, not averaged); with lr, update
        every weight layer with its input and error (SGD, averaged over the batch).
        Returns {layer name: gradient with respect to its output}."""
        grads = {self.logits: d_logits.reshape((len(d_logits),) +
                                               self._shape_of(self.logits))}
        for layer in reversed(self.run_layers):
            g = grads.get(layer.name)
            if g is None:
                continue
            need_input = any(i != INPUT for i in layer.inputs)
            back = self._backward_layer(layer, g, cache, lr, n, need_input)
            for name, gi in zip(layer.inputs, back):
                if name == INPUT or gi is None:
                    continue
                grads[name] = grads[name] + gi if name in grads else gi
        return grads

    def _shape_of(self, name: str) -> tuple:
        return self.net.input_shape if name == INPUT else self.net[name].out_shape

    def _backward_layer(self, layer, g, cache, lr, n, need_input):
        p = self.params.get(layer.name, {})
        kind = layer.kind
        if kind == "linear":
            eng = self.engines[layer.name]
            dx = eng.backward(g) if need_input else None
            if lr is not None:
                eng.update(cache[layer.name], g, lr)
                eng.end_of_images(n)
            return [dx]
        if kind == "conv2d":
            return [self._conv_backward(layer, g, cache, lr, n, need_input)]
        if kind == "act":
            z, a = cache[layer.name]
            return [g * ACTS[layer.op][1](z, a, p)]
        if kind == "pool":
            if layer.global_pool:
                c, h, w = layer.in_shape
                if layer.op == "max":
                    out = np.zeros((len(g), c, h * w))
                    np.put_along_axis(out, cache[layer.name][..., None],
                                      g.reshape(len(g), c, 1), axis=2)
                    return [out.reshape(len(g), c, h, w)]
                return [np.broadcast_to(g / (h * w), (len(g), c, h, w))]
            return [C.pool_backward(g, layer.op, cache[layer.name], layer.in_shape,
                                    layer.kernel, layer.stride, layer.padding,
                                    layer.out_shape[1:])]
        if kind == "norm":
            return [g * p.get("scale", 1.0)]
        if kind == "add":
            return [g] * len(layer.inputs)
        if kind == "concat":
            edges = np.cumsum([self._shape_of(i)[0] for i in layer.inputs])[:-1]
            return np.split(g, edges, axis=1)
        if kind == "flatten":
            return [g.reshape((len(g),) + layer.in_shape)]
        raise ValueError(kind)

    def _conv_backward(self, layer, g, cache, lr, n, need_input):
        eng = self.engines[layer.name]
        gr = layer.groups
        ho, wo = layer.out_shape[1:]
        npos = len(g) * ho * wo
        d = g.transpose(0, 2, 3, 1).reshape(npos, layer.out_features)
        if gr > 1:   # group k's error on its own columns only
            cg = layer.out_features // gr
            k = np.arange(gr)
            dd = np.zeros((gr, npos, gr, cg))
            dd[k, :, k, :] = d.reshape(npos, gr, cg).transpose(1, 0, 2)
            d = dd.reshape(gr * npos, layer.out_features)
        dx = None
        if need_input:
            rows = eng.backward(d)                            # (G * N * P, fan_in)
            c, h, w = layer.in_shape
            kh, kw = layer.kernel
            cols = rows.reshape(gr, len(g), ho, wo, c // gr, kh, kw)
            cols = cols.transpose(1, 2, 3, 0, 4, 5, 6).reshape(len(g), ho, wo, c, kh, kw)
            dx = C.col2im(cols, layer.in_shape, layer.kernel, layer.stride, layer.padding,
                          layer.dilation, (ho, wo))
        if lr is not None:
            rows = cache[layer.name]
            if self.conv_update == "kernel" and hasattr(eng, "update_rows"):
                # the periphery sums the positions' outer products (the kernel's
                # gradient, averaged over the batch) and writes it row by row
                xb = with_bias(rows) if eng.bias else rows
                eng.update_rows(xb.T @ d / n, lr)
            else:
                # the engine averages over the vectors it is given; a shared kernel's
                # gradient sums over the layer's MVMs per example
                eng.update(rows, d, lr * layer.mvms_per_inference)
            eng.end_of_images(n)
        return dx

    # ---- the model interface of codesign.nn.mlp.MLP --------------------------------------
    def predict(self, x: np.ndarray, batch: int = 100) -> np.ndarray:
        out = [self.forward(x[i:i + batch]).argmax(axis=1) for i in range(0, len(x), batch)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == y)) if len(y) else float("nan")

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One SGD step on a batch; the mean cross-entropy before the update."""
        cache: dict = {}
        logits = self.forward(x, cache)
        p = softmax(logits)
        n = len(y)
        loss = float(-libm.log(np.maximum(p[np.arange(n), y], 1e-12)).mean())
        p[np.arange(n), y] -= 1.0
        self.backward(p, cache, lr, n)
        return loss


# ---- building ----------------------------------------------------------------------------
def graph_layout(net: Network):
    """codesign.nn.build.Layout of a graph network (checked): input size and weight
    layers' outputs, the activations, the weight layers' names."""
    from .build import Layout
    GraphModel(net, {l.name: None for l in net.weight_layers})      # checks the graph
    if not net.weight_layers:
        raise UserError(f"{net.source or net.name}: no weight layers; allowed: a network "
                        "with at least one linear or conv2d layer")
    for l in net.layers:
        if l.kind == "act" and l.op not in ACTS and l.op != "softmax":
            raise UserError(f"{net.source or net.name}: layer {l.name!r}: op {l.op!r}; "
                            f"allowed: {', '.join(ACTS)}")
    names = tuple(l.name for l in net.weight_layers)
    return Layout((math.prod(net.input_shape),) + tuple(net[n].out_features for n in names),
                  tuple(l.op for l in net.layers if l.kind == "act" and l.op != "softmax"),
                  names)


def initial_weights(net: Network, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Crossbar matrices (fan_in [+ bias], out) of every weight layer, in topological
    order, uniform in +-sqrt(6 / (fan_in + 1)) (He et al., ICCV 2015, for ReLU networks,
    the bias row counted as one more input as in codesign.nn.mlp): the perceptron's
    +-1/sqrt(fan_in + 1) shrinks the signal ~2.4x per ReLU layer, and the 7-layer
    resnet-mini stayed at chance after 1,000 images with it (measured, lr 0.03 and 0.1)."""
    out = {}
    for layer in net.weight_layers:
        w = init_weights(layer.fan_in, layer.out_features, rng) * math.sqrt(6.0)
        out[layer.name] = w if layer.bias else w[:-1]
    return out


def build_graph(net: Network, spec, cell: str, rngs, range_factor=None,
                transfer_interval: int | None = None, weights: dict | None = None,
                params: dict | None = None, update_mode: str = "exact") -> GraphModel:
    """A GraphModel of `net` in software (cell="software") or on tiles of `spec`; each
    weight layer's blocks are the mapping's (codesign.mapping.partition)."""
    from ..mapping.partition import partition
    from .build import layer_ranges
    w = weights if weights is not None else initial_weights(net, rngs.init)
    names = [l.name for l in net.weight_layers]
    if cell == "software":
        engines = {n: SoftwareDense(w[n], bias=net[n].bias) for n in names}
        return GraphModel(net, engines, params)
    ranges = layer_ranges(range_factor, len(names))
    parts = partition(net, spec)
    engines = {}
    for n, r in zip(names, ranges):
        lp = parts[n]
        kind = ConvDense if net[n].kind == "conv2d" else AnalogDense
        engines[n] = kind(w[n], spec, cell, rngs.devices, lp.row_edges, lp.col_edges,
                          r, transfer_interval, update_mode, bias=net[n].bias)
        if net[n].kind == "conv2d":
            engines[n].groups = net[n].groups
        engines[n].backward_gain = max(1.0, r * BACKWARD_GAIN_PER_RANGE)
    return GraphModel(net, engines, params)
