"""`codesign demo`: the main job on built-in defaults.

Each section returns a report section (title, summary, tables, images, data) so that the
same run can be printed to the terminal, saved as JSON and rendered as HTML
(`codesign report RUN_JSON`).
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from . import cycles as cyc
from .tables import format_table
from .devices import inference
from .fileio import write_text
from .jsonutil import dumps
from .plotting import pyplot, save
from .spec import Spec, load_spec
from .tile import AnalogTile


def table(title: str, headers, rows) -> dict:
    return {"title": title, "headers": list(headers), "rows": [list(r) for r in rows]}


def section_spec(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    s = spec
    rows = [("array", f"{s.array.rows} x {s.array.cols} {s.array.cell}"),
            ("cell", f"F = {s.cell.significance:g}, transfer every {s.cell.transfer_interval} "
                     f"images, polarity inversion {s.cell.polarity_inversion}"),
            ("DAC", f"{s.dac.bits} bit {s.dac.encoding}"),
            ("ADC", f"{s.adc.count} x {s.adc.bits} bit SAR, {s.mux} columns each"),
            ("update", f"BL {s.update.bl}, {s.update.mode}, {s.update.lfsr_bits}-bit LFSRs"),
            ("clock / node", f"{s.clock.frequency / 1e9:g} GHz, {s.technology.node_nm} nm")]
    return {"id": "spec", "title": f"Architecture: {s.name}", "summary": s.description,
            "tables": [table("Spec", ("part", "value"), rows)], "images": [], "data": s.to_dict()}


#: Read times of the drift section and how a reader says them.
DRIFT_TIMES = {1.0: "1 s", 3600.0: "1 hour", 86400.0: "1 day", 2.592e6: "30 days",
               3.1536e7: "1 year"}


def model_basis(component: str, est: dict) -> str:
    """The model behind an area figure, flagged (⚠) when it is a fallback: control logic
    sized without synthesis counts, or a built-in constant where the hwcomponents plug-in
    (CACTI, NeuroSim, the ADC survey) did not answer."""
    models = est.get("models", {})

    def short(text: str) -> str:       # "hwcomponents-adc 1.0.21: ...": the plug-in
        return text.split(":")[0].strip()
    if component == "control":
        ge, logic = est.get("control", {}).get("source", ""), models.get("logic", "")
        text = f"{ge}; gates: {short(logic)}"
        fallback = "fallback" in ge or logic.startswith("built-in")
    elif component in ("adcs", "buffers"):
        text = models.get(component, "")
        if component == "adcs":          # "sar: <model>" (tile_costs names the kind)
            text = text.split(": ", 1)[-1]
        text = short(text)
        fallback = text.startswith("built-in")
    else:
        return "components library (codesign/estimate/components.yaml)"
    if not fallback:
        return text
    return "\u26a0 " + (text if "fallback" in text else "fallback: " + text)


def section_tile(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    """One tile of the spec: each operation's cycles and events."""
    rng = np.random.default_rng(seed)
    tile = AnalogTile(spec, rng)
    r, c = tile.shape
    ops = {"program": tile.program(rng.uniform(-0.3, 0.3, (r, c)))}
    x = rng.uniform(0, 1, (1, r))
    ops["forward"] = tile.forward(x)
    ops["backward"] = tile.backward(rng.uniform(-1, 1, (1, c)))
    ops["update"] = tile.update(x, rng.uniform(-1, 1, (1, c)) * 0.1, 0.01)
    ops["transfer"] = tile.transfer()
    f = spec.clock.frequency
    rows = []
    for name, res in ops.items():
        ev = res.events.as_dict()
        rows.append([name, res.cycles, f"{res.cycles / f * 1e6:.3g}", ev["adc_conversions"],
                     ev["update_pulses"], ev["set_pulses"], ev["reset_pulses"],
                     ev["verify_reads"]])
    ideal = x @ tile.weights()
    err = float(np.abs(ops["forward"].values - ideal).max())
    summary = (f"One {r}x{c} tile: a forward MVM takes {cyc.forward_cycles(spec)} controller "
               f"cycles plus {r + c} for I/O; its largest error against x W is {err:.3g} "
               f"(ADC LSB {2 * spec.adc.full_scale / 2 ** spec.adc.bits:.3g}).")
    return {"id": "tile", "title": "Tile operations: cycles and events", "summary": summary,
            "tables": [table("Operations", ("operation", "cycles", "time [µs]", "ADC conv.",
                                            "update pulses", "SET", "RESET", "verify reads"),
                             rows)], "images": [], "data": {"forward_max_error": err}}


def section_drift(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    """PCM drift and read noise of the spec's devices (statistical model)."""
    rng = np.random.default_rng(seed)
    times = list(DRIFT_TIMES)
    g_t = np.full(20000, 0.4 * spec.pcm.g_max)
    prog = inference.program(g_t, spec, rng)
    rows, means = [], []
    for t in times:
        g = inference.read_at(prog, t, spec, rng)
        means.append(g.mean() * 1e6)
        rows.append([DRIFT_TIMES[t], t, round(g.mean() * 1e6, 3), round(g.std() * 1e6, 3)])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogx(times, means, "o-")
    ax.set_xlabel("time after programming [s]")
    ax.set_ylabel("mean conductance [µS]")
    ax.set_title(f"PCM drift, target {0.4 * spec.pcm.g_max * 1e6:.0f} µS")
    png = save(fig, out / "drift.png")
    return {"id": "drift", "title": "PCM drift", "summary":
            "Conductance programmed to 40 % of g_max, read later with drift and 1/f noise "
            "(Nandakumar et al. 2019).",
            "tables": [table("Drift: 20,000 devices read after programming",
                             ("after", "t [s]", "mean [µS]", "std [µS]"), rows)],
            "images": [{"path": str(png), "caption":
                        "Mean conductance of 20,000 devices programmed to "
                        f"{0.4 * spec.pcm.g_max * 1e6:.0f} µS, read from 1 s to 1 year after "
                        "programming (log time axis): drift lowers it as a power law."}],
            "data": {"times": times, "mean_uS": means}}


def section_mapping(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    """Where each layer of the 2018 network goes on the spec's tile grid."""
    from .mapping import map_network
    from .mapping.plot import plot_mapping
    net = ctx["net"]
    m = ctx["mapping"] = map_network(net, spec, seed=seed)
    d = m.to_dict()
    rows = [[l["name"], "x".join(map(str, l["matrix_shape"])), l["blocks"], l["tiles"],
             f"{100 * l['utilization']:.1f}", f"{l['traffic_bits'] / 1e3:.1f}"]
            for l in d["layers"]]
    png = out / "mapping.png"
    plot_mapping(m, png)
    ev = d["noc_events"]
    summary = (f"{net} needs {d['total_tiles']} tiles on a {d['grid'][0]}x{d['grid'][1]} grid "
               f"({d['idle_tiles']} idle, {100 * d['utilization']:.1f} % of the cells used); "
               f"per inference the network moves {ev['flits']} flits over {ev['hops']} hops.")
    return {"id": "mapping", "title": "Mapping onto the tile grid", "summary": summary,
            "tables": [table("Layers", ("layer", "matrix", "blocks", "tiles", "util [%]",
                                        "traffic [kbit]"), rows)],
            "images": [{"path": str(png), "caption":
                        f"The {d['grid'][0]}x{d['grid'][1]} tile grid: each tile coloured by "
                        "the layer it holds (numbered in network order), I/O at the left; "
                        "links coloured by their load in flits per inference."}],
            "data": d}


def section_estimate(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    """Area, energy and throughput of the network on the spec (as mapped above), next to a
    GPU doing the same work."""
    from .estimate import estimate
    from .estimate.plot import plot_breakdown
    net = ctx["net"]
    est = estimate(spec, net=net, mapping=ctx.get("mapping"))
    d = est.to_dict()
    gpu = d["gpu"]
    tr = d["training"]
    rows = [["this chip, inference", f"{d['tops']:.3g}", f"{d['tops_per_w']:.3g}",
             f"{d['tops_per_mm2']:.3g}", f"{d['energy_per_inference_j'] * 1e9:.3g}",
             f"{d['area_mm2']:.3g}"],
            ["this chip, training", f"{tr['tops']:.3g}", f"{tr['tops_per_w']:.3g}",
             f"{tr['tops_per_mm2']:.3g}", f"{tr['energy_per_example_j'] * 1e9:.3g}", ""],
            [f"GPU {gpu['name']}, inference, batch 1", f"{gpu['tops']:.3g}",
             f"{gpu['tops_per_w']:.3g}", "", f"{gpu['energy_per_inference_j'] * 1e9:.3g}",
             ""],
            ["GPU, training, batch 1", f"{gpu['measured']['train_batch1']['tops']:.3g}",
             f"{gpu['measured']['train_batch1']['tops_per_w']:.3g}", "",
             f"{gpu['energy_per_training_example_j'] * 1e9:.3g}", ""]]
    png = out / "estimate.png"
    plot_breakdown(est, png)
    area = sorted(d["area_breakdown"].items(), key=lambda kv: -kv[1])
    summary = (f"{net} on {d['tiles']} tile(s) of {spec.name}: {d['tops_per_w']:.3g} TOPS/W "
               f"for inference, {gpu['tops_per_w_advantage']:.3g}x the GPU's at batch 1 "
               f"({gpu['tops_per_w_advantage_best_batch']:.3g}x its best batch, 8192); "
               f"training {tr['tops_per_w']:.3g} TOPS/W, "
               f"{gpu['training_tops_per_w_advantage']:.3g}x the GPU at batch 1. GPU "
               f"figures: {gpu['source']} ({gpu['network']}, {gpu['dtype']}).")
    flagged = [k for k, _ in area if model_basis(k, d).startswith("\u26a0")]
    if flagged:
        summary += (f"\n\n\u26a0 The {', '.join(flagged)} figures rest on a fallback model "
                    "(see the model column): treat them as rough.")
    return {"id": "estimate", "title": "Area and energy estimate", "summary": summary,
            "tables": [table("Throughput and efficiency", ("", "TOPS", "TOPS/W", "TOPS/mm²",
                                                            "energy [nJ/example]", "area [mm²]"),
                             rows),
                       table("Area by component, and the model behind each figure",
                             ("component", "area [mm²]", "share [%]", "model"),
                             [[k, float(f"{v:.4g}"), round(100 * v / d["area_mm2"], 1),
                               model_basis(k, d)] for k, v in area])],
            "images": [{"path": str(png), "caption":
                        "Where the chip's area (left, mm²) and the energy of one inference "
                        "(right, nJ) go, by component, largest first."}],
            "data": d}


def section_training(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    from .nn.demo_section import section_training as run
    return run(spec, out, seed)


def section_rtl(spec: Spec, out: Path, seed: int, ctx: dict) -> dict:
    """A short parity run: the Verilog tile controller against the model, on a small tile
    of the spec (Icarus Verilog through cocotb)."""
    from .hdl.tile import run_tile_bench, with_size
    small = with_size(spec, rows=12, cols=20, adcs=4)
    rep = run_tile_bench(small, ops=16, seed=seed)
    kinds = rep["by_kind"]
    rows = [[op, n] for op, n in sorted(rep["op_counts"].items())]
    summary = (f"{rep['ops']} random operations on a 12x20 tile with 4 ADCs (the spec's "
               f"converters, encoding and update): {rep['mismatches']} mismatches in cycles "
               f"({kinds['cycles']}), output codes ({kinds['codes']}) and event counters "
               f"({kinds['counters']}) over {rep['cycles']} simulated clock cycles.")
    return {"id": "rtl", "title": "RTL parity (cocotb + Icarus)", "summary": summary,
            "tables": [table("Operations run", ("operation", "count"), rows),
                       table("Mismatches", ("kind", "count"), sorted(kinds.items()))],
            "images": [], "data": {k: rep[k] for k in ("ops", "mismatches", "cycles",
                                                       "by_kind", "op_counts", "wall_s")}}


SECTIONS: list[tuple[str, Callable]] = [
    ("spec", section_spec),
    ("mapping", section_mapping),
    ("training", section_training),
    ("estimate", section_estimate),
    ("rtl", section_rtl),
    ("tile", section_tile),
    ("drift", section_drift),
]


def run_demo(spec_name: str = "ambrogio2018", out: str | Path = "codesign-out/demo",
             seed: int = 0, quiet: bool = False, net: str = "mlp-2018",
             only: list[str] | None = None) -> dict:
    """Run the demo's sections, save run.json and the HTML report in `out`; returns the
    run (with "report" set to the HTML path)."""
    from .report import write_report
    spec = load_spec(spec_name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = [(n, f) for n, f in SECTIONS if only is None or n in only]
    ctx: dict = {"net": net}
    sections = []
    t_start = time.perf_counter()
    for i, (name, fn) in enumerate(chosen, 1):
        t0 = time.perf_counter()
        if not quiet:
            print(f"[{i}/{len(chosen)}] {name} ...", file=sys.stderr, flush=True)
        sec = fn(spec, out, seed, ctx)
        sec["seconds"] = round(time.perf_counter() - t0, 3)
        sections.append(sec)
        if not quiet:
            print(f"      done in {sec['seconds']:.1f} s", file=sys.stderr, flush=True)
    run = {"title": f"codesign demo: {spec.name}",
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "version": __version__, "spec": spec.name, "network": net, "seed": seed,
           "seconds": round(time.perf_counter() - t_start, 1), "sections": sections}
    write_text(out / "run.json", dumps(run, "run.json", indent=2))
    run["report"] = str(write_report(run, out / "report.html", base_dir=out))
    return run



def print_run(run: dict) -> None:
    for sec in run["sections"]:
        print(f"\n== {sec['title']} ==")
        if sec.get("summary"):
            print(sec["summary"])
        for t in sec.get("tables", []):
            print()
            print(format_table(t["rows"], t["headers"]))
        for img in sec.get("images", []):
            print(f"(plot: {img['path'] if isinstance(img, dict) else img})")
