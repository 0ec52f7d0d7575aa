"""`codesign study controller`: the controller co-design study (codesign.study,
docs/codesign-study.md): per-line vs shared update generators and the ADC kinds,
synthesized, priced and trained."""
from __future__ import annotations

from ..errors import UserError
from ._common import print_json


def _ints(text: str, what: str) -> tuple:
    try:
        vals = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        vals = ()
    if not vals:
        raise UserError(f"--{what}: value {text!r}; allowed: comma-separated integers")
    return vals


def _names(text: str | None) -> tuple:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def _controller(args) -> int:
    from ..study import ControllerStudy, markdown, run_study
    kinds = _names(args.adc_kinds)
    if args.quick:     # seconds, not hours: the smoke test of the whole pipeline
        cfg = ControllerStudy(spec=args.spec, size=8, shares=(2,), synth_sizes=(2, 3, 4),
                              seeds=(0,), epochs=1, limit=20, workers=1, adcs=1,
                              train=not args.no_train, adc_kinds=kinds,
                              blocks=args.blocks)
    else:
        cfg = ControllerStudy(spec=args.spec, size=args.size,
                              shares=_ints(args.shares, "shares"),
                              synth_sizes=_ints(args.synth_sizes, "synth-sizes"),
                              seeds=_ints(args.seeds, "seeds"), epochs=args.epochs,
                              limit=args.limit, workers=args.workers,
                              train=not args.no_train, adc_kinds=kinds,
                              blocks=args.blocks)
    out = run_study(cfg)
    if args.json:
        print_json(out)
    else:
        print(markdown(out))
    return 0


def register(sub) -> None:
    p = sub.add_parser("study", help="co-design studies (docs/codesign-study.md)")
    s = p.add_subparsers(dest="study_target", metavar="STUDY", required=True)
    c = s.add_parser("controller", help="per-line vs shared update LFSRs and the ADC "
                     "kinds: yosys gate count, tile area, training energy and cycles, "
                     "training accuracy")
    c.add_argument("--spec", default="ambrogio2018", metavar="PRESET|FILE",
                   help="preset name or spec YAML file (default ambrogio2018)")
    c.add_argument("--size", type=int, default=512, help="N of the N x N tile (default 512)")
    c.add_argument("--shares", default="2,4,8",
                   help="lines per shared LFSR, comma-separated (default 2,4,8)")
    c.add_argument("--adc-kinds", default=None, metavar="KINDS",
                   help="ADC kinds to study with each generator variant, comma-separated "
                   "(e.g. sar,flash,ramp; default: the spec's own)")
    c.add_argument("--synth-sizes", default="8,16,32",
                   help="N of the synthesized controllers, >= 3 (default 8,16,32)")
    c.add_argument("--seeds", default="0,1,2", help="training seeds (default 0,1,2)")
    c.add_argument("--epochs", type=int, default=2, help="training epochs (default 2)")
    c.add_argument("--limit", type=int, default=None,
                   help="training images per epoch (default all)")
    c.add_argument("--workers", type=int, default=1, help="training processes (default 1)")
    c.add_argument("--no-train", action="store_true", help="synthesis and estimate only")
    c.add_argument("--blocks", action="store_true",
                   help="also synthesize without flattening: NAND2 eq. per RTL module, "
                   "fitted to the study size")
    c.add_argument("--quick", action="store_true",
                   help="tiny sizes, one share, one seed, 20 images (a smoke test)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=_controller)
