"""One cost per tile command (codesign.commands): the tile, the estimator and the cycle
model agree, and real tile operations priced by the estimator's TileCosts give the
estimator's per-operation energies (docs/cycles.md, docs/estimate.md)."""
from __future__ import annotations

import numpy as np
import pytest

from codesign import commands
from codesign import cycles as cyc
from codesign.commands import CommandCost, ExpectedEvents
from codesign.estimate import estimate, load_components, tile_costs
from codesign.estimate.tile_costs import forward_op, transfer_op, update_op
from codesign.events import Events
from codesign.hdl.tile import COUNTERS, with_size
from codesign.tile import AnalogTile

LIB = load_components()
# small, 4 ADCs (3 mux groups forward, 2 backward); a
# saturation below 1 so that transfers also take the RESET path
SPEC = with_size("ambrogio2018", 6, 12, 4).with_overrides({"cell.saturation": 0.5})


def _energy(costs, counts, cycles) -> float:
    return sum(costs.energy(counts, cycles).values())


def test_command_costs_are_the_cycle_model_and_the_events():
    s = SPEC
    p = cyc.input_phases(s)
    assert commands.load_input(s, 7) == CommandCost(7, Events(buffer_writes=7))
    assert commands.read_output(s, 3) == CommandCost(3, Events(buffer_reads=3))
    f = commands.forward(s)
    assert f.cycles == cyc.forward_cycles(s) == \
        p * (1 + cyc.integration_cycles(s) + 3 * cyc.conversion_cycles(s))
    assert f.events == Events(dac_settings=6 * p, integrations=12 * p, adc_conversions=12 * p,
                              cell_reads=72 * p)
    b = commands.backward(s)
    assert b.cycles == cyc.backward_cycles(s) == \
        p * (1 + cyc.integration_cycles(s) + 2 * cyc.conversion_cycles(s))
    assert b.events == Events(dac_settings=12 * p, integrations=6 * p, adc_conversions=6 * p,
                              cell_reads=72 * p)
    assert commands.update(s, 17) == CommandCost(1 + s.update.bl, Events(update_pulses=17))
    t = commands.transfer(s, np.array([2, 1, 3]), np.array([1, 0, 2]), 9, 4, 2)
    assert t == CommandCost(3 + 6 + 3, Events(verify_reads=9, set_pulses=4, reset_pulses=2))
    assert commands.transfer(s, np.zeros(0, int), np.zeros(0, int), 0, 0, 0) == \
        CommandCost(0, Events())


def test_sequences_are_sums_of_commands():
    s = SPEC
    seq = commands.mvm_sequence(s, vectors=3)
    one = commands.load_input(s, 6) + commands.forward(s) + commands.read_output(s, 12)
    assert seq == one * 3
    back = commands.mvm_sequence(s, transpose=True)
    assert back == commands.load_input(s, 12) + commands.backward(s) + \
        commands.read_output(s, 6)
    upd = commands.update_sequence(s, 40, examples=2)
    per = commands.load_input(s, 6) + commands.load_input(s, 12)
    assert upd == per * 2 + commands.update(s, 25) + commands.update(s, 15)
    assert commands.update_sequence(s, 0, examples=0) == CommandCost(0, Events())


def test_expected_counts_stay_out_of_events():
    s = SPEC
    exp = commands.update(s, 12.5)
    assert isinstance(exp.events, ExpectedEvents) and exp.events["update_pulses"] == 12.5
    mixed = commands.update_sequence(s, 12.5, examples=2)
    assert isinstance(mixed.events, ExpectedEvents)
    assert mixed.events["buffer_writes"] == 2 * 18 and mixed.events["update_pulses"] == 12.5
    t = commands.transfer(s, np.full(6, 2.5), np.full(6, 1.5), 350.0, 210.0, 14.0)
    assert t.cycles == pytest.approx(6 * (1 + 2.5 + 1.5)) and isinstance(t.cycles, float)
    assert t.events == ExpectedEvents(verify_reads=350.0, set_pulses=210.0, reset_pulses=14.0)
    with pytest.raises(TypeError):
        commands.forward(s) * 1.5                # commands are counted in whole numbers
    with pytest.raises(KeyError):
        ExpectedEvents(zaps=1.0)


def test_tile_operations_cost_what_the_commands_say():
    rng = np.random.default_rng(11)
    tile = AnalogTile(SPEC, rng)
    tile.program(rng.uniform(-0.6, 0.6, tile.shape))
    fwd = tile.forward(rng.uniform(-1, 1, (3, 6)))
    assert CommandCost(fwd.cycles, fwd.events) == commands.mvm_sequence(SPEC, vectors=3)
    bwd = tile.backward(rng.uniform(-1, 1, (1, 12)))
    assert CommandCost(bwd.cycles, bwd.events) == commands.mvm_sequence(SPEC, transpose=True)
    upd = tile.update(rng.uniform(-1, 1, (4, 6)), rng.uniform(-1, 1, (4, 12)), 0.05)
    assert upd.events.update_pulses > 0
    assert CommandCost(upd.cycles, upd.events) == \
        commands.update_sequence(SPEC, upd.events.update_pulses, examples=4)
    xfer = tile.transfer()
    assert xfer.events.verify_reads > 0 and xfer.events.set_pulses > 0
    assert CommandCost(xfer.cycles, xfer.events) == commands.transfer(
        SPEC, xfer.codes["verifies_per_row"], xfer.codes["pulses_per_row"],
        xfer.events.verify_reads, xfer.events.set_pulses, xfer.events.reset_pulses)
    assert xfer.cycles == cyc.transfer_cycles(xfer.codes["verifies_per_row"],
                                              xfer.codes["pulses_per_row"])


def test_real_tile_operations_priced_by_the_estimator():
    """Forward, backward, update and transfer on a real tile: the estimator's operation
    (tile_costs.*_op fed the tile's data) has the tile's cycles and counts, and TileCosts
    prices the tile's result to the estimator's per-operation energy."""
    rng = np.random.default_rng(3)
    tile = AnalogTile(SPEC, rng)
    tile.program(rng.uniform(-0.6, 0.6, tile.shape))
    costs = tile_costs(SPEC, LIB)
    est = estimate(SPEC, components=LIB)

    fwd = tile.forward(rng.uniform(-1, 1, (1, 6)))
    bwd = tile.backward(rng.uniform(-1, 1, (1, 12)))
    for res, op, name in ((fwd, forward_op(SPEC), "forward"),
                          (bwd, forward_op(SPEC, transpose=True), "backward")):
        assert res.cycles == op.cycles and res.events.as_dict() == op.counts
        assert _energy(costs, res.events, res.cycles) == \
            pytest.approx(est.op_energy[name], rel=1e-12)

    upd = tile.update(rng.uniform(-1, 1, (1, 6)), rng.uniform(-1, 1, (1, 12)), 0.05)
    n = upd.events.update_pulses
    op = update_op(SPEC, LIB, coincidences=n)
    assert upd.cycles == op.cycles and upd.events.as_dict() == op.counts
    assert op.compute_cycles == commands.update(SPEC, n).cycles
    # the estimator with the tile's coincidence rate as its activity prices the same
    rate = n / (6 * 12 * SPEC.update.bl)
    est_n = estimate(SPEC, components={"activity": {"update_coincidence": rate}})
    assert _energy(costs, upd.events, upd.cycles) + costs.update_line_energy == \
        pytest.approx(est_n.op_energy["update"], rel=1e-12)

    xfer = tile.transfer()
    observed = dict(xfer.codes, **{k: getattr(xfer.events, k)
                                   for k in ("verify_reads", "set_pulses", "reset_pulses")})
    op = transfer_op(SPEC, LIB, observed)
    assert xfer.cycles == op.cycles == op.compute_cycles
    assert xfer.events.as_dict() == op.counts
    assert _energy(costs, xfer.events, xfer.cycles) == \
        pytest.approx(_energy(costs, op.counts, op.cycles), rel=1e-12)
    # the default is the documented expectation: per row 1 + verifies + SETs per cell
    v, s = LIB["activity.transfer_verifies_per_cell"], LIB["activity.transfer_sets_per_cell"]
    assert transfer_op(SPEC, LIB).cycles == pytest.approx(6 * (1 + v + s))
    assert est.op_energy["transfer"] == pytest.approx(
        _energy(costs, transfer_op(SPEC, LIB).counts, transfer_op(SPEC, LIB).cycles))


def test_ideal_cells_transfer_nothing_in_the_tile_and_the_estimator():
    spec = SPEC.with_overrides({"array.cell": "ideal"})
    tile = AnalogTile(spec, np.random.default_rng(0))
    res = tile.transfer()
    assert res.cycles == 0 and res.events == Events()
    op = transfer_op(spec, LIB)
    assert op.cycles == 0 and not any(op.counts.values())


def test_fallback_counts_the_rtl_counters():
    """The structural fallback has one counter per RTL performance counter
    (codesign.hdl.tile.COUNTERS), each rtl.counter_bits wide."""
    wide = tile_costs(SPEC.with_overrides({"rtl.counter_bits": 48}), LIB).control_ge
    narrow = tile_costs(SPEC.with_overrides({"rtl.counter_bits": 16}), LIB).control_ge
    from codesign.hdl.gatemodel import coefficients
    assert wide - narrow == pytest.approx(len(COUNTERS) * 32 * coefficients()["counter_bits"])
