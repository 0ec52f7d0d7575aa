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
def test_quick_study_synthesizes_and_prices_each_variant_and_kind(capsys):
    assert main(["study", "controller", "--quick", "--no-train", "--json",
                 "--adc-kinds", "sar,flash"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    per, shared = rows["per_line/sar"], rows["shared-2/sar"]
    assert per["lfsrs"] == 16 and shared["lfsrs"] == 8           # 8 x 8 tile
    for n in ("2", "3", "4"):
        assert shared["synth_ge"][n] < per["synth_ge"][n]       # fewer LFSRs, fewer gates
        # a flash's thermometer encoder (255 inputs at 8 bits) outweighs a SAR's registers
        assert rows["per_line/flash"]["synth_ge"][n] > per["synth_ge"][n]
    assert shared["control_area_share"] < per["control_area_share"]
    assert shared["tile_area_mm2"] < per["tile_area_mm2"]
    # one cycle per conversion against 8: fewer cycles per training example
    assert rows["per_line/flash"]["train_cycles"] < per["train_cycles"]
    for row in rows.values():      # the line through three sizes is a good description
        assert row["fit"]["max_rel_residual"] < 0.05
        assert row["ge_at_size"] == pytest.approx(row["fit"]["a"] + 8 * row["fit"]["b"])


def test_adc_kinds_cross_every_generator_variant():
    from codesign.study import reference_label
    got = variants((8,), ("sar", "flash"))
    assert [label for label, _ in got] == ["per_line/sar", "per_line/flash",
                                           "shared-8/sar", "shared-8/flash"]
    assert got[3][1] == {"update.rng": "shared", "update.rng_lines": 8, "adc.kind": "flash"}
    assert reference_label("shared-8/flash", ("sar", "flash")) == "shared-8/sar"
    assert reference_label("per_line/sar", ("sar", "flash")) == "per_line/sar"
    assert reference_label("per_line", ()) == "per_line"
    with pytest.raises(UserError, match="adc_kinds"):
        ControllerStudy(adc_kinds=("none",)).check()     # no RTL controller
    with pytest.raises(UserError, match="adc_kinds"):
        ControllerStudy(adc_kinds=("sar", "sar")).check()


def test_synthesized_sizes_keep_the_specs_columns_per_adc():
    from codesign.spec import load_spec
    from codesign.study import sized
    amb = load_spec("ambrogio2018")                  # 512 columns, 64 ADCs: 8 per ADC
    assert [sized(amb, n, None, {}).adc.count for n in (8, 16, 32, 512)] == [1, 2, 4, 64]
    assert sized(amb, 16, 4, {}).adc.count == 4      # or a count given


def test_training_does_not_depend_on_the_adc_kind():
    """Every ADC kind converts to the closed-form codes (tests/test_adc_kinds.py), so a
    training run is bit for bit the same with each kind; the study relies on this and
    checks it again at its own size (`identity`)."""
    from codesign.nn.train import TrainConfig, train
    from codesign.study import digest
    runs = {k: train(TrainConfig(net="64-16-10", dataset="digits", epochs=1, limit=60,
                                 hidden="tanh", seed=1, spec="ambrogio2018",
                                 overrides=(("array.rows", 64), ("array.cols", 64),
                                            ("adc.count", 8), ("adc.kind", k))),
                     progress=False)
            for k in ("sar", "flash", "ramp")}
    digests = {k: digest(r) for k, r in runs.items()}
    assert len(set(digests.values())) == 1, digests
    # and the digest sees the weights: another seed differs
    other = train(TrainConfig(net="64-16-10", dataset="digits", epochs=1, limit=60,
                              hidden="tanh", seed=2, spec="ambrogio2018",
                              overrides=(("array.rows", 64), ("array.cols", 64),
                                         ("adc.count", 8))), progress=False)
    assert digest(other) != digests["sar"]
