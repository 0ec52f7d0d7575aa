"""Defaults that learn (issue 12): the documented commands with only their documented
flags reach accuracies far above chance; `sweep` takes `train`'s training options;
hardware-aware training. Small subsets, so that the tests stay fast."""
import numpy as np
import pytest

from codesign.cli import main
from codesign.errors import UserError
from codesign.nn.build import build_mlp, resolve_network, streams
from codesign.nn.hwaware import HardwareAwareDense
from codesign.nn.train import TrainConfig, train
from codesign.spec import load_spec

SPEC = load_spec("ambrogio2018")
CHANCE = 0.1     # ten classes


def test_zoo_and_size_string_perceptrons_share_tanh_units():
    for name in ("mlp-2018", "mlp-784", "64-32-10"):
        acts = [l.op for l in resolve_network(name).layers if l.kind == "act"]
        assert acts[:-1] == ["tanh"] * (len(acts) - 1) and acts[-1] == "softmax"


def test_default_software_training_learns_mnist5k():
    """`codesign train --net mlp-2018 --dataset mnist5k --cell software` with default lr,
    hidden units and initialization: 1,000 images of one epoch already learn (the
    sigmoid default was at chance after 4,000)."""
    r = train(TrainConfig(net="mlp-2018", dataset="mnist5k", cell="software", epochs=1,
                          limit=1000), progress=False)
    assert r.test_accuracy[-1] > 0.6


def test_default_cell_learns_digits():
    """The default cell (2PCM+3T1C) with default options, 500 images of digits."""
    r = train(TrainConfig(net="64-32-10", dataset="digits", epochs=1, limit=500),
              progress=False)
    assert r.config.cell == "2pcm3t1c" and r.test_accuracy[-1] > 3 * CHANCE


def test_sweep_takes_the_training_options_of_train():
    from codesign.cli import build_parser
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    train_opts = {o for a in sub["train"]._actions for o in a.option_strings}
    sweep_opts = {o for a in sub["sweep"]._actions for o in a.option_strings}
    shared = {"--net", "--dataset", "--epochs", "--seed", "--lr", "--batch", "--update-mode",
              "--range", "--transfer-interval", "--no-polarity-inversion", "--hidden",
              "--limit"}
    assert shared <= train_opts and shared <= sweep_opts
    assert {"--train-epochs", "--train-limit"} <= sweep_opts      # the older names


def test_sweep_point_trains_with_the_options():
    from codesign.sweep.evaluate import train_config
    from codesign.sweep.execute import sweep_options
    net = resolve_network("64-32-10")
    opts = sweep_options(net, "64-32-10", train_epochs=1, train_limit=50, dataset="digits",
                         train_options=dict(lr=0.05, hidden="relu", batch=2,
                                            range_factor=[8.0, 24.0]))
    cfg = train_config(SPEC, opts)
    assert (cfg.lr, cfg.hidden, cfg.batch, cfg.range_factor) == (0.05, "relu", 2, (8.0, 24.0))
    assert cfg.cell == SPEC.array.cell and cfg.epochs == 1 and cfg.limit == 50
    # no training: the training options do not enter the point's key
    assert "train" not in sweep_options(net, "64-32-10", train_options=dict(lr=0.05))


def test_sweep_rejects_bad_training_option(capsys):
    assert main(["sweep", "--vary", "adc.bits=6", "--lr", "0", "--quiet"]) == 2
    assert "--lr" in capsys.readouterr().err.strip().splitlines()[-1]


def test_hw_aware_forward_injects_noise_and_backward_is_clean():
    net = resolve_network("64-16-10")
    model = build_mlp(net, SPEC, "software", streams(0), hw_aware=True)
    layer = model.layers[0]
    assert isinstance(layer, HardwareAwareDense)
    x = np.random.default_rng(1).random((4, 64))
    clean = layer.forward(x)
    a, b = layer.forward_train(x), layer.forward_train(x)
    assert not np.array_equal(a, b)                        # fresh noise per step
    err = np.abs(a - clean).mean() / np.abs(clean).mean()
    assert 1e-3 < err < 0.5                                # noisy, but the same layer
    d = np.random.default_rng(2).standard_normal((4, 16))
    assert np.allclose(layer.backward(d), d @ layer.w[:-1].T)
    again = build_mlp(net, SPEC, "software", streams(0), hw_aware=True).layers[0]
    assert np.array_equal(again.forward_train(x), a)      # same seed, same noise


def test_hw_aware_training_learns_and_only_in_software():
    r = train(TrainConfig(net="64-32-10", dataset="digits", cell="software", epochs=1,
                          limit=500, hw_aware=True), progress=False)
    assert r.test_accuracy[-1] > 3 * CHANCE and r.summary()["hw_aware"] is True
    with pytest.raises(UserError, match="^hw_aware: with cell ideal; allowed: only with "
                                        "cell software"):
        train(TrainConfig(net="64-32-10", dataset="digits", cell="ideal", hw_aware=True),
              progress=False)


def test_drift_compensation_scales_outputs_after_the_adc():
    """Global drift compensation is digital: it multiplies each tile's ADC outputs, so a
    compensated output can exceed the ADC's full scale; the ADC itself sees the drifted
    (smaller) signal."""
    from codesign.nn.infer import InferenceLayer
    w = np.full((65, 4), 0.5)                        # 64 inputs + bias row, one tile
    layer = InferenceLayer(w, SPEC, np.random.default_rng(0), (0, 65), (0, 4))
    x = np.ones((3, 64))
    fs = SPEC.adc.full_scale * layer.alpha            # ADC full scale in output units
    fresh = layer.forward(x, layer.read(1.0, False))
    assert np.all(fresh <= fs + 1e-9) and np.all(fresh > 0.9 * fs)    # clipped at t0
    year = 31536000.0
    raw = layer.forward(x, layer.read(year, False))
    comp_read = layer.read(year, True)
    factor = comp_read[0][0][1]
    assert factor > 1.2                                # drift lowered the conductances
    comp = layer.forward(x, comp_read)
    assert np.all(comp > fs) and np.all(raw < fs)


def test_hw_aware_cli_train_save_infer(tmp_path, capsys):
    import json
    w = tmp_path / "hwa.npz"
    small = ["--net", "64-16-10", "--dataset", "digits", "--epochs", "1", "--limit", "500",
             "--lr", "0.05", "--quiet"]
    assert main(["train", *small, "--cell", "software", "--hw-aware", "--save", str(w)]) == 0
    assert "(hardware-aware)" in capsys.readouterr().out
    assert main(["infer", "--net", "64-16-10", "--dataset", "digits", "--weights", str(w),
                 "--times", "1,31536000", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["accuracy"]) == 2 and min(out["accuracy_compensated"]) > 4 * CHANCE
    assert main(["train", *small, "--cell", "ideal", "--hw-aware"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("codesign: error: --hw-aware: with cell ideal")
    assert "cell software" in err[0]


def test_hermes_inference_programs_the_full_weight_range_without_clipping():
    """Inference tiles program the statistical PCM copy straight from the targets: a HERMES
    layer whose largest weight maps to |w| = 1 is neither clipped to what the training cell
    holds (0.585) nor warned about, and its first read follows the targets."""
    import warnings

    import numpy as np

    from codesign.nn.infer import InferenceLayer
    from codesign.spec import load_spec
    from codesign.tile import ProgramClipWarning
    spec = load_spec("hermes")
    w = np.random.default_rng(3).uniform(-1, 1, (16, 8))
    w[0, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProgramClipWarning)
        layer = InferenceLayer(w, spec, np.random.default_rng(4), (0, 16), (0, 8), bias=False)
    (read, factor), = layer.read(1.0, compensate=True)[0]
    big = np.abs(w) > 0.8
    # the largest targets read back near their value, far above the training cell's 0.585
    assert np.mean(np.abs(read[big] * factor)) > 0.75
    assert np.corrcoef(read.ravel(), w.ravel())[0, 1] > 0.9
