"""Small helpers shared by the CLI commands: JSON and table output."""
from __future__ import annotations

from ..tables import format_table

import json
import sys
from typing import Any, Iterable, Sequence

import numpy as np


def _default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def print_json(obj: Any) -> None:
    """Exactly one JSON object on standard output."""
    sys.stdout.write(json.dumps(obj, default=_default, indent=2) + "\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str = "") -> None:
    if title:
        print(title)
    print(format_table(rows, headers))


def add_spec_argument(parser, required: bool = True, default: str | None = None) -> None:
    parser.add_argument("--spec", required=required and default is None, default=default,
                        metavar="PRESET|FILE", help="preset name or spec YAML file")
