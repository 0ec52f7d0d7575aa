"""Small helpers shared by the CLI commands: JSON and table output."""
from __future__ import annotations

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


def format_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)
    body = [[cell(v) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep] + ["  ".join(v.rjust(w) if _num(v) else v.ljust(w)
                                   for v, w in zip(r, widths)) for r in body]
    return "\n".join(out)


def _num(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str = "") -> None:
    if title:
        print(title)
    print(format_table(rows, headers))


def add_spec_argument(parser, required: bool = True, default: str | None = None) -> None:
    parser.add_argument("--spec", required=required and default is None, default=default,
                        metavar="PRESET|FILE", help="preset name or spec YAML file")
