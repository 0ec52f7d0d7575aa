"""Small helpers shared by the CLI commands: JSON and table output."""
from __future__ import annotations

from ..jsonutil import dumps
from ..tables import format_table

import sys
from typing import Any, Iterable, Sequence


def print_json(obj: Any) -> None:
    """Exactly one JSON object on standard output. JSON has no NaN or infinity: a result
    holding one is an error naming the field, not a line of invalid JSON."""
    sys.stdout.write(dumps(obj, indent=2) + "\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str = "") -> None:
    if title:
        print(title)
    print(format_table(rows, headers))


# Output options of every command: argparse dest -> (flag, suffix, is a folder). main()
# checks each one given before the command runs (codesign.fileio.check_output).
OUTPUTS = {"png": ("--png", ".png", False), "save": ("--save", ".npz", False),
           "export_onnx": ("--export-onnx", ".onnx", False),
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
