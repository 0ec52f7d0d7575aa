"""`codesign bench map`: time to map networks (partition, traffic, placement with local
search, XY routing), best of --repeat runs, each case against its target:

- ``resnet18``: ResNet-18 on ambrogio2018 (512x512), 77 tiles on 9x9: < 1 s (issue 4);
- ``synthetic-2000``: 2,000 weight layers (:func:`synthetic_network`) on ambrogio2018,
  3,178 tiles on 57x57: < 5 s (issue 11);
- ``resnet18-128``: ResNet-18 on ambrogio2018 with 128x128 arrays, 735 tiles on 28x28:
  < 5 s (issue 11).

``--case NAME`` times one of them; ``--net`` (a zoo name, a file, or ``synthetic-N`` for
N weight layers) and ``--spec`` time any other network instead. A case that misses its
target also prints where its time went (seconds per stage of its best run). The 1-minute
load average is printed with the results: on a loaded machine the times are not the
code's.
"""
from __future__ import annotations

import os
import time

from ..argtypes import positive_int

NAME = "map"
HELP = ("time to map ResNet-18 (512x512 and 128x128 tiles) and a 2,000-layer network; "
        "targets < 1 s, < 5 s, < 5 s")
TARGET_S = 1.0

#: case name -> (network, spec overrides on ambrogio2018, target seconds)
CASES = {
    "resnet18": ("resnet18", {}, 1.0),
    "synthetic-2000": ("synthetic-2000", {}, 5.0),
    "resnet18-128": ("resnet18", {"array.rows": 128, "array.cols": 128, "adc.count": 16},
                     5.0),
}

#: widths of the synthetic network's stages (on 512x512 tiles, 640 takes 2x2 tiles)
SYNTHETIC_WIDTHS = (256, 384, 640, 320, 448)


def add_arguments(p) -> None:
    p.add_argument("--case", choices=list(CASES), default=None, metavar="NAME",
                   help="one case: " + ", ".join(CASES) + " (default: all three)")
    p.add_argument("--net", default=None, help="time this network instead (zoo name or "
                                               "file, or synthetic-N)")
    p.add_argument("--spec", default="ambrogio2018", help="spec of --net (default "
                                                          "ambrogio2018)")
    p.add_argument("--repeat", type=positive_int, default=3, help="timed repetitions, best kept")


def synthetic_network(weight_layers: int = 2000, blocks_per_stage: int = 10):
    """A residual MLP with exactly `weight_layers` weight layers: stages of residual
    blocks (linear, relu, linear, add the block's input), the width cycling through
    SYNTHETIC_WIDTHS with a linear projection between stages, and a 10-way linear head.
    Input: 256 features."""
    from ..network import INPUT, build_network
    if weight_layers < 2:
        raise ValueError("a synthetic network needs at least 2 weight layers")
    layers: list[dict] = []
    prev, width, count, stage = INPUT, SYNTHETIC_WIDTHS[0], 0, 0
    budget = weight_layers - 1                      # the head comes last
    while count < budget:
        w = SYNTHETIC_WIDTHS[stage % len(SYNTHETIC_WIDTHS)]
        if w != width:
            layers.append(dict(name=f"s{stage}.proj", kind="linear", out_features=w,
                               inputs=[prev]))
            prev, count, width = f"s{stage}.proj", count + 1, w
        for blk in range(blocks_per_stage):
            if count + 2 > budget:
                break
            p = f"s{stage}.b{blk}"
            layers += [dict(name=p + ".fc1", kind="linear", out_features=w, inputs=[prev]),
                       dict(name=p + ".relu", kind="act", op="relu"),
                       dict(name=p + ".fc2", kind="linear", out_features=w),
                       dict(name=p + ".add", kind="add", inputs=[p + ".fc2", prev])]
            prev, count = p + ".add", count + 2
        stage += 1
    layers.append(dict(name="head", kind="linear", out_features=10, inputs=[prev]))
    return build_network(f"synthetic-{weight_layers}", (SYNTHETIC_WIDTHS[0],), layers,
                         source="codesign bench map")


def _network(name: str):
    from ..network import load_network
    if name.startswith("synthetic-") and name[len("synthetic-"):].isdigit():
        return synthetic_network(int(name[len("synthetic-"):]))
    return load_network(name)


def _time(net, spec, repeat: int) -> tuple[float, object]:
    from ..mapping import map_network
    best, best_map = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        mapping = map_network(net, spec)
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, best_map = elapsed, mapping
    return best, best_map


def run(args) -> dict:
    from ..spec import load_spec
    repeat = getattr(args, "repeat", 3)
    load_before = os.getloadavg()[0]
    if getattr(args, "net", None):                  # one network of the user's
        net, spec = _network(args.net), load_spec(getattr(args, "spec", "ambrogio2018"))
        best, m = _time(net, spec, repeat)
        out = {"net": net.name, "spec": spec.name, "tiles": m.total_tiles,
               "grid": "x".join(map(str, m.grid)), "placement": m.placement.method,
               "map_s": best, "target_s": TARGET_S, "meets_target": best < TARGET_S}
        if best >= TARGET_S:
            out.update({f"stage_{k}": v for k, v in m.timings.items()})
        out["load_avg_1m"] = os.getloadavg()[0]
        return out
    case = getattr(args, "case", None)
    out: dict = {"load_avg_1m_before": load_before}
    met = True
    for name in ([case] if case else list(CASES)):
        net_name, overrides, target = CASES[name]
        spec = load_spec("ambrogio2018")
        if overrides:
            spec = spec.with_overrides(overrides, source=f"bench map {name}")
        best, m = _time(_network(net_name), spec, repeat)
        out[f"{name}_tiles"] = m.total_tiles
        out[f"{name}_grid"] = "x".join(map(str, m.grid))
        out[f"{name}_placement"] = m.placement.method
        out[f"{name}_cost_bit_hops"] = m.cost_bit_hops
        out[f"{name}_greedy_bit_hops"] = m.placement.greedy_cost
        out[f"{name}_map_s"] = best
        out[f"{name}_target_s"] = target
        if best >= target:                          # where the time went
            met = False
            out.update({f"{name}_stage_{k}": v for k, v in m.timings.items()})
    out["load_avg_1m_after"] = os.getloadavg()[0]
    out["meets_targets"] = met
    return out
