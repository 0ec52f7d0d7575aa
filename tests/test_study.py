"""The controller co-design study (codesign.study, `codesign study controller`): its
variants, fit and checks, and a real tiny run (yosys synthesis and the estimator)."""
import json
import shutil

import pytest

from codesign.cli import main
from codesign.errors import UserError
from codesign.study import ControllerStudy, fit_line, variants


def test_variants_are_per_line_then_each_share():
    assert variants((2, 8)) == [
        ("per_line", {"update.rng": "per_line"}),
        ("shared-2", {"update.rng": "shared", "update.rng_lines": 2}),
        ("shared-8", {"update.rng": "shared", "update.rng_lines": 8})]


def test_fit_line_recovers_a_line_and_reports_the_residual():
    a, b, r = fit_line([16, 32, 64], [100 + 7 * n for n in (16, 32, 64)])
    assert a == pytest.approx(100) and b == pytest.approx(7) and r < 1e-12
    _, _, r = fit_line([1, 2, 3], [10, 30, 30])
    assert r > 0.05


@pytest.mark.parametrize("over, field", [({"synth_sizes": (16, 32)}, "synth_sizes"),
                                         ({"shares": (1,)}, "shares"),
                                         ({"shares": (11,)}, "update.rng_lines")])
def test_bad_configurations_are_one_clear_error(over, field):
    with pytest.raises(UserError, match=field):
        ControllerStudy(**over).check()


def test_cli_rejects_a_bad_share_with_exit_2(capsys):
    assert main(["study", "controller", "--shares", "99", "--no-train"]) == 2
    err = capsys.readouterr().err
    assert "update.rng_lines" in err and "Traceback" not in err


@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs yosys")
def test_quick_study_synthesizes_and_prices_each_variant(capsys):
    assert main(["study", "controller", "--quick", "--no-train", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    per, shared = out["rows"]["per_line"], out["rows"]["shared-2"]
    assert per["lfsrs"] == 16 and shared["lfsrs"] == 8           # 8 x 8 tile
    for n in ("2", "3", "4"):
        assert shared["synth_ge"][n] < per["synth_ge"][n]       # fewer LFSRs, fewer gates
    assert shared["control_area_share"] < per["control_area_share"]
    assert shared["tile_area_mm2"] < per["tile_area_mm2"]
    for row in (per, shared):      # the line through three sizes is a good description
        assert row["fit"]["max_rel_residual"] < 0.05
        assert row["ge_at_size"] == pytest.approx(row["fit"]["a"] + 8 * row["fit"]["b"])
