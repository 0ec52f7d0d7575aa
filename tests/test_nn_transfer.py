"""The capacitor's reach and the transfer interval (2PCM+3T1C training, docs/networks.md):
how full the capacitors are, measured before every transfer; the validation split that
chooses the interval without the test set."""
from pathlib import Path

import numpy as np
import pytest

from codesign.errors import UserError
from codesign.nn.analog import CAPACITOR_FULL, AnalogDense
from codesign.nn.datasets import load_dataset, validation_split
from codesign.nn.train import TrainConfig, train
from codesign.spec import load_spec

SPEC = load_spec("ambrogio2018")

TINY_CNN = (Path(__file__).parent / "data" / "tiny-cnn.yaml").read_text()


def _layer(cell="2pcm3t1c", interval=10, rows=6, cols=4):
    w0 = np.full((rows + 1, cols), 0.3 * 8.0 / np.sqrt(rows + 1))    # 0.3 of the swing
    return AnalogDense(w0, SPEC, cell, np.random.default_rng(0), (0, rows + 1), (0, cols),
                       transfer_interval=interval)


def test_capacitor_fill_is_the_used_fraction_of_its_reach():
    layer = _layer()
    cap = layer.tiles[0][0].cells.cap
    assert np.all(cap.fill() == 0)                       # at g_shared after programming
    g = cap.g.copy()
    g[0], g[1] = cap.g_hi[0], cap.g_lo[1]                # row 0 at the upper bound, row 1 lower
    g[2] = cap.g_shared + 0.5 * cap.h_hi[2]
    cap.write(g)
    f = cap.fill()
    np.testing.assert_allclose(f[0], 1.0)
    np.testing.assert_allclose(f[1], 1.0)
    np.testing.assert_allclose(f[2], 0.5)
    assert np.all(f[3:] == 0)


def test_saturation_is_recorded_before_each_transfer_and_the_transfer_empties_them():
    layer = _layer(interval=10)
    cap = layer.tiles[0][0].cells.cap
    g = cap.g.copy()
    g[:2] = cap.g_hi[:2]                                 # 2 of 7 rows at their bound
    cap.write(g)
    assert layer.capacitor_saturation() == pytest.approx(2 / 7)
    layer.end_of_images(9)
    assert layer.saturation_at_transfer == []            # no interval boundary crossed
    layer.end_of_images(1)
    assert layer.saturation_at_transfer == [pytest.approx(2 / 7)]
    # the capacitors' weight went into the PCM pairs (targets above transfer_offset)
    assert layer.capacitor_saturation() == 0.0
    assert CAPACITOR_FULL < 1.0


def test_cells_without_capacitors_report_none():
    assert _layer(cell="pcm-pair").capacitor_saturation() is None
    assert _layer(cell="ideal").capacitor_saturation() is None
    r = train(TrainConfig(net="64-10", dataset="digits", cell="pcm-pair", epochs=1,
                          limit=20), progress=False)
    assert r.summary()["capacitor_saturation"] is None


def test_a_shorter_transfer_interval_keeps_conv_capacitors_off_their_bounds(tmp_path):
    """The measured cause of in-situ LeNet-5's gap: a conv kernel's summed gradient fills
    its capacitors within a few hundred images; transferring more often keeps them
    within reach (the same run, the same seed, only the interval differs)."""
    path = tmp_path / "tiny-cnn.yaml"
    path.write_text(TINY_CNN)
    cfg = dict(net=str(path), dataset="digits", cell="2pcm3t1c", epochs=1, lr=0.05,
               limit=300)
    never = train(TrainConfig(**cfg), progress=False).summary()["capacitor_saturation"]
    often = train(TrainConfig(**cfg, transfer_interval=50),
                  progress=False).summary()["capacitor_saturation"]
    assert never[0]["at_transfers"] == [] and len(often[0]["at_transfers"]) == 6
    # conv1: without a transfer a good part of its capacitors end at their bound; with a
    # transfer every 50 images, far fewer reach it between two transfers
    assert never[0]["end"] > 0.05
    assert max(often[0]["at_transfers"]) < never[0]["end"] / 2


def test_validation_split_holds_out_training_images_not_the_test_set():
    data = load_dataset("digits")
    val = validation_split(data, 0.25)
    assert len(val.y_train) + len(val.y_test) == len(data.y_train)
    assert abs(len(val.y_test) - 0.25 * len(data.y_train)) <= 10     # rounded per class
    rows = {r.tobytes() for r in data.x_train}
    assert all(r.tobytes() in rows for r in val.x_test)               # from the training set
    held = {r.tobytes() for r in val.x_test}
    assert not any(r.tobytes() in held for r in val.x_train)          # disjoint
    # stratified: every class keeps its share
    np.testing.assert_allclose(np.bincount(val.y_test) / len(val.y_test),
                               np.bincount(data.y_train) / len(data.y_train), atol=0.01)
    # the same split for every training seed (its permutation has its own fixed seed)
    again = validation_split(data, 0.25)
    np.testing.assert_array_equal(again.y_test, val.y_test)
    r = train(TrainConfig(net="64-10", dataset="digits", cell="software", epochs=1,
                          validation=0.25), progress=False)
    assert r.summary()["test_images"] == len(val.y_test)
    assert r.summary()["validation"] == 0.25
    for bad in (0.0, 1.0, float("nan"), True):
        with pytest.raises(UserError, match="^validation: "):
            validation_split(data, bad)
