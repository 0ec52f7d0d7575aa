"""The controller co-design study (issue 14, docs/codesign-study.md): per-line against
shared update random-number generators, and the ADC kinds the RTL implements
(codesign.adckinds), for one spec and tile size.

For every variant (update.rng per_line, and shared with each sharing factor; with
``adc_kinds``, each of them with each ADC kind):
- the tile controller synthesized by yosys (codesign.hdl.synth) at small square sizes,
  a least-squares line GE(N) = a + b N through them (the controller's logic is per row
  and per column line, so it grows linearly in N for an N x N tile) and its value at the
  study size; synthesizing 512 x 512 directly takes far longer than the study;
- that gate count priced by the estimator (codesign.estimate, ``synth=``): tile area,
  the controller's share of it, energy per training example and the controller's share;
  the structural fallback's gate count beside it, as a check of the fit; cycles and time
  per training example of one tile (codesign.commands: the FORWARD, BACKWARD and UPDATE
  sequences), which the ADC kind sets;
- test accuracy of the network trained on the spec's tiles with that variant, per seed
  (codesign.nn.train; one process per run, ``workers`` at a time). The ADC kinds convert
  to the same codes (codesign.adckinds: every kind's conversion equals the closed form the
  model computes), so only the first kind is trained on every seed; each other kind trains
  once, on the first seed, and the study checks that run's weights and accuracies are bit
  for bit those of the first kind (``identity``), then reports the first kind's accuracy.

The synthesized sizes keep the spec's columns per ADC (adc.count scales with N), so the
per-converter logic, which differs most between ADC kinds, is in the line's slope.

`codesign study controller` prints it (codesign/cli/study_cmd.py).
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from .errors import UserError
from .spec import Spec, load_spec


@dataclass(frozen=True)
class ControllerStudy:
    spec: str = "ambrogio2018"
    size: int = 512                      # N of the N x N tile priced and trained on
    shares: tuple = (2, 4, 8)            # update.rng_lines of the shared variants
    synth_sizes: tuple = (8, 16, 32)     # N of the synthesized controllers (>= 3)
    seeds: tuple = (0, 1, 2)
    epochs: int = 2
    limit: int | None = None             # training images per epoch (None: all)
    net: str = "mlp-2018"
    dataset: str = "mnist5k"
    cell: str = "2pcm3t1c"
    hidden: str = "tanh"                 # as docs/reproduction.md
    workers: int = 1
    train: bool = True                   # False: synthesis and estimate only
    adcs: int | None = None              # adc.count of the synthesized sizes (None: the
                                         # spec's columns per ADC kept at every size)
    adc_kinds: tuple = ()                # ADC kinds to study (empty: the spec's own)
    blocks: bool = False                 # also where the gates are, per RTL module

    def check(self) -> None:
        if len(set(self.synth_sizes)) < 3:
            raise UserError(f"synth_sizes: value {list(self.synth_sizes)} has fewer than 3 "
                            "sizes; allowed: 3 or more distinct sizes (a line needs a check)")
        if any(s < 1 for s in self.synth_sizes) or self.size < 1:
            raise UserError(f"size: value {self.size}; allowed: >= 1")
        if any(int(s) < 2 for s in self.shares):
            raise UserError(f"shares: value {list(self.shares)}; allowed: integers >= 2 "
                            "(1 is the per-line variant, always included)")
        if self.epochs < 1 or self.workers < 1 or not self.seeds:
            raise UserError(f"epochs/workers/seeds: values {self.epochs}/{self.workers}/"
                            f"{list(self.seeds)}; allowed: >= 1, >= 1, at least one seed")
        from .adckinds import KINDS
        bad = [k for k in self.adc_kinds if k not in KINDS or not KINDS[k].has_rtl]
        if bad or len(set(self.adc_kinds)) != len(self.adc_kinds):
            raise UserError(f"adc_kinds: value {list(self.adc_kinds)}; allowed: distinct "
                            "kinds with an RTL controller: "
                            + ", ".join(n for n, k in KINDS.items() if k.has_rtl))
        for label, over in variants(self.shares, self.adc_kinds):
            load_spec(self.spec).with_overrides(over, source=label)   # validates


def variants(shares, adc_kinds=()) -> list[tuple[str, dict]]:
    """(label, spec overrides) of the per-line variant and each shared one; with
    adc_kinds, each of those with each kind ("per_line/flash"), generator-major."""
    out = [("per_line", {"update.rng": "per_line"})]
    out += [(f"shared-{int(s)}", {"update.rng": "shared", "update.rng_lines": int(s)})
            for s in shares]
    if adc_kinds:
        out = [(f"{label}/{k}", {**over, "adc.kind": k}) for label, over in out
               for k in adc_kinds]
    return out


def reference_label(label: str, adc_kinds=()) -> str:
    """The variant whose training stands for `label`'s: the same generators with the first
    ADC kind (itself when it has the first kind, or when no kinds are studied)."""
    return f"{label.split('/')[0]}/{adc_kinds[0]}" if adc_kinds else label


def sized(spec: Spec, n: int, adcs: int | None, over: dict) -> Spec:
    """The spec at an n x n tile with the variant's overrides; adc.count the largest
    divisor of n not above `adcs`, or without it, not above n over the spec's columns per
    ADC (so 8 columns per ADC stay 8 at every size)."""
    want = adcs or max(1, n // max(1, spec.array.cols // spec.adc.count))
    count = max(d for d in range(1, min(want, n) + 1) if n % d == 0)
    return spec.with_overrides({"array.rows": n, "array.cols": n, "adc.count": count,
                                **over}, source="study")


def fit_line(sizes, values) -> tuple[float, float, float]:
    """Least-squares a + b N through (sizes, values), and the largest relative residual."""
    x, y = np.asarray(sizes, float), np.asarray(values, float)
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b), float(np.max(np.abs(a + b * x - y) / y))


def synth_row(spec: Spec, over: dict, cfg: ControllerStudy) -> dict:
    from .hdl.synth import synth_counts
    counts = {}
    for n in cfg.synth_sizes:
        counts[int(n)] = synth_counts(sized(spec, n, cfg.adcs, over))["nand2_eq"]
    a, b, resid = fit_line(list(counts), list(counts.values()))
    row = {"synth_ge": counts, "fit": {"a": a, "b": b, "max_rel_residual": resid},
           "ge_at_size": a + b * cfg.size}
    if cfg.blocks:
        row["blocks_at_size"] = block_row(spec, over, cfg)
    return row


def block_row(spec: Spec, over: dict, cfg: ControllerStudy) -> dict:
    """Per RTL module (codesign.hdl.synth.synth_blocks, not flattened): its NAND2
    equivalents at each synthesized size, the line through them at the study size, and
    the flip-flops likewise."""
    from .hdl.synth import synth_blocks
    runs = {int(n): synth_blocks(sized(spec, n, cfg.adcs, over))["blocks"]
            for n in cfg.synth_sizes}
    out = {}
    for m in sorted({m for r in runs.values() for m in r}):
        ge = [runs[n].get(m, {}).get("nand2_eq", 0.0) for n in runs]
        ff = [runs[n].get(m, {}).get("flops", 0) for n in runs]
        a, b, _ = fit_line(list(runs), [g + 1e-9 for g in ge])
        fa, fb, _ = fit_line(list(runs), [f + 1e-9 for f in ff])
        out[m] = {"nand2_eq": max(0.0, a + b * cfg.size), "flops": max(0.0, fa + fb * cfg.size),
                  "per_n": b}
    return out


def price_row(spec: Spec, ge: float) -> dict:
    """Estimator figures of one tile of `spec` with a controller of `ge` NAND2 eq., and the
    cycles of one training example on it (codesign.commands)."""
    from . import commands as cmd
    from .estimate.components import load_components
    from .estimate.estimate import estimate
    from .estimate.tile_costs import control_gate_equivalents
    est = estimate(spec, synth={"nand2_eq": ge})
    c = est.costs
    train_e = est.training_energy_breakdown
    fallback, _ = control_gate_equivalents(load_components(), spec)
    cycles = cmd.mvm_sequence(spec).cycles + cmd.mvm_sequence(spec, transpose=True).cycles + \
        cmd.update_sequence(spec, 0).cycles
    return {"lfsrs": spec.lfsr_count, "adc_kind": spec.adc.kind, "fallback_ge": fallback,
            "train_cycles": int(cycles), "train_time_us": cycles / spec.clock.frequency * 1e6,
            "tile_area_mm2": c.tile_area * 1e6,
            "control_area_share": c.area["control"] / c.tile_area,
            "train_energy_nj": est.energy_per_training_example * 1e9,
            "control_energy_share": train_e.get("control", 0.0) /
            est.energy_per_training_example}


def digest(res) -> str:
    """SHA-256 of a training run's outcome: every layer's weights as the tiles hold them
    (bytes) and its per-epoch accuracies and losses (repr of the floats)."""
    import hashlib
    h = hashlib.sha256()
    for layer in res.model.layers:
        if hasattr(layer, "weights"):
            h.update(np.ascontiguousarray(layer.weights()).tobytes())
    h.update(repr((res.train_accuracy, res.test_accuracy, res.loss)).encode())
    return h.hexdigest()


def _train_job(job: tuple) -> tuple:
    from .nn.train import TrainConfig, train
    label, over, seed, cfg = job
    t = TrainConfig(net=cfg["net"], spec=cfg["spec"], dataset=cfg["dataset"],
                    cell=cfg["cell"], epochs=cfg["epochs"], seed=seed, limit=cfg["limit"],
                    hidden=cfg["hidden"], overrides=tuple(over.items()))
    res = train(t, progress=False)
    return label, seed, res.test_accuracy[-1], res.seconds, digest(res)


def run_study(cfg: ControllerStudy, log=sys.stderr) -> dict:
    """Every figure of the study as one dict (rows in variant order)."""
    cfg.check()
    base = load_spec(cfg.spec)
    kinds = tuple(cfg.adc_kinds)
    todo = variants(cfg.shares, kinds)
    rows: dict[str, dict] = {label: {} for label, _ in todo}
    start = time.perf_counter()

    def tile(over: dict) -> dict:     # the study size, the variant
        t = sized(base, cfg.size, None, over)
        return {"array.rows": t.array.rows, "array.cols": t.array.cols,
                "adc.count": t.adc.count, **over}
    # every seed of the reference variants; the first seed of the others (identity check)
    jobs = [(label, tile(over), s, asdict(cfg)) for label, over in todo
            for s in (cfg.seeds if reference_label(label, kinds) == label else cfg.seeds[:1])
            ] if cfg.train else []
    digests: dict[tuple, str] = {}
    # training runs in worker processes while this one synthesizes and prices
    with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
        futures = [pool.submit(_train_job, j) for j in jobs]
        for label, over in todo:
            row = rows[label]
            row.update(synth_row(base, over, cfg))
            row.update(price_row(sized(base, cfg.size, None, over), row["ge_at_size"]))
            row["accuracy"] = {}
            print(f"[{time.perf_counter() - start:6.0f} s] {label}: synthesized and priced",
                  file=log, flush=True)
        for f in futures:
            label, seed, acc, secs, dig = f.result()
            rows[label]["accuracy"][int(seed)] = acc
            digests[label, int(seed)] = dig
            print(f"[{time.perf_counter() - start:6.0f} s] {label}, seed {seed}: "
                  f"{100 * acc:.2f} % ({secs:.0f} s)", file=log, flush=True)
    if cfg.train:
        for label, row in rows.items():
            ref = reference_label(label, kinds)
            if ref == label:
                continue
            seed = int(cfg.seeds[0])
            same = digests[label, seed] == digests[ref, seed]
            row["identity"] = {"reference": ref, "seed": seed, "bit_identical": same,
                               "digest": digests[label, seed]}
            if same:       # the same training, bit for bit: the reference's seeds stand
                row["accuracy"] = dict(rows[ref]["accuracy"])
        first = variants(cfg.shares, kinds)[0][0]
        ref = np.mean(list(rows[first]["accuracy"].values()))
        for row in rows.values():
            acc = np.array(list(row["accuracy"].values()))
            row["accuracy_mean"] = float(acc.mean())
            row["accuracy_std"] = float(acc.std(ddof=1)) if acc.size > 1 else 0.0
            row["accuracy_delta_pp"] = float(100 * (acc.mean() - ref))
    return {"config": asdict(cfg), "rows": rows}


def markdown(out: dict) -> str:
    """The study's table (docs/codesign-study.md)."""
    cfg = out["config"]
    sizes = cfg["synth_sizes"]
    head = ["variant", "LFSRs", "ADC"] + [f"GE {n}x{n}" for n in sizes] + [
        f"GE {cfg['size']}² (fit)", "GE (fallback)", "tile mm²", "control % area",
        "nJ/train ex.", "control % energy", "cycles/train ex.", "µs/train ex."]
    trained = cfg["train"]
    if trained:
        head += ["test acc. % (mean ± std)", "Δ pp", "per seed %"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in out["rows"].items():
        cells = [label, str(r["lfsrs"]), r["adc_kind"]] + [
            f"{r['synth_ge'][n]:,.0f}" if n in r["synth_ge"]
                                            else f"{r['synth_ge'][str(n)]:,.0f}"
                                            for n in sizes]
        cells += [f"{r['ge_at_size']:,.0f}", f"{r['fallback_ge']:,.0f}",
                  f"{r['tile_area_mm2']:.3f}", f"{100 * r['control_area_share']:.1f}",
                  f"{r['train_energy_nj']:.1f}", f"{100 * r['control_energy_share']:.1f}",
                  f"{r['train_cycles']:,}", f"{r['train_time_us']:.2f}"]
        if trained:
            per = ", ".join(f"{100 * v:.1f}" for v in r["accuracy"].values())
            same = r.get("identity")
            if same:
                per = (f"= {same['reference']} (seed {same['seed']} bit-identical)"
                       if same["bit_identical"] else f"{per} (seed {same['seed']} only: "
                       f"differs from {same['reference']})")
            cells += [f"{100 * r['accuracy_mean']:.2f} ± {100 * r['accuracy_std']:.2f}",
                      f"{r['accuracy_delta_pp']:+.2f}", per]
        lines.append("| " + " | ".join(cells) + " |")
    fits = "; ".join(f"{k}: GE = {r['fit']['a']:,.0f} + {r['fit']['b']:,.1f} N "
                     f"(max residual {100 * r['fit']['max_rel_residual']:.1f} %)"
                     for k, r in out["rows"].items())
    text = "\n".join(lines) + "\n\nLinear fits through the synthesized sizes: " + fits + "\n"
    with_blocks = {k: r["blocks_at_size"] for k, r in out["rows"].items()
                   if "blocks_at_size" in r}
    if with_blocks:
        text += "\n" + blocks_markdown(with_blocks, cfg["size"])
    return text


def blocks_markdown(blocks: dict, size: int) -> str:
    """Per RTL module, NAND2 eq. at the study size (lines through the synthesized sizes,
    not flattened) for each variant, and their share of the variant's sum."""
    labels = list(blocks)
    mods = sorted({m for b in blocks.values() for m in b},
                  key=lambda m: -blocks[labels[0]].get(m, {}).get("nand2_eq", 0.0))
    total = {k: sum(v["nand2_eq"] for v in b.values()) for k, b in blocks.items()}
    head = ["module"] + [f"{k}: GE {size}² (flip-flops, %)" for k in labels]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in mods + ["sum"]:
        cells = [m]
        for k in labels:
            if m == "sum":
                cells.append(f"{total[k]:,.0f}")
                continue
            v = blocks[k].get(m, {"nand2_eq": 0.0, "flops": 0.0})
            cells.append(f"{v['nand2_eq']:,.0f} ({v['flops']:,.0f}, "
                         f"{100 * v['nand2_eq'] / total[k]:.1f} %)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

