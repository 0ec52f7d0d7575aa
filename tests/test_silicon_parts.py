"""What three published designs state and the estimator now prices (docs/validation.md,
"What changed the table"): inputs sent as trains of unit pulses (Sinangil et al. JSSC
2021), C-2C ladder multipliers (Wang et al. VLSI 2022) and the HERMES cell at its
converters' pitch (Khaddam-Aljameh et al. JSSC 2022)."""
from __future__ import annotations

import pytest

from codesign.cli import main
from codesign.estimate import load_components, tile_costs
from codesign.estimate import components as comp
from codesign.estimate.validation import chip_spec, silicon_table
from codesign.spec import SpecError, load_spec

BUILTIN = load_components(hwc=False)
HWC = load_components()
CHIPS = {c["name"]: c for c in silicon_table()}


def test_a_pulse_train_charges_the_word_line_once_per_pulse():
    """dac.pulse_train: the expected drives per setting are mean |x| x (2^(bits-1) - 1), so
    the DAC energy per setting is that many drives of the line; one PWM pulse is one."""
    spec = chip_spec(CHIPS["sinangil2021"])
    assert spec.dac.pulse_train and spec.dac.encoding == "pulse_width"
    one = spec.with_overrides({"dac.pulse_train": False})
    for lib in (BUILTIN, HWC):
        pulses = lib["activity.input_activity"] * (2 ** (spec.dac.bits - 1) - 1)
        assert comp.drives_per_setting(lib, spec) == pytest.approx(pulses)
        assert comp.drives_per_setting(lib, one) == 1.0
        assert comp.dac_energy(lib, spec) == pytest.approx(pulses * comp.dac_energy(lib, one))
        # the cycles and events do not change: the pulses fit the same slots
        assert tile_costs(spec, lib).area == tile_costs(one, lib).area
    assert not load_spec("hermes").dac.pulse_train        # HERMES: one PWM pulse per input


def test_pulse_train_needs_pulse_width_inputs(tmp_path, capsys):
    with pytest.raises(SpecError, match="dac.pulse_train"):
        load_spec("isaac").with_overrides({"dac.pulse_train": True})
    f = tmp_path / "s.yaml"
    f.write_text("base: isaac\ndac: {pulse_train: true}\n")
    assert main(["estimate", "--spec", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert "dac.pulse_train" in err and "\n" not in err


def test_c2c_multipliers_price_the_weights_ladders():
    """sram.multiplier c2c: one C-2C ladder per weight-wide column group of each driven row
    (64 x 16 for Wang 2022), its multiply (hwcomponents-library) shared by the weight's
    cells; its area joins the cells'. Without the library the bit cells' own charge model
    prices the reads and the ladder's 3 unit capacitors per bit its area."""
    spec = chip_spec(CHIPS["wang2022"])
    assert spec.sram.multiplier == "c2c"
    plain = spec.with_overrides({"sram.multiplier": "none"})
    assert comp.multipliers_per_tile(spec) == 64 * 16 and comp.multipliers_per_tile(plain) == 0
    cells = spec.array.rows * spec.array.cols * comp.cell_area(HWC, spec)
    mult = comp.multiplier_figure(HWC, spec)
    if mult is None:
        pytest.skip("hwcomponents-library does not run here")
    assert mult.energy > 0 and mult.area > 0
    assert comp.cell_read_energy(HWC, spec) == pytest.approx(
        mult.energy / spec.columns_per_weight)
    assert comp.array_area(HWC, spec) == pytest.approx(cells + 64 * 16 * mult.area)
    assert comp.array_area(HWC, plain) == pytest.approx(cells)
    # the ladder (a 2-fF unit, eight bits) costs more than the bit cells' own charge
    assert comp.cell_read_energy(HWC, spec) > comp.cell_read_energy(HWC, plain)
    # built-in fallback: the bit cells' charge model, the ladder's capacitors as area
    assert comp.multiplier_figure(BUILTIN, spec) is None
    assert comp.cell_read_energy(BUILTIN, spec) == comp.cell_read_energy(BUILTIN, plain)
    ladder = 3 * 8 * spec.sram.c_compute / BUILTIN["integrator.cap_density"]
    assert comp.array_area(BUILTIN, spec) == pytest.approx(
        comp.array_area(BUILTIN, plain) + 64 * 16 * ladder)


@pytest.mark.parametrize("override", [{"array.cell": "rram"},
                                      {"dac.encoding": "bit_serial"}])
def test_c2c_needs_a_charge_cell_and_an_analog_input(override):
    spec = chip_spec(CHIPS["wang2022"])
    if "array.cell" in override:
        override = {**override, "weights.signed": "differential", "weights.bits": 0,
                    "integrator.kind": "auto"}
    with pytest.raises(SpecError, match="sram.multiplier"):
        spec.with_overrides(override)


def test_hermes_cell_is_the_converters_bit_line_pitch_squared():
    """Two banks of 128 converters at the abstract's 4-um pitch on opposite sides of the
    256 bit lines: a 2-um bit-line pitch, the cell taken square (source-line pitch
    assumed); the 64-core chip's cores inherit it."""
    bl_pitch = 128 * 4e-6 / 256
    for name in ("hermes", "hermes2022", "legallo2023"):
        spec = load_spec(name) if name == "hermes" else chip_spec(CHIPS[name])
        assert spec.array.cell_area == pytest.approx(bl_pitch ** 2)
        assert comp.cell_area(BUILTIN, spec) == pytest.approx(4e-12)
