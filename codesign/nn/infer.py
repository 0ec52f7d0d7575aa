"""Inference with drift: program trained weights into PCM and read them back over time.

After training (on tiles or in software) the real-valued weights of each layer are
programmed into fresh tiles for inference with the statistical PCM model of the spec
(Nandakumar et al., ICECS 2019, or HERMES; codesign.devices.inference, through
AnalogTile.read_inference): programming noise, drift with a per-device exponent, 1/f
read noise, and optional global drift compensation (a reference all-ones read at t0
divided by the same read at t, as aihwkit's GlobalDriftCompensation), applied to each
tile's digital outputs after its ADC.

Mapping for inference (digital periphery, assumed): each layer's weights are divided by
their largest magnitude, so that the largest weight uses a device's full g_max; the
outputs are multiplied back. The test images then run through DAC, array and ADC
(codesign.converters.mvm) with the weights read at time t.

Times count from the reference read at t0 after programming (aihwkit's convention,
../shared/reference/devices.md).
"""
from __future__ import annotations

import numpy as np

from ..converters import mvm
from ..errors import UserError
from ..tile import AnalogTile
from .analog import abs_max, tiled_mvm
from .mlp import ACTIVATIONS, with_bias

DEFAULT_TIMES = (1.0, 3600.0, 86400.0, 2592000.0, 31536000.0)   # 1 s, 1 h, 1 day, 30 d, 1 y
TIME_LABELS = {1.0: "1 s", 3600.0: "1 hour", 86400.0: "1 day", 2592000.0: "1 month",
               31536000.0: "1 year"}


def parse_times(text: str) -> tuple[float, ...]:
    try:
        times = tuple(float(t) for t in text.split(","))
    except ValueError:
        raise UserError(f"times: value {text!r}; allowed: comma-separated seconds >= 0, "
                        "e.g. 1,3600,86400", field="times") from None
    if not times or any(not (t >= 0 and np.isfinite(t)) for t in times):
        raise UserError(f"times: value {text!r}; allowed: comma-separated seconds >= 0",
                        field="times")
    return times


def time_label(t: float) -> str:
    return TIME_LABELS.get(float(t), f"{t:g} s")


class InferenceLayer:
    """One layer's weights programmed into inference tiles."""

    def __init__(self, w: np.ndarray, spec, rng: np.random.Generator, row_edges, col_edges,
                 bias: bool = True):
        self.spec, self.rng = spec, rng
        self.bias = bool(bias)       # False: no bias row (w is (n_in, n_out))
        self.row_edges, self.col_edges = tuple(row_edges), tuple(col_edges)
        self.n_out = w.shape[1]
        peak = float(np.abs(w).max())
        self.alpha = peak if peak > 0 else 1.0
        wn = w / self.alpha
        # The statistical inference model (Nandakumar 2019 / HERMES) programs the PCM copy
        # straight from the targets; the training cell's own programming (which saturates
        # below |w| = 1) is not involved. A HERMES spec only validates with its
        # differential PCM cell, a Nandakumar one is given the ideal cell.
        cell = "ideal" if spec.pcm.noise_model == "nandakumar2019" else spec.array.cell
        self.tiles = []
        for r0, r1 in zip(self.row_edges[:-1], self.row_edges[1:]):
            row = []
            for c0, c1 in zip(self.col_edges[:-1], self.col_edges[1:]):
                tile = AnalogTile(spec, rng, shape=(r1 - r0, c1 - c0), cell=cell)
                tile.program_inference(wn[r0:r1, c0:c1])
                row.append(tile)
            self.tiles.append(row)

    def read(self, t: float, compensate: bool) -> list[list[tuple[np.ndarray, float]]]:
        """One read of every tile at time t: (normalized weights, output factor) per
        tile; the factor is the global drift compensation factor with ``compensate``,
        else 1. Pass the result to forward."""
        return [[(w, f if compensate else 1.0)
                 for w, f in (tile.read_inference_parts(t) for tile in row)]
                for row in self.tiles]

    def forward(self, x: np.ndarray, blocks: list[list[tuple[np.ndarray, float]]]) -> np.ndarray:
        """Outputs with the weights of one read; compensation scales each tile's outputs
        after its ADC, as the digital periphery does (the ADC sees the drifted signal)."""
        return device_forward(x, [[w for w, _ in row] for row in blocks], self.row_edges,
                              self.col_edges, self.n_out, self.alpha, self.spec, self.rng,
                              bias=self.bias, factors=[[f for _, f in row] for row in blocks])


def device_forward(x: np.ndarray, blocks, row_edges, col_edges, n_out: int, alpha: float,
                   spec, rng: np.random.Generator, bias: bool = True,
                   factors=None) -> np.ndarray:
    """A layer's outputs in real units from its normalized weight blocks as read from the
    devices (blocks[i][j] of tile (i, j)): bias input appended (``bias``), abs-max input
    scaling, DAC, array and ADC (codesign.converters.mvm) per tile, each tile's digital
    outputs times factors[i][j] (drift compensation; None: 1), times alpha x the input
    scale."""
    xb = with_bias(x) if bias else x
    m = abs_max(xb)

    def block(i, j, xs):
        values = mvm(blocks[i][j], xs, spec, rng)[0]
        return values if factors is None else values * factors[i][j]
    out = tiled_mvm(xb / m, row_edges, col_edges, n_out, block)
    return out * (alpha * m)


def drift_accuracy(weights: list[np.ndarray], hidden: list[str], spec, parts,
                   x: np.ndarray, y: np.ndarray, times, rng: np.random.Generator) -> dict:
    """Test accuracy at each time, with and without global drift compensation.

    weights: real weights per layer (bias row last); hidden: activation per hidden layer;
    parts: (row_edges, col_edges) per layer. Returns {"times": [...],
    "accuracy": [...], "accuracy_compensated": [...], "accuracy_digital": float} where
    the digital accuracy uses the float weights (no devices), for reference.
    """
    layers = [InferenceLayer(w, spec, rng, r, c) for w, (r, c) in zip(weights, parts)]
    acts = [ACTIVATIONS[h][0] for h in hidden]

    def accuracy(forward_layer) -> float:
        a = x
        for i in range(len(layers)):
            z = forward_layer(i, a)
            a = acts[i](z) if i < len(acts) else z
        return float(np.mean(a.argmax(axis=1) == y))

    out = {"times": [float(t) for t in times], "accuracy": [], "accuracy_compensated": []}
    out["accuracy_digital"] = accuracy(lambda i, a: with_bias(a) @ weights[i])
    for t in times:
        for key, comp in (("accuracy", False), ("accuracy_compensated", True)):
            reads = [layer.read(t, comp) for layer in layers]
            out[key].append(accuracy(lambda i, a: layers[i].forward(a, reads[i])))
    return out
