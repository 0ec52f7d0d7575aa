"""Device physics: PCM training array, 3T1C capacitor, PCM inference statistics.

Statistical tests compare sample moments with the analytic expressions written out here
from ../shared/reference/devices.md (not with the module's own helpers), with tolerances
of 5 standard errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.devices import inference
from codesign.devices.capacitor import CapacitorArray
from codesign.devices.pcm import PCMArray, relative_spread, set_curve, set_pulses_needed
from codesign.errors import UserError
from codesign.spec import load_spec

AMBROGIO = load_spec("ambrogio2018")
HERMES = load_spec("hermes")
US = 1e-6
N = 200_000


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _pcm(**kw):
    return AMBROGIO.with_overrides({f"pcm.{k}": v for k, v in kw.items()}).pcm


def _cap(**kw):
    return AMBROGIO.with_overrides({f"capacitor.{k}": v for k, v in kw.items()}).capacitor


def _close_mean(sample, expected, spread=None):
    spread = sample.std() if spread is None else spread
    assert abs(sample.mean() - expected) < 5 * spread / math.sqrt(sample.size) + 1e-15


def _close_std(sample, expected):
    assert abs(sample.std() - expected) < 5 * expected / math.sqrt(2 * sample.size) + 1e-15


# ------------------------------------------------------------- inference: formulas
def _nandakumar_prog_sigma(g, g_max=25e-6):
    x = g / g_max
    return (0.26348 + 1.9650 * x - 1.1731 * x * x) * 1e-6 * g_max / 25e-6


def _nandakumar_nu(g, g_max=25e-6):
    lx = math.log(g / g_max)
    return (min(max(-0.0155 * lx + 0.0244, 0.049), 0.1),
            min(max(-0.0125 * lx - 0.0059, 0.008), 0.045))


def _folded_moments(mu, sigma):
    mean = sigma * math.sqrt(2 / math.pi) * math.exp(-mu * mu / (2 * sigma * sigma)) \
        + mu * (1 - 2 * _phi(-mu / sigma))
    return mean, math.sqrt(mu * mu + sigma * sigma - mean * mean)


def _mean_drift_factor(mu, sigma, t, t0):
    """E[((t + t0)/t0)^-|X|], X ~ N(mu, sigma): the two half-lines of the folded normal."""
    L = math.log((t + t0) / t0)
    return (math.exp(-L * mu + 0.5 * (L * sigma) ** 2) * _phi(mu / sigma - L * sigma)
            + math.exp(L * mu + 0.5 * (L * sigma) ** 2) * _phi(-mu / sigma - L * sigma))


@pytest.mark.parametrize("g_t_us", [5.0, 10.0, 20.0, 25.0])
def test_programming_noise_matches_polynomial(g_t_us):
    g_t = g_t_us * US
    prog = inference.program(np.full(N, g_t), AMBROGIO.pcm, np.random.default_rng(3))
    sigma = _nandakumar_prog_sigma(g_t)
    assert inference.prog_noise_sigma(g_t, AMBROGIO.pcm) == pytest.approx(sigma, rel=1e-12)
    _close_mean(prog.g_prog, g_t, sigma)
    _close_std(prog.g_prog, sigma)


def test_programming_noise_scales_with_g_max_only_for_nandakumar():
    pcm = _pcm(g_max=50e-6)
    g = np.array([0.0, 10e-6, 50e-6])
    assert np.allclose(inference.prog_noise_sigma(g, pcm), _nandakumar_prog_sigma(g, 50e-6))
    # HERMES: cubic fitted at its own g_max, no rescaling
    x = g[:2] / HERMES.pcm.g_max
    c = (0.16603222, 4.71806468, -8.48101252, 4.68961419)
    expected = sum(ci * x ** i for i, ci in enumerate(c)) * 1e-6
    assert np.allclose(inference.prog_noise_sigma(g[:2], HERMES.pcm), expected, rtol=1e-12)


def test_programmed_conductance_is_never_negative():
    prog = inference.program(np.zeros(10_000), AMBROGIO.pcm, np.random.default_rng(0))
    assert prog.g_prog.min() == 0.0 and prog.g_prog.max() > 0.0


@pytest.mark.parametrize("g_t_us", [1.0, 10.0, 25.0])
def test_drift_exponent_is_folded_normal(g_t_us):
    mu, sigma = _nandakumar_nu(g_t_us * US)
    prog = inference.program(np.full(N, g_t_us * US), AMBROGIO.pcm, np.random.default_rng(4))
    assert prog.nu.min() >= 0.0
    mean, std = _folded_moments(mu, sigma)
    _close_mean(prog.nu, mean, std)
    _close_std(prog.nu, std)


def test_drift_factor_time_convention():
    """t_inference counts from t0: factor 1 at 0 and ((t + t0)/t0)^-nu after."""
    nu = np.array([0.0, 0.05, 0.1])
    assert np.array_equal(inference.drift_factor(nu, 0.0, AMBROGIO.pcm), np.ones(3))
    assert np.allclose(inference.drift_factor(nu, 3600.0, AMBROGIO.pcm),
                       (3620.0 / 20.0) ** -nu, rtol=1e-12)


def test_read_noise_sigma_formula():
    g = np.array([0.0, 0.01e-6, 10e-6, 25e-6])
    q = np.minimum(0.0088 / np.maximum((g / 25e-6) ** 0.65, 1e-3), 0.2)
    expected = q * math.sqrt(math.log((3620.0 + 250e-9) / (2 * 250e-9)))
    assert np.allclose(inference.read_noise_sigma(g, 3600.0, AMBROGIO.pcm), expected,
                       rtol=1e-12)


@pytest.mark.parametrize("t", [0.0, 3600.0, 3.15e7])
def test_read_at_drift_and_read_noise_statistics(t):
    g_t = 10 * US
    rng = np.random.default_rng(5)
    prog = inference.program(np.full(N, g_t), AMBROGIO.pcm, rng)
    g = inference.read_at(prog, t, AMBROGIO.pcm, rng)
    # conditional on g_prog and nu, the read is g_drift (1 + sigma_r N): standardise it
    g_drift = prog.g_prog * ((t + 20.0) / 20.0) ** -prog.nu
    sigma_r = inference.read_noise_sigma(prog.g_prog, t, AMBROGIO.pcm)
    z = (g - g_drift) / (g_drift * sigma_r)
    _close_mean(z, 0.0, 1.0)
    _close_std(z, 1.0)
    # unconditional mean: E[g_prog] E[drift factor] (independent draws)
    mu, sigma = _nandakumar_nu(g_t)
    _close_mean(g, g_t * _mean_drift_factor(mu, sigma, t, 20.0))


def test_hermes_drift_and_read_noise_branches():
    """aihwkit HermesNoiseModel, two devices per sign: branch functions of g/g_max."""
    g_max = HERMES.pcm.g_max
    x = np.array([0.01, 0.09, 0.2, 0.5, 1.0])
    mu, sigma = inference.drift_nu_params(x * g_max, HERMES.pcm)
    for xi, m, s in zip(x, mu, sigma):
        em = min(max(-0.0387 * math.log(xi) - 0.0182, 0.072), 0.13) if xi < 0.0945 \
            else -0.0436 * xi ** 2 - 0.0126 * xi + 0.0736
        es = min(max(-0.0117 * math.log(xi) - 0.0057, 0.0091), 0.04) if xi < 0.3055 \
            else -0.0118 * xi ** 2 + 0.0093 * xi + 0.0073
        assert (m, s) == pytest.approx((em, es), rel=1e-12)
    q = inference.read_noise_q(x * g_max, HERMES.pcm)
    for xi, qi in zip(x, q):
        eq = min(max(-0.0117 * math.log(xi) - 0.0069, 0.015), 0.04) if xi < 0.16 \
            else 0.0069 * xi ** 3 - 0.0280 * xi ** 2 + 0.0211 * xi + 0.0123
        assert qi == pytest.approx(eq, rel=1e-12)


def test_global_drift_compensation():
    rng = np.random.default_rng(6)
    g_plus = rng.uniform(0, 25e-6, (3, 64, 32))
    g_minus = rng.uniform(0, 25e-6, (3, 64, 32))
    ref = inference.all_ones_read(g_plus, g_minus)
    assert ref.shape == (3, 32)
    assert np.allclose(ref, (g_plus - g_minus).sum(axis=1))
    scale = np.array([0.5, 0.8, 1.0])[:, None]
    alpha = inference.drift_compensation(ref, ref * scale, axis=-1)
    assert np.allclose(alpha, 1 / scale[:, 0])
    assert inference.drift_compensation(ref, np.zeros_like(ref)) == 1.0
    # devices programmed alike: compensation restores the mean read at t0
    prog = inference.program(np.full(N, 10 * US), AMBROGIO.pcm, rng)
    at_t0 = inference.read_at(prog, 0.0, AMBROGIO.pcm, rng)
    later = inference.read_at(prog, 86400.0, AMBROGIO.pcm, rng)
    assert later.mean() < 0.8 * at_t0.mean()
    comp = later * inference.drift_compensation(at_t0, later)
    assert comp.mean() == pytest.approx(at_t0.mean(), rel=1e-12)


def test_inference_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(UserError, match="g_target"):
        inference.program(np.array([-1e-6]), AMBROGIO.pcm, rng)
    with pytest.raises(UserError, match="g_target"):
        inference.program(np.array([30e-6]), AMBROGIO.pcm, rng)
    prog = inference.program(np.full(4, 5e-6), AMBROGIO, rng)  # a whole Spec is accepted
    with pytest.raises(UserError, match="t_inference"):
        inference.read_at(prog, -1.0, AMBROGIO.pcm, rng)


def test_inference_determinism_and_shapes():
    g = np.linspace(0, 25e-6, 24).reshape(2, 3, 4)
    a = inference.read_at(inference.program(g, AMBROGIO.pcm, np.random.default_rng(9)),
                          100.0, AMBROGIO.pcm, np.random.default_rng(10))
    b = inference.read_at(inference.program(g, AMBROGIO.pcm, np.random.default_rng(9)),
                          100.0, AMBROGIO.pcm, np.random.default_rng(10))
    c = inference.read_at(inference.program(g, AMBROGIO.pcm, np.random.default_rng(8)),
                          100.0, AMBROGIO.pcm, np.random.default_rng(10))
    assert a.shape == (2, 3, 4) and a.dtype == np.float64
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# ---------------------------------------------------------------- PCM training
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.5])
def test_set_curve_solves_the_state_dependent_ode(gamma):
    g_max, s = 25e-6, 0.01
    g = np.linspace(0, 0.95, 20) * g_max
    # derivative at n = 0 is s g_max u^gamma
    eps = 1e-6
    slope = (set_curve(g, eps, s, gamma, g_max) - g) / eps
    assert np.allclose(slope, s * g_max * (1 - g / g_max) ** gamma, rtol=1e-4)
    # n pulses at once equal n1 then n2 pulses (semigroup), and the inverse holds
    whole = set_curve(g, 70, s, gamma, g_max)
    parts = set_curve(set_curve(g, 30, s, gamma, g_max), 40, s, gamma, g_max)
    assert np.allclose(whole, parts, rtol=1e-10, atol=1e-18)
    target = set_curve(g, 25, s, gamma, g_max)
    below = target < g_max * (1 - 1e-9)   # gamma < 1 reaches g_max in finite pulses
    assert below.sum() >= 15
    assert np.allclose(set_pulses_needed(g, target, s, gamma, g_max)[below], 25, rtol=1e-6)
    assert np.all(whole <= g_max) and np.all(whole >= g)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 6.0), st.floats(1e-4, 0.3), st.floats(0.0, 1.0),
       st.integers(0, 5000))
def test_set_curve_monotone_and_bounded(gamma, s, u, n):
    g_max = 25e-6
    g0 = (1 - u) * g_max
    g1 = set_curve(g0, n, s, gamma, g_max)
    g2 = set_curve(g0, n + 1, s, gamma, g_max)
    assert g0 - 1e-18 <= g1 <= g2 <= g_max


def test_set_is_monotone_saturating_and_state_dependent():
    pcm = _pcm(set_c2c=0.0, set_d2d=0.0, reset_std=0.0)
    rng = np.random.default_rng(1)
    arr = PCMArray(pcm, (5,), rng)
    trace = [arr.g.copy()]
    for _ in range(400):
        arr.set_pulses(5, rng)
        trace.append(arr.g.copy())
    trace = np.array(trace)[:, 0]
    steps = np.diff(trace)
    assert np.all(steps > 0) and np.all(np.diff(steps) < 0)   # gradual and saturating
    assert trace[-1] < pcm.g_max and trace[-1] > 0.8 * pcm.g_max
    # state dependence: step ratio between two states is ((1-g1/gm)/(1-g0/gm))^gamma
    arr2 = PCMArray(pcm, (2,), rng)
    arr2.g = np.array([2e-6, 15e-6])
    step = arr2.mean_set_step()
    ratio = ((1 - 15 / 25) / (1 - 2 / 25)) ** pcm.set_gamma
    assert step[1] / step[0] == pytest.approx(ratio, rel=1e-2)


def test_set_cycle_to_cycle_noise_statistics():
    pcm = _pcm(set_d2d=0.0, reset_std=0.0)
    rng = np.random.default_rng(2)
    arr = PCMArray(pcm, (N,), rng)
    g0 = arr.g[0]
    arr.set_pulses(50, rng)
    mean = set_curve(g0, 50, pcm.set_step, pcm.set_gamma, pcm.g_max)
    _close_mean(arr.g, mean)
    _close_std(arr.g, pcm.set_c2c * (mean - g0) / math.sqrt(50))


def test_device_to_device_variation():
    rng = np.random.default_rng(3)
    f = relative_spread(rng, (N,), 0.3)
    assert f.min() > 0
    _close_mean(f, 1.0)
    _close_std(f, 0.3)
    pcm = _pcm(reset_g=0.1, reset_std=0.01)
    arr = PCMArray(pcm, (N,), rng)
    _close_mean(arr.g_reset, 0.1 * pcm.g_max)
    _close_std(arr.g_reset, 0.01 * pcm.g_max)
    assert np.array_equal(arr.g, arr.g_reset)      # starts RESET
    arr.set_pulses(100, rng)
    gain = arr.g - arr.g_reset                      # devices with larger steps gain more
    assert np.corrcoef(gain, arr.step_factor)[0, 1] > 0.5


def test_zero_pulses_leave_devices_untouched_and_draws_are_reproducible():
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    a, b = PCMArray(AMBROGIO.pcm, (6, 7), rng_a), PCMArray(AMBROGIO.pcm, (6, 7), rng_b)
    a.set_pulses(3, rng_a)
    b.set_pulses(3, rng_b)
    before = a.g.copy()
    n = np.zeros((6, 7), dtype=int)
    n[::2, 1::3] = 4
    a.set_pulses(n, rng_a)
    b.set_pulses(np.zeros(7, dtype=int), rng_b)     # broadcast row of zeros
    assert np.array_equal(a.g[n == 0], before[n == 0])
    assert np.all(a.g[n > 0] != before[n > 0])
    assert np.array_equal(b.g, before)
    # draws follow the pulse pattern (only pulsed devices draw), so the same seed and
    # pattern give the same result
    rng_c = np.random.default_rng(4)
    c = PCMArray(AMBROGIO.pcm, (6, 7), rng_c)
    c.set_pulses(3, rng_c)
    c.set_pulses(n, rng_c)
    assert np.array_equal(c.g, a.g)


def test_reset_is_abrupt_and_masked():
    rng = np.random.default_rng(5)
    pcm = _pcm(reset_g=0.1, reset_std=0.02)
    arr = PCMArray(pcm, (N,), rng)
    arr.set_pulses(500, rng)
    mask = np.arange(N) % 2 == 0
    before = arr.g.copy()
    arr.reset(mask, rng)
    assert np.array_equal(arr.g[~mask], before[~mask])
    dev = arr.g[mask] - arr.g_reset[mask]
    _close_mean(dev, 0.0, arr.reset_c2c * 0.02 * pcm.g_max)
    _close_std(dev, arr.reset_c2c * 0.02 * pcm.g_max)


def test_pcm_bounds_under_heavy_noise_and_bad_counts():
    rng = np.random.default_rng(6)
    arr = PCMArray(_pcm(set_c2c=2.0, set_step=0.5, reset_std=0.5), (1000,), rng)
    for _ in range(20):
        arr.set_pulses(rng.integers(0, 50, 1000), rng)
        assert arr.g.min() >= 0 and arr.g.max() <= arr.g_max
    with pytest.raises(UserError, match="n: value -1"):
        arr.set_pulses(np.array([-1] + [0] * 999), rng)


def test_pcm_determinism():
    def run(seed):
        rng = np.random.default_rng(seed)
        arr = PCMArray(AMBROGIO.pcm, (8, 8), rng)
        arr.set_pulses(rng.integers(0, 20, (8, 8)), rng, step=0.04)
        arr.reset(arr.g > 5e-6, rng)
        return arr.g
    assert np.array_equal(run(1), run(1)) and not np.array_equal(run(1), run(2))


# ------------------------------------------------------------------ capacitor
def test_capacitor_starts_at_g_shared_with_spread_bounds():
    rng = np.random.default_rng(7)
    cap = CapacitorArray(AMBROGIO.capacitor, (N,), rng, g_shared=10e-6)
    assert np.all(cap.g == 10e-6) and np.all(cap.w == 0)
    span = AMBROGIO.capacitor.g_span
    _close_mean(cap.g_hi - 10e-6, span)
    _close_std(cap.g_hi - 10e-6, 0.07 * span)
    _close_std(10e-6 - cap.g_lo, 0.07 * span)


def test_capacitor_is_near_linear_and_bounded():
    spec = _cap(step_c2c=0.0)
    rng = np.random.default_rng(8)
    cap = CapacitorArray(spec, (500,), rng, g_shared=10e-6)
    trace = [cap.w.copy()]
    for _ in range(100):    # below the lowest bound: no device clips yet
        cap.pulses(1, 0, rng)
        trace.append(cap.w.copy())
    steps = np.diff(np.array(trace), axis=0)
    # near-linear: the step shrinks by at most gamma (x the travelled fraction) on the way
    assert np.all(steps > 0)
    assert np.all(steps[-1] / steps[0] >= 1 - spec.gamma * 1.3)
    assert np.allclose(steps[0], cap.step_up, rtol=1e-3)
    # n pulses at once equal n single pulses (noise-free closed form)
    cap2 = CapacitorArray(spec, (500,), np.random.default_rng(8), g_shared=10e-6)
    cap2.pulses(100, 0, rng)
    assert np.allclose(cap2.g, cap.g, rtol=1e-12)
    # bounds: many pulses stop at each device's own bound
    cap.pulses(5000, 0, rng)
    assert np.allclose(cap.g, cap.g_hi)
    cap.pulses(0, 10_000, rng)
    assert np.allclose(cap.g, cap.g_lo)


def test_capacitor_up_down_asymmetry_and_c2c_noise():
    rng = np.random.default_rng(9)
    spec = _cap(step_d2d=0.0, bound_d2d=0.0, asym_d2d=0.0)
    cap = CapacitorArray(spec, (N,), rng, g_shared=0.0)
    cap.pulses(40, 0, rng)
    k = spec.step * spec.gamma          # closed form with c = step*g_span, H = g_span
    mean = spec.g_span * (1 - math.exp(-k * 40)) / spec.gamma
    _close_mean(cap.g, mean)
    _close_std(cap.g, spec.step_c2c * mean / math.sqrt(40))
    asym = CapacitorArray(_cap(step_c2c=0.0), (1000,), rng, g_shared=0.0)
    ratio = asym.step_up / asym.step_down
    assert np.std(ratio) > 0.05
    asym.pulses(1, 0, rng)
    up = asym.g.copy()
    asym.reset()
    asym.pulses(0, 1, rng)
    assert np.allclose(up / -asym.g, ratio, rtol=1e-3)   # soft bounds: O(gamma*step)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(0, 2**32 - 1))
def test_capacitor_any_shape_bounded_zero_untouched(shape, seed):
    rng = np.random.default_rng(seed)
    cap = CapacitorArray(AMBROGIO.capacitor, tuple(shape), rng, g_shared=5e-6)
    for _ in range(3):
        up = rng.integers(0, 400, shape) * (rng.random(shape) < 0.5)
        down = rng.integers(0, 400, shape) * (rng.random(shape) < 0.5)
        before = cap.g.copy()
        cap.pulses(up, down, rng)
        idle = (up == 0) & (down == 0)
        assert np.array_equal(cap.g[idle], before[idle])
        assert np.all(cap.g >= cap.g_lo) and np.all(cap.g <= cap.g_hi)


def test_capacitor_leak_write_reset():
    rng = np.random.default_rng(10)
    cap = CapacitorArray(_cap(leak_d2d=0.0), (4, 4), rng, g_shared=10e-6)
    cap.pulses(100, 0, rng)
    w = cap.w.copy()
    cap.leak(250_000)
    assert np.allclose(cap.w, w * math.exp(-0.25))
    spread = CapacitorArray(_cap(leak_d2d=0.3), (2000,), rng, g_shared=10e-6)
    spread.pulses(100, 0, rng)
    w = spread.w.copy()
    spread.leak(1_000_000)                           # one mean lifetime
    kept = spread.w / w
    assert kept.std() > 0.03 and abs(np.log(kept).mean() + 1) < 0.15
    off = CapacitorArray(_cap(leak_updates=0.0), (3,), rng, g_shared=1e-6)
    off.pulses(10, 0, rng)
    g = off.g.copy()
    off.leak(10**9)
    assert np.array_equal(off.g, g)
    mask = np.eye(4, dtype=bool)
    cap.write(1.0, mask=mask)                        # far above: clipped to the bound
    assert np.array_equal(cap.g[mask], cap.g_hi[mask])
    cap.write(11e-6)
    assert np.allclose(cap.g, 11e-6)
    cap.reset(mask)
    assert np.all(cap.g[mask] == 10e-6) and np.allclose(cap.g[~mask], 11e-6)
    with pytest.raises(UserError, match="n_down"):
        cap.pulses(0, -1, rng)


def test_capacitor_determinism():
    def run(seed):
        rng = np.random.default_rng(seed)
        cap = CapacitorArray(AMBROGIO.capacitor, (16,), rng, g_shared=10e-6)
        cap.pulses(rng.integers(0, 30, 16), rng.integers(0, 30, 16), rng)
        return cap.g
    assert np.array_equal(run(1), run(1)) and not np.array_equal(run(1), run(2))
