"""The synthesis -> estimate contract: `codesign estimate --synth FILE` reads what
`codesign synth tile --json` writes (docs/estimate.md, "Synthesis counts")."""
from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

from codesign.cli import main
from codesign.errors import UserError
from codesign.hdl.synth import cell_nand2, gate_equivalents
from codesign.hdl.tile import tile_parameters, with_size
from codesign.spec import load_spec


def _spec_file(tmp_path, rows=8, cols=8, adcs=2):
    spec = with_size("ambrogio2018", rows, cols, adcs)
    path = tmp_path / f"tile{rows}x{cols}.yaml"
    path.write_text(yaml.safe_dump(spec.to_dict(), sort_keys=False))
    return path


@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs yosys")
def test_estimate_takes_the_gate_count_of_a_real_synthesis(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODESIGN_SIM_BUILD", str(tmp_path / "build"))   # a real yosys run
    spec_file = _spec_file(tmp_path)
    assert main(["synth", "tile", "--spec", str(spec_file), "--json"]) == 0
    synth = json.loads(capsys.readouterr().out)
    assert not synth["cached"] and synth["parameters"]["ROWS"] == 8
    counts = tmp_path / "synth.json"
    counts.write_text(json.dumps(synth))

    assert main(["estimate", "--spec", str(spec_file), "--synth", str(counts), "--json"]) == 0
    control = json.loads(capsys.readouterr().out)["control"]
    assert control["gate_equivalents"] == synth["nand2_eq"]
    assert "yosys" in control["source"].lower() and "fallback" not in control["source"]

    # without nand2_eq, by_type is weighted with the same per-cell NAND2 equivalents
    del synth["nand2_eq"]
    counts.write_text(json.dumps(synth))
    assert main(["estimate", "--spec", str(spec_file), "--synth", str(counts), "--json"]) == 0
    control = json.loads(capsys.readouterr().out)["control"]
    assert control["gate_equivalents"] == pytest.approx(
        sum(n * cell_nand2(t) for t, n in synth["by_type"].items()), abs=0.05)

    # the counts of another size are not this spec's
    other = _spec_file(tmp_path, 16, 16, 4)
    assert main(["estimate", "--spec", str(other), "--synth", str(counts)]) == 2
    err = capsys.readouterr().err.strip()
    assert "parameters.ROWS" in err and "\n" not in err


@pytest.mark.parametrize("content, match", [
    ('{"nand2_eq": NaN}', "nand2_eq: value nan is not a count; allowed: a finite number >= 0"),
    ('{"nand2_eq": Infinity}', "nand2_eq: value inf is not a count"),
    ('{"nand2_eq": -3.5}', "nand2_eq: value -3.5 is not a count"),
    ('{"nand2_eq": "many"}', "nand2_eq: value 'many' is not a count"),
    ('{"by_type": {"$_AND_": -2}}', r"by_type\.\$_AND_: value -2 is not a count; allowed: a "
                                    "whole number >= 0"),
    ('{"by_type": {"$_AND_": 1.5}}', r"by_type\.\$_AND_: value 1.5 is not a count"),
    ('{"by_type": {"$_AND_": NaN}, "nand2_eq": 3}', r"by_type\.\$_AND_: value nan"),
    ('{"by_type": []}', "by_type: value"),
    ('{"by_type": {"$_FANCY_": 2}}', r"by_type\.\$_FANCY_: no NAND2 equivalent for this "
                                     "yosys cell; allowed"),
    ('{"cells": 10000}', "nand2_eq: missing .keys: cells.; allowed: the JSON of "
                         "`codesign synth tile --json`"),
    ('{"cell_types": {"$_AND_": 3}}', "nand2_eq: missing"),
    ("{}", "nand2_eq: missing"),
    ("[1, 2]", "must hold one JSON object"),
])
def test_bad_synth_json_exits_2_with_one_line(tmp_path, capsys, content, match):
    f = tmp_path / "s.json"
    f.write_text(content)
    assert main(["estimate", "--spec", "ambrogio2018", "--synth", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign: error:") and "\n" not in err
    assert str(f) in err
    assert re.search(match, err), err


def test_library_path_checks_the_same_contract():
    spec = load_spec("ambrogio2018")
    assert gate_equivalents({"nand2_eq": 0}) == 0.0
    assert gate_equivalents({"by_type": {"$_NAND_": 4}}) == 4.0
    good = {"nand2_eq": 12.5, "parameters": tile_parameters(spec)}
    assert gate_equivalents(good, spec) == 12.5
    with pytest.raises(UserError, match="parameters.COLS: value 16 is not the spec's; "
                                        "allowed: 512"):
        gate_equivalents({**good, "parameters": {**good["parameters"], "COLS": 16}}, spec)
    with pytest.raises(UserError, match="nand2_eq: value True is not a count"):
        gate_equivalents({"nand2_eq": True})
