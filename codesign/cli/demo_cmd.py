"""`codesign demo`: the main job on built-in defaults."""
from __future__ import annotations

from ..argtypes import seed
from ..errors import UserError
from ._common import print_json


def _demo(args) -> int:
    from ..demo import print_run, run_demo
    only = None
    if args.only:
        from ..demo import SECTIONS
        names = [n for n, _ in SECTIONS]
        only = [o.strip() for o in args.only.split(",") if o.strip()]
        bad = [o for o in only if o not in names]
        if bad or not only:
            raise UserError(f"--only: value {args.only!r} names unknown sections; allowed: "
                            + ", ".join(names))
    run = run_demo(args.spec, args.out, args.seed, quiet=args.json, only=only)
    if args.json:
        print_json({"run": f"{args.out}/run.json", "report": run.get("report"),
                    "sections": [s["id"] for s in run["sections"]]})
    else:
        print_run(run)
        print(f"\nrun saved: {args.out}/run.json")
        if run.get("report"):
            print(f"report: {run['report']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="the main job: what the toolkit does, on built-in defaults")
    p.add_argument("--spec", default="ambrogio2018", metavar="PRESET|FILE")
    p.add_argument("--out", default="codesign-out/demo", help="output folder")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--only", default=None, metavar="A,B",
                   help="run only these sections (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_demo)
