"""`codesign sweep`: a grid of spec variants on Dask, results in SQLite (docs/sweep.md)."""
from __future__ import annotations

import os
from pathlib import Path

from ..argtypes import positive_int
from ._common import add_spec_argument, print_json, print_table
from .train_cmd import add_training_arguments, training_options

SCALARS = (int, float, str, bool, type(None))
MAX_POINTS = 1000     # codesign.sweep.grid.MAX_POINTS (not imported: the CLI loads fast)


def _sweep(args) -> int:
    from ..nn.build import resolve_network
    from ..spec import load_spec
    from ..errors import UserError
    from ..sweep import SweepStore, front, load_evaluator, parse_vary, plot_png, run_sweep
    from ..sweep.grid import GridTooLarge, check_grid_size
    from ..sweep.tables import points_table
    grid = parse_vary(args.vary)            # bad keys and values: exit 2 before any work
    max_points = None if args.force else args.max_points
    try:                                    # too many points: exit 2 before any work
        check_grid_size(grid, max_points)
    except GridTooLarge as exc:             # say which options run it
        raise UserError(f"--vary: the grid has {exc.size}, more than the limit of "
                        f"{exc.limit:,}; allowed: --max-points {exc.points} or --force to run "
                        "it, or fewer values") from None
    base = load_spec(args.spec)
    net = resolve_network(args.net)
    # workers load the network again for training: give them a path that works anywhere
    source = str(Path(args.net).resolve()) if Path(args.net).is_file() else args.net
    evaluator = load_evaluator(args.evaluator)
    train = training_options(args)
    summary = run_sweep(base, grid, net, base_name=args.spec, net_source=source,
                        train_epochs=train.pop("epochs"), train_limit=train.pop("limit"),
                        dataset=train.pop("dataset"), seed=train.pop("seed"),
                        train_options={k: v for k, v in train.items()
                                       if k not in ("net", "hw_aware")},
                        evaluator=evaluator,
                        db=args.db, workers=args.workers, scheduler=args.scheduler,
                        progress=not args.quiet, max_points=max_points)
    with SweepStore(args.db, readonly=True) as store:
        points = store.points(sweep_id=summary["sweep_id"])
    done = [p for p in points if p["status"] == "done"]
    best, objectives = front(done)
    if args.png and best:
        plot_png(done, best, title=f"Pareto front: {base.name}", path=args.png)
    if args.json:
        print_json({**summary, "results": [_result(p) for p in points],
                    "pareto": {"objectives": [k for k, _, _ in objectives],
                               "keys": [p["key"] for p in best]},
                    "png": args.png if args.png and best else None})
    else:
        headers, rows = points_table(points)
        print_table(rows, headers, title=f"sweep {summary['sweep_id']}: {summary['points']} "
                    f"points ({summary['skipped']} already done, {summary['computed']} "
                    f"computed, {summary['failed']} failed) in {summary['elapsed_s']:.1f} s")
        if best:
            headers, rows = points_table(best, status=False)
            print()
            print_table(rows, headers, title="Pareto front (" + ", ".join(
                f"{'max' if s > 0 else 'min'} {name}" for _, s, name in objectives) + ")")
        print(f"\ndatabase: {summary['db']}   (HTML: codesign report {summary['db']})")
        if args.png and best:
            print(f"Pareto plot: {args.png}")
    return 0 if summary["failed"] == 0 and summary["status"] == "finished" else 1


def _result(p: dict) -> dict:
    metrics = {k: v for k, v in (p.get("metrics") or {}).items() if isinstance(v, SCALARS)}
    return {"key": p["key"], "overrides": p["overrides"], "status": p["status"],
            "metrics": metrics, "error": p.get("error"), "elapsed_s": p.get("elapsed_s")}


def register(sub) -> None:
    p = sub.add_parser(
        "sweep", help="evaluate a grid of spec variants on Dask; results in SQLite",
        description="Evaluate every combination of the --vary values (mapping, estimate, "
                    "optional training) on a Dask cluster. Results go to an SQLite file; "
                    "rerunning the same command resumes without recomputing finished points. "
                    "Exit status: 0 all points done, 1 some failed (stored with their "
                    "error), 2 bad input.")
    add_spec_argument(p, default="ambrogio2018")
    p.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="a dotted spec key and its values, e.g. adc.bits=4,6,8 (repeat for "
                        "a grid; list fields as [a,b],[c,d])")
    p.add_argument("--max-points", type=positive_int, default=MAX_POINTS, metavar="N",
                   help=f"refuse a grid of more than N points (default {MAX_POINTS:,}); the "
                        "grid's size is printed first")
    p.add_argument("--force", action="store_true", help="run a grid of any size")
    add_training_arguments(p, sweep=True)
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="local cluster worker processes (default: one per CPU)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use a running Dask scheduler, e.g. tcp://10.0.0.5:8786, instead of "
                        "a local cluster")
    p.add_argument("--db", default="sweep.db", metavar="FILE",
                   help="SQLite results file, created if needed (default sweep.db)")
    p.add_argument("--evaluator", metavar="MODULE:FUNCTION",
                   help="evaluate points with your own function fn(spec, net, options) -> "
                        "metrics dict (importable on the workers)")
    p.add_argument("--png", metavar="FILE", help="also write the Pareto plot to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_sweep)

