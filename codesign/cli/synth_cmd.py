"""`codesign synth tile`: yosys cell counts of the tile controller for a spec."""
from __future__ import annotations

from ..hdl.synth import synth_blocks, synth_counts
from ..hdl.tile import with_size
from ._common import add_spec_argument, print_json, print_table
from .sim_cmd import add_size_arguments


def _tile(args) -> int:
    spec = with_size(args.spec, args.rows, args.cols, args.adcs)
    if args.blocks:
        return _blocks(spec, args)
    result = synth_counts(spec, use_cache=not args.no_cache, verbose=not args.json)
    if args.json:
        print_json(result)
        return 0
    p = result["parameters"]
    rows = [("cells", result["cells"]), ("flip-flops", result["flops"]),
            ("NAND2 equivalents", int(round(result["nand2_eq"])))]
    rows += [(f"  {t}", n) for t, n in result["by_type"].items()]
    # a memory is a macro, not gates (the estimator prices it with CACTI)
    rows += [(f"memory {m['name']}", f"{m['words']} x {m['width']} bits, "
              f"{m['read_ports']}R{m['write_ports']}W"
              f"{', registered read' if m['sync_read'] else ''}")
             for m in result.get("memories", ())]
    rows += [("yosys", result["yosys"].split(" (")[0]),
             ("time (s)", "cached" if result["cached"] else result["seconds"])]
    print_table(rows, ("metric", "value"),
                title=f"synth tile_ctrl {p['ROWS']}x{p['COLS']}, {p['ADCS']} ADCs")
    return 0


def _blocks(spec, args) -> int:
    result = synth_blocks(spec, use_cache=not args.no_cache, verbose=not args.json)
    if args.json:
        print_json(result)
        return 0
    p, total = result["parameters"], result["nand2_eq"]
    rows = [(m, b["instances"], b["flops"], int(round(b["nand2_eq"])),
             f"{100 * b['nand2_eq'] / total:.1f}")
            for m, b in sorted(result["blocks"].items(), key=lambda kv: -kv[1]["nand2_eq"])]
    rows.append(("total", "", sum(b["flops"] for b in result["blocks"].values()),
                 int(round(total)), "100.0"))
    print_table(rows, ("module", "instances", "flip-flops", "NAND2 eq.", "%"),
                title=f"synth tile_ctrl {p['ROWS']}x{p['COLS']}, {p['ADCS']} ADCs, by module "
                "(not flattened)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("synth", help="synthesize an RTL block with yosys (cell counts)")
    s = p.add_subparsers(dest="synth_target", metavar="TARGET", required=True)
    t = s.add_parser("tile", help="tile controller cell counts for a spec")
    add_spec_argument(t)
    add_size_arguments(t)
    t.add_argument("--no-cache", action="store_true", help="synthesize even if cached")
    t.add_argument("--blocks", action="store_true",
                   help="NAND2 equivalents per RTL module (synthesized without flattening)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(func=_tile)
