"""Reproduce the 2018 equivalent-accuracy result (Ambrogio et al., Nature 2018):

    python -m codesign.nn.reproduce [--seeds 0,1,2] [--epochs 8] [--workers 2] [--json]

Trains mlp-2018 (528-250-125-10, MNIST cropped to 528 pixels) on mnist5k in software, on
PCM pairs alone and on 2PCM+3T1C cells (ambrogio2018 spec), plus ablations of polarity
inversion and of the transfer interval, over several seeds, and prints a Markdown table
of the final test accuracy (mean and standard deviation over seeds) for
docs/reproduction.md. Every number in that document comes from this script.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .train import TrainConfig, train

# The common settings of every row (docs/training.md explains the choices).
# range_factor None: 8 for the hidden layers, 24 for the output layer (codesign.nn.analog).
BASE = dict(net="mlp-2018", spec="ambrogio2018", dataset="mnist5k", hidden="tanh",
            lr=0.01, range_factor=None)

# (label, settings that differ from BASE)
ROWS = [
    ("software (float, same init and schedule)", dict(cell="software")),
    ("PCM pair alone", dict(cell="pcm-pair")),
    ("2PCM+3T1C (transfer every 8,000 images, polarity inversion)", dict(cell="2pcm3t1c")),
    ("ideal cell (linear, noise-free, same DAC/ADC)", dict(cell="ideal")),
    ("ablation: 2PCM+3T1C without polarity inversion",
     dict(cell="2pcm3t1c", polarity_inversion=False)),
    ("ablation: 2PCM+3T1C, transfer every 2,000 images",
     dict(cell="2pcm3t1c", transfer_interval=2000)),
    ("ablation: 2PCM+3T1C, no transfer within the run (interval 10^9 images)",
     dict(cell="2pcm3t1c", transfer_interval=10**9)),
    ("design: 2PCM+3T1C with one update LFSR per row and column (update.rng per_line, "
     "the preset before the controller study; preset: one per 8 lines)",
     dict(cell="2pcm3t1c", overrides=(("update.rng", "per_line"),))),
    ("sensitivity: 2PCM+3T1C, transfer tolerance 1 µS (cell.transfer_tol 0.04, the "
     "preset's earlier value; preset 0.01 = 0.25 µS)",
     dict(cell="2pcm3t1c", overrides=(("cell.transfer_tol", 0.04),))),
]


def _job(args: tuple) -> tuple:
    label, settings, seed, epochs = args
    cfg = TrainConfig(**{**BASE, **settings, "seed": seed, "epochs": epochs})
    res = train(cfg, progress=False)
    return label, seed, res.test_accuracy, res.seconds


def run(seeds, epochs: int, workers: int, rows=None, log=sys.stderr) -> dict:
    rows = ROWS if rows is None else rows
    jobs = [(label, settings, s, epochs) for label, settings in rows for s in seeds]
    results: dict[str, dict] = {label: {"per_seed": {}, "per_epoch": {}} for label, _ in rows}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for label, seed, acc, secs in pool.map(_job, jobs):
            results[label]["per_seed"][seed] = acc[-1]
            results[label]["per_epoch"][seed] = acc
            print(f"[{time.perf_counter() - start:7.0f} s] {label}, seed {seed}: "
                  f"{100 * acc[-1]:.2f} % ({secs:.0f} s training)", file=log, flush=True)
    for label, r in results.items():
        vals = np.array([r["per_seed"][s] for s in seeds])
        r["mean"], r["std"] = float(vals.mean()), float(vals.std(ddof=1) if len(vals) > 1
                                                          else 0.0)
    return {"settings": BASE, "epochs": epochs, "seeds": list(seeds), "rows": results}


def markdown(out: dict) -> str:
    """The table of a run (also of one loaded from --json output, whose seed keys are
    strings)."""
    rows = out["rows"]
    ref = next(iter(rows.values()))["mean"]
    lines = ["| configuration | test accuracy (%) mean ± std | Δ vs software (pp) | "
             "per seed (%) |", "|---|---|---|---|"]
    for label, r in rows.items():
        per_seed = {str(k): v for k, v in r["per_seed"].items()}
        per = ", ".join(f"{100 * per_seed[str(s)]:.2f}" for s in out["seeds"])
        lines.append(f"| {label} | {100 * r['mean']:.2f} ± {100 * r['std']:.2f} | "
                     f"{100 * (r['mean'] - ref):+.2f} | {per} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m codesign.nn.reproduce",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rows", default=None,
                   help="comma-separated row numbers (0-based) to run (default: all)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--from-json", metavar="FILE", nargs="+",
                   help="print the table of runs saved with --json (no training); the rows "
                        "of several files are joined (the first file's first row is the "
                        "software reference)")
    args = p.parse_args(argv)
    if args.from_json:
        runs = []
        for name in args.from_json:
            with open(name) as f:
                runs.append(json.load(f))
        joined = dict(runs[0], rows={k: v for r in runs for k, v in r["rows"].items()})
        print(markdown(joined))
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = ROWS if args.rows is None else [ROWS[int(i)] for i in args.rows.split(",")]
    out = run(seeds, args.epochs, args.workers, rows)
    if args.json:
        from ..jsonutil import dumps
        print(dumps(out, "reproduce", indent=2))
    else:
        print(f"mlp-2018 on mnist5k, {args.epochs} epochs, seeds {args.seeds}; settings "
              f"{BASE}\n")
        print(markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
