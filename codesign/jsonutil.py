"""JSON for results that hold numpy numbers (CLI output, run files)."""
from __future__ import annotations

from typing import Any

import numpy as np


def json_default(obj: Any) -> Any:
    """`default=` hook for json.dumps: numpy scalars and arrays as plain numbers/lists."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
