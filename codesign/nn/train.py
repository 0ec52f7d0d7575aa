"""The training loop: epochs of SGD over a shuffled training set, on tiles or in software.

Batch 1 is how the 2018 hardware trains (one forward, backward and update per image);
``batch`` > 1 gives mini-batch SGD: the forward and backward passes of the batch run
together, and the tiles apply one outer-product update per example of the batch
(``update_mode="exact"``, the hardware's sequence of UPDATE commands, as aihwkit does) or
the summed pulse counts of the batch at once (``update_mode="minibatch"``, faster;
docs/training.md says where it equals the hardware). The learning rate is constant (assumed).
Accuracy on the whole training and test sets is measured after every epoch through the
same tiles (forward only). A progress bar (tqdm) goes to stderr.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from ..errors import UserError
from ..events import Events
from ..pulses import UPDATE_MODES
from ..spec import load_spec
from .analog import OPS
from .build import build_model, model_layout, resolve_network, streams
from .datasets import dataset_for_inputs, validation_split
from .graph import CONV_UPDATES
from .mlp import init_bound

DEFAULT_LR = 0.01     # assumed: see docs/training.md for the sweep behind it


@dataclass(frozen=True)
class TrainConfig:
    net: str = "mlp-2018"
    spec: str = "ambrogio2018"
    dataset: str = "mnist5k"
    cell: str = "2pcm3t1c"
    epochs: int = 8
    seed: int = 0
    lr: float = DEFAULT_LR
    batch: int = 1
    range_factor: float | tuple | None = None    # one number, one per layer, or None
    transfer_interval: int | None = None     # None: spec.cell.transfer_interval
    polarity_inversion: bool | None = None   # None: spec.cell.polarity_inversion
    hidden: str | None = None                # None: the network's own activations
    limit: int | None = None                 # training images per epoch (None: all)
    overrides: tuple = ()                    # extra spec overrides, (key, value) pairs
    update_mode: str = "exact"               # or "minibatch" (codesign.pulses.apply_update)
    hw_aware: bool = False                   # software only: codesign.nn.hwaware
    conv_update: str = CONV_UPDATES[0]       # conv layers on tiles (codesign.nn.graph)
    validation: float | None = None          # hold out this fraction of the training
    #                                          images and score on them, not on the test set

    def check(self) -> None:
        """Each error names its field (the CLI shows the option that sets it)."""
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise UserError(f"epochs: value {self.epochs!r}; allowed: int >= 1",
                            field="epochs")
        if not isinstance(self.batch, int) or self.batch < 1:
            raise UserError(f"batch: value {self.batch!r}; allowed: int >= 1", field="batch")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise UserError(f"lr: value {self.lr!r}; allowed: a number > 0", field="lr")
        if self.limit is not None and self.limit < 1:
            raise UserError(f"limit: value {self.limit!r}; allowed: int >= 1", field="limit")
        if self.conv_update not in CONV_UPDATES:
            raise UserError(f"conv_update: value {self.conv_update!r}; allowed: "
                            + ", ".join(CONV_UPDATES), field="conv_update")
        if self.update_mode not in UPDATE_MODES:
            raise UserError(f"update_mode: value {self.update_mode!r}; allowed: "
                            + ", ".join(UPDATE_MODES), field="update_mode")


@dataclass
class TrainResult:
    config: TrainConfig
    model: object
    dataset: object
    spec: object
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    seconds: float = 0.0
    images: int = 0

    def events_by_op(self) -> dict[str, Events]:
        out = {op: Events() for op in OPS}
        for layer in self.model.layers:
            for op, ev in getattr(layer, "events", {}).items():
                out[op] = out[op] + ev
        return out

    def cycles_by_op(self) -> dict[str, int]:
        out = {op: 0 for op in OPS}
        for layer in self.model.layers:
            for op, c in getattr(layer, "cycles", {}).items():
                out[op] += int(c)
        return out

    def capacitor_saturation(self) -> list | None:
        """Per weight layer, the fraction of its capacitors at their bound just before
        each transfer and after training (codesign.nn.analog.CAPACITOR_FULL); None for
        cells without capacitors."""
        out = []
        for layer in self.model.layers:
            end = layer.capacitor_saturation() if hasattr(layer, "capacitor_saturation") \
                else None
            if end is None:
                return None
            out.append({"at_transfers": list(layer.saturation_at_transfer), "end": end})
        return out

    def summary(self) -> dict:
        ev = self.events_by_op()
        c = self.config
        return {
            "net": c.net, "spec": self.spec.name, "dataset": self.dataset.name,
            "cell": c.cell, "hw_aware": c.hw_aware, "epochs": c.epochs, "seed": c.seed,
            "lr": c.lr, "batch": c.batch,
            "update_mode": c.update_mode if c.cell != "software" else None,
            "conv_update": c.conv_update if hasattr(self.model, "conv_update") and
            c.cell != "software" else None,
            "hidden": list(self.model.hidden), "sizes": self.model.sizes,
            "range_factor": [l.alpha / init_bound(l.n_in) for l in self.model.layers]
            if c.cell != "software" else None,
            "transfer_interval": (c.transfer_interval or self.spec.cell.transfer_interval)
            if c.cell != "software" else None,
            "polarity_inversion": self.spec.cell.polarity_inversion
            if c.cell == "2pcm3t1c" else None,
            "capacitor_saturation": self.capacitor_saturation(),
            "train_images": len(self.dataset.y_train), "test_images": len(self.dataset.y_test),
            "validation": c.validation,
            "test_accuracy": self.test_accuracy[-1],
            "train_accuracy_per_epoch": self.train_accuracy,
            "test_accuracy_per_epoch": self.test_accuracy,
            "loss_per_epoch": self.loss,
            "events": Events.total(ev.values()).as_dict(),
            "events_by_op": {op: e.as_dict() for op, e in ev.items()},
            "cycles_by_op": self.cycles_by_op(),
            "train_seconds": self.seconds,
            "images_per_second": self.images / self.seconds if self.seconds else None,
        }


def resolve_spec(config: TrainConfig):
    spec = load_spec(config.spec)
    over = dict(config.overrides)
    if config.polarity_inversion is not None:
        over["cell.polarity_inversion"] = bool(config.polarity_inversion)
    return spec.with_overrides(over, source="override") if over else spec


def prepare_data(config: TrainConfig):
    """Spec, network, its MLP layout and the dataset of a configuration (checked)."""
    config.check()
    spec = resolve_spec(config)
    net = resolve_network(config.net)
    layout = model_layout(net)
    data = dataset_for_inputs(config.dataset, layout.sizes[0])
    if config.validation is not None:
        data = validation_split(data, config.validation)
    if data.n_classes > layout.sizes[-1]:
        raise UserError(f"net {config.net}: {layout.sizes[-1]} outputs but {config.dataset} "
                        f"has {data.n_classes} classes; allowed: at least {data.n_classes}",
                        field="net")
    return spec, net, layout, data


def prepare(config: TrainConfig):
    """Spec, dataset, the initial model and the random streams of a configuration."""
    spec, net, layout, data = prepare_data(config)
    if config.cell != "software":      # refuse what cannot fit, with its estimate
        from ..memory import check_tiles
        check_tiles("train", spec.with_overrides({"array.cell": config.cell}, source="cell"),
                    list(zip(layout.sizes[:-1], layout.sizes[1:])), config.batch)
    rngs = streams(config.seed)
    model = build_model(net, spec, config.cell, rngs, config.range_factor,
                        config.transfer_interval, config.hidden, config.hw_aware)
    for layer in model.layers:
        if hasattr(layer, "update_mode"):
            layer.update_mode = config.update_mode
    if hasattr(model, "conv_update"):
        model.conv_update = config.conv_update
    return spec, data, model, rngs


def train(config: TrainConfig, progress: bool = True) -> TrainResult:
    # One BLAS thread: batch-1 products are far too small to gain from threads, and on a
    # busy machine OpenBLAS' spinning threads made them over 10x slower (measured).
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(config, progress)


def _train(config: TrainConfig, progress: bool) -> TrainResult:
    spec, data, model, rngs = prepare(config)
    result = TrainResult(config, model, data, spec)
    n = len(data.y_train) if config.limit is None else min(config.limit, len(data.y_train))
    bar = tqdm(total=n * config.epochs, file=sys.stderr, disable=not progress, unit="img",
               desc=f"train {config.cell}", leave=False)
    for epoch in range(config.epochs):
        order = rngs.order.permutation(len(data.y_train))[:n]
        loss_sum = 0.0
        start = time.perf_counter()
        for s in range(0, n, config.batch):
            idx = order[s:s + config.batch]
            loss_sum += model.train_step(data.x_train[idx], data.y_train[idx], config.lr) * \
                len(idx)
            bar.update(len(idx))
        result.seconds += time.perf_counter() - start     # training only, not evaluation
        result.loss.append(loss_sum / n)
        result.train_accuracy.append(model.accuracy(data.x_train, data.y_train))
        result.test_accuracy.append(model.accuracy(data.x_test, data.y_test))
        bar.set_postfix(epoch=epoch + 1, test=f"{result.test_accuracy[-1]:.4f}")
        result.images += n
    bar.close()
    return result
