"""Dataset loaders: bundled subsets load offline, user files in IDX and npz formats."""
import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import UserError
from codesign.nn import datasets as ds


def test_mnist5k_is_bundled_and_split_fixed():
    d = ds.load_mnist5k()
    assert (len(d.y_train), len(d.y_test), d.n_features) == (4000, 1000, 784)
    assert d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0
    assert np.array_equal(np.bincount(d.y_test), np.full(10, 100))    # stratified
    assert np.array_equal(np.bincount(d.y_train), np.full(10, 400))  # 500 per digit
    again = ds.load_mnist5k()
    assert np.array_equal(d.y_train, again.y_train)
    assert np.array_equal(d.x_test, again.x_test)


def test_crop_keeps_central_22x24_window():
    d = ds.load_mnist5k()
    c = ds.load_mnist5k(crop=True)
    assert c.n_features == 528 and c.image_shape == (22, 24) and c.name == "mnist5k-528"
    full = d.x_train[:5].reshape(-1, 28, 28)
    assert np.array_equal(c.x_train[:5].reshape(-1, 22, 24), full[:, 3:25, 2:26])
    assert ds.dataset_for_inputs("mnist5k", 528).n_features == 528
    with pytest.raises(UserError, match="528"):
        ds.load_dataset("digits", crop=True)


def test_digits():
    d = ds.load_dataset("digits")
    assert d.n_features == 64 and d.n_classes == 10 and d.x_train.max() <= 1.0
    assert len(d.y_train) + len(d.y_test) == 1797
    from sklearn.datasets import load_digits
    x, y = ds._digits_raw()
    ref = load_digits()
    assert np.array_equal(x, ref.data) and np.array_equal(y, ref.target)
    with pytest.raises(UserError, match="features"):
        ds.dataset_for_inputs("digits", 528)


def _idx_bytes(a: np.ndarray) -> bytes:
    a = np.asarray(a, dtype=np.uint8)
    return struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + \
        struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def _fake_mnist(rng, n):
    return rng.integers(0, 256, size=(n, 28, 28)), rng.integers(0, 10, size=n)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_directory(tmp_path, compress):
    rng = np.random.default_rng(1)
    (xt, yt), (xs, ys) = _fake_mnist(rng, 30), _fake_mnist(rng, 12)
    files = {"train-images-idx3-ubyte": xt, "train-labels-idx1-ubyte": yt,
             "t10k-images-idx3-ubyte": xs, "t10k-labels-idx1-ubyte": ys}
    for name, arr in files.items():
        data = _idx_bytes(arr)
        if compress:
            (tmp_path / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (tmp_path / name).write_bytes(data)
    d = ds.load_dataset(str(tmp_path))
    assert d.x_train.shape == (30, 784) and d.x_test.shape == (12, 784)
    assert np.allclose(d.x_train * 255, xt.reshape(30, -1))
    assert np.array_equal(d.y_test, ys)
    assert ds.load_dataset(str(tmp_path), crop=True).n_features == 528


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(UserError, match="magic"):
        ds.read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(_idx_bytes(np.zeros((3, 2, 2)))[:-1])
    with pytest.raises(UserError, match="bytes"):
        ds.read_idx(short)
    with pytest.raises(UserError, match="missing IDX"):
        ds.load_dataset(str(tmp_path))


def test_npz_formats(tmp_path):
    rng = np.random.default_rng(2)
    (xt, yt), (xs, ys) = _fake_mnist(rng, 20), _fake_mnist(rng, 10)
    np.savez(tmp_path / "split.npz", x_train=xt, y_train=yt, x_test=xs, y_test=ys)
    d = ds.load_dataset(str(tmp_path / "split.npz"))
    assert d.x_train.shape == (20, 784) and np.array_equal(d.y_train, yt)
    x = rng.integers(0, 256, size=(50, 784))
    y = np.repeat(np.arange(5), 10)
    np.savez(tmp_path / "whole.npz", x=x, y=y)
    w = ds.load_dataset(str(tmp_path / "whole.npz"))
    assert len(w.y_train) + len(w.y_test) == 50 and w.n_classes == 5
    np.savez(tmp_path / "wrong.npz", a=x)
    with pytest.raises(UserError, match="npz keys"):
        ds.load_dataset(str(tmp_path / "wrong.npz"))
    np.savez(tmp_path / "count.npz", x_train=xt, y_train=yt[:5], x_test=xs, y_test=ys)
    with pytest.raises(UserError, match="one label per image"):
        ds.load_dataset(str(tmp_path / "count.npz"))
    with pytest.raises(UserError, match="no such dataset"):
        ds.load_dataset(str(tmp_path / "missing.npz"))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=2, max_size=60),
       st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_stratified_split_partitions(labels, frac, seed):
    y = np.array(labels)
    x = np.arange(len(y))[:, None]
    xt, yt, xs, ys = ds.stratified_split(x, y, frac, seed)
    assert sorted(np.concatenate([xt[:, 0], xs[:, 0]])) == list(range(len(y)))
    counts = np.bincount(y, minlength=5)
    assert np.array_equal(np.bincount(ys, minlength=5), np.round(counts * frac).astype(int))
    assert np.array_equal(yt, y[xt[:, 0]]) and np.array_equal(ys, y[xs[:, 0]])


_X = np.random.default_rng(5).random((40, 8, 8))
_Y = np.arange(40) % 10


def _nan_images():
    x = _X.copy()
    x[3, 2, 2] = np.nan
    return x


@pytest.mark.parametrize("arrays, words", [
    (dict(a=_X, b=_Y), ["npz keys", "x_train"]),
    (dict(x=_X, y=_Y + 0.5), ["y holds label 0.5", "integer"]),
    (dict(x=_X, y=_Y - 1), ["y holds label -1", ">= 0"]),
    (dict(x_train=_X, y_train=_Y[:30], x_test=_X, y_test=_Y), ["30 labels in y_train",
                                                               "40 images"]),
    (dict(x=_nan_images(), y=_Y), ["x holds 1 NaN", "finite"]),
    (dict(x_train=_X[:0], y_train=_Y[:0], x_test=_X, y_test=_Y), ["x_train", "(0, 8, 8)",
                                                                  "n >= 1"]),
    (dict(x=_X.reshape(-1), y=_Y), ["x has shape (2560,)", "n >= 1"]),
    (dict(x=_X, y=np.eye(10)[_Y]), ["y has shape (40, 10)", "not one-hot"]),
    (dict(x_train=_X.reshape(40, 1, 1, 1, 64), y_train=_Y, x_test=_X, y_test=_Y),
     ["images have shape (40, 1, 1, 1, 64)"]),
    (dict(x=_X, y=np.array(["a"] * 40)), ["dtype <U1"]),
    (dict(x_train=_X, y_train=_Y, x_test=_X.reshape(40, 64)[:, :10], y_test=_Y),
     ["test images 10"]),
    (None, ["not a .npz file"]),
])
def test_malformed_npz_is_one_line_exit_2(tmp_path, capsys, arrays, words):
    from codesign.cli import main
    path = tmp_path / "data.npz"
    if arrays is None:
        path.write_text("not a zip archive")
    else:
        np.savez(path, **arrays)
    assert main(["train", "--net", "64-10", "--dataset", str(path), "--cell", "software",
                 "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("codesign: error:")
    for w in words:
        assert w in err[0], err[0]
