"""Phase-change memory as a training device: gradual SET, abrupt RESET, bounds.

Model (docs/devices.md has the equations and sources):

* A SET pulse raises the conductance by a step that shrinks as g approaches g_max
  (state dependence; aihwkit ``PCMPresetDevice`` after Nandakumar et al. 2020,
  gamma = 2.5):  dg/dn = s * f * g_max * u**gamma,  u = 1 - g/g_max,
  s the mean step from the fully RESET state as a fraction of g_max (spec.pcm.set_step),
  f the device's own step factor (device-to-device variation, spec.pcm.set_d2d).
  n pulses are applied at once with the closed form of that ODE, so a tile update that
  sends 30 pulses to one device costs one vectorized evaluation, not 30.
* Cycle-to-cycle noise: each pulse's step has relative spread set_c2c, so n pulses whose
  mean increment is D add N(0, set_c2c * (D/n) * sqrt(n)) (sum of n independent steps).
* RESET is abrupt: the device returns to its own RESET level (device-to-device spread
  reset_std) plus a small cycle-to-cycle spread (RESET_C2C, assumed).
* Conductances stay in [0, g_max].

All arrays are float64 in siemens. SET draws one normal per pulsed device (sparse updates
cost what they touch); RESET draws for the full shape. The draws follow the pulse pattern,
so the same seed and pattern reproduce a result exactly.
"""
from __future__ import annotations

import numpy as np

from .. import libm
from ..errors import UserError
from ..lazykernels import kernels_
from ..spec import PCMSpec

# Cycle-to-cycle spread of the RESET level, as a fraction of the device-to-device
# spread reset_std. Assumed: the reference gives only the device-to-device spread
# (aihwkit reset_dtod); a RESET melts and quenches the cell, so repeated RESETs of one
# device land close to each other but not exactly.
RESET_C2C = 0.2


def relative_spread(rng: np.random.Generator, shape: tuple, rel_std: float) -> np.ndarray:
    """Positive per-device factors with mean 1 and relative std ``rel_std``.

    Lognormal, exp(s N - s^2/2) with s^2 = ln(1 + rel_std^2): positive for any spread
    (a normal 1 + rel_std N would give negative steps at rel_std = 0.3 for 0.04 % of
    devices). Assumed shape; the reference gives only the spread (aihwkit *_dtod).
    Always draws ``shape`` normals, also when rel_std == 0 (keeps streams aligned).
    """
    z = rng.standard_normal(shape)
    if rel_std <= 0.0:
        return np.ones(shape)
    s2 = float(libm.log1p(rel_std * rel_std))
    return libm.exp(np.sqrt(s2) * z - 0.5 * s2)


def set_curve(g: np.ndarray, n, step_frac, gamma: float, g_max: float) -> np.ndarray:
    """Noise-free conductance after ``n`` SET pulses from ``g``.

    Closed form of dg/dn = s g_max u^gamma with u = 1 - g/g_max, s = ``step_frac``
    (scalar or array, e.g. the spec step times a device factor):
      gamma == 1: u = u0 exp(-s n)
      gamma == 0: u = max(u0 - s n, 0)          (linear until g_max)
      otherwise:  u^(1-gamma) = u0^(1-gamma) + (gamma-1) s n
                  (gamma > 1 approaches g_max asymptotically; gamma < 1 reaches it).
    """
    u0 = np.clip(1.0 - np.asarray(g, dtype=np.float64) / g_max, 0.0, 1.0)
    sn = np.asarray(step_frac, dtype=np.float64) * np.asarray(n, dtype=np.float64)
    if gamma == 1.0:
        u = u0 * libm.exp(-sn)
    elif gamma == 0.0:
        u = np.maximum(u0 - sn, 0.0)
    else:
        e = 1.0 - gamma
        with np.errstate(divide="ignore", over="ignore"):
            if gamma > 1.0:   # u0 = 0 gives u0**e = inf and u = 0: saturated stays saturated
                u = libm.power(libm.power(u0, e) - e * sn, 1.0 / e)
            else:
                u = libm.power(np.maximum(libm.power(u0, e) - e * sn, 0.0), 1.0 / e)
    return g_max * (1.0 - u)


def set_pulses_needed(g_from, g_to, step_frac, gamma: float, g_max: float) -> np.ndarray:
    """Mean number of SET pulses (real, >= 0) taking g_from to g_to: the inverse of
    :func:`set_curve`; inf where g_to cannot be reached (g_to >= g_max for gamma >= 1)."""
    u0 = np.clip(1.0 - np.asarray(g_from, dtype=np.float64) / g_max, 0.0, 1.0)
    u1 = np.clip(1.0 - np.asarray(g_to, dtype=np.float64) / g_max, 0.0, 1.0)
    s = np.asarray(step_frac, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if gamma == 1.0:
            n = libm.log(u0 / u1) / s
        elif gamma == 0.0:
            n = (u0 - u1) / s
        else:
            e = 1.0 - gamma
            n = (libm.power(u0, e) - libm.power(u1, e)) / (e * s)
    n = np.where(u1 >= u0, 0.0, n)
    return np.where(np.isnan(n), np.inf, n)


class PCMArray:
    """An array of PCM devices used for training (one conductance per device).

    Attributes: ``g`` (S, float64, ``shape``), ``g_reset`` (each device's RESET level, S),
    ``step_factor`` (each device's SET-step multiplier, mean 1), ``g_max``, ``spec``.
    """

    reset_c2c = RESET_C2C

    def __init__(self, spec: PCMSpec, shape: tuple, rng: np.random.Generator):
        self.spec = spec
        self.shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        self.g_max = float(spec.g_max)
        # Device-to-device variation, drawn once (step factor first, then RESET level).
        self.step_factor = relative_spread(rng, self.shape, spec.set_d2d)
        level = spec.reset_g + spec.reset_std * rng.standard_normal(self.shape)
        self.g_reset = np.clip(level, 0.0, 1.0) * self.g_max
        self.version = 0          # bumped by every change of g (read-out caches key on it)
        self.g = self.g_reset.copy()

    @property
    def g(self) -> np.ndarray:
        """Conductances (S). Change them by assignment or through the methods below (an
        in-place edit from outside would not bump ``version``)."""
        return self._g

    @g.setter
    def g(self, value: np.ndarray) -> None:
        self._g = value
        self.version += 1

    # ------------------------------------------------------------------ SET
    def set_pulses(self, n, rng: np.random.Generator, step: float | None = None) -> None:
        """Apply ``n`` SET pulses per device (int >= 0, broadcastable to the shape).

        ``step`` overrides spec.set_step (fraction of g_max), e.g. a stronger programming
        pulse for closed-loop transfer (spec.cell.transfer_step). Devices with n == 0 do not
        change. Only the pulsed devices are computed, and one normal is drawn for each of
        them (in flat index order), so sparse updates cost what they touch; the draws are a
        function of the pulse pattern, hence reproducible from the same seed.
        """
        if hasattr(n, "pulsed") and hasattr(n, "idx"):
            # sparse counts (codesign.pulses.PulseCounts): the pulsed devices directly
            idx, counts = n.pulsed()
            if idx.size == 0:
                return
            nf = counts.astype(np.float64)
            if self.g.flags.c_contiguous and self.step_factor.flags.c_contiguous:
                # a tile's update: compiled, the same numbers as the numpy code below
                # (kernels.pcm_set_pulses; K.standard_normal draws rng.standard_normal's)
                K = kernels_()
                z = K.standard_normal(rng, idx.size)
                K.pcm_set_pulses(self.g.reshape(-1), idx, nf, z,
                                 self.spec.set_step if step is None else float(step),
                                 self.step_factor.reshape(-1), float(self.spec.set_gamma),
                                 self.g_max, float(self.spec.set_c2c))
                self.version += 1
                return
        else:
            n = np.broadcast_to(np.asarray(n), self.shape)
            if n.size and n.min() < 0:
                raise UserError(f"set_pulses: n: value {int(n.min())} is negative; "
                                "allowed: integers >= 0")
            idx = np.flatnonzero(n)
            if idx.size == 0:
                return
            nf = n.ravel()[idx].astype(np.float64)
        g0 = self.g.ravel()[idx]
        z = rng.standard_normal(idx.size)
        s = (self.spec.set_step if step is None else float(step)) * self.step_factor.ravel()[idx]
        mean = set_curve(g0, nf, s, self.spec.set_gamma, self.g_max)
        # n steps, each with relative spread set_c2c around the mean step (mean - g)/n
        noise = self.spec.set_c2c * (mean - g0) / np.sqrt(nf) * z
        np.put(self.g, idx, np.clip(mean + noise, 0.0, self.g_max))
        self.version += 1

    # ---------------------------------------------------------------- RESET
    def reset(self, mask, rng: np.random.Generator) -> None:
        """Abrupt RESET where ``mask`` is true: g = the device's RESET level plus a
        cycle-to-cycle spread reset_c2c * reset_std * g_max (assumed), clipped to
        [0, g_max]. Draws one full-shape normal array per call."""
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), self.shape)
        z = rng.standard_normal(self.shape)
        level = self.g_reset + self.reset_c2c * self.spec.reset_std * self.g_max * z
        self.g = np.where(mask, np.clip(level, 0.0, self.g_max), self.g)

    def mean_set_step(self, step: float | None = None) -> np.ndarray:
        """Expected increment of one SET pulse from the present state (S, per device)."""
        s = (self.spec.set_step if step is None else float(step)) * self.step_factor
        return set_curve(self.g, 1, s, self.spec.set_gamma, self.g_max) - self.g
