"""`codesign synth tile`: yosys cell counts of the tile controller for a spec."""
from __future__ import annotations

from ..hdl.synth import synth_counts
from ..hdl.tile import with_size
from ._common import add_spec_argument, print_json, print_table
from .sim_cmd import add_size_arguments


def _tile(args) -> int:
    spec = with_size(args.spec, args.rows, args.cols, args.adcs)
    result = synth_counts(spec, use_cache=not args.no_cache, verbose=not args.json)
    if args.json:
        print_json(result)
        return 0
    p = result["parameters"]
    rows = [("cells", result["cells"]), ("flip-flops", result["flops"]),
            ("NAND2 equivalents", int(round(result["nand2_eq"])))]
    rows += [(f"  {t}", n) for t, n in result["by_type"].items()]
    rows += [("yosys", result["yosys"].split(" (")[0]),
             ("time (s)", "cached" if result["cached"] else result["seconds"])]
    print_table(rows, ("metric", "value"),
                title=f"synth tile_ctrl {p['ROWS']}x{p['COLS']}, {p['ADCS']} ADCs")
    return 0


def register(sub) -> None:
    p = sub.add_parser("synth", help="synthesize an RTL block with yosys (cell counts)")
    s = p.add_subparsers(dest="synth_target", metavar="TARGET", required=True)
    t = s.add_parser("tile", help="tile controller cell counts for a spec")
    add_spec_argument(t)
    add_size_arguments(t)
    t.add_argument("--no-cache", action="store_true", help="synthesize even if cached")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(func=_tile)
