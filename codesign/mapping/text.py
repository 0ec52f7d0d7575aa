"""A mapping as text: the table per layer and the network summary that `codesign map`
prints (also usable by `codesign demo` and reports)."""
from __future__ import annotations

from ..tables import format_table


def _kbit(bits: float) -> str:
    return f"{bits / 1e3:.1f}"


def format_mapping(m) -> str:
    """Table per weight layer (matrix, blocks, copies, tiles, utilization, traffic), a
    total row, the network events per inference and the placement cost."""
    rows = [(lm.name, lm.kind, f"{lm.matrix_shape[0]}x{lm.matrix_shape[1]}",
             f"{lm.row_blocks}x{lm.col_blocks}", lm.replicas, lm.tiles,
             f"{100 * lm.utilization:.1f}", _kbit(lm.traffic_bits)) for lm in m.layers]
    rows.append(("total", "", "", sum(lm.blocks for lm in m.layers), "", m.total_tiles,
                 f"{100 * m.utilization:.1f}", _kbit(float(m.flows.bits.sum()))))
    grid_r, grid_c = m.grid
    ev, (a, b, load) = m.noc_events, m.routing.busiest()
    hist = m.routing.hop_histogram()
    return "\n".join([
        f"{m.network} on {m.spec}: {m.total_tiles} tiles on a {grid_r}x{grid_c} grid "
        f"({m.idle_tiles} idle), seed {m.seed}",
        format_table(rows, ("layer", "kind", "matrix", "blocks", "copies", "tiles", "util %",
                            "traffic kbit")),
        f"network per inference ({m.routing.algorithm} routing, {m.payload_bits}-bit payload "
        f"per flit): {ev.flits} flits, {ev.hops} hops, {ev.router_traversals} router "
        f"traversals; busiest link {a} -> {b} carries {load:.0f} flits",
        f"placement: {m.cost_bit_hops:.4g} bit-hops (greedy start "
        f"{m.placement.greedy_cost:.4g}); hops per flit: "
        + ", ".join(f"{h}: {v:.0f}" for h, v in enumerate(hist) if v)])
