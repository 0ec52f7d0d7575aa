"""ADC kinds as the controller runs them (codesign.adckinds): each quantizing kind's
comparator protocol and cycle-by-cycle converter give the model's codes (the SAR closed
form the fast path computes), and the registry alone decides which kinds the RTL takes."""
from __future__ import annotations

import numpy as np
import pytest

from hypothesis import given, settings, strategies as st

from codesign import adckinds
from codesign import converters as conv
from codesign.errors import UserError
from codesign.hdl.tile import RTL_CODES, tile_parameters, with_size
from codesign.spec import SpecError, load_spec

BASE = load_spec("ambrogio2018")
QUANTIZING = [n for n, k in adckinds.KINDS.items() if k.quantizes]


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(QUANTIZING), bits=st.integers(2, 9), fs=st.floats(0.1, 100),
       v=st.lists(st.floats(-200, 200, allow_nan=False), min_size=1, max_size=30))
def test_every_kind_converts_to_the_closed_form_codes(kind, bits, fs, v):
    bits = min(bits, adckinds.kind(kind).max_bits or bits)     # flash: at most 8
    # a cco has one converter per output line (spec rule)
    over = {"adc.count": BASE.array.cols} if adckinds.kind(kind).current_input else {}
    spec = BASE.with_overrides({"adc.kind": kind, "adc.bits": bits, "adc.full_scale": fs,
                                **over})
    lsb = conv.adc_lsb(spec)
    # values exactly on thresholds too: the comparators decide those
    v = np.concatenate([np.asarray(v), -fs + np.arange(0, 2 ** bits + 1) * lsb])
    v = v.astype(np.float32)
    np.testing.assert_array_equal(conv.adc_convert(v, spec), conv.sar_codes(v, spec))


@pytest.mark.parametrize("kind", QUANTIZING)
def test_comparators_follow_the_trial_the_controller_puts_out(kind):
    k, bits = adckinds.kind(kind), 4
    level = np.array([-0.5, 0.0, 2.0, 2.5, 14.99, 15.0, 40.0])
    trial = np.full(level.shape, 3)
    got = k.compare(level, trial, bits)
    assert got.shape == level.shape + (k.comparators(bits),)
    if kind == "flash":          # the ladder's fixed thresholds 1 .. 15: a thermometer
        np.testing.assert_array_equal(got.sum(-1), np.clip(np.floor(level), 0, 15))
        assert (np.diff(got, axis=-1) <= 0).all()
    else:                        # one comparator against the trial code
        np.testing.assert_array_equal(got[..., 0], (level >= 3).astype(int))


def test_ramp_counts_one_threshold_per_cycle_and_sar_searches_bits():
    ramp, sar = adckinds.kind("ramp"), adckinds.kind("sar")
    assert ramp.conversion_cycles(5) == 31 and sar.conversion_cycles(5) == 5
    assert adckinds.kind("flash").conversion_cycles(5) == 1
    level = np.array([7.0, 7.9999, 31.0, -1.0])
    np.testing.assert_array_equal(ramp.convert(level, 5), [7, 7, 31, 0])
    np.testing.assert_array_equal(sar.convert(level, 5), [7, 7, 31, 0])


def test_rtl_codes_come_from_the_registry():
    assert RTL_CODES["ADC_KIND"] == adckinds.RTL_CODES
    assert {n for n, k in adckinds.KINDS.items() if k.has_rtl} == \
        {"sar", "flash", "ramp", "cco", "charge-sar"}
    # kinds share a code only when the controller's protocol is the same: charge-sar runs
    # the SAR's block (one decision per cycle on the same trial codes, the same codes)
    by_code = {}
    for name, code in adckinds.RTL_CODES.items():
        by_code.setdefault(code, []).append(name)
    rng = np.random.default_rng(3)
    level = np.concatenate([rng.uniform(-2, 70, 200), np.arange(-1, 66)])
    for names in by_code.values():
        first = adckinds.kind(names[0])
        for other in map(adckinds.kind, names[1:]):
            assert other.conversion_cycles(6) == first.conversion_cycles(6)
            assert other.comparators(6) == first.comparators(6)
            for a, b in zip(first.steps(level, 6), other.steps(level, 6), strict=True):
                for x, y in zip(a, b):
                    np.testing.assert_array_equal(x, y)
    assert by_code[adckinds.RTL_CODES["sar"]] == ["sar", "charge-sar"]
    for name, code in adckinds.RTL_CODES.items():
        spec = with_size("ambrogio2018", 4, 4, 4).with_overrides({"adc.kind": name})
        assert tile_parameters(spec)["ADC_KIND"] == code


def test_a_current_input_converter_shared_between_lines_is_refused():
    """A cco senses its line's current during the integration window (tile_cco.v), so a
    tile with fewer converters than output lines is not a circuit: the spec refuses it in
    one line (and the RTL check, tile_parameters, never sees one)."""
    for rows, cols, adcs, allowed in ((4, 8, 4, "allowed: 8, one per output line"),
                                      (8, 4, 4, "allowed: 8, one per output line")):
        with pytest.raises(SpecError) as err:
            with_size("ambrogio2018", rows, cols, adcs).with_overrides({"adc.kind": "cco"})
        text = str(err.value)
        assert "\n" not in text and "adc.count: value" in text and allowed in text
    # a cell read from one edge only: one converter per column is enough for the spec;
    # the RTL, whose controller also runs transposed reads, wants one per row too
    assert with_size("hermes", 4, 8, 8).adc.kind == "cco"
    assert tile_parameters(with_size("hermes", 4, 8, 8))["ADC_KIND"] == 3
    with pytest.raises(UserError) as err:
        tile_parameters(with_size("hermes", 8, 4, 4))
    assert str(err.value).endswith("allowed for RTL: >= 8, one per output line")


def test_a_kind_without_rtl_is_refused_with_one_line():
    spec = with_size("ambrogio2018", 4, 4, 2).with_overrides({"adc.kind": "none"})
    with pytest.raises(UserError) as err:
        tile_parameters(spec)
    text = str(err.value)
    assert "\n" not in text and "adc.kind: value 'none' has no RTL" in text
    assert text.endswith("allowed for RTL: sar, flash, ramp, charge-sar, cco")


def test_tile_adc_selects_each_kinds_block_by_its_code():
    """codesign/rtl/tile_adc.v instantiates tile_<kind> under ADC_KIND == the kind's
    rtl_code, for every kind with RTL (the parity benches then run each block)."""
    import re
    from codesign.hdl.runner import RTL_DIR
    text = (RTL_DIR / "tile_adc.v").read_text()
    chosen = dict(re.findall(r"ADC_KIND == (\d+)\) begin : \w+\s+tile_(\w+)", text))
    # one block per code, named for the first kind with it (the others share its protocol:
    # test_rtl_codes_come_from_the_registry)
    owners = {}
    for name, code in adckinds.RTL_CODES.items():
        owners.setdefault(code, name)
    assert {name: int(code) for code, name in chosen.items()} == \
        {name: code for code, name in owners.items()}
    for name in owners.values():
        assert (RTL_DIR / f"tile_{name}.v").is_file()


@pytest.mark.parametrize("command", [["sim", "tile", "--ops", "1"], ["synth", "tile"]])
def test_sim_and_synth_refuse_a_kind_without_rtl_with_one_line(command, tmp_path, capsys):
    from codesign.cli import main
    spec = tmp_path / "none.yaml"
    spec.write_text("name: bare\nbase: ambrogio2018\narray: {rows: 6, cols: 9}\n"
                    "adc: {count: 3, bits: 4, kind: none}\n")
    assert main(command + ["--spec", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("adc.kind: value 'none' has no RTL controller; allowed for RTL: "
                        "sar, flash, ramp, charge-sar, cco")
    assert "\n" not in err and "Traceback" not in err


def test_flash_is_refused_above_its_sane_width():
    """2^bits - 1 comparators: the spec takes a flash converter up to Flash.max_bits (8)
    and refuses a wider one with one line naming adc.bits (tests/bad_input_cases.py runs
    the commands)."""
    base = load_spec("ambrogio2018")
    kind = adckinds.kind
    assert kind("flash").max_bits == 8 and kind("sar").max_bits is None
    assert base.with_overrides({"adc.kind": "flash", "adc.bits": 8}).adc.bits == 8
    with pytest.raises(UserError, match=r"adc\.bits: value 9 .*allowed: <= 8 for adc\.kind flash"):
        base.with_overrides({"adc.kind": "flash", "adc.bits": 9})
    # a SAR or ramp at 10 bits stays allowed
    assert base.with_overrides({"adc.kind": "ramp", "adc.bits": 10}).adc.bits == 10
