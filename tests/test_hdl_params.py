"""codesign.hdl without simulation: spec <-> RTL parameters, ports, docs, runner basics."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings, strategies as st

from codesign.cycles import ENCODING_CODES, UPDATE_MODE_CODES
from codesign.errors import UserError
from codesign.hdl import runner
from codesign.hdl.introspect import module_info
from codesign.hdl.ports import DOC_PATH, PORT_DOCS, ports_markdown
from codesign.hdl.tile import (TOP, parameter_problems, rtl_fields, tile_parameters,
                               verilog_value, with_size)
from codesign.spec import load_spec, preset_names

needs_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None,
                                    reason="pyverilog preprocesses with iverilog")


@pytest.fixture(scope="module")
def top():
    return module_info(TOP)


@needs_iverilog
def test_every_rtl_spec_field_is_a_top_parameter_and_back(top):
    problems = parameter_problems(top.parameters)
    assert not problems, "\n".join(problems)
    assert len(rtl_fields()) >= 15


@needs_iverilog
def test_the_check_catches_a_missing_and_an_extra_parameter(top):
    names = set(top.parameters)
    missing = parameter_problems(names - {"BL"})
    extra = parameter_problems(names | {"FIFO_DEPTH"})
    assert len(missing) == 1 and "update.bl" in missing[0] and "BL" in missing[0]
    assert len(extra) == 1 and "FIFO_DEPTH" in extra[0]


@needs_iverilog
def test_localparams_are_not_parameters(top):
    local = {p.name for p in top.params if p.local}
    assert {"OUT_BITS", "MAXL"} <= local            # derived sizes inside tile_ctrl
    assert not local & set(top.parameters)


@pytest.mark.parametrize("preset", preset_names())
def test_parameters_of_presets_are_integers_from_the_spec(preset):
    spec = load_spec(preset)
    if not spec.adc_kind.has_rtl:
        # a kind without a converter block (codesign.adckinds: none): one clear line, and
        # the SAR variant of the same tile has parameters
        with pytest.raises(UserError, match=f"adc.kind: value '{spec.adc.kind}' has no RTL"):
            tile_parameters(spec)
        spec = spec.with_overrides({"adc.kind": "sar"})
    p = tile_parameters(spec)
    assert p["ADC_KIND"] == spec.adc_kind.rtl_code
    assert set(p) == set(rtl_fields())
    assert all(isinstance(v, int) for v in p.values())
    assert (p["ROWS"], p["COLS"], p["ADCS"]) == (spec.array.rows, spec.array.cols,
                                                 spec.adc.count)
    assert p["DAC_ENCODING"] == ENCODING_CODES[spec.dac.encoding]
    assert p["UPDATE_MODE"] == UPDATE_MODE_CODES[spec.update.mode]
    # polarity inversion acts on a 3T1C capacitor only
    assert p["POLARITY_INV"] == int(spec.cell.polarity_inversion and
                                    spec.array.cell == "2pcm3t1c")


def test_size_override_validates():
    spec = with_size("ambrogio2018", 12, 20, 4)
    assert (spec.array.rows, spec.array.cols, spec.adc.count) == (12, 20, 4)
    with pytest.raises(UserError, match="adc.count"):
        with_size("ambrogio2018", 12, 20, 3)           # 3 does not divide 20


def test_large_parameter_values_are_sized_literals():
    assert verilog_value("LFSR_TAPS", 0xB400) == "46080"
    assert verilog_value("LFSR_SEED", 0xFFFFFFFF) == "32'hFFFFFFFF"


@needs_iverilog
def test_port_widths_follow_the_spec(top):
    ports = {p.name: p for p in top.ports}
    for enc, extra in (("amplitude", 0), ("bit_serial", 5)):
        spec = with_size("ambrogio2018", 12, 20, 4).with_overrides(
            {"dac.encoding": enc, "dac.bits": 6, "adc.bits": 7})
        p = tile_parameters(spec)
        assert ports["out_data"].width(p) == 7 + extra
        assert ports["row_dac"].width(p) == 12 * 6
        assert ports["adc_trial"].width(p) == 4 * 7
        assert ports["adc_cmp"].width(p) == 4                  # one decision per SAR
        for kind, per_adc in (("flash", 2 ** 7 - 1), ("ramp", 1)):   # flash: thermometer
            q = tile_parameters(spec.with_overrides({"adc.kind": kind}))
            assert ports["adc_cmp"].width(q) == 4 * per_adc
        assert ports["cmd_len"].width(p) == 5              # holds 20
        assert ports["reg_rdata"].width(p) == spec.rtl.counter_bits


@needs_iverilog
def test_every_port_is_documented(top):
    names = [p.name for p in top.ports]
    assert set(PORT_DOCS) == set(names), (set(names) ^ set(PORT_DOCS))


@needs_iverilog
def test_ports_doc_is_current():
    assert DOC_PATH.read_text() == ports_markdown(), \
        "docs/ports.md is stale: run python -m codesign.hdl.ports"


@needs_iverilog
@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 4096), cols=st.integers(1, 4096))
def test_width_expressions_evaluate_like_verilog(top, rows, cols):
    # cmd_len is $clog2(max(ROWS, COLS) + 1) bits: enough for the longest buffer
    p = dict(top.defaults(), ROWS=rows, COLS=cols)
    width = {q.name: q for q in top.ports}["cmd_len"].width(p)
    assert 2 ** width > max(rows, cols) >= 2 ** (width - 1)


def test_build_dir_depends_on_parameters_and_source_contents(tmp_path):
    src = tmp_path / "a.v"
    src.write_text("module a; endmodule\n")
    k1 = runner.build_key("a", [src], {"N": 1})
    assert runner.build_key("a", [src], {"N": 2}) != k1
    src.write_text("module a; wire w; endmodule\n")
    assert runner.build_key("a", [src], {"N": 1}) != k1


def test_missing_iverilog_names_the_install_command(monkeypatch):
    monkeypatch.setattr(runner.shutil, "which", lambda name: None)
    with pytest.raises(runner.SimulatorMissing, match="apt-get install -y iverilog"):
        runner.run_bench("x", [], "sims.none")
