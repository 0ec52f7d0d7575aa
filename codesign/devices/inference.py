"""PCM for inference: programming noise, conductance drift and 1/f read noise.

The statistical model of Nandakumar et al., ICECS 2019, in the form of aihwkit's
``PCMLikeNoiseModel`` (spec.pcm.noise_model = "nandakumar2019"), and aihwkit's
``HermesNoiseModel`` with two devices per sign (noise_model = "hermes", Le Gallo et al.,
Nat. Electron. 2023; Khaddam-Aljameh et al., JSSC 2022). Equations and sources are in
docs/devices.md and ../shared/reference/devices.md. SI units inside (S, s).

Time convention (aihwkit's): ``t_inference`` counts from the reference read at t0 after
programming, so the drift factor is ((t_inference + t0)/t0)^(-nu) and the 1/f noise is
accumulated over t = t_inference + t0 since programming.

Random draws, each a full-shape standard normal array, in this order:
program(): programming noise, then drift exponents; read_at(): read noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import libm
from ..errors import UserError
from ..spec import PCMSpec

# The Nandakumar 2019 programming-noise polynomial is fit at g_max = 25 uS; for another
# g_max aihwkit scales sigma by g_max/25 uS (prog_coeff_g_max_reference). The HERMES
# polynomial is fit at its own g_max (20.7 uS, two devices) and is not rescaled.
NANDAKUMAR_G_MAX = 25e-6
# aihwkit clips g/g_max at 1e-7 before taking logs in the drift fits (_ZERO_CLIP).
_ZERO_CLIP = 1e-7
# Relative tolerance on g_target > g_max (float rounding of a mapped weight).
_G_MAX_TOL = 1e-9


@dataclass(frozen=True)
class ProgrammedPCM:
    """Devices after programming: the targets, the programmed conductances at t0 before
    read noise (S) and each device's drift exponent nu (all arrays of one shape)."""
    g_target: np.ndarray
    g_prog: np.ndarray
    nu: np.ndarray

    @property
    def shape(self) -> tuple:
        return self.g_target.shape


def _pcm(spec) -> PCMSpec:
    """Accept a PCMSpec or a whole Spec (its .pcm section)."""
    return getattr(spec, "pcm", spec)


def prog_noise_sigma(g_target, spec) -> np.ndarray:
    """Std of the programming noise (S): sum_i c_i x^i, x = g_T/g_max, polynomial of any
    degree from spec.pcm.prog_noise; times g_max/25 uS for the nandakumar2019 model."""
    p = _pcm(spec)
    x = np.asarray(g_target, dtype=np.float64) / p.g_max
    sigma = np.zeros_like(x)
    for c in reversed(p.prog_noise):  # Horner
        sigma = sigma * x + c
    if p.noise_model == "nandakumar2019":
        sigma = sigma * (p.g_max / NANDAKUMAR_G_MAX)
    return sigma


def drift_nu_params(g_target, spec) -> tuple[np.ndarray, np.ndarray]:
    """(mu_nu, sigma_nu) of the normal whose absolute value is the drift exponent."""
    p = _pcm(spec)
    x = np.maximum(np.abs(np.asarray(g_target, dtype=np.float64)) / p.g_max, _ZERO_CLIP)
    lx = libm.log(x)
    if p.noise_model == "hermes":  # aihwkit HermesNoiseModel, num_devices = 2
        mu = np.where(x < 0.0945, np.clip(-0.0387 * lx - 0.0182, 0.0720, 0.13),
                      -0.0436 * x * x - 0.0126 * x + 0.0736)
        sigma = np.where(x < 0.3055, np.clip(-0.0117 * lx - 0.0057, 0.0091, 0.04),
                         -0.0118 * x * x + 0.0093 * x + 0.0073)
    else:  # Nandakumar 2019
        mu = np.clip(-0.0155 * lx + 0.0244, 0.049, 0.1)
        sigma = np.clip(-0.0125 * lx - 0.0059, 0.008, 0.045)
    return mu, sigma


def read_noise_q(g_prog, spec) -> np.ndarray:
    """Q_s, the 1/f noise amplitude, from the programmed conductance."""
    p = _pcm(spec)
    x = np.abs(np.asarray(g_prog, dtype=np.float64)) / p.g_max
    if p.noise_model == "hermes":  # aihwkit HermesNoiseModel, num_devices = 2
        with np.errstate(divide="ignore"):
            low = np.clip(-0.0117 * libm.log(x) - 0.0069, 0.015, 0.04)
        return np.where(x < 0.16, low, 0.0069 * libm.power(x, 3.0) - 0.0280 * x ** 2
                        + 0.0211 * x + 0.0123)
    return np.minimum(0.0088 / np.maximum(libm.power(x, 0.65), 1e-3), 0.2)


def _check_time(t_inference: float) -> float:
    t = float(t_inference)
    if not t >= 0.0:  # also rejects NaN
        raise UserError(f"t_inference: value {t_inference!r} is out of range; allowed: "
                        "seconds >= 0 after t0")
    return t


def drift_factor(nu, t_inference: float, spec) -> np.ndarray:
    """((t_inference + t0)/t0)^(-nu): 1 at the reference read t_inference = 0."""
    p = _pcm(spec)
    t = _check_time(t_inference)
    return libm.power((t + p.t0) / p.t0, -np.asarray(nu, dtype=np.float64))


def read_noise_sigma(g_prog, t_inference: float, spec) -> np.ndarray:
    """Relative std of the accumulated 1/f noise at t = t_inference + t0:
    Q_s sqrt(ln((t + t_read)/(2 t_read))) (log floored at 0 for t < t_read)."""
    p = _pcm(spec)
    t = _check_time(t_inference) + p.t0
    log_t = float(libm.log((t + p.t_read) / (2 * p.t_read)))
    return read_noise_q(g_prog, p) * np.sqrt(max(log_t, 0.0))


def programming_noise(g_target, spec, rng: np.random.Generator) -> np.ndarray:
    """Conductances right after programming to ``g_target`` (S): max(g_T + sigma_prog N, 0),
    one standard normal per device (also the weight noise of hardware-aware training,
    codesign.nn.hwaware)."""
    g_target = np.asarray(g_target, dtype=np.float64)
    z = rng.standard_normal(g_target.shape)
    return np.maximum(g_target + prog_noise_sigma(g_target, spec) * z, 0.0)


def program(g_target, spec, rng: np.random.Generator) -> ProgrammedPCM:
    """Program devices to ``g_target`` (S, any shape, in [0, g_max]):
    g_prog = max(g_T + sigma_prog N, 0); nu = |mu_nu + sigma_nu N| (from g_T)."""
    p = _pcm(spec)
    g_target = np.asarray(g_target, dtype=np.float64)
    if g_target.size:
        lo, hi = float(np.min(g_target)), float(np.max(g_target))
        if not (lo >= 0.0 and hi <= p.g_max * (1 + _G_MAX_TOL)):
            bad = lo if not lo >= 0.0 else hi
            raise UserError(f"g_target: value {bad:g} S is out of range; allowed: "
                            f"[0, g_max={p.g_max:g}] S")
    g_prog = programming_noise(g_target, p, rng)
    z_nu = rng.standard_normal(g_target.shape)
    mu, sigma = drift_nu_params(g_target, p)
    return ProgrammedPCM(g_target=g_target, g_prog=g_prog, nu=np.abs(mu + sigma * z_nu))


def read_at(programmed: ProgrammedPCM, t_inference: float, spec,
            rng: np.random.Generator) -> np.ndarray:
    """Conductances read ``t_inference`` seconds after the reference read at t0:
    g_drift = g_prog ((t_inference + t0)/t0)^(-nu); g = max(g_drift + |g_drift| sigma N, 0)
    with sigma from :func:`read_noise_sigma`. Each call is one independent read."""
    p = _pcm(spec)
    z = rng.standard_normal(programmed.shape)
    g_drift = programmed.g_prog * drift_factor(programmed.nu, t_inference, p)
    sigma = read_noise_sigma(programmed.g_prog, t_inference, p)
    return np.maximum(g_drift + np.abs(g_drift) * sigma * z, 0.0)


def all_ones_read(g_plus, g_minus=None, axis: int = -2) -> np.ndarray:
    """Column outputs of the crossbar driven with all-ones inputs: the sum over rows
    (``axis``) of the differential conductance g_plus - g_minus. This is the read that
    global drift compensation takes at t0 and again at t (aihwkit's
    GlobalDriftCompensation drives an all-ones input vector)."""
    g = np.asarray(g_plus, dtype=np.float64)
    if g_minus is not None:
        g = g - np.asarray(g_minus, dtype=np.float64)
    return g.sum(axis=axis)


def drift_compensation(reference, current, axis=None) -> np.ndarray:
    """Global drift compensation factor alpha = sum|reference| / sum|current|.

    ``reference`` and ``current`` are the same read (usually :func:`all_ones_read`
    column outputs) taken at t0 and at inference time t; the sums run over ``axis``
    (all axes by default; e.g. axis=-1 gives one factor per tile in a stack of reads).
    Multiply the outputs read at t by alpha to undo the mean drift. Where the current
    read is zero alpha is 1 (nothing to compensate).
    """
    ref = np.abs(np.asarray(reference, dtype=np.float64)).sum(axis=axis)
    cur = np.abs(np.asarray(current, dtype=np.float64)).sum(axis=axis)
    return np.where(cur > 0, ref / np.where(cur > 0, cur, 1.0), 1.0)
