"""Dense layers whose weights live on AnalogTiles (codesign.tile).

The tile works in normalized units (weights in [-1, 1] = the cell's full conductance
swing, inputs in [-1, 1] = DAC full scale, outputs in weight x input units up to the ADC's
full scale). The digital periphery converts between those and the network's real values;
these are the scale factors, all per layer and all digital:

* weight scale ``alpha``: real weight = alpha * normalized weight. Chosen once at
  initialization as ``range_factor`` times the initialization bound 1/sqrt(fan_in + 1),
  so the initial weights use 1/range_factor of each cell's range and training can grow
  them range_factor-fold before the cells saturate (assumed; defaults DEFAULT_RANGE for
  hidden layers, DEFAULT_OUTPUT_RANGE for the output layer).
* inputs: each vector (bias input 1 appended) is divided by its largest magnitude m
  before the DACs and the outputs are multiplied by alpha * m afterwards ("abs-max noise
  management", aihwkit's default NoiseManagementType.ABS_MAX). Sigmoid/tanh activations
  and [0, 1] pixels already have m = 1; ReLU outputs and error vectors need it.
* errors (backward): likewise divided by their largest magnitude before the transposed
  read and rescaled afterwards; the bias row's error is dropped.
* update: the tile receives the real activation x and error d with learning rate
  -lr / (alpha * batch), so that its expected change of the normalized weights is the
  SGD step -lr/alpha * x^T d / batch; the tile's own update management turns that into
  pulse probabilities (codesign.tile.AnalogTile.update).

A layer larger than one tile is cut by codesign.mapping.partition: row blocks add their
partial sums digitally, column blocks concatenate.

Mini-batches: ``update_mode`` "exact" (default) runs one UPDATE command per example, each
with its own device response and leakage, as the hardware does; "minibatch" sums the
exact pulse counts of a mini-batch per cell and applies them in one device response
(codesign.pulses.apply_update; where that equals the hardware: docs/training.md).

Transfer: every ``transfer_interval`` training images (spec.cell.transfer_interval,
8,000 for MNIST in Ambrogio et al. 2018, ED Fig. 2) every tile runs its transfer (2PCM+3T1C:
capacitor into PCM with polarity inversion; PCM pair: refresh of saturated pairs; ideal:
nothing). The interval is the network's: a conv kernel takes its gradient summed over all
output positions every image and fills its capacitors far sooner than the perceptron's
weights (LeNet-5 trains with 1,000, chosen on a validation split; docs/networks.md).
Before each transfer the layer records the fraction of its capacitors at their bound
(:meth:`AnalogDense.capacitor_saturation`), the measurement that shows it.
"""
from __future__ import annotations

import numpy as np

from .. import commands
from .. import converters as conv
from ..errors import UserError
from ..events import Events
from ..lazykernels import kernels_
from ..pulses import UPDATE_MODES
from ..tile import AnalogTile
from .mlp import init_bound, with_bias

# assumed: |w| = 1 is 8x the initialization bound. With lr = 0.01 this puts a median of
# about 50 capacitor steps of weight change into one 8,000-image transfer interval, the
# order of the +-100 of Ambrogio et al. 2018 ED Fig. 2 (docs/training.md).
DEFAULT_RANGE = 8.0
# assumed: the output layer's logits need a wider range. At 8 they exceeded the ADC's
# full scale (adc.full_scale = 12) for a third of the outputs late in training; clipped
# logits never let the cross-entropy gradient vanish, so the weights kept growing and
# the accuracy collapsed (docs/reproduction.md). 24 keeps the logits within range.
DEFAULT_OUTPUT_RANGE = 24.0
OPS = ("program", "forward", "backward", "update", "transfer")
# A capacitor that uses this much of its reach counts as saturated (assumed): its pulses
# toward the bound are clipped there, so the weight no longer follows the gradient
# (codesign.devices.capacitor.CapacitorArray.fill).
CAPACITOR_FULL = 0.95


def abs_max(a: np.ndarray) -> np.ndarray:
    """Per-row largest magnitude, 1 where a row is all zeros (nothing to scale)."""
    m = np.abs(a).max(axis=1, keepdims=True)
    return np.where(m > 0, m, 1.0)


def tiled_mvm(x: np.ndarray, row_edges, col_edges, n_out: int, block_mvm,
              transpose: bool = False) -> np.ndarray:
    """A matrix product over a grid of tiles: block_mvm(i, j, x_block) returns tile (i, j)'s
    outputs. Forward: row blocks add partial sums, column blocks concatenate; transpose
    (the backward read): the roles swap."""
    rows = list(zip(row_edges[:-1], row_edges[1:]))
    cols = list(zip(col_edges[:-1], col_edges[1:]))
    out = np.zeros((x.shape[0], n_out))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            if transpose:
                out[:, r0:r1] += block_mvm(i, j, x[:, c0:c1])
            else:
                out[:, c0:c1] += block_mvm(i, j, x[:, r0:r1])
    return out


class AnalogDense:
    """A dense layer (bias row last) on a grid of tiles; the SoftwareDense interface.
    w0: initial real weights (n_in + 1, n_out), the same as the software baseline's
    ((n_in, n_out) with bias=False);
    rng: device variation and noise of this layer's tiles."""

    kind = "analog"

    def __init__(self, w0: np.ndarray, spec, cell: str, rng: np.random.Generator,
                 row_edges: tuple[int, ...], col_edges: tuple[int, ...],
                 range_factor: float = DEFAULT_RANGE, transfer_interval: int | None = None,
                 update_mode: str = "exact", bias: bool = True):
        self.bias = bool(bias)       # False: no bias row (a conv without bias)
        self.n_in, self.n_out = w0.shape[0] - int(self.bias), w0.shape[1]
        self.spec = spec
        self.row_edges, self.col_edges = tuple(row_edges), tuple(col_edges)
        self.alpha = float(range_factor) * init_bound(self.n_in)
        self.transfer_interval = int(transfer_interval or spec.cell.transfer_interval)
        self.images = 0
        # Commands counted as they run: program and transfer as their costs (data
        # dependent, rare); forward, backward and update as numbers of vectors and
        # examples over all tiles, and update pulses, whose costs are linear in them
        # (commands.mvm_sequence, update_sequence), so :attr:`events` and :attr:`cycles`
        # price the totals once, equal to the sum of the per-call costs.
        # (a subclass that runs tile commands itself, codesign.nn.graph.ConvDense, counts
        # their OpResults with _count; both add up)
        self._events = {op: Events() for op in OPS}
        self._cycles = {op: 0 for op in OPS}
        self._vectors = {"forward": 0, "backward": 0, "update": 0}
        self._pulses = 0
        self.update_commands = 0   # UPDATE commands over all tiles (pulse-line energy)
        self.backward_gain = 1.0   # output gain of the transposed reads (AnalogTile.backward)
        # fraction of the capacitors at their bound just before each transfer (2PCM+3T1C):
        # what says whether the transfer interval suits the network (docs/networks.md)
        self.saturation_at_transfer: list[float] = []
        self._edges = None   # row and column edges as int64 arrays (_mvm_one)
        self.tiles = [[AnalogTile(spec, rng, shape=(r1 - r0, c1 - c0), cell=cell,
                                  update_mode=update_mode)
                       for c0, c1 in self._cols()] for r0, r1 in self._rows()]
        # (tile, row range, column range) in tiled_mvm's order
        self._blocks = [(tile, r0, r1, c0, c1)
                        for (r0, r1), row in zip(self._rows(), self.tiles)
                        for (c0, c1), tile in zip(self._cols(), row)]
        self.set_weights(w0)

    @property
    def update_mode(self) -> str:
        return self.tiles[0][0].update_mode

    @update_mode.setter
    def update_mode(self, mode: str) -> None:
        if mode not in UPDATE_MODES:
            raise UserError(f"update_mode: value {mode!r}; allowed: " + ", ".join(UPDATE_MODES))
        for row in self.tiles:
            for tile in row:
                tile.update_mode = mode

    def _rows(self):
        return list(zip(self.row_edges[:-1], self.row_edges[1:]))

    def _cols(self):
        return list(zip(self.col_edges[:-1], self.col_edges[1:]))

    def _count(self, op: str, res) -> None:
        self._events[op] = self._events[op] + res.events
        self._cycles[op] += res.cycles

    def _costs(self) -> dict:
        spec = self.tiles[0][0].spec
        v = self._vectors
        return {"forward": commands.mvm_sequence(spec, False, vectors=v["forward"]),
                "backward": commands.mvm_sequence(spec, True, vectors=v["backward"]),
                "update": commands.update_sequence(spec, self._pulses,
                                                   examples=v["update"])}

    @property
    def events(self) -> dict[str, Events]:
        """Events of every tile command so far, by operation (OPS)."""
        costs = self._costs()
        return {op: self._events[op] + costs[op].events if op in costs else self._events[op]
                for op in OPS}

    @property
    def cycles(self) -> dict[str, int]:
        """Controller cycles of every tile command so far, by operation (OPS)."""
        costs = self._costs()
        return {op: self._cycles[op] + costs[op].cycles if op in costs else self._cycles[op]
                for op in OPS}

    @staticmethod
    def _finite(a: np.ndarray, name: str) -> np.ndarray:
        a = np.ascontiguousarray(a, dtype=np.float64)
        if not np.isfinite(a).all():
            raise UserError(f"{name}: contains NaN or infinity; allowed: finite numbers")
        return a

    # ---- weights -----------------------------------------------------------------
    def set_weights(self, w: np.ndarray) -> None:
        """Program real-valued weights (n_in + 1, n_out) by closed-loop programming."""
        wn = np.asarray(w, dtype=np.float64) / self.alpha
        for (r0, r1), row in zip(self._rows(), self.tiles):
            for (c0, c1), tile in zip(self._cols(), row):
                self._count("program", tile.program(wn[r0:r1, c0:c1]))

    def normalized_weights(self) -> np.ndarray:
        return np.block([[t.weights() for t in row] for row in self.tiles])

    def weights(self) -> np.ndarray:
        """The real-valued weights the tiles hold now."""
        return self.alpha * self.normalized_weights()

    # ---- forward, backward, update ---------------------------------------------------
    # forward, backward and update check their inputs once per layer and call the tiles'
    # mvm_values / update_pulses (the same computation as AnalogTile.forward/update,
    # without a per-tile check and cost): per-call overhead is what limits training at
    # batch 1 (docs/reproduction.md#speed).
    def _tile_count(self) -> int:
        return len(self.tiles) * len(self.tiles[0])

    def _scaled(self, a: np.ndarray, bias: bool) -> tuple[np.ndarray, np.ndarray]:
        """(a with the bias input when bias) / its per-row abs max, and that max (B, 1):
        with_bias, abs_max and the division in one compiled pass."""
        K = kernels_()
        a = np.ascontiguousarray(a, dtype=np.float64)
        out = np.empty((a.shape[0], a.shape[1] + int(bias)))
        m = np.empty((a.shape[0], 1))
        if not K.scale_rows(a, bias, out, m.reshape(-1)):
            raise UserError("input: contains NaN or infinity; allowed: finite numbers")
        return out, m

    def _mvm(self, xs: np.ndarray, n_out: int, transpose: bool,
             gain: float = 1.0) -> np.ndarray:
        """tiled_mvm over this layer's tiles (one tile: its values as they are, which is
        what adding them to zeros gives); gain: the reads' output gain
        (AnalogTile.backward)."""
        if len(self.tiles) == 1 and len(self.tiles[0]) == 1:
            return self.tiles[0][0].mvm_values(xs, transpose=transpose, gain=gain)
        K = kernels_()
        edges_in = self.col_edges if transpose else self.row_edges
        ns = conv.mvm_ns(xs.shape[0], edges_in[-1] - edges_in[0], n_out)
        if K.get_threads() > 1 and ns >= K.PARALLEL_NS and \
                conv.mvm_job_fits(xs.shape[0], self.tiles[0][0].spec):
            # the tiles side by side: weights read and noise seeds drawn here, in
            # tiled_mvm's order; products and conversions over the threads
            jobs = {}
            for i, (r0, r1) in enumerate(zip(self.row_edges[:-1], self.row_edges[1:])):
                for j, (c0, c1) in enumerate(zip(self.col_edges[:-1], self.col_edges[1:])):
                    a, b = (c0, c1) if transpose else (r0, r1)
                    jobs[i, j] = self.tiles[i][j].mvm_job(np.ascontiguousarray(xs[:, a:b]),
                                                          transpose, gain)
            keys, done = list(jobs), {}

            def run(lo: int, hi: int) -> None:
                for k in keys[lo:hi]:
                    done[k] = jobs[k]()
            restore = conv._blas_one_thread()
            try:
                K.run_chunks(run, len(keys), ns=ns)
            finally:
                conv._blas_restore(restore)
            return tiled_mvm(xs, self.row_edges, self.col_edges, n_out,
                             lambda i, j, xt: done[i, j], transpose=transpose)
        return tiled_mvm(xs, self.row_edges, self.col_edges, n_out,
                         lambda i, j, xt: self.tiles[i][j].mvm_values(xt, transpose, gain),
                         transpose=transpose)

    def _mvm_one(self, a: np.ndarray, transpose: bool) -> np.ndarray | None:
        """forward (backward with transpose) of one vector in one compiled call
        (converters.mvm_layer_one: scaling, every tile's conversion, the sum and the
        rescaling; the same numbers and draws as _scaled, _mvm and the rescaling, with
        one call instead of a dozen per tile: the interpreter's part was about half of a
        batch-1 training step); None where that path is the way."""
        if a.ndim != 2 or a.shape[0] != 1:
            return None
        tiles = [t for t, *_ in self._blocks]
        spec, rng = tiles[0].spec, tiles[0].rng
        if any(t.rng is not rng for t in tiles):
            return None
        gain = self.backward_gain if transpose else 1.0
        if gain != 1.0:
            spec = tiles[0]._gained(gain)
        edges = self._edges
        if edges is None:
            edges = self._edges = (np.array(self.row_edges, dtype=np.int64),
                                   np.array(self.col_edges, dtype=np.int64))
        keep = self.n_in if transpose else self.n_out
        return conv.mvm_layer_one(tuple(t._read_weights() for t in tiles), a, spec, rng,
                                  edges[0], edges[1], transpose,
                                  self.bias and not transpose, self.alpha, keep)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # the shape first: the one-call path reads the input by the tiles' edges
        x = AnalogTile._check(x, (None, self.n_in), "input", finite=False)
        out = self._mvm_one(x, False)
        if out is not None:
            self._vectors["forward"] += self._tile_count()
            return out
        xs, m = self._scaled(x, self.bias)
        out = self._mvm(xs, self.n_out, False)
        self._vectors["forward"] += xs.shape[0] * self._tile_count()
        return out * (self.alpha * m)

    def backward(self, d: np.ndarray) -> np.ndarray:
        d = AnalogTile._check(d, (None, self.n_out), "input", finite=False)
        out = self._mvm_one(d, True)
        if out is not None:
            self._vectors["backward"] += self._tile_count()
            return out
        ds, m = self._scaled(d, False)
        out = self._mvm(ds, self.n_in + int(self.bias), True, self.backward_gain)
        self._vectors["backward"] += ds.shape[0] * self._tile_count()
        return out[:, :self.n_in] * (self.alpha * m)

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        """One UPDATE command per example on every tile. At batch 1 (training as the
        hardware does it) each tile runs AnalogTile.train_one (one compiled call; with
        threads its device work goes to the crew's respond worker until the tile's next
        use), else update_pulses; the same numbers either way."""
        xb = self._finite(with_bias(x) if self.bias else x, "x")
        d = self._finite(d, "d")
        tile_lr = -lr / (self.alpha * x.shape[0])
        if not np.isfinite(tile_lr):
            raise UserError(f"lr: value {lr!r} is not allowed; allowed: a finite number")
        one = len(self._blocks) == 1
        for tile, r0, r1, c0, c1 in self._blocks:
            xt = xb if one else np.ascontiguousarray(xb[:, r0:r1])
            dt = d if one else np.ascontiguousarray(d[:, c0:c1])
            if x.shape[0] == 1:
                self._pulses += tile.train_one(xt, dt, tile_lr)
            else:
                self._pulses += tile.update_pulses(xt, dt, tile_lr)[0]
        self._vectors["update"] += x.shape[0] * len(self._blocks)
        self.update_commands += x.shape[0] * len(self._blocks)

    def end_of_images(self, n: int) -> None:
        """Count training images; transfer whenever an interval boundary is crossed."""
        before, self.images = self.images, self.images + n
        if self.images // self.transfer_interval > before // self.transfer_interval:
            self.transfer()

    def capacitor_saturation(self) -> float | None:
        """Fraction of this layer's capacitors that use at least CAPACITOR_FULL of their
        reach; None for cells without a capacitor."""
        fills = [t.cells.cap.fill().ravel() for row in self.tiles for t in row
                 if hasattr(t.cells, "cap")]
        if not fills:
            return None
        return float(np.mean(np.concatenate(fills) >= CAPACITOR_FULL))

    def transfer(self) -> None:
        saturated = self.capacitor_saturation()
        if saturated is not None:
            self.saturation_at_transfer.append(saturated)
        for row in self.tiles:
            for tile in row:
                self._count("transfer", tile.transfer())

    def total_events(self) -> Events:
        return Events.total(self.events.values())

    def total_cycles(self) -> int:
        return int(sum(self.cycles.values()))
