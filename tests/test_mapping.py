"""Mapping: partition (analytic tile counts), traffic, placement, routing, CLI."""
from __future__ import annotations

import argparse
import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.cli import main
from codesign.errors import UserError
from codesign.mapping import map_network, parse_grid
from codesign.mapping.noc import header_bits
from codesign.mapping.partition import balance_replicas, partition
from codesign.mapping.route import route
from codesign.network import ZOO, load_network
from codesign.spec import load_spec

SPECS = {
    "ambrogio2018": load_spec("ambrogio2018"),
    "hermes": load_spec("hermes"),
    "tall-128x64": load_spec("hermes").with_overrides(
        {"array.rows": 128, "array.cols": 64, "adc.count": 64}, source="test"),
}


# ---------------------------------------------------------------- tile counts
@pytest.mark.parametrize("spec_name", ["ambrogio2018", "hermes"])
@pytest.mark.parametrize("net_name", sorted(ZOO))
def test_tile_counts_are_the_analytic_count(net_name, spec_name):
    """Per layer ceil(rows / array.rows) x ceil(cols / array.cols): every cell kind holds
    one signed weight per crosspoint."""
    net, spec = load_network(net_name), SPECS[spec_name]
    m = map_network(net, spec)
    assert [lm.name for lm in m.layers] == [l.name for l in net.weight_layers]
    for lm, layer in zip(m.layers, net.weight_layers):
        rows, cols = layer.matrix_shape
        assert lm.tiles == math.ceil(rows / spec.array.rows) * math.ceil(cols / spec.array.cols)
        assert lm.blocks == lm.tiles and lm.replicas == 1
        assert lm.utilization == pytest.approx(
            rows * cols / (lm.tiles * spec.array.rows * spec.array.cols))
        assert len(set(lm.positions)) == lm.tiles
    assert m.total_tiles == sum(lm.tiles for lm in m.layers)
    side = math.isqrt(m.total_tiles - 1) + 1
    assert m.grid == (side, side) and m.idle_tiles == side * side - m.total_tiles
    every = [p for lm in m.layers for p in lm.positions]
    assert len(set(every)) == len(every)                       # one block per tile
    assert all(0 <= r < side and 0 <= c < side for r, c in every)


@pytest.mark.parametrize("net_name", sorted(ZOO))
def test_partition_on_a_non_square_array(net_name):
    net, spec = load_network(net_name), SPECS["tall-128x64"]
    part = partition(net, spec)
    for lp in part.layers:
        rows, cols = lp.layer.matrix_shape
        assert lp.row_blocks == math.ceil(rows / 128) and lp.col_blocks == math.ceil(cols / 64)
        assert lp.row_edges[0] == 0 and lp.row_edges[-1] == rows
        assert max(np.diff(lp.row_edges)) <= 128 and max(np.diff(lp.col_edges)) <= 64


def test_json_is_one_object_with_total_tiles_and_layers(capsys):
    assert main(["map", "--net", "lenet5", "--spec", "hermes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total_tiles"] == 6
    assert [(l["name"], l["tiles"]) for l in out["layers"]] == \
        [("conv1", 1), ("conv2", 1), ("fc3", 2), ("fc4", 1), ("fc5", 1)]
    assert set(out["noc_events"]) >= {"flits", "hops", "router_traversals"}


def test_table_and_png(tmp_path, capsys):
    png = tmp_path / "map.png"
    assert main(["map", "--net", "resnet18", "--spec", "ambrogio2018", "--png", str(png)]) == 0
    text = capsys.readouterr().out
    assert "layer4.1.conv2" in text and "77 tiles on a 9x9 grid" in text
    assert "busiest link" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_network_that_does_not_fit_says_how_many_tiles_it_needs(capsys):
    assert main(["map", "--net", "resnet18", "--spec", "ambrogio2018", "--grid", "4x4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codesign: error: --grid: value 4x4 has 16 tiles")
    assert "needs 77 tiles" in err and err.count("\n") == 1
    spec = SPECS["hermes"].with_overrides({"noc.grid_rows": 2, "noc.grid_cols": 2})
    with pytest.raises(UserError, match="^noc.grid_rows.*needs 6 tiles"):
        map_network("lenet5", spec)
    assert map_network("lenet5", SPECS["hermes"].with_overrides(
        {"noc.grid_rows": 2, "noc.grid_cols": 4})).grid == (2, 4)
    for bad in ("4", "0x3", "axb", "3x-1"):
        with pytest.raises(UserError, match="^grid: ") as exc:
            parse_grid(bad)
        assert exc.value.field == "grid"


def test_map_an_onnx_file_from_the_cli(tmp_path, capsys):
    from test_network import _lenet_like_onnx  # pytest puts tests/ on sys.path
    path = tmp_path / "small.onnx"
    _lenet_like_onnx(path)
    assert main(["map", "--net", str(path), "--spec", "hermes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [l["name"] for l in out["layers"]] == ["conv1", "conv2", "proj", "fc", "mm"]


# ---------------------------------------------------------------- traffic
def test_traffic_by_hand_for_a_residual_stage():
    """layer1.0.conv1 of ResNet-18 on 512x512: a 576 x 64 matrix (64 channels x 9 rows),
    two row blocks: rows 0-511 hold channels 0-56, rows 512-575 channels 56-63."""
    spec = SPECS["ambrogio2018"]
    m = map_network("resnet18", spec)
    lm = next(l for l in m.layers if l.name == "layer1.0.conv1")
    positions, act, word = 56 * 56, spec.dac.bits, spec.adc.bits
    assert lm.traffic_bits == (57 + 8) * positions * act + positions * 64 * word
    residual = m.flows.bits[m.flows.kind == 2].sum()
    assert residual == word * 2 * sum(c * s * s for c, s in
                                      ((64, 56), (128, 28), (256, 14), (512, 7)))


def test_network_events_for_the_2018_perceptron():
    """mlp-2018 on 512x512 tiles: 529 x 250 cuts into two row blocks. Flows: I/O -> both
    blocks (512 and 16 inputs), partial sums, fc1 -> fc2, fc2 -> fc3, fc3 -> I/O."""
    spec = SPECS["ambrogio2018"]
    m = map_network("mlp-2018", spec)
    assert m.grid == (2, 2)
    payload = spec.noc.flit_bits - header_bits(2, 2)
    bits = sorted([512 * 8, 16 * 8, 250 * 8, 250 * 8, 125 * 8, 10 * 8])
    assert sorted(m.flows.bits) == bits
    ev = m.noc_events
    assert ev.flits == sum(math.ceil(b / payload) for b in bits)
    hops = m.routing.hops
    assert ev.hops == int(m.flits @ hops)
    assert ev.router_traversals == int(m.flits @ m.routing.routers)
    # every flit passes the routers of its mesh path; I/O flits cross one extra link
    io = (m.flows.src == m.flows.io) | (m.flows.dst == m.flows.io)
    assert np.array_equal(m.routing.routers, hops + 1 - io)


def test_replicas_copy_layers_and_share_their_traffic():
    net, spec = load_network("lenet5"), SPECS["hermes"]
    one = map_network(net, spec)
    two = map_network(net, spec, replicas={"conv1": 2, "conv2": 3})
    t1 = {l.name: l for l in one.layers}
    t2 = {l.name: l for l in two.layers}
    assert t2["conv1"].tiles == 2 and t2["conv2"].tiles == 3
    for name in t1:
        assert t2[name].traffic_bits == pytest.approx(t1[name].traffic_bits)
    assert two.flows.bits.sum() == pytest.approx(one.flows.bits.sum())
    reps = balance_replicas(net, spec, 9)
    assert sum(partition(net, spec, reps).layers[k].tiles for k in range(5)) <= 9
    assert reps["conv1"] > 1       # the layer with the most MVMs is copied first
    with pytest.raises(UserError, match="unknown layer"):
        map_network(net, spec, replicas={"nope": 2})


# ---------------------------------------------------------------- placement
def _cost(m, pos):
    full = np.vstack([pos, [[0, 0]]])
    f = m.flows
    d = np.abs(full[f.src] - full[f.dst]).sum(axis=1) + (f.src == f.io) + (f.dst == f.io)
    return float(d @ f.bits)


def test_placement_is_deterministic_and_beats_its_greedy_start():
    a = map_network("vgg8", "ambrogio2018", seed=3)
    b = map_network("vgg8", "ambrogio2018", seed=3)
    assert np.array_equal(a.placement.pos, b.placement.pos)
    assert a.cost_bit_hops == pytest.approx(_cost(a, a.placement.pos))
    assert a.cost_bit_hops < a.placement.greedy_cost
    shuffled = np.random.default_rng(0).permutation(a.placement.pos)
    assert a.cost_bit_hops < _cost(a, shuffled)


@pytest.mark.parametrize("net, spec, grid", [("mlp-2018", "hermes", "3x3"),
                                             ("lenet5", "hermes", "3x3"),
                                             ("mlp-784", "hermes", "2x4")])
def test_placement_finds_the_optimum_of_small_problems(net, spec, grid):
    m = map_network(net, spec, grid=grid, seed=1)
    rows, cols = m.grid
    cells = np.array([(r, c) for r in range(rows) for c in range(cols)])
    perms = np.array(list(itertools.permutations(range(rows * cols), m.total_tiles)))
    pos = np.concatenate([cells[perms], np.zeros((len(perms), 1, 2), int)], axis=1)
    f = m.flows
    d = np.abs(pos[:, f.src] - pos[:, f.dst]).sum(-1) + (f.src == f.io) + (f.dst == f.io)
    assert m.cost_bit_hops == pytest.approx((d @ f.bits).min())


# ---------------------------------------------------------------- routing
def _walk_xy(s, d):
    """Links of the XY path from s to d, walked step by step."""
    (r, c), links = s, []
    while c != d[1]:
        step = 1 if d[1] > c else -1
        links.append(((r, c), (r, c + step)))
        c += step
    while r != d[0]:
        step = 1 if d[0] > r else -1
        links.append(((r, c), (r + step, c)))
        r += step
    return links


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 5), cols=st.integers(1, 5), n=st.integers(1, 30),
       seed=st.integers(0, 2**16))
def test_xy_link_loads_match_walked_paths(rows, cols, n, seed):
    rng = np.random.default_rng(seed)
    src = np.stack([rng.integers(0, rows, n), rng.integers(0, cols, n)], axis=1)
    dst = np.stack([rng.integers(0, rows, n), rng.integers(0, cols, n)], axis=1)
    src_io, dst_io = rng.random(n) < 0.2, rng.random(n) < 0.2
    flits = rng.integers(1, 50, n).astype(float)
    rt = route((rows, cols), src, dst, src_io, dst_io, flits, "xy")
    expect: dict = {}
    for k in range(n):
        s = (0, 0) if src_io[k] else tuple(src[k])
        d = (0, 0) if dst_io[k] else tuple(dst[k])
        for link in _walk_xy(s, d):
            expect[link] = expect.get(link, 0.0) + flits[k]
    got = {(a, b): load for a, b, load in rt.links() if load and "io" not in (a, b)}
    assert got == expect
    assert rt.io_in == flits[src_io].sum() and rt.io_out == flits[dst_io].sum()
    assert rt.events().hops == int(sum(expect.values()) + rt.io_in + rt.io_out)
    hist = rt.hop_histogram()
    assert hist.sum() == flits.sum()


def test_shortest_path_routing_is_minimal_and_spreads_load():
    m_xy = map_network("resnet18", "ambrogio2018", routing="xy")
    m_sp = map_network("resnet18", "ambrogio2018", routing="shortest")
    assert np.array_equal(m_xy.placement.pos, m_sp.placement.pos)
    ev_xy, ev_sp = m_xy.noc_events, m_sp.noc_events
    assert ev_sp == ev_xy      # minimal paths: same flits, hops and router traversals
    assert m_sp.routing.busiest()[2] <= m_xy.routing.busiest()[2]
    with pytest.raises(UserError, match="^routing: "):
        map_network("lenet5", "hermes", routing="west-first")


def test_bench_map_reports_time_and_target():
    from codesign.bench import map as bench_map
    out = bench_map.run(argparse.Namespace(net="lenet5", spec="hermes", repeat=1))
    assert out["target_s"] == 1.0 and out["map_s"] > 0 and out["tiles"] == 6
    out = bench_map.run(argparse.Namespace(net="synthetic-12", spec="hermes", repeat=1))
    assert out["net"] == "synthetic-12" and out["map_s"] > 0
    out = bench_map.run(argparse.Namespace(case="resnet18", net=None, repeat=1))
    assert out["resnet18_tiles"] == 77 and out["resnet18_target_s"] == 1.0
    assert out["resnet18_map_s"] > 0 and "meets_targets" in out


# ---------------------------------------------------------------- placement at scale
def test_windowed_placement_is_deterministic_exact_and_beats_its_greedy_start():
    """ResNet-18 on 256x256 tiles (205 blocks on 15x15) is above DENSE_WORK: the windowed
    search runs; its reported cost is the placement's, and a seed fixes the result."""
    a = map_network("resnet18", "hermes", seed=5)
    b = map_network("resnet18", "hermes", seed=5)
    assert a.placement.method == "windowed"
    assert np.array_equal(a.placement.pos, b.placement.pos)
    assert a.cost_bit_hops == pytest.approx(_cost(a, a.placement.pos))
    assert a.cost_bit_hops < 0.9 * a.placement.greedy_cost
    assert len({tuple(p) for p in a.placement.pos}) == a.total_tiles
    # the same greedy start as the exhaustive search
    c = map_network("resnet18", "hermes", seed=5, placement="exhaustive", restarts=0)
    assert c.placement.greedy_cost == a.placement.greedy_cost


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 30), extra=st.integers(0, 12), seed=st.integers(0, 2**16))
def test_windowed_search_tables_and_move_costs_are_exact(n, extra, seed):
    """The windowed search keeps per-block row/column cost tables up to date as blocks
    move, and prices a move (with the swap of the occupant) exactly."""
    from codesign.mapping import place as P
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n + extra)))
    flows = rng.integers(0, n + 1, (3 * n, 2))          # block n is the I/O
    bits = rng.integers(1, 1000, 3 * n).astype(float)
    a, b, w = P._edge_list(n, flows[:, 0], flows[:, 1], bits, n)
    g = P._Sparse(n, a, b, w, (side, side))
    search = P._Windowed(g, rng.permutation(side * side)[:n])
    for _ in range(3):
        search.kick(rng, 3, 2)
        fresh = P._Windowed(g, search.tiles)
        assert np.allclose(search.row, fresh.row) and np.allclose(search.col, fresh.col)
        blocks = np.arange(n)
        target, delta = search.best_moves(blocks)
        u = int(np.argmin(delta))
        before = g.total(search.tiles)
        if target[u] != search.tiles[u]:
            search.apply(np.array([u]), np.array([target[u]]))
        assert g.total(search.tiles) - before == pytest.approx(delta[u], abs=1e-6)
    swaps = search.descend(1000)
    assert swaps >= 0
    _, delta = search.best_moves(np.arange(n))
    assert delta.min() >= -1e-6 * max(1.0, g.total(search.tiles))    # a local optimum


def test_synthetic_network_has_the_asked_layer_count_and_maps():
    from codesign.bench.map import synthetic_network
    for n in (2, 3, 22, 23, 101):
        net = synthetic_network(n)
        assert len(net.weight_layers) == n and net.output_shape == (10,)
    spec = SPECS["hermes"].with_overrides({"array.rows": 128, "array.cols": 128,
                                           "adc.count": 128}, source="test")
    m = map_network(synthetic_network(60), spec)
    assert m.placement.method == "windowed"
    every = [p for lm in m.layers for p in lm.positions]
    assert len(set(every)) == len(every) == m.total_tiles
    assert m.cost_bit_hops == pytest.approx(_cost(m, m.placement.pos))


def test_progress_bar_only_for_runs_longer_than_the_delay(monkeypatch, capsys):
    from codesign.mapping import progress
    assert main(["map", "--net", "lenet5", "--spec", "hermes"]) == 0
    assert capsys.readouterr().err == ""               # a fast run prints no bar
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    assert main(["map", "--net", "lenet5", "--spec", "hermes", "--placement",
                 "windowed"]) == 0
    assert "map lenet5" in capsys.readouterr().err
    assert main(["map", "--net", "lenet5", "--spec", "hermes", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def _monotone_paths(s, d):
    """Every minimal path from s to d (tiles visited), by recursion."""
    if s == d:
        return [[s]]
    out = []
    for step in ((0, np.sign(d[1] - s[1])), (np.sign(d[0] - s[0]), 0)):
        if step != (0, 0):
            nxt = (s[0] + int(step[0]), s[1] + int(step[1]))
            out += [[s] + p for p in _monotone_paths(nxt, d)]
    return out


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 5), cols=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_least_loaded_path_is_minimal_and_carries_the_least_load(rows, cols, seed):
    """The shortest-path router's choice, against every minimal path enumerated."""
    from codesign.mapping.route import least_loaded_path, link_load
    rng = np.random.default_rng(seed)
    links = (rng.integers(0, 5, (rows, cols - 1)).astype(float),
             rng.integers(0, 5, (rows, cols - 1)).astype(float),
             rng.integers(0, 5, (rows - 1, cols)).astype(float),
             rng.integers(0, 5, (rows - 1, cols)).astype(float))
    s = (int(rng.integers(rows)), int(rng.integers(cols)))
    d = (int(rng.integers(rows)), int(rng.integers(cols)))
    path = least_loaded_path(links, s, d)
    load = lambda p: sum(link_load(links, a, b) for a, b in zip(p[:-1], p[1:]))  # noqa: E731
    assert path[0] == s and path[-1] == d
    assert len(path) - 1 == abs(s[0] - d[0]) + abs(s[1] - d[1])
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in zip(path[:-1], path[1:]))
    assert load(path) == min(load(p) for p in _monotone_paths(s, d))
    flat = (np.zeros((rows, cols - 1)),) * 2 + (np.zeros((rows - 1, cols)),) * 2
    assert least_loaded_path(flat, s, d) == _walk_xy_tiles(s, d)    # ties: XY


def _walk_xy_tiles(s, d):
    return [s] + [b for _, b in _walk_xy(s, d)]
