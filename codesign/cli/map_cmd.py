"""`codesign map`: map a network onto a tile grid; table per layer, JSON or PNG."""
from __future__ import annotations

from ..argtypes import seed
from ..mapping import map_network
from ._common import add_spec_argument, print_json


def _map(args) -> int:
    m = map_network(args.net, args.spec, grid=args.grid, seed=args.seed,
                    routing=args.routing, balance=args.balance, placement=args.placement,
                    progress=not args.quiet)
    result = m.to_dict()
    if args.png:
        from ..mapping.plot import plot_mapping
        result["png"] = str(plot_mapping(m, args.png))
    if args.json:
        print_json(result)
        return 0
    from ..mapping.text import format_mapping
    print(format_mapping(m))
    if args.png:
        print(f"wrote {result['png']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("map", help="map a network onto a tile grid (partition, place, route)")
    p.add_argument("--net", required=True, metavar="NAME|FILE.yaml|FILE.onnx",
                   help="zoo network (mlp-2018, mlp-784, lenet5, vgg8, resnet18, mobilenet), "
                        "a network YAML file or an ONNX file")
    add_spec_argument(p)
    p.add_argument("--grid", metavar="RxC", default=None,
                   help="tile grid (default: spec noc.grid_rows x grid_cols, or the smallest "
                        "square that fits)")
    p.add_argument("--seed", type=seed, default=0, help="placement seed (default 0)")
    p.add_argument("--routing", choices=("xy", "shortest"), default="xy",
                   help="xy (dimension order, as the RTL) or shortest (least-loaded minimal "
                        "paths); default xy")
    p.add_argument("--balance", action="store_true",
                   help="fill idle tiles with copies of the slowest layers (pipeline balance)")
    p.add_argument("--placement", choices=("exhaustive", "windowed"), default=None,
                   help="placement search (default: exhaustive up to 10,000 blocks x tiles, "
                        "windowed above; docs/mapping.md)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (it appears on stderr when a run takes over 1 s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--png", metavar="FILE", help="write the grid coloured by layer with "
                                                 "link loads")
    p.set_defaults(func=_map)
