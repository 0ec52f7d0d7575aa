"""On-chip network: the cycle model's properties, the router RTL's lint, and the RTL
against the model packet by packet on 2x2, 3x4 and 4x4 meshes (cocotb on Icarus)."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.hdl.runner import rtl_sources
from codesign.mapping import noc
from codesign.spec import load_spec


# ---------------------------------------------------------------- model
def _alone(rows, cols):
    """Every source -> destination pair once, far apart in time (no contention)."""
    n = rows * cols
    src, dst = np.divmod(np.arange(n * n), n)
    return noc.Traffic(rows, cols, src, dst, np.arange(n * n) * 64,
                       np.ones((0, n), dtype=bool))


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 3), (4, 4)])
def test_a_packet_alone_takes_hops_plus_one_cycles(rows, cols):
    t = _alone(rows, cols)
    run = noc.simulate(t, depth=2)
    assert np.array_equal(run.inject, t.release)
    assert np.array_equal(run.latency, noc.zero_load_latency(rows, cols, t.src, t.dst))


@pytest.mark.parametrize("depth, last", [(1, 2 * 20), (2, 20 + 1), (4, 20 + 1)])
def test_stream_throughput_follows_the_registered_ready(depth, last):
    """20 packets (0,0) -> (0,1) offered at once: a FIFO frees its slot one cycle after
    a pop, so depth 1 passes a flit every other cycle, depth >= 2 one per cycle."""
    t = noc.Traffic(1, 2, np.zeros(20, int), np.ones(20, int), np.zeros(20, int),
                    np.ones((0, 2), dtype=bool))
    run = noc.simulate(t, depth)
    assert run.arrive[-1] == last
    assert np.all(np.diff(run.arrive) == (2 if depth == 1 else 1))


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), packets=st.integers(1, 120),
       depth=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_model_delivers_everything_once_in_order(rows, cols, packets, depth, seed):
    t = noc.random_traffic(np.random.default_rng(seed), rows, cols, packets)
    run = noc.simulate(t, depth)
    assert np.all(run.inject >= t.release)
    assert np.all(run.latency >= noc.zero_load_latency(rows, cols, t.src, t.dst))
    for s in range(rows * cols):
        mine = np.flatnonzero(t.src == s)
        assert np.all(np.diff(run.inject[mine]) > 0)      # one injection per cycle
        for d in np.unique(t.dst[mine]):
            pair = mine[t.dst[mine] == d]
            assert np.all(np.diff(run.arrive[pair]) > 0)  # in order per pair
    for d in range(rows * cols):                          # one ejection per cycle
        assert len(np.unique(run.arrive[t.dst == d])) == int((t.dst == d).sum())


def _mesh_of_router_models(t: noc.Traffic, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """noc.simulate's traffic through a mesh of noc.RouterModel (the block benches'
    reference), wired as codesign/rtl/noc_mesh.v: (inject, arrive) cycles per packet."""
    rows, cols, n = t.rows, t.cols, t.rows * t.cols
    xb, yb = noc.coord_bits(cols), noc.coord_bits(rows)
    routers = [noc.RouterModel(depth, r % cols, r // cols, xb, yb) for r in range(n)]
    nb = noc._neighbours(rows, cols)
    dy, dx = np.divmod(t.dst, cols)
    flit = dx | dy << xb | np.arange(len(t.src)) << (xb + yb)
    queues = [list(np.flatnonzero(t.src == r)) for r in range(n)]
    inject, arrive = np.full(len(t.src), -1), np.full(len(t.src), -1)
    cycle = 0
    while (arrive < 0).any():
        assert cycle < 100_000
        offers = [r.offers() for r in routers]           # (valid, winner, flit) per output
        ready_in = [r.in_ready for r in routers]
        eject = t.eject_ready[cycle] if cycle < len(t.eject_ready) else np.ones(n, bool)
        steps = []
        for r in range(n):
            in_valid, in_flit, out_ready = np.zeros(5, bool), np.zeros(5, np.int64), \
                np.zeros(5, bool)
            q = queues[r]
            if q and t.release[q[0]] <= cycle:
                in_valid[noc.L], in_flit[noc.L] = True, flit[q[0]]
            for port in range(1, 5):
                other = nb[r, port]
                if other >= 0:           # link: their output OPPOSITE[port] -> our input
                    valid, _, f = offers[other]
                    in_valid[port] = valid[noc.OPPOSITE[port]]
                    in_flit[port] = f[noc.OPPOSITE[port]]
                    out_ready[port] = ready_in[other][noc.OPPOSITE[port]]
            out_ready[noc.L] = eject[r]
            steps.append((in_valid, in_flit, out_ready))
        for r, (in_valid, in_flit, out_ready) in enumerate(steps):
            did = routers[r].step(in_valid, in_flit, out_ready)
            if did["pushed"][noc.L]:
                inject[queues[r].pop(0)] = cycle
            if did["xfer"][noc.L]:
                arrive[int(did["out_flit"][noc.L]) >> (xb + yb)] = cycle
        cycle += 1
    return inject, arrive


@pytest.mark.parametrize("rows, cols, depth, seed", [(2, 2, 1, 3), (3, 4, 4, 4), (4, 3, 2, 5)])
def test_a_mesh_of_router_models_is_the_mesh_model(rows, cols, depth, seed):
    """The per-router reference of the block benches (codesign/sims/blocks/noc_router) and the
    vectorized mesh model agree cycle for cycle, so both check the same RTL."""
    t = noc.random_traffic(np.random.default_rng(seed), rows, cols, 150, hotspot_fraction=0.5,
                           mean_gap=0.5, stall=0.4)
    run = noc.simulate(t, depth)
    inject, arrive = _mesh_of_router_models(t, depth)
    assert np.array_equal(inject, run.inject) and np.array_equal(arrive, run.arrive)


def test_fifo_model_takes_a_flit_when_its_registered_count_allows():
    f = noc.FifoModel(1)
    assert f.step(True, 7, False) == (True, False) and f.head == 7 and not f.ready
    assert f.step(True, 8, True) == (False, True)      # the pop frees the slot next cycle
    assert f.step(True, 8, False) == (True, False) and f.head == 8


def test_payload_is_the_flit_less_the_header():
    assert noc.header_bits(9, 9) == 8 and noc.header_bits(1, 1) == 2
    assert noc.payload_bits(32, 4, 4) == 28
    with pytest.raises(ValueError, match="noc.flit_bits"):
        noc.payload_bits(8, 32, 32)


# ---------------------------------------------------------------- RTL
needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None,
                                     reason="needs verilator")


@needs_verilator
@pytest.mark.parametrize("params", ["", "-GROWS=1 -GCOLS=1 -GDEPTH=1",
                                    "-GROWS=3 -GCOLS=4 -GDEPTH=4 -GFLIT_W=32",
                                    "-GROWS=5 -GCOLS=2 -GDEPTH=7 -GFLIT_W=9"])
def test_rtl_is_lint_clean(params):
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", "noc_mesh", *params.split(),
           *map(str, rtl_sources("noc_"))]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "%Warning" not in out.stderr, out.stderr


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="pyverilog needs iverilog -E")
def test_mesh_parameters_are_the_spec_fields():
    from codesign.hdl.introspect import module_info
    from codesign.mapping.noc_rtl import MESH_PARAMETERS, mesh_parameters
    info = module_info("noc_mesh", rtl_sources("noc_"))
    assert set(info.parameters) == set(MESH_PARAMETERS)
    assert mesh_parameters(load_spec("hermes"), (3, 5)) == {"ROWS": 3, "COLS": 5,
                                                            "FLIT_W": 32, "DEPTH": 4}
    ports = {p.name: p.width(mesh_parameters(load_spec("hermes"), (3, 5)))
             for p in info.ports}
    assert ports == {"clk": 1, "rst": 1, "in_valid": 15, "in_ready": 15, "in_data": 480,
                     "out_valid": 15, "out_ready": 15, "out_data": 480}


AMBROGIO = load_spec("ambrogio2018").noc

# (rows, cols, buffer depth, flit bits, packets, seed): the 3x4 mesh uses the
# ambrogio2018 spec's noc.flit_bits and noc.buffer_depth; the others the extremes.
MESHES = {"2x2": (2, 2, 2, 16, 400, 11),
          "3x4": (3, 4, AMBROGIO.buffer_depth, AMBROGIO.flit_bits, 1200, 12),
          "4x4": (4, 4, 1, 24, 1600, 13)}


@pytest.mark.parametrize("mesh", sorted(MESHES))
@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_rtl_mesh_matches_the_cycle_model(mesh):
    from codesign.mapping.noc_rtl import run_noc_bench
    rows, cols, depth, flit, packets, seed = MESHES[mesh]
    result = run_noc_bench(rows, cols, depth, flit, packets, seed)
    assert result.ok and result.tests == 2, result.summary() + "\n" + result.log_tail()


@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_parity_check_catches_a_wrong_model():
    from codesign.mapping.noc_rtl import run_noc_bench
    result = run_noc_bench(2, 2, 2, 16, 300, 5, model_depth=3)
    assert result.tests == 2 and result.failures == 2
    assert "differ from the model" in result.log_file.read_text()
