"""Traffic between tile blocks for one inference (one example), in bits.

Where the digital work happens (our model, assumed; docs/mapping.md):
- a weight layer's output column block j is complete at its reducer, block (0, j),
  which adds the partial sums of blocks (i >= 1, j) and applies the following digital
  layers (activation, norm, pooling) before sending anything on, so pooled data travels;
- a residual ``add`` is done at the reducers of its main input (the branch whose last
  weight layer comes latest); the other operands are sent there, channel by channel;
- ``concat`` and ``flatten`` only relabel channels.

Flow kinds and word widths (assumed): activations travel as ``spec.dac.bits`` words (the
next layer's DAC input), partial sums and residual operands as ``spec.adc.bits`` words,
the network output as ``spec.adc.bits`` words to the chip I/O. The network input arrives
from the I/O, a virtual node beside tile (0, 0).

What a block needs: a conv block holding the rows of input channel c (rows are
channel-major) needs the whole H x W map of c; a linear block needs exactly the features
of its rows. Each column block needs its own copy (unicast). Replicated layers split
positions evenly, so traffic between copies is shared out evenly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import INPUT, Network
from ..spec import Spec
from .partition import Partition

FLOW_KINDS = ("activation", "partial_sum", "residual", "output")


@dataclass(frozen=True)
class Flows:
    """Traffic per inference: flow k sends bits[k] from block src[k] to block dst[k].
    Block id ``io`` (= number of blocks) is the chip I/O."""
    src: np.ndarray
    dst: np.ndarray
    bits: np.ndarray
    kind: np.ndarray     # index into FLOW_KINDS
    io: int

    def __len__(self) -> int:
        return len(self.src)


@dataclass(frozen=True)
class _Tensor:
    """Who produced each channel of a tensor: owner[c] is a layer index in the partition
    (-1: the network input), chan[c] its output channel, red[c] the local block index of
    its reducer (row block 0 of the column block holding it; 0 for the network input);
    vpc values per channel."""
    owner: np.ndarray
    chan: np.ndarray
    red: np.ndarray
    vpc: int


def _values_per_channel(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape[1:])) if len(shape) == 3 else 1


class _Tracer:
    def __init__(self, net: Network, part: Partition):
        self.net, self.part = net, part
        self.index = {lp.name: k for k, lp in enumerate(part.layers)}
        self.memo: dict[str, _Tensor] = {}
        self.residual: list[tuple[_Tensor, _Tensor]] = []

    def tensor(self, name: str) -> _Tensor:
        if name not in self.memo:
            self.memo[name] = self._trace(name)
        return self.memo[name]

    def _trace(self, name: str) -> _Tensor:
        if name == INPUT:
            shape = self.net.input_shape
            return _Tensor(np.full(shape[0], -1), np.arange(shape[0]),
                           np.zeros(shape[0], dtype=np.int64), _values_per_channel(shape))
        layer = self.net[name]
        vpc = _values_per_channel(layer.out_shape)
        if layer.has_weights:
            n, k = layer.out_features, self.index[name]
            chan = np.arange(n)
            return _Tensor(np.full(n, k), chan, self.part.layers[k].col_block_of(chan), vpc)
        ins = [self.tensor(i) for i in layer.inputs]
        if layer.kind == "flatten":
            return ins[0]  # channels keep their owner; each carries its H*W features
        if layer.kind == "concat":
            return _Tensor(np.concatenate([t.owner for t in ins]),
                           np.concatenate([t.chan for t in ins]),
                           np.concatenate([t.red for t in ins]), vpc)
        if layer.kind == "add":
            main = max(range(len(ins)), key=lambda k: (ins[k].owner.max(), -k))
            out = _Tensor(ins[main].owner, ins[main].chan, ins[main].red, vpc)
            self.residual += [(_Tensor(t.owner, t.chan, t.red, vpc), out)
                              for k, t in enumerate(ins) if k != main]
            return out
        return _Tensor(ins[0].owner, ins[0].chan, ins[0].red, vpc)  # act, norm, pool


def _block_inputs(lp, t: _Tensor, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Channels of input tensor t that block (i, j) of layer lp needs, and how many
    values of each."""
    layer = lp.layer
    r0, r1 = lp.row_edges[i], min(lp.row_edges[i + 1], layer.fan_in)
    if r1 <= r0:  # a block holding only the bias row
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if layer.kind == "linear":
        c = np.arange(r0 // t.vpc, -(-r1 // t.vpc))
        values = np.minimum(r1, (c + 1) * t.vpc) - np.maximum(r0, c * t.vpc)
        return c, values
    kk = layer.kernel[0] * layer.kernel[1]
    offsets = np.arange(r0 // kk, -(-r1 // kk))
    per_group_out = layer.out_features // layer.groups
    c0, c1 = lp.col_edges[j], lp.col_edges[j + 1]
    groups = np.arange(c0 // per_group_out, (c1 - 1) // per_group_out + 1)
    chans = (groups[:, None] * (layer.in_shape[0] // layer.groups) + offsets[None, :]).ravel()
    return chans, np.full(len(chans), t.vpc)


def network_flows(net: Network, spec: Spec, part: Partition) -> Flows:
    """All flows of one inference between the blocks of `part` (see module doc)."""
    tr = _Tracer(net, part)
    act_bits, word_bits = spec.dac.bits, spec.adc.bits
    cols: dict[str, list] = {k: [] for k in ("sl", "sb", "dl", "db", "bits", "kind")}

    def emit(sl, sb, dl, db, bits, kind):
        n = len(bits)
        for key, v in (("sl", sl), ("sb", sb), ("dl", dl), ("db", db)):
            cols[key].append(np.full(n, v, dtype=np.int64) if isinstance(v, (int, np.integer))
                             else np.asarray(v, dtype=np.int64))
        cols["bits"].append(np.asarray(bits, dtype=float))
        cols["kind"].append(np.full(n, kind, dtype=np.int64))

    for d, lp in enumerate(part.layers):
        t = tr.tensor(lp.layer.inputs[0])
        needs = [_block_inputs(lp, t, i, j) for i in range(lp.row_blocks)
                 for j in range(lp.col_blocks)]            # block by block, local order
        chans = np.concatenate([c for c, _ in needs])
        local = np.repeat(np.arange(lp.blocks), [len(c) for c, _ in needs])
        emit(t.owner[chans], t.red[chans], d, local,
             np.concatenate([v for _, v in needs]) * act_bits, 0)
        if lp.row_blocks > 1:      # partial sums of blocks (i >= 1, j) to (0, j)
            i, j = np.divmod(np.arange(lp.col_blocks, lp.blocks), lp.col_blocks)
            width = np.diff(lp.col_edges)[j]
            emit(d, i * lp.col_blocks + j, d, j, lp.layer.positions * width * word_bits, 1)
    for other, main in tr.residual:
        emit(other.owner, other.red, main.owner, main.red,
             np.full(len(main.owner), main.vpc * word_bits), 2)
    for out in net.outputs:
        t = tr.tensor(out.name)
        emit(t.owner, t.red, -1, 0, np.full(len(t.owner), t.vpc * word_bits), 3)
    return _expand(part, _merge_runs({k: np.concatenate(v) if v else
                                      np.zeros(0, dtype=np.int64) for k, v in cols.items()}))


def _merge_runs(c: dict) -> dict:
    """Sum runs of consecutive rows with the same endpoints and kind (a block's channels
    from one producer come one after the other): far fewer rows to sort in _expand, the
    same sums (bits are whole numbers, so the order of the additions does not matter)."""
    n = len(c["bits"])
    if n < 2:
        return c
    change = np.zeros(n - 1, dtype=bool)
    for key in ("sl", "sb", "dl", "db", "kind"):
        change |= c[key][1:] != c[key][:-1]
    starts = np.flatnonzero(np.concatenate([[True], change]))
    out = {key: c[key][starts] for key in ("sl", "sb", "dl", "db", "kind")}
    out["bits"] = np.add.reduceat(c["bits"], starts)
    return out


def _unique_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(np.stack(columns, 1), axis=0, return_inverse=True), in the same
    (lexicographic) order, but on one mixed-radix integer key per row when it fits in
    int64: unique over rows sorts a void dtype, seconds for a million rows."""
    n = len(columns[0])
    if n == 0:
        return np.zeros((0, len(columns)), dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo = [int(col.min()) for col in columns]
    span = [int(col.max()) - l + 1 for col, l in zip(columns, lo)]
    if float(np.prod([float(s) for s in span])) >= 2.0 ** 62:
        uniq, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
        return uniq, inverse.ravel()
    key = np.zeros(n, dtype=np.int64)
    for col, l, s in zip(columns, lo, span):
        key = key * s + (col - l)
    ukey, inverse = np.unique(key, return_inverse=True)
    uniq = np.empty((len(ukey), len(columns)), dtype=np.int64)
    for k in range(len(columns) - 1, -1, -1):
        ukey, uniq[:, k] = np.divmod(ukey, span[k])
        uniq[:, k] += lo[k]
    return uniq, inverse.ravel()


def _expand(part: Partition, c: dict) -> Flows:
    """Sum duplicate logical flows, then expand layer-level endpoints over replicas."""
    keep = ~((c["sl"] == c["dl"]) & (c["sb"] == c["db"])) & (c["bits"] > 0)
    uniq, inverse = _unique_rows([c[k][keep] for k in ("sl", "sb", "dl", "db", "kind")])
    bits = np.bincount(inverse, weights=c["bits"][keep], minlength=len(uniq))
    io = part.n_blocks
    reps = np.array([lp.replicas for lp in part.layers] + [1])   # index -1: the I/O
    first = np.array([lp.first_block for lp in part.layers] + [io])
    size = np.array([lp.blocks for lp in part.layers] + [0])
    sl, sb, dl, db, kind = uniq.T if len(uniq) else np.zeros((5, 0), dtype=np.int64)
    ks, kd = reps[sl], reps[dl]
    same = sl == dl  # partial sums stay inside one copy of the layer
    pairs = np.where(same, ks, ks * kd)
    flow = np.repeat(np.arange(len(sl)), pairs)
    offset = np.arange(len(flow)) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    a = np.where(same[flow], offset, offset // kd[flow])
    b = np.where(same[flow], offset, offset % kd[flow])
    return Flows(src=first[sl[flow]] + a * size[sl[flow]] + sb[flow],
                 dst=first[dl[flow]] + b * size[dl[flow]] + db[flow],
                 bits=bits[flow] / pairs[flow], kind=kind[flow], io=io)
