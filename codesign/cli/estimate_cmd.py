"""`codesign estimate`: area, energy, latency and efficiency of a spec (docs/estimate.md)."""
from __future__ import annotations

from ..errors import UserError
from ..fileio import parse_json, parse_yaml, read_text
from ._common import add_spec_argument, print_json, print_table


def _load_json(path: str, what: str) -> dict:
    # every count is checked (finite, >= 0) by hdl.synth.gate_equivalents, naming it
    data = parse_json(read_text(path, what), f"{what} {path}", finite=False)
    if not isinstance(data, dict):
        raise UserError(f"{what}: {path}: must hold one JSON object")
    return data


def _validate(args) -> int:
    from ..estimate.parts import hwc_status
    from ..estimate.validation import (bar, markdown_sensitivity, markdown_table,
                                       sensitivity_rows, validation_rows)
    rows = validation_rows()
    sens = sensitivity_rows()
    result = bar(rows)
    if args.json:
        print_json({"rows": [r.to_dict() for r in rows], "bar": result,
                    "sensitivity": sens, "component_library": hwc_status(),
                    "all_within_band": all(r.within_band for r in rows)})
    else:
        print(markdown_table(rows))
        print()
        w, a = result["tops_per_w"], result["tops_per_mm2"]
        print(f"silicon bar ({result['chips']} chips): TOPS/W {w['within_band']}/{w['rows']} "
              f"within 2x, median {w['median_fold']:.2f}x; TOPS/mm^2 {a['within_band']}/"
              f"{a['rows']} within 2x, median {a['median_fold']:.2f}x: "
              f"{'met' if result['met'] else 'NOT met'}")
        print()
        print(markdown_sensitivity(sens))
    return 0 if result["met"] else 1


def _share_rows(items: dict, scale: float, unit_digits: str = ".4g") -> list:
    total = sum(items.values()) or 1.0
    rows = [(k, float(format(v * scale, unit_digits)), f"{100 * v / total:.1f}")
            for k, v in sorted(items.items(), key=lambda kv: -kv[1])]
    rows.append(("total", float(format(total * scale, unit_digits)), "100.0"))
    return rows


def _print_text(d: dict) -> None:
    print(f"{d['spec']} running {d['workload']}: {d['tiles']} tile(s), {d['node_nm']} nm, "
          f"{d['clock_hz'] / 1e9:.4g} GHz; control logic: {d['control']['source']} "
          f"({d['control']['gate_equivalents']:.0f} GE/tile); components: {d['components']}")
    print("models: " + "; ".join(f"{part} {src.split(' (')[0]}"
                                 for part, src in d["models"].items()))
    print()
    print_table(_share_rows(d["area_breakdown"], 1.0), ["component", "area mm2", "%"],
                title="Area")
    print()
    print_table(_share_rows(d["energy_breakdown"], 1e9), ["component", "nJ/inference", "%"],
                title="Energy per inference")
    print()
    t = d["training"]
    print_table(_share_rows(t["energy_breakdown"], 1e9), ["component", "nJ/example", "%"],
                title="Energy per training example (forward, backward, update, "
                      "transfer share)")
    print()
    print_table([(k, v * 1e12) for k, v in d["energy_per_op_j"].items()],
                ["operation (one tile)", "pJ"], title="Energy per operation")
    print()
    g = d["gpu"]
    rows = [
        ("inference", d["tops"], d["tops_per_w"], d["tops_per_mm2"],
         d["energy_per_inference_j"] * 1e9, d["latency_s"] * 1e6, d["power_w"]),
        ("training", t["tops"], t["tops_per_w"], t["tops_per_mm2"],
         t["energy_per_example_j"] * 1e9, t["latency_s"] * 1e6,
         t["energy_per_example_j"] / t["example_interval_s"]),
    ]
    for key, label in (("infer_batch1", "GPU inference, batch 1"),
                       ("infer_batch8192", "GPU inference, batch 8192"),
                       ("train_batch1", "GPU training, batch 1"),
                       ("train_batch1024", "GPU training, batch 1024")):
        m = g["measured"][key]
        ops = d["ops_per_inference"] if m["mode"] == "infer" else t["ops_per_example"]
        rows.append((label, m["tops"], m["tops_per_w"], "", ops * m["energy_per_op_j"] * 1e9,
                     1e6 / m["images_per_s"] if m["batch"] == 1 else "",
                     m["energy_per_image_j"] * m["images_per_s"]))
    print_table(rows, ["", "TOPS", "TOPS/W", "TOPS/mm2", "nJ", "latency us", "power W"],
                title="Totals (nJ per inference or training example)")
    print(f"GPU: {g['name']} running {g['network']} ({g['source']}); compared at batch "
          f"{g['compared_batch']}: TOPS/W advantage {g['tops_per_w_advantage']:.3g}x "
          f"(inference), {g['training_tops_per_w_advantage']:.3g}x (training); at the GPU's "
          f"best batch {g['tops_per_w_advantage_best_batch']:.3g}x and "
          f"{g['training_tops_per_w_advantage_best_batch']:.3g}x")


def _run(args) -> int:
    if args.validate:
        return _validate(args)
    if not args.spec:
        raise UserError("--spec: missing; allowed: a preset name or a spec YAML file "
                        "(or use --validate)")
    if args.net and args.workload:
        raise UserError("--workload: cannot be combined with --net; allowed: one of them")
    from ..estimate import estimate, load_components, workload_from_dict
    from ..spec import load_spec
    spec = load_spec(args.spec)
    lib = load_components(args.components)
    synth = None
    if args.synth:
        from ..hdl.synth import gate_equivalents
        synth = _load_json(args.synth, "--synth")
        gate_equivalents(synth, spec, source=f"--synth {args.synth}")   # one-line errors
    workload = None
    if args.workload:
        source = f"--workload {args.workload}"
        data = parse_yaml(read_text(args.workload, "--workload"), source)
        workload = workload_from_dict(data, spec, source)
    est = estimate(spec, net=args.net, components=lib, workload=workload, synth=synth)
    if args.png:
        from ..estimate.plot import plot_breakdown
        plot_breakdown(est, args.png)
    d = est.to_dict()
    if args.json:
        print_json(d)
    else:
        _print_text(d)
        if args.png:
            print(f"wrote {args.png}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("estimate", help="area, energy, latency, TOPS/W and TOPS/mm^2 of a "
                       "spec (peak, or running a network)")
    add_spec_argument(p, required=False)
    p.add_argument("--net", metavar="NAME|FILE",
                   help="network (zoo name, .yaml or .onnx); default: peak, one full MVM "
                        "per tile")
    p.add_argument("--workload", metavar="FILE",
                   help="hand-made workload YAML: layers: [{name, rows, cols, mvms, tiles}]")
    p.add_argument("--components", metavar="FILE",
                   help="YAML overriding or adding components (docs/estimate.md)")
    p.add_argument("--synth", metavar="FILE",
                   help="JSON of yosys counts of the tile controller for this spec "
                        "(codesign synth tile --json > FILE; its nand2_eq, or by_type); "
                        "default: the structural gate-count fallback")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--png", metavar="FILE", help="write a breakdown chart")
    p.add_argument("--validate", action="store_true",
                   help="print the validation table against ISAAC and Ambrogio 2018")
    p.set_defaults(func=_run)
