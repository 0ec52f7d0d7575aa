"""`codesign bench map`: time to map ResNet-18 on ambrogio2018 (partition, traffic,
placement with local search, XY routing). Target (issue 4): under 1 s on this machine."""
from __future__ import annotations

import time

NAME = "map"
HELP = "time to map a network (default ResNet-18 on ambrogio2018); target < 1 s"
TARGET_S = 1.0


def add_arguments(p) -> None:
    p.add_argument("--net", default="resnet18", help="network (default resnet18)")
    p.add_argument("--spec", default="ambrogio2018", help="spec (default ambrogio2018)")
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions, best kept")


def run(args) -> dict:
    from ..mapping import map_network
    from ..network import load_network
    from ..spec import load_spec
    net, spec = load_network(args.net), load_spec(args.spec)
    best, mapping = float("inf"), None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        mapping = map_network(net, spec)
        best = min(best, time.perf_counter() - t0)
    return {"net": net.name, "spec": spec.name, "tiles": mapping.total_tiles,
            "grid": "x".join(map(str, mapping.grid)), "map_s": best, "target_s": TARGET_S,
            "meets_target": best < TARGET_S}
