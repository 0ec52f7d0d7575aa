"""JSON for results that hold numpy numbers (CLI output, run files).

JSON has no NaN or infinity (Python's json writes them as bare NaN/Infinity, which other
readers refuse), so ``dumps`` refuses a result holding one with a UserError naming the
field, rather than writing a file or a line that is not JSON."""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .errors import UserError

_PLAIN = (dict, list, tuple, str, int, float, bool, type(None))


def json_default(obj: Any) -> Any:
    """`default=` hook for json.dumps: numpy scalars and arrays as plain numbers/lists."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def non_finite(obj: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN or infinity in a JSON-ready object, or None."""
    if not isinstance(obj, _PLAIN):
        obj = json_default(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "<top>"
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return None
    for k, v in items:
        found = non_finite(v, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def dumps(obj: Any, what: str = "result", **kwargs) -> str:
    """json.dumps with numpy support that refuses NaN and infinity (UserError naming the
    field of ``what``)."""
    try:
        return json.dumps(obj, default=json_default, allow_nan=False, **kwargs)
    except ValueError:
        where = non_finite(obj)
        raise UserError(f"{what}: field {where} is not a finite number; allowed: finite "
                        "numbers (check the inputs that feed it)") from None
