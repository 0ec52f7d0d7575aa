"""The controller co-design study (issue 14, docs/codesign-study.md): per-line against
shared update random-number generators for one spec and tile size.

For every variant (update.rng per_line, and shared with each sharing factor):
- the tile controller synthesized by yosys (codesign.hdl.synth) at small square sizes,
  a least-squares line GE(N) = a + b N through them (the controller's logic is per row
  and per column line, so it grows linearly in N for an N x N tile) and its value at the
  study size; synthesizing 512 x 512 directly takes far longer than the study;
- that gate count priced by the estimator (codesign.estimate, ``synth=``): tile area,
  the controller's share of it, energy per training example and the controller's share;
  the structural fallback's gate count beside it, as a check of the fit;
- test accuracy of the network trained on the spec's tiles with that variant, per seed
  (codesign.nn.train; one process per run, ``workers`` at a time).

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
    synth_sizes: tuple = (16, 32, 64)    # N of the synthesized controllers (>= 3)
    seeds: tuple = (0, 1, 2)
    epochs: int = 2
    limit: int | None = None             # training images per epoch (None: all)
    net: str = "mlp-2018"
    dataset: str = "mnist5k"
    cell: str = "2pcm3t1c"
    hidden: str = "tanh"                 # as docs/reproduction.md
    workers: int = 1
    train: bool = True                   # False: synthesis and estimate only
    adcs: int | None = None              # adc.count of the synthesized sizes (None: 4)

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
        for label, over in variants(self.shares):
            load_spec(self.spec).with_overrides(over, source=label)   # validates


def variants(shares) -> list[tuple[str, dict]]:
    """(label, spec overrides) of the per-line variant and each shared one."""
    out = [("per_line", {"update.rng": "per_line"})]
    out += [(f"shared-{int(s)}", {"update.rng": "shared", "update.rng_lines": int(s)})
            for s in shares]
    return out


def sized(spec: Spec, n: int, adcs: int | None, over: dict) -> Spec:
    """The spec at an n x n tile with the variant's overrides; adc.count the largest
    divisor of n not above the spec's (or `adcs`)."""
    want = adcs or spec.adc.count
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
        counts[int(n)] = synth_counts(sized(spec, n, cfg.adcs or 4, over))["nand2_eq"]
    a, b, resid = fit_line(list(counts), list(counts.values()))
    return {"synth_ge": counts, "fit": {"a": a, "b": b, "max_rel_residual": resid},
            "ge_at_size": a + b * cfg.size}


def price_row(spec: Spec, ge: float) -> dict:
    """Estimator figures of one tile of `spec` with a controller of `ge` NAND2 eq."""
    from .estimate.components import load_components
    from .estimate.estimate import estimate
    from .estimate.tile_costs import control_gate_equivalents
    est = estimate(spec, synth={"nand2_eq": ge})
    c = est.costs
    train_e = est.training_energy_breakdown
    fallback, _ = control_gate_equivalents(load_components(), spec)
    return {"lfsrs": spec.lfsr_count, "fallback_ge": fallback,
            "tile_area_mm2": c.tile_area * 1e6,
            "control_area_share": c.area["control"] / c.tile_area,
            "train_energy_nj": est.energy_per_training_example * 1e9,
            "control_energy_share": train_e.get("control", 0.0) /
            est.energy_per_training_example}


def _train_job(job: tuple) -> tuple:
    from .nn.train import TrainConfig, train
    label, over, seed, cfg = job
    t = TrainConfig(net=cfg["net"], spec=cfg["spec"], dataset=cfg["dataset"],
                    cell=cfg["cell"], epochs=cfg["epochs"], seed=seed, limit=cfg["limit"],
                    hidden=cfg["hidden"], overrides=tuple(over.items()))
    res = train(t, progress=False)
    return label, seed, res.test_accuracy[-1], res.seconds


def run_study(cfg: ControllerStudy, log=sys.stderr) -> dict:
    """Every figure of the study as one dict (rows in variant order)."""
    cfg.check()
    base = load_spec(cfg.spec)
    rows: dict[str, dict] = {label: {} for label, _ in variants(cfg.shares)}
    start = time.perf_counter()

    def tile(over: dict) -> dict:     # the study size, the variant
        t = sized(base, cfg.size, None, over)
        return {"array.rows": t.array.rows, "array.cols": t.array.cols,
                "adc.count": t.adc.count, **over}
    jobs = [(label, tile(over), s, asdict(cfg)) for label, over in variants(cfg.shares)
            for s in cfg.seeds] if cfg.train else []
    # training runs in worker processes while this one synthesizes and prices
    with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
        futures = [pool.submit(_train_job, j) for j in jobs]
        for label, over in variants(cfg.shares):
            row = rows[label]
            row.update(synth_row(base, over, cfg))
            row.update(price_row(sized(base, cfg.size, None, over), row["ge_at_size"]))
            row["accuracy"] = {}
            print(f"[{time.perf_counter() - start:6.0f} s] {label}: synthesized and priced",
                  file=log, flush=True)
        for f in futures:
            label, seed, acc, secs = f.result()
            rows[label]["accuracy"][int(seed)] = acc
            print(f"[{time.perf_counter() - start:6.0f} s] {label}, seed {seed}: "
                  f"{100 * acc:.2f} % ({secs:.0f} s)", file=log, flush=True)
    if cfg.train:
        ref = np.mean(list(rows["per_line"]["accuracy"].values()))
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
    head = ["variant", "LFSRs"] + [f"GE {n}x{n}" for n in sizes] + [
        f"GE {cfg['size']}² (fit)", "GE (fallback)", "tile mm²", "control % area",
        "nJ/train ex.", "control % energy"]
    trained = cfg["train"]
    if trained:
        head += ["test acc. % (mean ± std)", "Δ pp", "per seed %"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in out["rows"].items():
        cells = [label, str(r["lfsrs"])] + [f"{r['synth_ge'][n]:,.0f}" if n in r["synth_ge"]
                                            else f"{r['synth_ge'][str(n)]:,.0f}"
                                            for n in sizes]
        cells += [f"{r['ge_at_size']:,.0f}", f"{r['fallback_ge']:,.0f}",
                  f"{r['tile_area_mm2']:.3f}", f"{100 * r['control_area_share']:.1f}",
                  f"{r['train_energy_nj']:.1f}", f"{100 * r['control_energy_share']:.1f}"]
        if trained:
            per = ", ".join(f"{100 * v:.1f}" for v in r["accuracy"].values())
            cells += [f"{100 * r['accuracy_mean']:.2f} ± {100 * r['accuracy_std']:.2f}",
                      f"{r['accuracy_delta_pp']:+.2f}", per]
        lines.append("| " + " | ".join(cells) + " |")
    fits = "; ".join(f"{k}: GE = {r['fit']['a']:,.0f} + {r['fit']['b']:,.1f} N "
                     f"(max residual {100 * r['fit']['max_rel_residual']:.1f} %)"
                     for k, r in out["rows"].items())
    return "\n".join(lines) + "\n\nLinear fits through the synthesized sizes: " + fits + "\n"

