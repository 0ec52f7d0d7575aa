"""`codesign bench NAME`: speed benchmarks with their targets."""
from __future__ import annotations

from ..bench import discover
from ._common import print_json, print_table


def _runner(module):
    def run(args) -> int:
        result = module.run(args)
        if args.json:
            print_json(result)
        else:
            print_table([(k, v) for k, v in result.items() if not isinstance(v, (dict, list))],
                        ("metric", "value"), title=f"bench {module.NAME}")
            for key, rows in result.items():     # e.g. where the time goes (a profile)
                if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
                    print()
                    print_table([tuple(r.values()) for r in rows], tuple(rows[0]), title=key)
        return 0
    return run


def register(sub) -> None:
    p = sub.add_parser("bench", help="speed benchmarks (targets, not tests)")
    s = p.add_subparsers(dest="bench_name", metavar="NAME", required=True)
    for name, module in discover().items():
        b = s.add_parser(name, help=module.HELP)
        b.add_argument("--json", action="store_true", help="print one JSON object")
        if hasattr(module, "add_arguments"):
            module.add_arguments(b)
        b.set_defaults(func=_runner(module))
