"""`codesign bench core`: the numpy core against a plain float32 matrix product.

Forward: a 512x512 tile, 8-bit DAC, 8-bit ADC with input-referred noise, batch 256,
against x @ W in float32 of the same shape, in the same process. Update: the same tile's
outer-product update (LFSR pulse trains, coincidence counts, device response) against
the float32 outer product x^T d. Targets (issue 2): forward <= 1.5, update <= 3.

Two floors that numpy cannot go under are printed with the ratios: drawing one Gaussian
per ADC conversion (noise_draw_ratio) already costs more than the reference product, and
the exact update performs BL = 31 slot-by-slot coincidences per example (two float32
products over batch x BL slots), i.e. 2 x BL times the reference's multiply-adds, plus
the device response of every pulsed cell. update_batch1_ratio is the hardware's own
training mode (one example per update) against a float32 outer product.
"""
from __future__ import annotations

import time

import numpy as np

NAME = "core"
HELP = "forward and update of a 512x512 tile at batch 256 vs a float32 matmul"
TARGETS = {"forward_ratio": 1.5, "update_ratio": 3.0}


def add_arguments(p) -> None:
    p.add_argument("--size", type=int, default=512, help="tile rows = cols (default 512)")
    p.add_argument("--batch", type=int, default=256, help="batch (default 256)")
    p.add_argument("--repeat", type=int, default=5, help="timed repetitions, best kept")
    p.add_argument("--cell", default="2pcm3t1c", help="cell kind (default 2pcm3t1c)")


def _best(fn, repeat: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(args) -> dict:
    from ..spec import load_spec
    from ..tile import AnalogTile
    n, batch = args.size, args.batch
    spec = load_spec("ambrogio2018").with_overrides(
        {"array.rows": n, "array.cols": n, "adc.count": n // 8 if n % 8 == 0 else 1,
         "dac.bits": 8, "adc.bits": 8, "adc.noise": 0.5, "dac.encoding": "amplitude",
         "array.cell": args.cell}, source="bench core")
    rng = np.random.default_rng(0)
    tile = AnalogTile(spec, rng)
    tile.program(rng.uniform(-0.3, 0.3, (n, n)))
    x = rng.uniform(-1, 1, (batch, n))
    d = rng.uniform(-1, 1, (batch, n)) * 0.1
    w32 = tile.weights().astype(np.float32)
    x32, d32 = x.astype(np.float32), d.astype(np.float32)
    t_ref_fwd = _best(lambda: x32 @ w32, args.repeat)
    t_fwd = _best(lambda: tile.forward(x), args.repeat)
    t_ref_upd = _best(lambda: x32.T @ d32, args.repeat)
    t_upd = _best(lambda: tile.update(x, d, 1e-3), args.repeat)
    # where the time goes: the noise draw alone (one normal per conversion), the forward
    # without noise, and the update at batch 1 (how the hardware trains)
    shape = (batch, n)
    t_noise = _best(lambda: rng.standard_normal(shape, dtype=np.float32), args.repeat)
    quiet = AnalogTile(spec.with_overrides({"adc.noise": 0.0}), np.random.default_rng(1))
    quiet.program(tile.weights().clip(-1, 1))
    t_fwd_quiet = _best(lambda: quiet.forward(x), args.repeat)
    t_upd1 = _best(lambda: tile.update(x[:1], d[:1], 1e-3), args.repeat)
    t_ref_upd1 = _best(lambda: np.outer(x32[0], d32[0]), args.repeat)
    out = {"size": n, "batch": batch, "cell": args.cell,
           "forward_s": t_fwd, "forward_ref_s": t_ref_fwd, "forward_ratio": t_fwd / t_ref_fwd,
           "update_s": t_upd, "update_ref_s": t_ref_upd, "update_ratio": t_upd / t_ref_upd,
           "noise_draw_s": t_noise, "noise_draw_ratio": t_noise / t_ref_fwd,
           "forward_noiseless_ratio": t_fwd_quiet / t_ref_fwd,
           "update_batch1_s": t_upd1, "update_batch1_ratio": t_upd1 / t_ref_upd1,
           "targets": TARGETS}
    out["meets_targets"] = all(out[k] <= v for k, v in TARGETS.items())
    return out
