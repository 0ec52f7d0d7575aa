"""`codesign bench sweep`: sweep throughput (points per second) on a local Dask cluster
with one and with two workers.

The default grid is 24 mapping + estimate points of mlp-2018 (ADC resolution x array
rows), each into a fresh temporary database, so nothing is skipped. Throughput counts the
time from the cluster being ready to the last result stored (the client's SQLite writes
included); the cluster start-up is reported apart. No target: the issue asks for the
numbers, and a point's cost depends on the network and on training.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

NAME = "sweep"
HELP = "points per second of codesign sweep with 1 and 2 local workers"
DEFAULT_VARY = ["adc.bits=3,4,5,6,7,8,9,10", "array.rows=128,256,512"]


def add_arguments(p) -> None:
    p.add_argument("--vary", action="append", metavar="KEY=V1,V2,...",
                   help="grid (default: " + " ".join(DEFAULT_VARY) + ")")
    p.add_argument("--net", default="mlp-2018", help="network (default mlp-2018)")
    p.add_argument("--train-epochs", type=int, default=0, help="training epochs per point")
    p.add_argument("--workers", default="1,2", help="worker counts to time (default 1,2)")


def run(args) -> dict:
    from ..nn.build import resolve_network
    from ..spec import load_spec
    from ..sweep import parse_vary, run_sweep
    grid = parse_vary(args.vary or DEFAULT_VARY)
    base, net = load_spec("ambrogio2018"), resolve_network(args.net)
    counts = [int(w) for w in str(args.workers).split(",")]
    out: dict = {"net": args.net, "train_epochs": args.train_epochs}
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            s = run_sweep(base, grid, net, net_source=args.net, train_epochs=args.train_epochs,
                          db=Path(tmp) / f"bench-{n}.db", workers=n, progress=False)
            busy = s["elapsed_s"] - s["startup_s"]
            out["points"] = s["points"]
            out[f"failed_{n}w"] = s["failed"]
            out[f"startup_s_{n}w"] = s["startup_s"]
            out[f"wall_s_{n}w"] = s["elapsed_s"]
            out[f"points_per_s_{n}w"] = s["points"] / busy if busy > 0 else None
    if 1 in counts and 2 in counts and out["points_per_s_1w"]:
        out["speedup_2w"] = out["points_per_s_2w"] / out["points_per_s_1w"]
    return out
