"""Saved weights: one .npz per trained network, for `codesign infer --weights`.

Keys: ``w0``, ``w1``, ... the real-valued weights of each dense layer (fan_in + 1, out),
bias row last, as the tiles held them at the end of training; ``meta``: a JSON string
with the network name, layer sizes, hidden activations, dataset, cell, seed and the
final test accuracy. Written to a temporary file and renamed, so a failure leaves
nothing half-written.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import atomic_path, check_output

FORMAT = "codesign-mlp-weights/1"


def save_weights(path: str | Path, weights: list[np.ndarray], meta: dict) -> None:
    path = check_output(path, "path", ".npz")
    arrays = {f"w{i}": np.asarray(w, dtype=np.float64) for i, w in enumerate(weights)}
    arrays["meta"] = np.array(json.dumps(dict(meta, format=FORMAT)))
    with atomic_path(path, "path") as tmp:
        np.savez(tmp, **arrays)


def load_weights(path: str | Path) -> tuple[list[np.ndarray], dict]:
    """The weights and meta of a saved file; an error names the field ``weights``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"weights: {str(path)!r}: no such file", field="weights")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            n = sum(1 for k in z.files if k.startswith("w") and k[1:].isdigit())
            weights = [z[f"w{i}"] for i in range(n)]
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"weights: {str(path)!r} is not a codesign weights file ({exc}); "
                        "allowed: a file written by `codesign train --save`",
                        field="weights") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not weights:
        form = meta.get("format") if isinstance(meta, dict) else None
        raise UserError(f"weights: {str(path)!r}: format {form!r}; allowed: {FORMAT}",
                        field="weights")
    for i, w in enumerate(weights):
        if not np.issubdtype(w.dtype, np.number) or w.ndim != 2 or \
                not np.isfinite(w).all():
            raise UserError(f"weights: {str(path)!r}: w{i}: not a finite 2-D numeric array "
                            f"(dtype {w.dtype}, shape {w.shape}); allowed: the weights "
                            "`codesign train --save` writes", field="weights")
    return weights, meta
