"""`codesign map`: map a network onto a tile grid; table per layer, JSON or PNG."""
from __future__ import annotations

from ..mapping import map_network
from ._common import add_spec_argument, print_json, print_table


def _kbit(bits: float) -> str:
    return f"{bits / 1e3:.1f}"


def _map(args) -> int:
    m = map_network(args.net, args.spec, grid=args.grid, seed=args.seed,
                    routing=args.routing, balance=args.balance)
    result = m.to_dict()
    if args.png:
        from ..mapping.plot import plot_mapping
        result["png"] = str(plot_mapping(m, args.png))
    if args.json:
        print_json(result)
        return 0
    rows = [(lm.name, lm.kind, f"{lm.matrix_shape[0]}x{lm.matrix_shape[1]}",
             f"{lm.row_blocks}x{lm.col_blocks}", lm.replicas, lm.tiles,
             f"{100 * lm.utilization:.1f}", _kbit(lm.traffic_bits))
            for lm in m.layers]
    rows.append(("total", "", "", sum(lm.blocks for lm in m.layers), "", m.total_tiles,
                 f"{100 * m.utilization:.1f}", _kbit(float(m.flows.bits.sum()))))
    rows_, cols_ = m.grid
    print_table(rows, ("layer", "kind", "matrix", "blocks", "copies", "tiles", "util %",
                       "traffic kbit"),
                title=f"{m.network} on {m.spec}: {m.total_tiles} tiles on a {rows_}x{cols_} "
                      f"grid ({m.idle_tiles} idle), seed {m.seed}")
    ev, (a, b, load) = m.noc_events, m.routing.busiest()
    hist = result["hop_histogram"]
    print(f"network per inference ({m.routing.algorithm} routing, {m.payload_bits}-bit "
          f"payload per flit): {ev.flits} flits, {ev.hops} hops, {ev.router_traversals} "
          f"router traversals; busiest link {a} -> {b} carries {load:.0f} flits")
    print(f"placement: {m.cost_bit_hops:.4g} bit-hops (greedy start "
          f"{m.placement.greedy_cost:.4g}); hops per flit: "
          + ", ".join(f"{h}: {v:.0f}" for h, v in enumerate(hist) if v))
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
    p.add_argument("--seed", type=int, default=0, help="placement seed (default 0)")
    p.add_argument("--routing", choices=("xy", "shortest"), default="xy",
                   help="xy (dimension order, as the RTL) or shortest (least-loaded minimal "
                        "paths); default xy")
    p.add_argument("--balance", action="store_true",
                   help="fill idle tiles with copies of the slowest layers (pipeline balance)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--png", metavar="FILE", help="write the grid coloured by layer with "
                                                 "link loads")
    p.set_defaults(func=_map)
