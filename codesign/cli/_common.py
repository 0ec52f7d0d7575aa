"""Small helpers shared by the CLI commands: JSON and table output."""
from __future__ import annotations

from ..errors import UserError
from ..jsonutil import json_default
from ..tables import format_table

import json
import math
import sys
from typing import Any, Iterable, Sequence



def _non_finite(obj: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN or infinity in a JSON-ready object, or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "<top>"
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return None
    for k, v in items:
        found = _non_finite(json_default(v) if not isinstance(
            v, (dict, list, tuple, str, int, float, bool, type(None))) else v,
            f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def print_json(obj: Any) -> None:
    """Exactly one JSON object on standard output. JSON has no NaN or infinity: a result
    holding one is an error naming the field, not a line of invalid JSON."""
    try:
        text = json.dumps(obj, default=json_default, indent=2, allow_nan=False)
    except ValueError:
        where = _non_finite(obj)
        raise UserError(f"result: field {where} is not a finite number; allowed: finite "
                        "numbers (check the inputs that feed it)") from None
    sys.stdout.write(text + "\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str = "") -> None:
    if title:
        print(title)
    print(format_table(rows, headers))


# Output options of every command: argparse dest -> (flag, suffix, is a folder). main()
# checks each one given before the command runs (codesign.fileio.check_output).
OUTPUTS = {"png": ("--png", ".png", False), "save": ("--save", ".npz", False),
           "output": ("--output", None, False), "db": ("--db", None, False),
           "out": ("--out", None, True)}


def check_output_arguments(args) -> None:
    from ..fileio import check_output
    for dest, (flag, suffix, folder) in OUTPUTS.items():
        value = getattr(args, dest, None)
        if value is not None:
            check_output(value, flag, suffix=suffix, folder=folder)


def add_spec_argument(parser, required: bool = True, default: str | None = None) -> None:
    parser.add_argument("--spec", required=required and default is None, default=default,
                        metavar="PRESET|FILE", help="preset name or spec YAML file")
