"""Spec loading, validation and the one-line errors."""
import json

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from codesign.cli import main
from codesign.spec import Spec, SpecError, iter_fields, load_spec, preset_names, spec_from_dict


def test_presets_load_and_are_frozen():
    assert {"ambrogio2018", "hermes"} <= set(preset_names())
    s = load_spec("ambrogio2018")
    assert s.array.cell == "2pcm3t1c" and s.pcm.g_max == 25e-6 and s.cell.transfer_interval == 8000
    h = load_spec("hermes")
    assert (h.array.rows, h.array.cols, h.adc.count, h.adc.kind) == (256, 256, 256, "cco")
    assert (h.dac.encoding, h.dac.bits, h.technology.vdd) == ("pulse_width", 8, 0.8)
    with pytest.raises(Exception):
        s.array.rows = 3   # frozen


def test_every_field_has_doc_and_range_or_choices():
    for key, typ, default, meta in iter_fields():
        assert meta["doc"], key
        if typ in (int, float) and key not in ("noc.grid_rows", "noc.grid_cols"):
            assert meta["lo"] is not None and meta["hi"] is not None, key


def test_round_trip_and_overrides():
    s = load_spec("hermes")
    assert spec_from_dict(s.to_dict()) == s
    t = s.with_overrides({"adc.bits": 6})
    assert t.adc.bits == 6 and t.digest() != s.digest()


@pytest.mark.parametrize("text,match", [
    ("adc: {count: 7}", r"adc\.count: value 7 is inconsistent; allowed: a divisor of array\.cols=512"),
    ("adc: {bitz: 3}", r"adc\.bitz: unknown key; allowed: bits, count"),
    ("dac: {bits: 40}", r"dac\.bits: value 40 is out of range; allowed: int in \[2, 16\]"),
    ("array: {cell: foo}", r"array\.cell: value 'foo' is out of range; allowed: one of"),
    ("array: {rows: ten}", r"array\.rows: value 'ten' has the wrong type"),
    ("array: [1, 2]", r"array: value \[1, 2\] must be a mapping"),
    ("a: [", r"not valid YAML"),
])
def test_bad_specs_give_one_line_error_naming_file_key_value(tmp_path, text, match):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(SpecError, match=match) as info:
        load_spec(str(f))
    assert "\n" not in str(info.value) and str(f) in str(info.value)


def test_cli_spec_check_exit_2_and_show_json(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("adc: {count: 7}\n")
    assert main(["spec", "check", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "adc.count" in err and "Traceback" not in err
    assert main(["spec", "show", "hermes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["array"]["rows"] == 256


_LEAVES = [(k, t) for k, t, _, _ in iter_fields()]
_junk = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=5),
                  st.booleans(), st.none(), st.lists(st.integers(), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_LEAVES), _junk), min_size=1, max_size=3))
def test_fuzzed_specs_either_validate_or_raise_spec_error(changes):
    data = load_spec("ambrogio2018").to_dict()
    for (key, _), value in changes:
        node = data
        *path, leaf = key.split(".")
        for p in path:
            node = node[p]
        node[leaf] = value
    try:
        spec = spec_from_dict(yaml.safe_load(yaml.safe_dump(data)), "fuzz.yaml")
    except SpecError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.yaml: ") and "\n" not in msg and "allowed" in msg
    else:
        assert isinstance(spec, Spec)


def test_generated_spec_reference_is_up_to_date():
    from pathlib import Path
    from codesign.docgen import spec_reference
    doc = Path(__file__).resolve().parent.parent / "docs" / "spec.md"
    assert doc.read_text() == spec_reference(), "run: python -m codesign.docgen"
