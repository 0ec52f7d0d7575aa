"""`codesign sim tile`: build the tile controller for a spec and run its parity bench
(Icarus via cocotb) outside pytest; `codesign sim block NAME`: one block's own bench.

Other RTL blocks can add a target without editing this file: a module in codesign.hdl
that defines SIM_NAME, SIM_HELP, add_sim_arguments(parser) and run_sim(args) -> dict
(with integer ops, mismatches, cycles) becomes `codesign sim SIM_NAME`.
"""
from __future__ import annotations

import importlib
import pkgutil

from .. import hdl
from ..argtypes import positive_int, seed
from ..hdl.blocks import BLOCKS, run_block_bench
from ..hdl.tile import OPS_HELP, run_tile_bench, with_size
from ._common import add_spec_argument, print_json, print_table


def add_size_arguments(parser) -> None:
    parser.add_argument("--rows", type=positive_int, help="override array.rows")
    parser.add_argument("--cols", type=positive_int, help="override array.cols")
    parser.add_argument("--adcs", type=positive_int, help="override adc.count (divides cols)")


def _tile(args) -> dict:
    spec = with_size(args.spec, args.rows, args.cols, args.adcs)
    return run_tile_bench(spec, ops=args.ops, seed=args.seed, waves=args.waves, mix=args.mix)


def _block(args) -> dict:
    spec = with_size(args.spec, args.rows, args.cols, args.adcs)
    return run_block_bench(args.block, spec, seed=args.seed, items=args.items,
                           waves=args.waves)


def _print(report: dict, title: str) -> None:
    rows = [("operations", report["ops"]), ("mismatches", report["mismatches"])]
    rows += [(f"  {k}", v) for k, v in report.get("by_kind", {}).items()]
    rows += [("simulated cycles", report["cycles"]),
             ("wall time (s)", round(report.get("wall_s", 0.0), 2))]
    print_table(rows, ("metric", "value"), title=title)
    for line in report.get("details", [])[:10]:
        print("  " + line)
    if report.get("error"):
        print(f"bench error: {report['error']}")
    if report.get("waves"):
        print(f"waves: {report['waves']}")


def _runner(run, name: str):
    def go(args) -> int:
        report = run(args)
        if args.json:
            print_json(report)
        else:
            _print(report, f"sim {name}")
        return 0 if report["mismatches"] == 0 and not report.get("error") else 1
    return go


def register(sub) -> None:
    p = sub.add_parser("sim", help="run an RTL block against the model (Icarus + cocotb)")
    s = p.add_subparsers(dest="sim_target", metavar="TARGET", required=True)
    t = s.add_parser("tile", help="tile controller parity bench: RTL vs physics core")
    add_spec_argument(t)
    add_size_arguments(t)
    t.add_argument("--ops", type=positive_int, default=20, help="random operations (default 20)")
    t.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    t.add_argument("--mix", default=None, help=OPS_HELP)
    t.add_argument("--waves", action="store_true", help="write an FST waveform, print path")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(func=_runner(_tile, "tile"))
    b = s.add_parser("block", help="one RTL block's own bench: randomized stimulus, "
                     "scoreboard against the model")
    b.add_argument("block", choices=sorted(BLOCKS), help="the block")
    add_spec_argument(b)
    add_size_arguments(b)
    b.add_argument("--items", type=positive_int, default=None,
                   help="random items (conversions, updates, transfers or flits)")
    b.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    b.add_argument("--waves", action="store_true", help="write an FST waveform, print path")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=_runner(_block, "block"))
    for info in pkgutil.iter_modules(hdl.__path__):
        module = importlib.import_module(f"{hdl.__name__}.{info.name}")
        if hasattr(module, "SIM_NAME") and hasattr(module, "run_sim"):
            b = s.add_parser(module.SIM_NAME, help=getattr(module, "SIM_HELP", ""))
            b.add_argument("--json", action="store_true", help="print one JSON object")
            module.add_sim_arguments(b)
            b.set_defaults(func=_runner(module.run_sim, module.SIM_NAME))
