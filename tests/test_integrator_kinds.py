"""Integrator kinds (codesign.integratorkinds) and the current-input converter (adc.kind
cco): what each costs, how the spec chooses them, and the published design's own areas
(integrator.area, adc.area) (docs/estimate.md, docs/validation.md)."""
from __future__ import annotations

import dataclasses

import pytest

from codesign import cycles, integratorkinds
from codesign.cli import main
from codesign.estimate import estimate, load_components, tile_costs
from codesign.estimate import components as comp
from codesign.spec import SpecError, load_spec

LIB = load_components(hwc=False)      # the built-in models: exact, fast, no plug-ins
HERMES = load_spec("hermes")
CCO = HERMES.with_overrides({"adc.kind": "cco"})
PARTS = integratorkinds.Parts(vdd=1.0, v_supply=1.0, v_read=0.2, window=100e-9, steps=10,
                              line_energy=1e-12, bias_current=10e-6, capacitance=50e-15,
                              cap_density=2e-3, ota_area=30e-12)


def test_auto_resolves_from_the_cell_and_the_converter():
    assert HERMES.integrator_kind.name == "ota"                      # a ramp after the window
    assert CCO.integrator_kind.name == "regulated"                   # a current-input converter
    assert load_spec("wang2022").integrator_kind.name == "none"      # charge-domain cells
    assert load_spec("neurram2022").integrator_kind.name == "sampling"   # stated by the spec
    assert set(integratorkinds.CHOICES) == {"auto", "ota", "sampling", "regulated", "none"}


def test_each_kind_prices_its_own_physics():
    k = integratorkinds.KINDS
    longer = dataclasses.replace(PARTS, window=2 * PARTS.window)
    more_steps = dataclasses.replace(PARTS, steps=2 * PARTS.steps)
    # an OTA is biased over the window; a sampling capacitor is charged once per step
    assert k["ota"].energy(longer) > k["ota"].energy(PARTS)
    assert k["sampling"].energy(longer) == k["sampling"].energy(PARTS)
    assert k["sampling"].energy(more_steps) == pytest.approx(2 * k["sampling"].energy(PARTS))
    assert k["sampling"].energy(PARTS) == pytest.approx(10 * 50e-15 * 1.0)
    # a regulator passes the line's current from the supply: (VDD - V_read) I t on top of
    # the cells' V_read I t, nothing when the supply is the read voltage
    assert k["regulated"].supply_energy(PARTS) == pytest.approx(1e-12 * 0.8 / 0.2)
    assert k["regulated"].supply_energy(dataclasses.replace(PARTS, v_supply=0.2)) == 0.0
    assert k["regulated"].energy(PARTS) == pytest.approx(
        10e-6 * 1.0 * 100e-9 + k["regulated"].supply_energy(PARTS))
    assert k["none"].energy(PARTS) == 0.0 and k["none"].area(PARTS) == 0.0
    for name in ("ota", "sampling", "none"):
        assert k[name].supply_energy(PARTS) == 0.0
    assert k["ota"].area(PARTS) > k["sampling"].area(PARTS) > 0


def test_cco_counts_during_the_window_and_latches_in_one_cycle():
    """The oscillator counts while the inputs are applied: one MVM phase is 1 + the window
    + 1 cycles instead of the ramp's 1 + window + 2^bits - 1."""
    window = cycles.integration_cycles(CCO)
    assert cycles.forward_cycles(CCO) == 1 + window + 1
    assert cycles.forward_cycles(HERMES) == 1 + window + 255
    assert CCO.adc_kind.current_input and not HERMES.adc_kind.current_input
    assert CCO.adc_kind.rtl_code is None            # the model's converter, no RTL block


def test_the_converter_copy_of_the_line_current_follows_mirror_gain_and_read_energy():
    base = comp.adc_input_energy(LIB, CCO)
    assert base == pytest.approx(comp.line_energy(LIB, CCO) * 0.8 / CCO.dac.v_read)
    double = load_components({"integrator": {"mirror_gain": 2.0}}, hwc=False)
    assert comp.adc_input_energy(double, CCO) == pytest.approx(2 * base)
    assert comp.adc_input_energy(LIB, HERMES) == 0.0          # a voltage-input ramp
    e_adc = comp.adc_cost(LIB, CCO)[0]
    assert e_adc > base
    # more conductance on the line draws more current into both regulator and oscillator
    hot = CCO.with_overrides({"pcm.g_max": 2 * CCO.pcm.g_max})
    assert comp.adc_input_energy(LIB, hot) == pytest.approx(2 * base)
    assert comp.integrator_supply_energy(LIB, hot) == pytest.approx(
        2 * comp.integrator_supply_energy(LIB, CCO))


def test_line_currents_are_priced_at_the_operating_supply_not_rescaled():
    """CMOS switching energies scale as V^2 with the operating supply; a current drawn from
    the supply scales as V: the copy into the oscillator doubles when the supply does."""
    lo, hi = (CCO.with_overrides({"technology.vdd": v}) for v in (0.6, 1.2))
    c_lo, c_hi = tile_costs(lo, LIB), tile_costs(hi, LIB)
    copy_lo, copy_hi = comp.adc_input_energy(LIB, lo), comp.adc_input_energy(LIB, hi)
    assert copy_hi == pytest.approx(2 * copy_lo)
    assert c_lo.event_energy["adc_conversions"] > copy_lo
    assert c_hi.event_energy["adc_conversions"] - copy_hi == pytest.approx(
        4 * (c_lo.event_energy["adc_conversions"] - copy_lo))


def test_published_areas_replace_the_models():
    spec = CCO.with_overrides({"adc.area": 280e-12, "integrator.area": 120e-12})
    c = tile_costs(spec, LIB)
    assert c.area["adcs"] == pytest.approx(spec.adc.count * 280e-12)
    assert c.area["integrators"] == pytest.approx(spec.array.cols * 120e-12)
    model = tile_costs(CCO, LIB)
    assert model.area["adcs"] != c.area["adcs"]


def test_sampling_integrators_cost_less_than_an_ota_over_a_long_window():
    """NeuRRAM's voltage-mode neurons: a capacitor charged per step instead of an OTA
    biased through the 2-us window."""
    neurram = load_spec("neurram2022")
    ota = neurram.with_overrides({"integrator.kind": "ota"})
    e_s = estimate(neurram, components=LIB).energy_breakdown["integrators"]
    e_o = estimate(ota, components=LIB).energy_breakdown["integrators"]
    assert 0 < e_s < e_o / 10


def test_hermes_as_built_runs_at_its_main_clock():
    """With the converter counting during the window, the measured MVM time (130 ns for
    131,072 ops at 1.008 TOPS) gives the paper's 1 GHz main clock and its 128-ns window."""
    chip = load_spec("hermes2022")
    assert chip.adc.kind == "cco" and chip.integrator_kind.name == "regulated"
    assert chip.clock.frequency == pytest.approx(1e9, rel=0.01)
    window = cycles.integration_cycles(chip) / chip.clock.frequency
    assert window == pytest.approx(128e-9, rel=0.01)
    models = dict(estimate(chip, components=LIB).models)      # --json names the models
    assert models["adcs"].startswith("cco: the mirrored line current")
    assert models["integrators"].startswith("regulated:")


def test_charge_sar_converts_on_the_integration_capacitor():
    """NeuRRAM's neuron: a SAR's binary search (bits cycles, the same codes) whose DAC is
    the integrator's capacitor: per bit one comparator decision and one charge step, far
    below a standalone survey SAR with its own capacitive DAC and references."""
    from codesign import adckinds
    k = adckinds.kind("charge-sar")
    assert k.conversion_cycles(6) == 6 and k.rtl_code is None
    sar = HERMES.with_overrides({"adc.kind": "sar", "adc.bits": 6, "technology.node_nm": 130})
    own = sar.with_overrides({"adc.kind": "charge-sar"})
    # the decomposition, with the built-in comparator (a survey SAR's decision)
    parts = comp.adc_parts(LIB, own)
    rate = comp.adc_sample_rate(own)
    decision = parts.survey(6, rate)[0] / 6
    e, a, _ = comp.adc_cost(LIB, own)
    assert e == pytest.approx(6 * (decision + parts.cap_step + parts.flop_energy))
    assert parts.cap_step == pytest.approx(50e-15 * LIB.vdd(130) ** 2)
    assert comp.adc_cost(LIB, own.with_overrides({"adc.bits": 8}))[0] > e
    # with the field's column sense amplifier (NeuroSim) the decision is a comparator
    # pitch-matched to a column: far below the survey's standalone SAR
    lib = load_components()
    fig = comp.adc_parts(lib, own).column_flash(1)
    if fig is None:
        pytest.skip("hwcomponents-neurosim does not run here")
    e_ns, a_ns, _ = comp.adc_cost(lib, own)
    survey = comp.adc_parts(lib, sar).survey(6, rate)
    assert e_ns < survey[0] / 4 and a_ns < survey[1]
    assert tile_costs(own, lib).event_energy["adc_conversions"] < \
        tile_costs(sar, lib).event_energy["adc_conversions"]


@pytest.mark.parametrize("text, field", [
    ("integrator: {kind: opamp}\n", "integrator.kind"),
    ("integrator: {area: -1.0e-12}\n", "integrator.area"),
    ("integrator: {area: .nan}\n", "integrator.area"),
    ("adc: {area: .inf}\n", "adc.area"),
    ("adc: {kind: cco}\nintegrator: {kind: ota}\n", "integrator.kind"),
    ("array: {cell: sram-analog}\npcm: {noise_model: nandakumar2019}\n"
     "integrator: {kind: regulated}\n", "integrator.kind"),
    ("adc: {kind: charge-sar}\nintegrator: {kind: regulated}\n", "integrator.kind"),
])
def test_bad_integrator_and_area_fields_exit_2_with_one_line(tmp_path, capsys, text, field):
    f = tmp_path / "bad.yaml"
    f.write_text("base: hermes\n" + text)
    assert main(["estimate", "--spec", str(f), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert field in err and "\n" not in err and "Traceback" not in err
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        load_spec(f)
