"""`codesign infer --onnx MODEL.onnx`: a model exported from PyTorch or Keras, with its
weights, run on simulated PCM tiles (codesign.nn.onnx_run); the `infer` subcommand itself
is registered in train_cmd.py, which hands --onnx runs to :func:`run_onnx`.

    codesign infer --onnx model.onnx --spec ambrogio2018 --dataset mnist5k \\
                   --times 1,86400,31536000 [--images N] [--json] [--png FILE]
    codesign infer --weights W.npz --export-onnx model.onnx ...   (write it, then run it)
"""
from __future__ import annotations

from ._common import print_json, print_table


def add_onnx_arguments(parser) -> None:
    parser.add_argument("--onnx", metavar="FILE.onnx",
                        help="run this ONNX model with its own weights (exported from "
                             "PyTorch or Keras) instead of --net; --cell, --epochs and the "
                             "training options do not apply")
    parser.add_argument("--images", type=int, default=None, metavar="N",
                        help="with --onnx: the first N test images (default: all)")
    parser.add_argument("--export-onnx", metavar="FILE.onnx",
                        help="with --weights: write the saved network and weights as an ONNX "
                             "model, then run it as --onnx does")


def run_onnx(args) -> int:
    from ..errors import UserError
    from ..nn.infer import parse_times
    from ..nn.onnx_run import onnx_inference
    from ..spec import load_spec
    if args.images is not None and args.images < 1:
        raise UserError(f"--images: value {args.images!r}; allowed: an integer >= 1")
    times = parse_times(args.times)
    if args.export_onnx:
        from ..nn.onnx_export import export_saved_weights
        if not args.weights:
            raise UserError("--export-onnx: needs --weights W.npz (saved by `codesign train "
                            "--save`)")
        export_saved_weights(args.weights, args.export_onnx)
        args.onnx = args.export_onnx
        if not args.json:
            print(f"wrote {args.export_onnx}")
    spec = load_spec(args.spec)
    if args.overrides:
        spec = spec.with_overrides(dict(args.overrides), source="--set")
    out = onnx_inference(args.onnx, spec, args.dataset, times, args.seed, args.images)
    return show_drift(out, args, f"{out['net']} ({args.onnx}, {out['weight_layers']} weight "
                      f"layers on {out['tiles']} tiles) on {out['dataset']} "
                      f"({out['test_images']} test images)")


def show_drift(out: dict, args, what: str) -> int:
    """The accuracy-over-time result of `infer` (a network's weights or an ONNX model):
    its PNG (--png), JSON (--json) or a header line and the table."""
    from ..nn.infer import time_label
    from ..nn.report import plot_drift
    if args.png:
        plot_drift(out, args.png)
    if args.json:
        print_json(out)
        return 0
    print(f"{what}, spec {out['spec']} ({out['noise_model']}); digital accuracy "
          f"{out['accuracy_digital']:.4f}")
    print_table([(time_label(t), a, c) for t, a, c in zip(out["times"], out["accuracy"],
                                                           out["accuracy_compensated"])],
                ("time", "accuracy", "compensated"))
    if args.png:
        print(f"wrote {args.png}")
    return 0
