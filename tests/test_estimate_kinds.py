"""What the spec can now say about real chips, and how the estimator prices it: ADC kinds,
cell kinds beyond PCM, weight representation, per-core digital units, the chip level, the
operating supply, and specs that start from a preset (docs/spec.md, docs/estimate.md)."""
from __future__ import annotations

import json

import pytest

from codesign import adckinds, cellkinds
from codesign.cli import main
from codesign.estimate import estimate, load_components, tile_costs
from codesign.estimate import components as comp
from codesign.spec import SpecError, load_spec

LIB = load_components(hwc=False)      # the built-in models: exact, fast, no plug-ins
# the HERMES tile with a voltage-input counting converter after the window and the
# models' areas (the preset itself is the chip as built: cco, regulated, published and
# derived areas)
HERMES = load_spec("hermes").with_overrides({"adc.kind": "ramp", "integrator.kind": "auto",
                                             "adc.area": 0.0, "integrator.area": 0.0,
                                             "array.cell_area": 0.0})


@pytest.mark.parametrize("kind, cycles", [("sar", 8), ("flash", 1), ("ramp", 255),
                                          ("none", 0)])
def test_adc_kind_sets_cycles_per_conversion_and_rate(kind, cycles):
    spec = HERMES.with_overrides({"adc.kind": kind, "adc.bits": 8})
    assert spec.adc_kind.conversion_cycles(8) == cycles
    rate = comp.adc_sample_rate(spec)
    assert rate == (spec.clock.frequency / cycles if cycles else 0.0)


def test_adc_kinds_price_differently_and_none_costs_nothing():
    costs = {k: tile_costs(HERMES.with_overrides({"adc.kind": k}), LIB)
             for k in adckinds.NAMES}
    e = {k: c.event_energy["adc_conversions"] for k, c in costs.items()}
    # a flash fires 2^bits - 1 comparators per conversion; a SAR makes bits decisions
    assert e["flash"] > e["sar"] > 0 and e["ramp"] > 0
    assert e["none"] == 0 and costs["none"].area["adcs"] == 0
    # the flash's comparators are each a SAR decision at the same resolution and rate
    parts = comp.adc_parts(LIB, HERMES)
    rate = comp.adc_sample_rate(HERMES.with_overrides({"adc.kind": "flash"}))
    assert e["flash"] == pytest.approx(255 * parts.survey(8, rate / 8)[0] / 8)


def test_flash_kind_takes_the_column_converter_of_the_library_when_it_runs():
    """With hwcomponents-neurosim a flash ADC is NeuroSim's column converter; a user's
    components file that sets adc makes the comparator model price it instead."""
    from codesign.estimate import parts
    spec = HERMES.with_overrides({"adc.kind": "flash", "adc.bits": 4,
                                  "technology.node_nm": 65})
    lib = load_components()
    fig = parts.column_flash(lib, 4, spec.array.cols, spec.technology.node_nm)
    if fig is None:
        pytest.skip("hwcomponents-neurosim does not run here")
    e, a, _ = comp.adc_cost(lib, spec)
    assert (e, a) == (fig.energy, fig.area)
    user = load_components({"adc": {"energy": 1.6e-12}})
    assert comp.adc_cost(user, spec)[0] != e


def test_read_pulse_bounds_the_time_cells_conduct():
    """Cells conduct for the read pulse of each integration cycle (array.read_pulse), or
    the whole cycle when none is stated; the energy scales with that time."""
    rram = HERMES.with_overrides({"array.cell": "rram", "pcm.noise_model": "nandakumar2019"})
    period = 1.0 / rram.clock.frequency
    whole = comp.cell_read_energy(LIB, rram)
    short = comp.cell_read_energy(LIB, rram.with_overrides({"array.read_pulse": period / 4}))
    assert short == pytest.approx(whole / 4)
    longer = rram.with_overrides({"array.read_pulse": 10 * period})
    assert comp.cell_read_energy(LIB, longer) == pytest.approx(whole)   # capped at a cycle


def test_the_lines_are_as_long_as_the_cells_footprint():
    """A word line crosses the columns at the cell's width, a bit line the rows at its
    height (array.cell_area and array.cell_aspect, width over height; the C-2C ladders
    among the cells widen the footprint). The built-in driver adds the line's wire,
    wire.capacitance x length x Vdd^2; the output lines' wire is charged per integration
    event by how the integrator kind holds the line."""
    lib = load_components(hwc=False)
    sram = load_spec("codesign/chips/jia2020.yaml")
    a = comp.array_area(lib, sram) / (sram.array.rows * sram.array.cols)
    w, h = comp.cell_footprint(lib, sram)
    assert w == pytest.approx(h) and w * h == pytest.approx(a)
    wide = sram.with_overrides({"array.cell_aspect": 4.0})
    w4, h4 = comp.cell_footprint(lib, wide)
    assert w4 == pytest.approx(2 * w) and h4 == pytest.approx(h / 2)
    # the built-in driver: its wire is the only thing the footprint changes
    node, v = sram.technology.node_nm, lib.vdd(sram.technology.node_nm)
    d1, d4 = comp.dac_figure(lib, sram), comp.dac_figure(lib, wide)
    wire = lib["wire.capacitance"] * sram.array.cols * (w4 - w) * v * v
    assert d4.energy - d1.energy == pytest.approx(wire) and d4.area == d1.area
    assert "wire" in d1.source
    # the output line: a charge-domain sum line takes its capacitors' mean charge level
    c = comp.output_line_capacitance(lib, sram)
    assert c == pytest.approx(lib["wire.capacitance"] * sram.array.rows * h)
    assert comp.output_line_capacitance(lib, wide) == pytest.approx(c / 2)
    assert comp.output_line_energy(lib, sram) == pytest.approx(
        c * sram.sram.v_swing ** 2 * lib["activity.weight_bit_density"] *
        comp.input_energy_factor(lib, sram))
    # a held line (HERMES' regulator) is brought to V_read once per phase; a sampled one
    # (NeuRRAM) settles in every integration step to the inputs' mean level
    c_h = comp.output_line_capacitance(lib, HERMES)
    assert comp.output_line_energy(lib, HERMES) == pytest.approx(c_h * HERMES.dac.v_read ** 2)
    nr = load_spec("codesign/chips/neurram2022.yaml")
    steps = 2 ** (nr.dac.bits - 1) - 1
    assert comp.output_line_energy(lib, nr) == pytest.approx(
        steps * comp.output_line_capacitance(lib, nr) * nr.dac.v_read ** 2 *
        lib["activity.input_activity"])
    # priced as its own component, per integration event, at the line's own voltage
    costs = tile_costs(sram, lib)
    assert costs.extra_event_energy["lines"] == {
        "integrations": pytest.approx(comp.output_line_energy(lib, sram))}


def test_a_bare_macro_moves_no_words_through_an_io_buffer():
    """core.io_buffer false: inputs and outputs at the macro's pins, so MVMs and updates
    take no LOAD_INPUT/READ_OUTPUT words, the tile has no buffer, and the RTL (which has
    one) refuses the spec in one line."""
    from codesign import commands
    from codesign.errors import UserError
    from codesign.hdl.tile import tile_parameters
    spec = load_spec("ambrogio2018").with_overrides({"array.rows": 64, "array.cols": 64})
    bare = spec.with_overrides({"core.io_buffer": False})
    full, macro = commands.mvm_sequence(spec), commands.mvm_sequence(bare)
    assert macro.cycles == commands.forward(spec).cycles
    assert full.cycles == macro.cycles + 64 + 64
    assert macro.events.buffer_reads == macro.events.buffer_writes == 0
    assert macro.events.adc_conversions == full.events.adc_conversions
    upd = commands.update_sequence(bare, 100)
    assert upd.events.buffer_writes == 0
    costs = tile_costs(bare, LIB)
    assert costs.area["buffers"] == 0
    e_full = sum(estimate(spec, components=LIB).energy_breakdown.values())
    e_bare = estimate(bare, components=LIB)
    assert "buffers" not in {k for k, v in e_bare.energy_breakdown.items() if v}
    assert sum(e_bare.energy_breakdown.values()) < e_full
    with pytest.raises(UserError, match="core.io_buffer"):
        tile_parameters(bare)


def test_rtl_refuses_adc_kinds_it_does_not_implement():
    from codesign.hdl.tile import tile_parameters
    from codesign.errors import UserError
    with pytest.raises(UserError, match="adc.kind: value 'none' has no RTL"):
        tile_parameters(HERMES.with_overrides({"adc.kind": "none"}))
    assert tile_parameters(load_spec("hermes"))["ADC_KIND"] == adckinds.RTL_CODES["cco"]


def test_cell_kinds_registry_answers_capabilities():
    assert cellkinds.kind("2pcm3t1c").polarity and cellkinds.kind("2pcm3t1c").both_edges
    assert not cellkinds.kind("rram").trainable and not cellkinds.kind("rram").differential
    assert cellkinds.kind("sram-analog").read == "charge"
    for name, k in cellkinds.KINDS.items():
        assert k.cost_key in LIB.entries, name


def test_rram_and_sram_cells_have_their_own_area_and_read_energy():
    rram = HERMES.with_overrides({"array.cell": "rram", "pcm.noise_model": "nandakumar2019"})
    sram = rram.with_overrides({"array.cell": "sram-analog"})
    node = rram.technology.node_nm
    assert comp.cell_area(LIB, rram) == pytest.approx(LIB["cells.area_rram"] * (node * 1e-9) ** 2)
    assert comp.cell_area(LIB, sram) == pytest.approx(
        LIB["cells.area_sram_analog"] * (node * 1e-9) ** 2)
    # charge domain: C V^2 x stored-bit density x input factor, independent of conductance
    e = comp.cell_read_energy(LIB, sram)
    assert e == pytest.approx(sram.sram.c_compute * sram.sram.v_swing ** 2 * 0.5 *
                              comp.input_energy_factor(LIB, sram))
    # a stated cell area and read energy win over the kind's defaults
    stated = rram.with_overrides({"array.cell_area": 0.1e-12, "array.read_energy": 2e-15})
    assert comp.cell_area(LIB, stated) == 0.1e-12
    assert comp.cell_read_energy(LIB, stated) == pytest.approx(
        2e-15 * comp.input_energy_factor(LIB, stated))


def test_a_stated_dac_area_replaces_the_line_driver_model():
    """dac.area (wang2022: its R-2R input DACs' share of the published area breakdown)
    prices each input line's DAC at the stated area; energy stays the driver model's."""
    spec = HERMES
    stated = spec.with_overrides({"dac.area": 50e-12})
    assert comp.dac_area(LIB, spec) == comp.dac_figure(LIB, spec).area
    assert comp.dac_area(LIB, stated) == 50e-12
    assert tile_costs(stated, LIB).area["dacs"] == pytest.approx(spec.array.rows * 50e-12)
    assert comp.dac_energy(LIB, stated) == comp.dac_energy(LIB, spec)


def test_inference_only_cells_refuse_training_with_one_line():
    import numpy as np
    from codesign.errors import UserError
    from codesign.tile import AnalogTile
    spec = HERMES.with_overrides({"array.cell": "rram", "pcm.noise_model": "nandakumar2019",
                                  "array.rows": 8, "array.cols": 8, "adc.count": 8,
                                  "weights.bits": 4})
    tile = AnalogTile(spec, np.random.default_rng(0))
    tile.program(np.full((8, 8), 0.3))
    assert np.allclose(tile.weights(), np.rint(0.3 * 7) / 7)   # 4-bit sign-magnitude levels
    with pytest.raises(UserError, match="cannot be trained in situ"):
        tile.update(np.ones((1, 8)), np.ones((1, 8)), 0.1)


def test_weight_representation_sets_columns_per_weight_and_ops():
    spec = HERMES.with_overrides({"array.cell": "rram", "pcm.noise_model": "nandakumar2019",
                                  "weights.bits": 8, "weights.bits_per_cell": 2,
                                  "weights.cells_per_weight": 4})
    assert spec.columns_per_weight == 8 and spec.weight_cols == 256 // 8
    offset = spec.with_overrides({"weights.signed": "offset",
                                  "weights.cells_per_weight": 4})
    assert offset.columns_per_weight == 4 and offset.weight_cols == (256 - 1) // 4
    est = estimate(spec, components=LIB)
    assert est.ops_per_inference == 2 * 256 * 32
    with pytest.raises(SpecError, match="weights.cells_per_weight"):
        spec.with_overrides({"weights.cells_per_weight": 2})   # 2 x 2 bits < 7 + sign


def test_shift_add_is_priced_on_every_conversion_when_inputs_are_bit_serial():
    plain = HERMES.with_overrides({"core.scale": False, "core.activation": "none",
                                   "adc.kind": "sar"})
    serial = plain.with_overrides({"dac.encoding": "bit_serial"})
    c = tile_costs(serial, LIB)
    assert "digital" in c.area and c.extra_event_energy["digital"]["adc_conversions"] > 0
    assert "digital" not in tile_costs(plain, LIB).area     # one phase: nothing to add
    scaled = tile_costs(plain.with_overrides({"core.scale": True,
                                              "core.activation": "relu"}), LIB)
    assert scaled.extra_event_energy["digital"]["buffer_reads"] > 0


def test_supply_scales_cmos_energy_as_v_squared():
    nominal = tile_costs(HERMES, LIB)
    low = tile_costs(HERMES.with_overrides({"technology.vdd": LIB.vdd(14) / 2}), LIB)
    assert low.event_energy["adc_conversions"] == pytest.approx(
        nominal.event_energy["adc_conversions"] / 4)
    assert low.event_energy["cell_reads"] == nominal.event_energy["cell_reads"]
    assert low.cycle_energy == pytest.approx(nominal.cycle_energy / 4)


def test_chip_level_buffer_io_and_interconnect():
    base = HERMES.with_overrides({"chip.cores": 4})
    plain = estimate(base, components=LIB)
    assert plain.tiles == 4 and "routers" in plain.area_breakdown
    chip = estimate(base.with_overrides({"chip.buffer_bytes": 65536, "chip.io_bits": 64,
                                         "chip.interconnect": "bus"}), components=LIB)
    assert "routers" not in chip.area_breakdown and chip.area_breakdown["chip_buffer"] > 0
    for part in ("chip_buffer", "io", "interconnect"):
        assert chip.energy_breakdown[part] > 0
    wires = estimate(base.with_overrides({"chip.interconnect": "wires"}), components=LIB)
    assert 0 < wires.energy_breakdown["interconnect"] < \
        estimate(base.with_overrides({"chip.interconnect": "htree"}),
                 components=LIB).energy_breakdown["interconnect"]


def test_leakage_is_charged_over_the_interval():
    lib = load_components(hwc=False)
    est = estimate(HERMES, components=lib)
    assert est.leak_power >= 0
    if est.leak_power:
        assert est.energy_breakdown["leakage"] == pytest.approx(
            est.leak_power * est.inference_interval)


def test_spec_file_starts_from_a_preset_and_overrides(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("base: hermes\nname: mine\nadc: {bits: 6, kind: ramp}\n")
    spec = load_spec(f)
    assert spec.name == "mine" and spec.adc.bits == 6 and spec.adc.kind == "ramp"
    assert spec.array.rows == HERMES.array.rows and spec.adc.count == HERMES.adc.count
    g = tmp_path / "child.yaml"                      # a chain: file -> file -> preset
    g.write_text("base: mine.yaml\nadc: {count: 64}\n")
    assert load_spec(g).adc.bits == 6 and load_spec(g).adc.count == 64
    loop = tmp_path / "loop.yaml"
    loop.write_text("base: loop.yaml\n")
    with pytest.raises(SpecError, match="loop"):
        load_spec(loop)
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: 3\n")
    with pytest.raises(SpecError, match="base: value 3"):
        load_spec(bad)


@pytest.mark.parametrize("text, field", [
    ("array: {cell_area: .nan}\n", "array.cell_area"),
    ("array: {cell_area: -1.0e-12}\n", "array.cell_area"),
    ("adc: {count: -4}\n", "adc.count"),
    ("technology: {vdd: .inf}\n", "technology.vdd"),
    ("chip: {buffer_bytes: -1}\n", "chip.buffer_bytes"),
    ("adc: {kind: pipelined}\n", "adc.kind"),
    ("array: {cell_aspect: 0}\n", "array.cell_aspect"),
    ("array: {cell_aspect: .nan}\n", "array.cell_aspect"),
])
def test_bad_chip_fields_exit_2_with_one_line(tmp_path, capsys, text, field):
    f = tmp_path / "bad.yaml"
    f.write_text("base: hermes\n" + text)
    assert main(["estimate", "--spec", str(f), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert field in err and "\n" not in err


def test_json_never_prints_nan(capsys):
    from codesign.cli._common import print_json
    from codesign.errors import UserError
    with pytest.raises(UserError, match="field a.b is not a finite number"):
        print_json({"a": {"b": float("nan")}})
    print_json({"a": 1.5})
    assert json.loads(capsys.readouterr().out) == {"a": 1.5}


def test_the_readme_spec_example_loads_and_estimates(tmp_path):
    """README.md promises that a spec starts from a preset and overrides what differs."""
    import re
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```yaml\n(base: .*?)```", readme, re.S).group(1)
    f = tmp_path / "my-chip.yaml"
    f.write_text(block)
    spec = load_spec(f)
    assert spec.name == "my-chip" and spec.array.cell == "pcm-pair" and spec.adc.count == 32
    # a SAR does not inherit the preset's CCO layout area or its regulated line sensing
    assert spec.adc.area == 0 and spec.integrator_kind.name == "ota"
    assert estimate(spec, components=LIB).tops_per_w > 0


@pytest.mark.parametrize("flag, content, match", [
    ("--workload", b"layers: [{name: a, rows: 4, cols: 4, macs: -3}]\n", "macs"),
    ("--workload", b"layers: [{name: a, rows: 4, cols: 4, mvms: .nan}]\n", "mvms"),
    ("--workload", b"\xff\xfe\x00binary", "UTF-8"),
    ("--synth", b"\xff\xfe\x00binary", "cannot be read"),
    ("--synth", b"[" * 5000 + b"]" * 5000, "--synth"),
    ("--components", b"\xff\xfe\x00binary", "UTF-8"),
])
def test_bad_estimate_inputs_exit_2_with_one_line(tmp_path, capsys, flag, content, match):
    f = tmp_path / "input"
    f.write_bytes(content)
    assert main(["estimate", "--spec", "hermes", flag, str(f), "--json"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert match in err and "\n" not in err and "Traceback" not in err
    assert captured.out == ""


def test_chip_level_energies_follow_the_operating_supply():
    chip = HERMES.with_overrides({"chip.cores": 4, "chip.interconnect": "bus",
                                  "chip.buffer_bytes": 65536})
    v = LIB.vdd(14)
    nom = estimate(chip, components=LIB).energy_breakdown
    low = estimate(chip.with_overrides({"technology.vdd": v / 2}), components=LIB)
    assert low.energy_breakdown["interconnect"] == pytest.approx(nom["interconnect"] / 4)
    assert low.energy_breakdown["chip_buffer"] == pytest.approx(nom["chip_buffer"] / 4)
