"""Estimator: energy = events x per-event energy, area = sum of components, the ADC model,
technology scaling, workloads, user components and specs (docs/estimate.md)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import UserError
from codesign.estimate import (Workload, WorkloadLayer, estimate, load_components,
                               tile_costs, workload_from_dict, workload_from_network)
from codesign.estimate import components as comp
from codesign.estimate.tile_costs import forward_op
from codesign.events import FIELDS, Events
from codesign.spec import load_spec

LIB = load_components(hwc=False)   # the built-in models: the formulas these tests write out
AMB = load_spec("ambrogio2018")
COSTS = tile_costs(AMB, LIB)

counts = st.fixed_dictionaries({k: st.integers(0, 10**6) for k in FIELDS})


@settings(max_examples=40, deadline=None)
@given(a=counts, b=counts, k=st.integers(0, 50))
def test_energy_is_linear_in_event_counts(a, b, k):
    ea, eb = Events(**a), Events(**b)
    total = sum(COSTS.energy(ea + eb).values())
    assert total == pytest.approx(sum(COSTS.energy(ea).values()) +
                                  sum(COSTS.energy(eb).values()), rel=1e-12, abs=1e-30)
    assert sum(COSTS.energy(ea * k).values()) == \
        pytest.approx(k * sum(COSTS.energy(ea).values()), rel=1e-12, abs=1e-30)
    # and it is exactly the sum of counts x per-event energy (the event's own component
    # and any other one the event costs in, e.g. the output buffer's write per conversion)
    per_event = {n: COSTS.event_energy[n] + sum(x.get(n, 0.0) for x in
                                                COSTS.extra_event_energy.values())
                 for n in FIELDS}
    assert sum(COSTS.energy(ea).values()) == \
        pytest.approx(sum(a[n] * per_event[n] for n in FIELDS), rel=1e-12, abs=1e-30)


def test_control_energy_is_cycles_times_energy_per_cycle():
    assert COSTS.energy({}, cycles=1000)["control"] == pytest.approx(1000 * COSTS.cycle_energy)


def test_area_is_the_sum_of_components():
    est = estimate(AMB, components=LIB, workload=Workload("two", (WorkloadLayer("a", 600, 300, 1, 2),
                                                  WorkloadLayer("b", 100, 10, 1, 1))))
    assert est.tiles == 3
    assert est.area == pytest.approx(sum(est.area_breakdown.values()))
    tile = sum(COSTS.area.values())
    routers = 3 * comp.router_area(LIB, AMB)
    assert est.area == pytest.approx(3 * tile + routers)
    assert est.to_dict()["area_mm2"] == pytest.approx(sum(est.to_dict()["area_breakdown"].values()))


def _adc_model(bits: int, rate: float, node: float) -> tuple[float, float]:
    """The documented ADC model, written out independently of the code."""
    def speed(f):
        return max(1.0, f / 1.74e8) ** 1.488
    scale = (node / 32) * (LIB.vdd(node) / 0.9) ** 2
    e = 1.5625e-12 * scale * 2.0 ** (bits - 8) * speed(rate) / speed(1.28e9)
    area = 1200e-12 * (e / 1.5625e-12) ** 0.424 * (rate / 1.28e9) ** 0.0667 * \
        (node / 32) ** 0.797 * math.exp(-0.134 * (bits - 8))
    return e, area


@pytest.mark.parametrize("bits", [4, 6, 8, 10])
def test_adc_bits_move_energy_and_area_as_the_model_says(bits):
    spec = AMB.with_overrides({"adc.bits": bits})
    costs = tile_costs(spec, LIB)
    rate = spec.clock.frequency / bits
    e, area = _adc_model(bits, rate, 90)
    assert costs.event_energy["adc_conversions"] == pytest.approx(e, rel=1e-9)
    assert costs.area["adcs"] == pytest.approx(spec.adc.count * area, rel=1e-9)


def test_more_adc_bits_cost_more_at_a_fixed_rate():
    e6 = comp.adc_energy(LIB, 6, 1e8, 32)
    e8 = comp.adc_energy(LIB, 8, 1e8, 32)
    assert e8 / e6 == pytest.approx(4.0)          # Walden: 2^bits
    assert comp.adc_area(LIB, 8, 1e8, 32) > comp.adc_area(LIB, 6, 1e8, 32)
    # above the survey corner, energy per conversion rises with the rate
    assert comp.adc_energy(LIB, 8, 2e9, 32) > comp.adc_energy(LIB, 8, 1e9, 32)


def test_technology_scaling_rule():
    assert LIB.vdd(90) == 1.2 and LIB.vdd(14) == 0.8
    assert LIB.vdd(1000) == 1.2 and LIB.vdd(3) == 0.7          # clamped
    assert 0.8 < LIB.vdd(28) < 0.9                             # interpolated
    assert LIB.energy_scale(32, 32) == 1.0
    assert LIB.energy_scale(90, 45) == pytest.approx(2 * (1.2 / 0.9) ** 2)
    assert comp.ge_area(LIB, 90) == pytest.approx(0.798e-12 * 4)
    areas = [estimate(AMB.with_overrides({"technology.node_nm": n}), components=LIB).area for n in (90, 32, 22, 14)]
    assert areas == sorted(areas, reverse=True)


def test_user_spec_with_another_array_adc_and_node(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\narray: {rows: 256, cols: 128, cell: pcm-pair}\n"
                 "dac: {bits: 6, encoding: amplitude}\nadc: {bits: 5, count: 16}\n"
                 "clock: {frequency: 5.0e8}\ntechnology: {node_nm: 22}\n")
    est = estimate(str(f))
    d = est.to_dict()
    for key in ("tops_per_w", "tops_per_mm2", "area_mm2", "latency_s"):
        assert math.isfinite(d[key]) and d[key] > 0
    assert d["tiles"] == 1 and d["node_nm"] == 22
    assert d["ops_per_inference"] == 2 * 256 * 128
    assert set(d["area_breakdown"]) >= {"cells", "dacs", "integrators", "adcs", "buffers",
                                        "control"}


def test_hand_made_workload_counts_ops_latency_and_tiles():
    spec = AMB
    wl = workload_from_dict({"name": "w", "layers": [
        {"name": "a", "rows": 1000, "cols": 600, "mvms": 3},
        {"name": "b", "rows": 600, "cols": 10, "mvms": 1}]}, spec)
    assert [l.tiles for l in wl.layers] == [4, 2]
    est = estimate(spec, workload=wl, components=LIB)
    assert est.ops_per_inference == 2 * (1000 * 600 * 3 + 600 * 10)
    from codesign import cycles as cyc
    per_mvm = 512 + cyc.forward_cycles(spec) + 512
    assert est.latency == pytest.approx((3 + 1) * per_mvm / spec.clock.frequency)
    # layer b's MVM only drives the 2 tiles that hold it; energy is per driven tile
    op = forward_op(spec)
    fwd = sum(COSTS.energy(op.counts, op.cycles).values())
    assert est.energy_per_inference == pytest.approx((3 * 4 + 1 * 2) * fwd)


def test_network_adapter_builds_the_workload():
    from codesign.network import load_network
    net = load_network("mlp-2018")
    wl = workload_from_network(net, AMB)
    assert [(l.name, l.rows, l.cols, l.tiles) for l in wl.layers] == \
        [("fc1", 529, 250, 2), ("fc2", 251, 125, 1), ("fc3", 126, 10, 1)]
    est = estimate(AMB, net="mlp-2018", components=LIB)
    assert est.ops_per_inference == 2 * net.macs
    assert est.tiles == 4


def test_network_adapter_takes_a_mapping():
    from types import SimpleNamespace
    from codesign.network import load_network
    net = load_network("mlp-2018")
    mapping = SimpleNamespace(
        total_tiles=7, layers=[SimpleNamespace(name="fc1", tiles=4),
                               SimpleNamespace(name="fc2", tiles=2),
                               SimpleNamespace(name="fc3", tiles=1)],
        noc_events=Events(flits=100, hops=300, router_traversals=400))
    est = estimate(AMB, net=net, mapping=mapping, components=LIB)
    assert est.tiles == 7
    noc = est.energy_breakdown["noc"]
    assert noc == pytest.approx(300 * COSTS.event_energy["hops"] +
                                400 * COSTS.event_energy["router_traversals"])


def test_synthesis_counts_replace_the_fallback():
    """The keys `codesign synth tile --json` writes: nand2_eq, else by_type weighted by
    codesign.hdl.synth.cell_nand2 (docs/estimate.md, synthesis contract)."""
    from codesign.hdl.synth import cell_nand2
    fallback = tile_costs(AMB, LIB)
    synth = tile_costs(AMB, LIB, synth={"nand2_eq": 10000.0, "yosys": "Yosys 0.23 (x)"})
    assert "fallback" in fallback.control_source and "yosys" in synth.control_source
    assert "Yosys 0.23" in synth.control_source
    assert synth.control_ge == 10000.0
    by_type = {"$_SDFFE_PP0P_": 10, "$_AND_": 20}
    typed = tile_costs(AMB, LIB, synth={"cells": 30, "by_type": by_type})
    assert typed.control_ge == pytest.approx(10 * cell_nand2("$_SDFFE_PP0P_") +
                                             20 * cell_nand2("$_AND_"), abs=0.05)
    assert typed.area["control"] == pytest.approx(typed.control_ge * comp.ge_area(LIB, 90))
    for bad in ({"cells": 30}, {"cell_types": {"$_AND_": 3}}, {}):
        with pytest.raises(UserError, match="nand2_eq: missing"):
            tile_costs(AMB, LIB, synth=bad)


def test_user_components_override_and_add(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("adc:\n  energy: {value: 3.125e-12, source: my ADC}\n"
                 "extra_components:\n  sram_macro: {scope: tile, area_um2: 1000, node_nm: 90,"
                 " energy_per_event: {adc_conversions: 1.0e-12}}\n"
                 "  pll: {scope: chip, area_um2: 5000}\n")
    lib = load_components(str(f))
    assert lib["adc.energy"] == 3.125e-12 and lib.source("adc.energy") == "my ADC"
    base = estimate(AMB, components=LIB)
    est = estimate(AMB, components=lib)
    assert est.costs.event_energy["adc_conversions"] == \
        pytest.approx(2 * base.costs.event_energy["adc_conversions"])
    assert est.area_breakdown["sram_macro"] == pytest.approx(1000e-12)
    assert est.area_breakdown["pll"] == pytest.approx(5000e-12)
    assert est.energy_breakdown["sram_macro"] == pytest.approx(512 * 1e-12)


@pytest.mark.parametrize("text, match", [
    ("adcs: {energy: 1}\n", "unknown section"),
    ("adc: {energie: 1}\n", "unknown key"),
    ("adc: {energy: -1}\n", "number >= 0"),
    ("adc: {energy: fast}\n", "number >= 0"),
    ("adc: [1, 2\n", "not valid YAML"),
    ("- 1\n", "top level"),
    ("extra_components: {x: {scope: die}}\n", "scope"),
    ("extra_components: {x: {energy_per_event: {zaps: 1}}}\n", "unknown event"),
    ("gpu: {name: 3}\n", "must be text"),
    ("adc: {energy: .nan}\n", "finite number"),
    ("adc: {energy: .inf}\n", "finite number"),
    ("extra_components: {x: {area_um2: .nan}}\n", "number >= 0"),
])
def test_bad_components_file_is_a_one_line_user_error(tmp_path, text, match):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(UserError, match=match) as info:
        load_components(str(f))
    assert "\n" not in str(info.value)


def test_missing_components_file():
    with pytest.raises(UserError, match="no such file"):
        load_components("/nonexistent/c.yaml")


def test_bad_workload_is_a_user_error():
    with pytest.raises(UserError, match="rows"):
        workload_from_dict({"layers": [{"name": "a", "rows": 0, "cols": 3}]}, AMB)
    with pytest.raises(UserError, match="unknown key"):
        workload_from_dict({"layers": [{"rows": 3, "cols": 3, "colz": 1}]}, AMB)


def test_gpu_row_is_the_measured_h200_at_batch_1():
    """../shared/reference/gpu.md: the 2018 network (528-250-125-10) at batch 1 takes
    13.3 mJ per inference and 152 mJ per training image on the H200."""
    g = estimate(AMB, net="mlp-2018").to_dict()["gpu"]
    assert "H200" in g["name"] and g["compared_batch"] == 1
    assert g["network"] == "528-250-125-10"
    assert g["energy_per_inference_j"] == pytest.approx(13.3e-3)
    assert g["energy_per_training_example_j"] == pytest.approx(152e-3)
    best = g["measured"]["infer_batch8192"]
    assert best["tops_per_w"] == pytest.approx(329000 / 6.19e-6 / 1e12)
    # another network takes the 784-input network's energy per op
    other = estimate(AMB).to_dict()["gpu"]
    assert other["network"] == "784-250-125-10"


def test_layer_copies_share_the_mvms():
    one = estimate(AMB, components=LIB, workload=Workload("w", (WorkloadLayer("a", 512, 512, 8, 1),)))
    two = estimate(AMB, components=LIB, workload=Workload("w", (WorkloadLayer("a", 512, 512, 8, 2,
                                                              copies=2),)))
    assert two.inference_interval == pytest.approx(one.inference_interval / 2)
    assert two.latency == pytest.approx(one.latency / 2)
    # the same MVMs run, so the same energy; twice the tiles
    assert two.energy_per_inference == pytest.approx(one.energy_per_inference)
    assert two.tiles == 2 and two.tops == pytest.approx(2 * one.tops)




def test_output_buffer_is_priced_once_as_the_macro_the_rtl_infers():
    """The output words are one memory macro (rtl/tile_obuf.v: a row per conversion
    group, a word per converter), priced as the buffer and not as controller gates; the
    input codes are controller flip-flops, not buffer bits."""
    from codesign.estimate.components import buffer_bits, buffer_figure
    from codesign.cycles import output_buffer_macro
    assert output_buffer_macro(AMB) == (8, 64 * 8, 1)          # 512 lines, 64 ADCs
    assert buffer_bits(AMB) == 512 * 8                          # no input half
    serial = AMB.with_overrides({"dac.encoding": "bit_serial"})
    assert output_buffer_macro(serial) == (8, 64 * (8 + 7), 2)  # read and write per cycle
    assert buffer_bits(AMB.with_overrides({"core.io_buffer": False})) == 0
    buf, width = buffer_figure(LIB, AMB)
    assert width == 512
    assert COSTS.area["buffers"] == pytest.approx(
        4096 * LIB.scaled_area("buffer.area_per_bit", AMB.technology.node_nm))
    # a conversion writes its word: 1/64 of a row write; a READ_OUTPUT word 1/64 of a read
    assert COSTS.extra_event_energy["buffers"]["adc_conversions"] == \
        pytest.approx(buf.write / 64)
    assert COSTS.event_energy["buffer_reads"] == pytest.approx(buf.energy / 64)
