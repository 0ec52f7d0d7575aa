"""`codesign estimate` and the validation table of docs/validation.md."""
from __future__ import annotations

import json

import pytest

from codesign.cli import main
from codesign.estimate.validation import (BAND, MEDIAN_BAND, bar, chip_spec, silicon_table,
                                          validation_rows)


def test_validation_table_has_the_measured_chips_and_their_sources():
    """docs/validation.md: at least 8 silicon rows spanning PCM, RRAM and SRAM-analog, two
    or more ADC kinds and three or more nodes, each with its spec file, citation, quotes
    and published figures; projection and calibration rows keep their kind."""
    chips = silicon_table()
    assert len(chips) >= 8
    specs = [chip_spec(c) for c in chips]
    assert {s.cell_kind.technology for s in specs} >= {"pcm", "rram", "sram"}
    assert len({s.adc.kind for s in specs}) >= 2
    assert len({s.technology.node_nm for s in specs}) >= 3
    assert "hermes2022" in {c["name"] for c in chips}
    for c in chips:
        assert c["citation"] and c["url"] and c["quote"], c["name"]
        assert c["published"].get("tops_per_w"), c["name"]
    rows = validation_rows()
    assert {r.kind for r in rows} >= {"silicon", "projection", "calibration"}
    amb = {r.quantity: r for r in rows if r.design == "ambrogio2018"}
    assert amb["training energy efficiency"].published == 28065.0
    assert amb["training area efficiency"].published == 3.6
    for r in rows:
        assert r.ratio == pytest.approx(r.ours / r.published)
        if r.kind == "calibration":          # the built-in fallbacks' calibration holds
            assert BAND[0] <= r.ratio <= BAND[1], (r.design, r.quantity, r.ratio)
        if r.kind == "silicon" and r.quantity == "throughput":
            # each spec's clock comes from the paper's MVM time through the cycle model
            assert 0.9 <= r.ratio <= 1.1, (r.design, r.ratio)


def test_the_bar_is_computed_as_the_issue_states():
    rows = validation_rows()
    b = bar(rows)
    for key, label in (("tops_per_w", "energy efficiency"),
                       ("tops_per_mm2", "area efficiency")):
        rs = [r for r in rows if r.kind == "silicon" and r.quantity == label]
        folds = sorted(max(r.ratio, 1 / r.ratio) for r in rs)
        assert b[key]["rows"] == len(rs) and b[key]["within_band"] == \
            sum(BAND[0] <= r.ratio <= BAND[1] for r in rs)
        assert b[key]["met"] == (all(BAND[0] <= r.ratio <= BAND[1] for r in rs) and
                                 b[key]["median_fold"] <= MEDIAN_BAND)


def test_silicon_rows_hold_where_docs_validation_says():
    """docs/validation.md's table: every area-efficiency row within 2x; energy efficiency
    within 2x on 6 of 8, the two misses the documented ones (jia2020: the charge-domain
    array's own 20.4 pJ per column; wang2022: converters, R-2R input DACs, drivers); median
    folds 1.60x and 1.54x. A change that makes a row worse fails here; one that improves
    the table updates docs/validation.md and these bounds. (Laying the lines over the
    cells' footprint took the energy median from 1.54x to 1.60x: NeuroSim's row driver
    sized for sinangil2021's 300-F^2 cell instead of NVMExplorer's 146-F^2 one costs 17 %
    less; jia2020's areas from its own breakdown took its area ratio to 0.99x; wang2022's
    ADC and DAC areas from its Fig. 22(b) breakdown took its area ratio from 1.13x to
    1.01x; sinangil2021's cell over its compiler macro's published area, 1.60x -> 1.59x.)"""
    rows = validation_rows()
    b = bar(rows)
    assert b["chips"] >= 8 and not b["met"]
    assert b["tops_per_mm2"]["rows"] == 5 and b["tops_per_mm2"]["within_band"] == 5
    assert b["tops_per_w"]["rows"] == 8 and b["tops_per_w"]["within_band"] >= 6
    misses = {r.design for r in rows if r.kind == "silicon" and not r.within_band}
    assert misses <= {"jia2020", "wang2022"}, misses
    assert b["tops_per_w"]["median_fold"] <= 1.61
    assert b["tops_per_mm2"]["median_fold"] <= 1.55
    jia = {r.quantity: r.ratio for r in rows if r.design == "jia2020"}
    assert 0.9 <= jia["area efficiency"] <= 1.1 and jia["energy efficiency"] <= 2.05
    wang = {r.quantity: r.ratio for r in rows if r.design == "wang2022"}
    assert 0.9 <= wang["area efficiency"] <= 1.1


def test_estimate_json_is_one_object_with_the_contract_keys(capsys):
    assert main(["estimate", "--spec", "ambrogio2018", "--json"]) == 0
    out = capsys.readouterr().out
    d = json.loads(out)
    for key in ("tops_per_w", "tops_per_mm2", "area_mm2", "area_breakdown",
                "energy_breakdown", "energy_per_inference_j", "latency_s", "training", "gpu"):
        assert key in d
    assert d["area_mm2"] == pytest.approx(sum(d["area_breakdown"].values()))


def test_estimate_text_png_and_network(tmp_path, capsys):
    png = tmp_path / "b.png"
    assert main(["estimate", "--spec", "hermes", "--net", "mlp-2018", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "TOPS/W" in out and "Area" in out and "GPU" in out
    assert png.stat().st_size > 1000 and not list(tmp_path.glob("*.tmp.png"))


def test_estimate_workload_file(tmp_path, capsys):
    f = tmp_path / "w.yaml"
    f.write_text("name: tiny\nlayers:\n  - {name: a, rows: 100, cols: 20, mvms: 4}\n")
    assert main(["estimate", "--spec", "isaac", "--workload", str(f), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["workload"] == "tiny" and d["ops_per_inference"] == 2 * 100 * 20 * 4


def test_bad_components_file_exits_2_with_one_line(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("adc: {bitz: 3}\n")
    assert main(["estimate", "--spec", "ambrogio2018", "--components", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign: error:") and "adc.bitz" in err and "\n" not in err


def test_bad_synth_json_exits_2(tmp_path, capsys):
    f = tmp_path / "s.json"
    f.write_text("{not json")
    assert main(["estimate", "--spec", "ambrogio2018", "--synth", str(f)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_validate_prints_the_table_and_exits_1_while_the_bar_is_not_met(capsys):
    code = main(["estimate", "--validate", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == (0 if d["bar"]["met"] else 1)
    assert len(d["rows"]) >= 20 and len(d["sensitivity"]) >= 4
    assert set(d["component_library"]) >= {"hwcomponents-adc", "hwcomponents-cacti",
                                           "hwcomponents-neurosim", "hwcomponents-library"}


@pytest.mark.parametrize("name", ["hermes"] + __import__("codesign.spec").spec.chip_names())
def test_every_shipped_chip_estimates_from_the_cli(name, capsys):
    assert main(["estimate", "--spec", name, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["tops_per_w"] > 0 and d["area_mm2"] > 0 and d["models"]
