"""`codesign device pcm|pcm-train|capacitor`: sample a device model, print statistics
(table or one JSON object) and plot them to PNG.

* ``pcm``: inference statistics of N devices programmed to one target (programming noise,
  drift exponents, the read at --time seconds after t0, and after global drift
  compensation);
* ``pcm-train``: conductance versus SET pulse number from RESET (mean and spread);
* ``capacitor``: the 3T1C weight g - g_shared versus up pulses, then down pulses.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..devices import inference
from ..devices.capacitor import CapacitorArray
from ..devices.pcm import PCMArray, set_curve
from ..argtypes import seed
from ..errors import UserError
from ..fileio import save_figure
from ..spec import load_spec
from ._common import add_spec_argument, print_json, print_table

US = 1e-6          # siemens per microsiemens (friendly units only when printing)
MAX_SAMPLES = 10**8  # memory bound on --n and --devices (8 bytes x a few arrays each)


def _check_range(option: str, value, lo, hi, what: str = "") -> None:
    if not (lo <= value <= hi):  # also rejects NaN
        raise UserError(f"{option}: value {value!r} is out of range; allowed: "
                        f"{what}[{lo:g}, {hi:g}]")


def _stats(g: np.ndarray) -> dict:
    return {"mean_uS": float(g.mean() / US), "std_uS": float(g.std() / US)}


# ------------------------------------------------------------------ pcm (inference)
def sample_pcm(spec, g_target: float, t_inference: float, n: int, seed: int) -> tuple:
    """Statistics of n devices programmed to g_target (S) and read t_inference seconds
    after t0, and the samples themselves {name: array in S}. The drift-compensated read
    multiplies the read at t by alpha = mean(reference read at t0) / mean(read at t),
    the all-ones read of these devices summed (codesign.devices.inference)."""
    pcm = spec.pcm
    rng = np.random.default_rng(seed)
    prog = inference.program(np.full(n, g_target), pcm, rng)
    ref = inference.read_at(prog, 0.0, pcm, rng)
    drifted = inference.read_at(prog, t_inference, pcm, rng)
    alpha = float(inference.drift_compensation(ref, drifted))
    mu, sigma = inference.drift_nu_params(g_target, pcm)
    samples = {"programmed": prog.g_prog, "drifted": drifted, "compensated": alpha * drifted}
    result = {
        "spec": spec.name, "noise_model": pcm.noise_model, "g_target_uS": g_target / US,
        "time_s": t_inference, "n": n, "seed": seed,
        "programmed": _stats(prog.g_prog), "drifted": _stats(drifted),
        "compensated": _stats(alpha * drifted),
        "nu": {"mean": float(prog.nu.mean()), "std": float(prog.nu.std())},
        "drift_compensation": alpha,
        "model": {  # the analytic parameters at g_target, for comparison
            "prog_std_uS": float(inference.prog_noise_sigma(g_target, pcm) / US),
            "nu_mu": float(mu), "nu_sigma": float(sigma),
            "read_noise_rel_std": float(inference.read_noise_sigma(g_target, t_inference,
                                                                   pcm)),
            "t0_s": pcm.t0, "t_read_s": pcm.t_read,
        },
    }
    return result, samples


def _pcm(args) -> int:
    spec = load_spec(args.spec)
    g_max_us = spec.pcm.g_max / US
    _check_range("--g-target", args.g_target, 0.0, g_max_us, "uS in ")
    _check_range("--time", args.time, 0.0, 1e12, "seconds after t0 in ")
    _check_range("--n", args.n, 1, MAX_SAMPLES, "integers in ")
    _check_seed(args.seed)
    result, samples = sample_pcm(spec, args.g_target * US, args.time, args.n, args.seed)
    if args.png:
        _save_png(args.png, lambda ax: _plot_histograms(ax, samples, result))
        result["png"] = str(args.png)
    if args.json:
        print_json(result)
        return 0
    rows = [(name, result[name]["mean_uS"], result[name]["std_uS"], "uS")
            for name in ("programmed", "drifted", "compensated")]
    rows.append(("nu", result["nu"]["mean"], result["nu"]["std"], "-"))
    print_table(rows, ("quantity", "mean", "std", "unit"),
                title=f"PCM {result['noise_model']} ({spec.name}): g_target "
                      f"{args.g_target:g} uS, read {args.time:g} s after t0 = "
                      f"{spec.pcm.t0:g} s, {args.n} devices, seed {args.seed}; "
                      f"drift compensation x{result['drift_compensation']:.4f}")
    m = result["model"]
    print(f"model: prog std {m['prog_std_uS']:.4g} uS, nu ~ |N({m['nu_mu']:.4g}, "
          f"{m['nu_sigma']:.4g})|, read noise {m['read_noise_rel_std']:.4g} relative")
    return 0


def _plot_histograms(ax, samples: dict, result: dict) -> None:
    for name, g in samples.items():
        ax.hist(g / US, bins=200, histtype="step", density=True, label=name)
    ax.axvline(result["g_target_uS"], color="k", lw=0.8, ls="--", label="target")
    ax.set_xlabel("conductance (uS)")
    ax.set_ylabel("density")
    ax.set_title(f"PCM {result['noise_model']}: {result['g_target_uS']:g} uS, "
                 f"{result['time_s']:g} s after t0")
    ax.legend()


# ------------------------------------------------------------- training curves
def _curve(state: np.ndarray, total: int, points: int, step) -> dict:
    """Run ``step()`` once per pulse and sample mean, std and 10/90 % quantiles (uS) of
    ``state()`` at ``points`` pulse numbers from 0 to ``total``."""
    marks = np.unique(np.linspace(0, total, points).round().astype(int))
    out = {"pulses": [], "mean_uS": [], "std_uS": [], "p10_uS": [], "p90_uS": []}
    done = 0
    for mark in marks:
        while done < mark:
            step(done)
            done += 1
        g = state() / US
        out["pulses"].append(int(mark))
        out["mean_uS"].append(float(g.mean()))
        out["std_uS"].append(float(g.std()))
        lo, hi = np.quantile(g, [0.1, 0.9])
        out["p10_uS"].append(float(lo))
        out["p90_uS"].append(float(hi))
    return out


def sample_pcm_train(spec, pulses: int, devices: int, seed: int, points: int,
                     step: float | None = None) -> dict:
    """SET pulses one at a time from RESET on ``devices`` PCM devices."""
    rng = np.random.default_rng(seed)
    arr = PCMArray(spec.pcm, (devices,), rng)
    s = spec.pcm.set_step if step is None else step
    curve = _curve(lambda: arr.g, pulses, points, lambda k: arr.set_pulses(1, rng, step=s))
    # noise-free device of mean RESET level and unit step factor, for comparison
    g0 = spec.pcm.reset_g * spec.pcm.g_max
    curve["ideal_uS"] = [float(set_curve(g0, k, s, spec.pcm.set_gamma, spec.pcm.g_max) / US)
                         for k in curve["pulses"]]
    return {"spec": spec.name, "devices": devices, "seed": seed, "set_step": s,
            "set_gamma": spec.pcm.set_gamma, "g_max_uS": spec.pcm.g_max / US, **curve}


def sample_capacitor(spec, up: int, down: int, devices: int, seed: int,
                     points: int) -> dict:
    """``up`` charge-adding pulses then ``down`` charge-removing pulses, one at a time,
    on ``devices`` 3T1C cells from V_C = 0.5 V; the state is w = g - g_shared."""
    rng = np.random.default_rng(seed)
    g_shared = spec.capacitor.g_span  # any reference works: w does not depend on it
    cap = CapacitorArray(spec.capacitor, (devices,), rng, g_shared)
    ones, zeros = np.ones(devices, dtype=np.int64), np.zeros(devices, dtype=np.int64)

    def pulse(k: int) -> None:
        cap.pulses(ones, zeros, rng) if k < up else cap.pulses(zeros, ones, rng)
    curve = _curve(lambda: cap.w, up + down, points, pulse)
    return {"spec": spec.name, "devices": devices, "seed": seed, "up": up, "down": down,
            "g_span_uS": spec.capacitor.g_span / US, **curve}


def _curve_cmd(args, result: dict, title: str, ylabel: str) -> int:
    if args.png:
        _save_png(args.png, lambda ax: _plot_curve(ax, result, title, ylabel))
        result["png"] = str(args.png)
    if args.json:
        print_json(result)
        return 0
    keys = ("pulses", "mean_uS", "std_uS", "p10_uS", "p90_uS") + \
        (("ideal_uS",) if "ideal_uS" in result else ())
    print_table(list(zip(*(result[k] for k in keys))), keys, title=title)
    return 0


def _plot_curve(ax, result: dict, title: str, ylabel: str) -> None:
    x, m = np.array(result["pulses"]), np.array(result["mean_uS"])
    ax.fill_between(x, result["p10_uS"], result["p90_uS"], alpha=0.3, label="10-90 %")
    ax.plot(x, m, label="mean")
    if "ideal_uS" in result:
        ax.plot(x, result["ideal_uS"], "k--", lw=0.8, label="noise-free")
    ax.set_xlabel("pulse number")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()


def _check_curve_args(args, total: int) -> None:
    _check_range("--devices", args.devices, 1, 10**7, "integers in ")
    _check_range("--points", args.points, 2, 10**4, "integers in ")
    _check_seed(args.seed)
    if total * args.devices > 10**10:
        raise UserError(f"--devices: value {args.devices} times {total} pulses is too much "
                        "work; allowed: pulses x devices <= 1e10")


def _pcm_train(args) -> int:
    spec = load_spec(args.spec)
    _check_range("--pulses", args.pulses, 1, 10**6, "integers in ")
    if args.step is not None:
        _check_range("--step", args.step, 1e-5, 0.5, "fraction of g_max in ")
    _check_curve_args(args, args.pulses)
    result = sample_pcm_train(spec, args.pulses, args.devices, args.seed, args.points,
                              args.step)
    return _curve_cmd(args, result, f"PCM SET from RESET ({spec.name}): step "
                      f"{result['set_step']:g} g_max, gamma {spec.pcm.set_gamma:g}, "
                      f"{args.devices} devices", "conductance (uS)")


def _capacitor(args) -> int:
    spec = load_spec(args.spec)
    _check_range("--up", args.up, 0, 10**6, "integers in ")
    _check_range("--down", args.down, 0, 10**6, "integers in ")
    if args.up + args.down == 0:
        raise UserError("--up: value 0 with --down 0 applies no pulse; allowed: "
                        "--up + --down >= 1")
    _check_curve_args(args, args.up + args.down)
    result = sample_capacitor(spec, args.up, args.down, args.devices, args.seed, args.points)
    return _curve_cmd(args, result, f"3T1C ({spec.name}): {args.up} up then {args.down} "
                      f"down pulses, {args.devices} cells", "g - g_shared (uS)")


# ------------------------------------------------------------------- helpers
def _check_seed(seed: int) -> None:
    _check_range("--seed", seed, 0, 2**63 - 1, "integers in ")


def _save_png(path, draw) -> None:
    """Draw on a fresh figure and write it atomically (no half-written file on failure)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"--png: value {str(path)!r}: directory {str(path.parent)!r} does "
                        "not exist; allowed: a file path in an existing directory")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        draw(ax)
        fig.tight_layout()
        save_figure(fig, path, dpi=120)
    finally:
        plt.close(fig)


def _common(p) -> None:
    add_spec_argument(p, default="ambrogio2018")
    p.add_argument("--seed", type=seed, default=1, help="random seed (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--png", metavar="FILE", help="also plot to this PNG file")


def register(sub) -> None:
    p = sub.add_parser("device", help="sample a device model: statistics, JSON, PNG")
    s = p.add_subparsers(dest="device_command", metavar="DEVICE", required=True)

    pcm = s.add_parser("pcm", help="PCM inference: programming noise, drift, read noise")
    pcm.add_argument("--g-target", type=float, default=10.0, metavar="uS",
                     help="programming target in uS, 0..g_max (default 10)")
    pcm.add_argument("--time", type=float, default=3600.0, metavar="S",
                     help="inference time in s after the reference read at t0 (default 3600)")
    pcm.add_argument("--n", type=int, default=100000, help="devices (default 100000)")
    _common(pcm)
    pcm.set_defaults(func=_pcm)

    tr = s.add_parser("pcm-train", help="PCM training: conductance vs SET pulse number")
    tr.add_argument("--pulses", type=int, default=1000, help="SET pulses (default 1000)")
    tr.add_argument("--step", type=float, default=None,
                    help="SET step from RESET as a fraction of g_max (default: spec)")
    tr.add_argument("--devices", type=int, default=10000, help="devices (default 10000)")
    tr.add_argument("--points", type=int, default=11, help="sample points (default 11)")
    _common(tr)
    tr.set_defaults(func=_pcm_train)

    cap = s.add_parser("capacitor", help="3T1C: weight vs up then down pulses")
    cap.add_argument("--up", type=int, default=200, help="up pulses first (default 200)")
    cap.add_argument("--down", type=int, default=400, help="then down pulses (default 400)")
    cap.add_argument("--devices", type=int, default=10000, help="cells (default 10000)")
    cap.add_argument("--points", type=int, default=13, help="sample points (default 13)")
    _common(cap)
    cap.set_defaults(func=_capacitor)
