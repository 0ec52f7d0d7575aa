"""`codesign report RUN_JSON|SWEEP_DB`: a self-contained HTML report (docs/report.md)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..fileio import parse_json, read_text
from ._common import print_json


def _kind(path: Path) -> str:
    """'sweep' for an SQLite file, 'run' for a JSON file."""
    if not path.is_file():
        raise UserError(f"{path}: no such file; allowed: a run JSON (codesign demo) or a "
                        "sweep database (codesign sweep)")
    with open(path, "rb") as fh:
        head = fh.read(16)
    return "sweep" if head == b"SQLite format 3\x00" else "run"


def load_run(path: Path) -> dict:
    try:
        return parse_json(read_text(path, str(path)), str(path))
    except UserError as exc:
        raise UserError(f"neither a sweep database nor a run JSON: {exc}") from None


def _report(args) -> int:
    from ..report import write_report
    src = Path(args.input)
    kind = _kind(src)
    out = Path(args.output) if args.output else src.with_suffix(".html")
    if out.resolve() == src.resolve():
        raise UserError(f"--output {out}: would overwrite the input; choose another file")
    if kind == "sweep":
        from ..report.sweep import sweep_run
        run = sweep_run(src)
    else:
        run = load_run(src)
    path = write_report(run, out, base_dir=src.parent, source=str(src))
    if args.json:
        print_json({"report": str(path), "input": str(src), "kind": kind,
                    "sections": [s.get("id") or s.get("title") for s in run["sections"]]})
    else:
        print(path)
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="HTML report of a run JSON or a sweep database",
                       description="Render a saved run (the run.json of codesign demo) or a "
                                   "sweep database (codesign sweep --db) as one "
                                   "self-contained HTML file and print its path.")
    p.add_argument("input", metavar="RUN_JSON|SWEEP_DB")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="HTML file (default: the input with .html)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_report)
