"""Small helpers shared by the CLI commands: JSON and table output."""
from __future__ import annotations

from ..jsonutil import json_default
from ..tables import format_table

import json
import sys
from typing import Any, Iterable, Sequence



def print_json(obj: Any) -> None:
    """Exactly one JSON object on standard output."""
    sys.stdout.write(json.dumps(obj, default=json_default, indent=2) + "\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str = "") -> None:
    if title:
        print(title)
    print(format_table(rows, headers))


def add_spec_argument(parser, required: bool = True, default: str | None = None) -> None:
    parser.add_argument("--spec", required=required and default is None, default=default,
                        metavar="PRESET|FILE", help="preset name or spec YAML file")
