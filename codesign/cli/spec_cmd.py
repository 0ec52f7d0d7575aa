"""`codesign spec show|check`: print or validate a spec."""
from __future__ import annotations

import yaml

from ..spec import load_spec, preset_names
from ._common import print_json


def _show(args) -> int:
    spec = load_spec(args.spec)
    if args.json:
        print_json(spec.to_dict())
    else:
        print(yaml.safe_dump(spec.to_dict(), sort_keys=False), end="")
    return 0


def _check(args) -> int:
    spec = load_spec(args.file)
    print(f"{args.file}: ok ({spec.name}, {spec.array.rows}x{spec.array.cols} "
          f"{spec.array.cell})")
    return 0


def _list(args) -> int:
    names = preset_names()
    if args.json:
        print_json({"presets": names})
    else:
        print("\n".join(names))
    return 0


def register(sub) -> None:
    p = sub.add_parser("spec", help="show, check or list architecture specs")
    s = p.add_subparsers(dest="spec_command", metavar="ACTION", required=True)
    show = s.add_parser("show", help="print the resolved spec")
    show.add_argument("spec", metavar="PRESET|FILE")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_show)
    check = s.add_parser("check", help="validate a spec file (exit 2 with the error)")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=_check)
    lst = s.add_parser("list", help="list the built-in presets")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)
