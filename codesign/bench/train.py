"""`codesign bench train`: training speed on 2PCM+3T1C tiles against the software baseline.

784-250-125-10 (mlp-784) on mnist5k images, in one process: software SGD at batch 1 and
with mini-batches, then the same network on ambrogio2018 2PCM+3T1C tiles at batch 1 (as
the hardware trains) and with mini-batches. ``ratio_vs_software`` is the analog time per
image over the software time per image, both at batch 1. Target: <= 3 (issue 6).
The analog run is profiled (cProfile) and the functions taking most of its time are
reported, so a missed target says where the time goes.
"""
from __future__ import annotations

import cProfile
import pstats
import time

from threadpoolctl import threadpool_limits

from ..nn.build import build_mlp, resolve_network, streams
from ..nn.datasets import load_mnist5k
from ..spec import load_spec

NAME = "train"
HELP = "training images/s on 2PCM+3T1C tiles vs the software baseline (target ratio <= 3)"
TARGET_RATIO = 3.0


def add_arguments(parser) -> None:
    parser.add_argument("--images", type=int, default=200,
                        help="training images per analog measurement (default 200)")
    parser.add_argument("--batch", type=int, default=32,
                        help="mini-batch size of the mini-batch runs (default 32)")
    parser.add_argument("--spec", default="ambrogio2018", help="preset or spec file")


def _rate(model, x, y, batch: int, lr: float = 0.01) -> float:
    """Training images per second over x (one SGD pass)."""
    start = time.perf_counter()
    for s in range(0, len(y), batch):
        model.train_step(x[s:s + batch], y[s:s + batch], lr)
    return len(y) / (time.perf_counter() - start)


def _profile(model, x, y, top: int = 8) -> list[dict]:
    prof = cProfile.Profile()
    prof.enable()
    _rate(model, x, y, 1)
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values()) or 1.0   # sum of own times
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return [{"function": f"{path.split('site-packages/')[-1].split('codesign/')[-1]}:"
                         f"{line}({name})",
             "own_time_fraction": round(v[2] / total, 3), "calls": v[1]}
            for (path, line, name), v in rows]


def run(args) -> dict:
    with threadpool_limits(limits=1, user_api="blas"):   # as codesign.nn.train does
        return _run(args)


def _run(args) -> dict:
    images, batch = max(int(args.images), 10), max(int(args.batch), 2)
    spec = load_spec(args.spec)
    net = resolve_network("mlp-784")
    data = load_mnist5k()
    x, y = data.x_train, data.y_train
    n_sw = min(len(y), 10 * images)
    sw = build_mlp(net, spec, "software", streams(0))
    _rate(sw, x[:50], y[:50], 1)                                 # warm-up
    sw_rate = _rate(sw, x[:n_sw], y[:n_sw], 1)
    sw_batch_rate = _rate(build_mlp(net, spec, "software", streams(0)), x[:n_sw], y[:n_sw],
                          batch)
    analog = build_mlp(net, spec, "2pcm3t1c", streams(0))
    _rate(analog, x[:5], y[:5], 1)
    an_rate = _rate(analog, x[:images], y[:images], 1)
    an_batch_rate = _rate(build_mlp(net, spec, "2pcm3t1c", streams(0)),
                          x[:images], y[:images], batch)
    ratio = sw_rate / an_rate
    return {
        "net": "mlp-784 (784-250-125-10)", "spec": spec.name, "cell": "2pcm3t1c",
        "images": images, "batch": batch,
        "software_images_per_s": sw_rate,
        "software_batch_images_per_s": sw_batch_rate,
        "analog_images_per_s": an_rate,
        "analog_batch_images_per_s": an_batch_rate,
        "software_ms_per_image": 1e3 / sw_rate,
        "analog_ms_per_image": 1e3 / an_rate,
        "ratio_vs_software": ratio,
        "ratio_batch_vs_software_batch": sw_batch_rate / an_batch_rate,
        "target_ratio": TARGET_RATIO,
        "meets_target": bool(ratio <= TARGET_RATIO),
        "profile_batch1": _profile(build_mlp(net, spec, "2pcm3t1c", streams(1)),
                                   x[:max(images // 4, 10)], y[:max(images // 4, 10)]),
    }
