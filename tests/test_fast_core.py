"""The fast core (issue 11) against the numpy core it replaced.

Bit-exactness: the scenarios of tests/core_reference.py were run with the numpy core of
commit 43d8df1 and their results saved as digests; the fast core must reproduce every
weight, output word, fire pattern, event count and cycle count exactly (ADC noise drawn as
it was then, converters.reference_noise). The numpy reference functions that stay in the
code (PulseStreams.trains, coincidences, pulse_codes_reference, mvm_reference, the dense
device paths) are the oracles of the property tests below.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import core_reference as ref
from codesign import converters as conv
from codesign import kernels as K
from codesign import pulses as P
from codesign.devices.capacitor import CapacitorArray
from codesign.devices.pcm import PCMArray
from codesign.devices.readout import weights32
from codesign.spec import load_spec
from codesign.tile import AnalogTile

BASE = load_spec("ambrogio2018")


@pytest.fixture(scope="module")
def saved():
    d = np.load(ref.DATA)
    return dict(zip(d["names"].tolist(), (bytes(r).hex() for r in d["digests"]))), d


def _check(results: dict, saved) -> None:
    digests, d = saved
    bad = [k for k, v in results.items() if ref.digest(v) != digests[k]]
    for k in bad[:3]:
        if f"full:{k}" in d:
            print(k, "max |diff|", np.abs(np.asarray(results[k]) - d[f"full:{k}"]).max())
    assert not bad, f"{len(bad)} results differ from the saved reference, first: {bad[:8]}"


@pytest.mark.parametrize("name", list(ref.CONFIGS))
def test_tile_scenarios_are_bit_identical_to_saved_reference(name, saved):
    with conv.reference_noise():
        res = {f"{name}/{k}": np.asarray(v)
               for k, v in ref.run_tile(name, ref.CONFIGS[name]).items()}
    assert set(res) <= set(saved[0])
    _check(res, saved)


def test_bench_sized_tile_is_bit_identical_to_saved_reference(saved):
    with conv.reference_noise():
        _check({f"big/{k}": np.asarray(v) for k, v in ref.run_big().items()}, saved)


@pytest.mark.parametrize("batch", [1, 8])
def test_training_is_bit_identical_to_saved_reference(batch, saved):
    _check({f"train_b{batch}/{k}": v for k, v in ref.run_training(batch).items()}, saved)


# ---- pulse trains and coincidences against the numpy oracles --------------------------
def _spec(rows=13, cols=9, **over):
    o = {"array.rows": rows, "array.cols": cols, "adc.count": 1}
    o.update(over)
    return BASE.with_overrides(o)


@settings(max_examples=40, deadline=None)
@given(bl=st.integers(1, 150), mode=st.sampled_from(["stochastic", "deterministic"]),
       wide=st.booleans(), dac_bits=st.integers(2, 9), batch=st.integers(1, 6),
       seed=st.integers(0, 2 ** 31), share=st.integers(1, 5))
def test_packed_trains_and_counts_equal_the_reference(bl, mode, wide, dac_bits, batch, seed,
                                                      share):
    over = {"update.bl": bl, "update.mode": mode, "dac.bits": dac_bits}
    if wide:     # too wide to tabulate: the LFSRs step
        over.update({"update.lfsr_bits": 22, "update.lfsr_taps": 0x300000,
                     "update.lfsr_seed": 0x2ACE1})
    if share > 1:   # shared generators, share lines each
        over.update({"update.rng": "shared", "update.rng_lines": share})
    spec = _spec(**over)
    rng = np.random.default_rng(seed)
    maxc = 2 ** (dac_bits - 1) - 1
    a, b = P.PulseStreams(spec), P.PulseStreams(spec)
    for _ in range(2):                       # the states advance alike
        x_mag = rng.integers(0, maxc + 1, (batch, 13))
        d_mag = rng.integers(0, maxc + 1, (batch, 9))
        x_mag[rng.random(x_mag.shape) < 0.3] = 0
        rows, cols = a.trains(x_mag, d_mag)
        rw, cw = b.packed(x_mag, d_mag)
        codes = P.UpdateCodes(x_mag, d_mag, rw, cw, bl)
        np.testing.assert_array_equal(codes["row_fire"], rows)
        np.testing.assert_array_equal(codes["col_fire"], cols)
        np.testing.assert_array_equal(a.rows_state, b.rows_state)
        np.testing.assert_array_equal(a.cols_state, b.cols_state)
        rneg = rng.random((batch, 13)) < 0.5
        cneg = rng.random((batch, 9)) < 0.5
        n_pos, n_neg, total = P.coincidences(rows, np.repeat(rneg, bl, 0), cols,
                                             np.repeat(cneg, bl, 0))
        for groups in ([(0, batch)], [(i, i + 1) for i in range(batch)]):
            got_pos, got_neg, got_total = 0, 0, 0
            for g in groups:
                p, n, t = P.coincide(rw, np.ascontiguousarray(rneg.T).view(np.uint8), cw,
                                     np.ascontiguousarray(cneg.T).view(np.uint8), g, bl,
                                     (13, 9))
                assert (np.diff(p.idx) > 0).all() and ((p.counts + n.counts) > 0).all()
                got_pos, got_neg, got_total = got_pos + p.dense(), got_neg + n.dense(), \
                    got_total + t
            np.testing.assert_array_equal(got_pos, n_pos)
            np.testing.assert_array_equal(got_neg, n_neg)
            assert got_total == total


@settings(max_examples=60, deadline=None)
@given(bl=st.integers(1, 64), rows=st.integers(1, 70), cols=st.integers(1, 70),
       fire=st.floats(0.0, 1.0), silent=st.floats(0.0, 1.0), seed=st.integers(0, 2 ** 31))
def test_one_word_coincidences_equal_the_reference(bl, rows, cols, fire, silent, seed):
    """coincide_one (one example, BL <= 64: popcounts of AND-ed words where pulses are
    dense among the firing pairs, else coincide_sparse) gives the numpy oracle's counts
    and total, and coincide_sparse's outputs exactly, for any density of pulses and of
    silent lines, both signs, every slot up to 64."""
    rng = np.random.default_rng(seed)
    rf = (rng.random((bl, rows)) < fire) & (rng.random(rows) >= silent)
    cf = (rng.random((bl, cols)) < fire) & (rng.random(cols) >= silent)
    weights = np.uint64(1) << np.arange(bl, dtype=np.uint64)
    rw = (rf.T.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64).reshape(rows, 1, 1)
    cw = (cf.T.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64).reshape(cols, 1, 1)
    rneg = (rng.random((rows, 1)) < 0.5).astype(np.uint8)
    cneg = (rng.random((cols, 1)) < 0.5).astype(np.uint8)
    got = K.coincide_one(rw, rneg, cw, cneg, bl)
    for a, b in zip(got, K.coincide_sparse(rw, rneg, cw, cneg, 0, 1, bl)):
        np.testing.assert_array_equal(a, b)
    n_pos, n_neg, total = P.coincidences(rf, np.repeat(rneg.T, bl, 0).astype(bool), cf,
                                         np.repeat(cneg.T, bl, 0).astype(bool))
    idx, npos, nneg, t = got
    assert t == total and npos.dtype == nneg.dtype == np.int32
    np.testing.assert_array_equal(P.PulseCounts((rows, cols), idx, npos).dense(), n_pos)
    np.testing.assert_array_equal(P.PulseCounts((rows, cols), idx, nneg).dense(), n_neg)


@pytest.mark.parametrize("bl", [31, 64, 100])
def test_one_example_trains_from_either_table_are_the_same(bl):
    """update_one draws one example's trains from the byte compare values
    (trains_lt_sparse, codes below 256) or from the fire-bit table (trains_bits): the same
    codes, words, counts and advanced positions, inputs of 0 included."""
    spec = _spec(40, 30, **{"update.bl": bl, "update.rng": "shared", "update.rng_lines": 3})
    rng = np.random.default_rng(bl)
    ps = P.PulseStreams(spec)
    assert ps._top8 is not None and ps._bits is not None
    for _ in range(3):
        x = rng.uniform(-1, 1, (1, 40)) * (rng.random((1, 40)) < 0.6)
        d = rng.uniform(-1, 1, (1, 30)) * (rng.random((1, 30)) < 0.8)
        outs = []
        for tab, offs in ((ps._top8, ps._off_top8), (ps._bits, ps._off_bits)):
            pr, pc = ps._pos_rows.copy(), ps._pos_cols.copy()
            outs.append(K.update_one(x, d, 0.3, 128.0, 127.0, False, tab, *offs, pr, pc, bl,
                                     ps._table.size) + (pr, pc))
        assert np.count_nonzero(outs[0][2]) and outs[0][7] > 0
        for a, b in zip(*outs):
            np.testing.assert_array_equal(a, b)
        ps._pos_rows, ps._pos_cols = outs[0][8], outs[0][9]


def test_pulse_codes_equal_the_reference():
    rng = np.random.default_rng(4)
    for lr in (1e-4, 0.01, -0.3, 5.0):
        x = rng.uniform(-1, 1, (7, 30)) * rng.uniform(0, 2, (7, 1))
        d = rng.normal(0, 0.1, (7, 20))
        x[2] = 0.0
        d[4] = 0.0
        for got, want in zip(P.pulse_codes(x, d, lr, 6.7e-4, BASE),
                             P.pulse_codes_reference(x, d, lr, 6.7e-4, BASE)):
            np.testing.assert_array_equal(got, want)


def test_pulse_counts_behave_as_dense_arrays():
    idx = np.array([1, 5, 6], dtype=np.int64)
    c = P.PulseCounts((2, 4), idx, np.array([2, 0, 3], dtype=np.int32))
    dense = np.array([[0, 2, 0, 0], [0, 0, 3, 0]], dtype=np.int32)
    np.testing.assert_array_equal(np.asarray(c), dense)
    np.testing.assert_array_equal(c - dense, 0 * dense)
    assert c.sum() == 5 and c.shape == (2, 4) and c[1, 2] == 3 and np.flatnonzero(c).size == 2
    i, n = c.pulsed()
    assert i.tolist() == [1, 6] and n.tolist() == [2, 3]


# ---- the update: modes, cells, threads ---------------------------------------------------
CELLS = ["2pcm3t1c", "pcm-pair", "4pcm-diff", "ideal"]


def _updates(cell, mode, batch, threads=1, spec_over=None):
    spec = _spec(40, 33, **{"array.cell": cell, "capacitor.leak_updates": 30.0,
                            **(spec_over or {})})
    data = np.random.default_rng(2)
    tile = AnalogTile(spec, np.random.default_rng(3), update_mode=mode)
    tile.program(data.uniform(-0.5, 0.5, tile.shape))
    # small arrays: on threads anyway
    with K.using_threads(threads, 0 if threads > 1 else None):
        for lr in (0.05, -0.2, 0.8):
            x = data.uniform(-1, 1, (batch, 40))
            d = data.uniform(-1, 1, (batch, 33))
            x[:, ::3] = 0
            if batch == 1 or mode == "minibatch":
                tile.update(x, d, lr)
            else:                                 # one command per example, by hand
                for b in range(batch):
                    tile.update(x[b:b + 1], d[b:b + 1], lr)
        return tile.weights(), tile.rng.random()


@pytest.mark.parametrize("cell", CELLS)
def test_exact_mode_equals_one_update_per_example(cell):
    spec = _spec(40, 33, **{"array.cell": cell, "capacitor.leak_updates": 30.0})
    data = np.random.default_rng(2)
    tiles = [AnalogTile(spec, np.random.default_rng(3)) for _ in range(2)]
    for t in tiles:
        t.program(np.full(t.shape, 0.1))
    for lr in (0.05, -0.2, 0.8):
        x = data.uniform(-1, 1, (5, 40))
        d = data.uniform(-1, 1, (5, 33))
        res = tiles[0].update(x, d, lr)
        total = sum(tiles[1].update(x[b:b + 1], d[b:b + 1], lr).events.update_pulses
                    for b in range(5))
        assert res.events.update_pulses == total
    np.testing.assert_array_equal(tiles[0].weights(), tiles[1].weights())
    assert tiles[0].rng.random() == tiles[1].rng.random()


@pytest.mark.parametrize("cell", ["2pcm3t1c", "pcm-pair"])
def test_minibatch_mode_differs_from_exact_only_by_aggregation(cell):
    """Same pulse counts, one device response: weights differ (noise realisations and
    the rails), but the expected change is the same; events are equal."""
    spec = _spec(40, 33, **{"array.cell": cell})
    x = np.random.default_rng(1).uniform(-1, 1, (16, 40))
    d = np.random.default_rng(2).uniform(-1, 1, (16, 33))
    out = {}
    for mode in ("exact", "minibatch"):
        t = AnalogTile(spec, np.random.default_rng(3), update_mode=mode)
        w0 = t.weights()
        res = t.update(x, d, 0.02)
        out[mode] = (t.weights() - w0, res.events.update_pulses)
    assert out["exact"][1] == out["minibatch"][1]
    a, b = out["exact"][0], out["minibatch"][0]
    assert not np.array_equal(a, b)
    assert abs(a.mean() - b.mean()) < 0.1 * np.abs(a).mean()
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("mode,batch", [("exact", 1), ("minibatch", 64), ("exact", 8)])
def test_thread_count_does_not_change_results(cell, mode, batch):
    one = _updates(cell, mode, batch, threads=1)
    two = _updates(cell, mode, batch, threads=3)
    np.testing.assert_array_equal(one[0], two[0])
    assert one[1] == two[1]


def test_bad_update_mode_is_a_user_error():
    from codesign.errors import UserError
    with pytest.raises(UserError, match="update_mode"):
        AnalogTile(_spec(), np.random.default_rng(0), update_mode="batched")


# ---- devices: sparse paths against the dense numpy paths -----------------------------
def _sparse_pair(rng, shape, density, high):
    n_up = np.where(rng.random(shape) < density, rng.integers(0, high, shape), 0)
    n_down = np.where(rng.random(shape) < density, rng.integers(0, high, shape), 0)
    idx = np.flatnonzero((n_up > 0) | (n_down > 0))
    return n_up, n_down, (P.PulseCounts(shape, idx, n_up.ravel()[idx].astype(np.int32)),
                          P.PulseCounts(shape, idx, n_down.ravel()[idx].astype(np.int32)))


@pytest.mark.parametrize("high, gamma", [(3, 0.05), (400, 0.05), (40, 0.9), (25, 0.05), (60, 0.02)])
def test_capacitor_sparse_path_equals_numpy(high, gamma):
    """Both branches of the closed form (series for small k n, expm1 otherwise), each
    device its own, also mixed within one call."""
    spec = BASE.capacitor.__class__(**{**BASE.capacitor.__dict__, "gamma": gamma})
    rng = np.random.default_rng(high)
    a = CapacitorArray(spec, (50, 70), np.random.default_rng(1), g_shared=10e-6)
    b = CapacitorArray(spec, (50, 70), np.random.default_rng(1), g_shared=10e-6)
    for _ in range(3):
        n_up, n_down, (su, sd) = _sparse_pair(rng, (50, 70), 0.4, high)
        seed = int(rng.integers(1 << 30))
        a.pulses(n_up, n_down, np.random.default_rng(seed))
        b.pulses(su, sd, np.random.default_rng(seed))
        np.testing.assert_array_equal(a.g, b.g)
        a.leak(3)
        b.leak(3)
        np.testing.assert_array_equal(a.g, b.g)


@pytest.mark.parametrize("gamma", [2.5, 1.0, 0.0, 0.5])
def test_pcm_sparse_path_equals_numpy(gamma):
    """A tile's PCM update (sparse counts: kernels.pcm_set_pulses) gives the numpy
    path's conductances bit for bit and leaves the generator where it does, in each
    branch of set_curve's closed form (gamma 1, 0, above and below 1), with devices at
    0 and at g_max among the pulsed."""
    import dataclasses
    spec = dataclasses.replace(BASE.pcm, set_gamma=gamma)
    rng = np.random.default_rng(3)
    a = PCMArray(spec, (40, 30), np.random.default_rng(1))
    b = PCMArray(spec, (40, 30), np.random.default_rng(1))
    g = rng.uniform(0, a.g_max, a.shape)
    g[0, :4], g[1, :4] = 0.0, a.g_max
    a.g, b.g = g.copy(), g.copy()
    for _ in range(3):
        n = np.where(rng.random(a.shape) < 0.4, rng.integers(1, 60, a.shape), 0)
        n[:2, :4] = 5
        idx = np.flatnonzero(n)
        seed = int(rng.integers(1 << 30))
        ra, rb = np.random.default_rng(seed), np.random.default_rng(seed)
        a.set_pulses(n, ra)
        b.set_pulses(P.PulseCounts(a.shape, idx, n.ravel()[idx].astype(np.int32)), rb)
        np.testing.assert_array_equal(a.g, b.g)
        assert ra.bit_generator.state == rb.bit_generator.state


def test_a_devices_response_does_not_depend_on_the_others_pulsed():
    """The closed form's branch is each device's own (k n below SERIES_MAX: the series):
    a device pulsed alone and pulsed together with devices far past SERIES_MAX moves the
    same, bit for bit, in the numpy path and the compiled one (without cycle-to-cycle
    noise, whose normals follow the pulsed devices' order)."""
    from codesign.devices.capacitor import _phi
    spec = BASE.capacitor.__class__(**{**BASE.capacitor.__dict__, "step_c2c": 0.0})
    shape = (20, 30)
    small = np.zeros(shape, dtype=np.int64)
    small[:10] = 3                                   # k n well below SERIES_MAX
    big = small.copy()
    big[15:] = 2000                                  # k n far above it
    cells = CapacitorArray(spec, shape, np.random.default_rng(1), g_shared=10e-6)
    x = cells._k_up[:10] * 3.0
    assert x.max() < K.SERIES_MAX <= (cells._k_up[15:] * 2000.0).min()
    # the branch matters: the exact form gives other last bits for these devices
    assert (_phi(x) != -np.expm1(-x) / x).any()
    results = []
    for counts in (small, big):
        for sparse in (False, True):
            c = CapacitorArray(spec, shape, np.random.default_rng(1), g_shared=10e-6)
            idx = np.flatnonzero(counts)
            pc = P.PulseCounts(shape, idx, counts.ravel()[idx].astype(np.int32))
            zero = P.PulseCounts(shape, idx, np.zeros(idx.size, dtype=np.int32))
            c.pulses(*((pc, zero) if sparse else (counts, 0)), np.random.default_rng(2))
            results.append(c.g[:10].copy())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("high", [3, 400])
def test_capacitor_device_chunks_on_threads_equal_numpy(high, monkeypatch):
    """Several device chunks on threads, each started once its normals are drawn (the
    normals of one stream, chunk after chunk), give the numpy path's conductances and
    leave the generator where it leaves it."""
    monkeypatch.setattr(K, "DEVICE_CHUNK", 700)
    monkeypatch.setattr(K, "PARALLEL_NS", 0)
    rng = np.random.default_rng(high)
    a = CapacitorArray(BASE.capacitor, (60, 90), np.random.default_rng(1), g_shared=10e-6)
    b = CapacitorArray(BASE.capacitor, (60, 90), np.random.default_rng(1), g_shared=10e-6)
    with K.using_threads(3):
        for _ in range(2):
            n_up, n_down, (su, sd) = _sparse_pair(rng, (60, 90), 0.5, high)
            assert su.idx.size > 3 * 700
            ra, rb = np.random.default_rng(9), np.random.default_rng(9)
            a.pulses(n_up, n_down, ra)
            b.pulses(su, sd, rb)
            np.testing.assert_array_equal(a.g, b.g)
            assert ra.random() == rb.random()


@pytest.mark.parametrize("cell", CELLS)
def test_read_out_weights_equal_float32_of_the_cells_weights(cell):
    tile = AnalogTile(_spec(40, 33, **{"array.cell": cell}), np.random.default_rng(0))
    tile.program(np.random.default_rng(1).uniform(-1, 1, tile.shape))
    tile.update(np.ones((1, 40)), np.ones((1, 33)), 0.3)
    tile.transfer()
    w = weights32(tile.cells)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, tile.cells.weights().astype(np.float32))


# ---- the forward: fused ADC against the numpy steps; noise generator ----------------------
@pytest.mark.parametrize("encoding", ["amplitude", "pulse_width", "bit_serial"])
@pytest.mark.parametrize("noise", [0.0, 0.8])
@pytest.mark.parametrize("threads", [1, 2])
def test_mvm_equals_numpy_steps_with_the_same_noise(encoding, noise, threads):
    spec = _spec(**{"dac.encoding": encoding, "adc.noise": noise, "adc.bits": 6,
                    "adc.full_scale": 3.0})
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, (13, 9)).astype(np.float32)
    x = rng.uniform(-1.2, 1.2, (300, 13))       # several chunks of FWD_ROWS vectors
    with K.using_threads(threads, 0):
        for transpose, xin in ((False, x), (True, x[:, :9])):
            a, b = np.random.default_rng(5), np.random.default_rng(5)
            values, words = conv.mvm(w, xin, spec, a, transpose)
            v_ref, w_ref = conv.mvm_reference(w, xin, spec, b, transpose)
            np.testing.assert_array_equal(words, w_ref)
            np.testing.assert_array_equal(values, v_ref)
            assert a.random() == b.random()


def test_noise_generator_is_standard_normal_and_thread_independent():
    from scipy import stats
    z = K.normals32(12345, 400, 1000).astype(np.float64).ravel()
    assert abs(z.mean()) < 5 * 400_000 ** -0.5
    assert abs(z.var() - 1) < 5 * (2 / 400_000) ** 0.5
    edges = np.concatenate([[-np.inf], np.linspace(-4, 4, 81), [np.inf]])
    obs, _ = np.histogram(z, edges)
    exp = np.diff(stats.norm.cdf(edges)) * z.size
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert stats.chi2.sf(chi2, len(obs) - 1) > 1e-4
    tail = (np.abs(z) > K._ZR).sum()                  # the exact tail algorithm runs
    assert abs(tail - 2 * stats.norm.sf(K._ZR) * z.size) < 5 * np.sqrt(tail)
    with K.using_threads(3):
        np.testing.assert_array_equal(K.normals32(12345, 400, 1000).ravel(), z)
    assert not np.array_equal(K.normals32(12346, 1, 1000), K.normals32(12345, 1, 1000))
    long = K.normals32(7, 1, 200_000).astype(np.float64)      # one long stream
    assert abs(long.var() - 1) < 5 * (2 / 200_000) ** 0.5


@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_device_normals_equal_numpy_in_values_and_state(seed):
    """kernels.standard_normal gives rng.standard_normal's numbers and leaves the
    generator where numpy leaves it, rare wedge and tail draws included (200,000 normals
    hold about 1,400 of them); small calls and other bit generators go to numpy."""
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for n in (200_000, K.NORMALS_DIRECT_MIN, 5, 0, 3000):
        np.testing.assert_array_equal(K.standard_normal(a, n), b.standard_normal(n))
        assert a.bit_generator.state == b.bit_generator.state
    assert a.integers(1 << 62) == b.integers(1 << 62)
    assert (np.abs(b.standard_normal(200_000)) > 3.6541528853610088).any()   # tail drawn
    p, q = (np.random.Generator(np.random.Philox(seed)) for _ in range(2))
    np.testing.assert_array_equal(K.standard_normal(p, 5000), q.standard_normal(5000))
    c = np.random.default_rng(seed + 1)  # state set from outside between calls
    K.standard_normal(c, 2000)
    c.bit_generator.state = a.bit_generator.state
    np.testing.assert_array_equal(K.standard_normal(c, 4000), a.standard_normal(4000))
    c.standard_normal(7)                 # and numpy's own draws in between
    a.standard_normal(7)
    np.testing.assert_array_equal(K.standard_normal(c, 3000), a.standard_normal(3000))


def test_forward_and_backward_do_not_depend_on_thread_counts():
    """Neither the core's threads nor BLAS' (whose own threads round float32 sums
    differently) change a result: fixed chunks, BLAS on one thread inside them."""
    from threadpoolctl import threadpool_limits
    spec = BASE.with_overrides({"adc.noise": 0.5, "dac.encoding": "amplitude"})
    x = np.random.default_rng(1).uniform(-1, 1, (300, 512))
    out = []
    for threads, blas in ((1, 1), (2, 2), (3, 1)):
        tile = AnalogTile(spec, np.random.default_rng(0))
        tile.program(np.random.default_rng(2).uniform(-0.5, 0.5, tile.shape))
        with K.using_threads(threads), threadpool_limits(blas, user_api="blas"):
            out.append((tile.forward(x).codes, tile.backward(x).codes))
    for o in out[1:]:
        np.testing.assert_array_equal(o[0], out[0][0])
        np.testing.assert_array_equal(o[1], out[0][1])


def test_read_out_follows_every_device_change():
    """The cached F (G+ - G-) and the deferred leakage never show a stale weight."""
    spec = _spec(20, 10, **{"capacitor.leak_updates": 5.0})
    tile = AnalogTile(spec, np.random.default_rng(0))
    tile.program(np.random.default_rng(1).uniform(-1, 1, tile.shape))
    cells = tile.cells

    def same():
        np.testing.assert_array_equal(weights32(cells), cells.weights().astype(np.float32))
    same()
    tile.update(np.ones((1, 20)), -np.ones((1, 10)), 0.5)
    cells.tick(3)                                  # leakage pending
    same()
    cells.plus.g = cells.plus.g * 0.9              # a PCM changed by assignment
    same()
    cells.minus.set_pulses(np.ones(tile.shape, dtype=np.int64), np.random.default_rng(2))
    same()
    tile.transfer()
    same()


# ---- the pipelined batch-1 update and the layers' command counts --------------------------
def _programmed_tile(rows: int, cols: int, **overrides):
    """A tile of _spec(rows, cols, **overrides) programmed to uniform +-0.5 targets, and the
    generator that drew them, which then draws the run's inputs."""
    data = np.random.default_rng(2)
    tile = AnalogTile(_spec(rows, cols, **overrides), np.random.default_rng(3))
    tile.program(data.uniform(-0.5, 0.5, tile.shape))
    return tile, data


def _pipelined_run(threads: int, cell: str = "2pcm3t1c"):
    """Updates, forwards, backwards and a transfer on one tile, one example at a time, as
    training runs them; with threads > 1 the updates are pipelined (codesign.tile)."""
    tile, data = _programmed_tile(40, 33, **{"array.cell": cell,
                                             "capacitor.leak_updates": 30.0})
    outs = []
    with K.using_threads(threads):
        for step in range(12):
            x = data.uniform(-1, 1, (1, 40))
            d = data.uniform(-1, 1, (1, 33))
            if step % 3:                      # a read between updates, or updates in a row
                outs.append(tile.forward(x).values)
                outs.append(tile.backward(d).codes)
            outs.append(tile.update(x, d, 0.3 if step % 2 else -0.1).events.update_pulses)
            if step == 7:
                tile.transfer()
        return outs, tile.weights(), tile.rng.random()


@pytest.mark.parametrize("helper", [None, "idle", "done"])
@pytest.mark.parametrize("cell", CELLS)
def test_pipelined_updates_equal_one_thread(cell, helper, monkeypatch):
    """The pipelined update (tile._Once on the crew) computes what one thread does: run
    by a helper, by the caller when no helper starts it ("idle"), or by a helper at
    once ("done")."""
    if helper is not None:
        class Helper:
            def __init__(self, fn):
                if helper == "done":
                    fn()

            def wait(self):
                pass
        monkeypatch.setattr(K, "offer", Helper)
    one, two = _pipelined_run(1, cell), _pipelined_run(2, cell)
    for a, b in zip(one[0], two[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one[1], two[1])
    assert one[2] == two[2]


def test_pipelined_update_is_in_flight_until_the_cells_are_used():
    spec = _spec(40, 33, **{"capacitor.leak_updates": 30.0})
    tile = AnalogTile(spec, np.random.default_rng(3))
    with K.using_threads(2):
        tile.update(np.full((1, 40), 0.5), np.full((1, 33), 0.5), 0.5)
        assert tile._job is not None          # the device response runs on the pool
        w = tile.weights()                    # ... and any use of the cells waits for it
        assert tile._job is None and np.abs(w).max() > 0


def test_layer_counts_equal_the_tiles_per_call_costs():
    """AnalogDense counts vectors, examples and pulses and prices them once; that equals
    the sum of the costs the tiles' public calls report for the same work."""
    from codesign.events import Events
    from codesign.nn.analog import AnalogDense
    spec = _spec(16, 12)
    w0 = np.random.default_rng(0).uniform(-0.1, 0.1, (21, 17))
    layer = AnalogDense(w0, spec, "2pcm3t1c", np.random.default_rng(1), (0, 16, 21),
                        (0, 12, 17))
    twin = AnalogDense(w0, spec, "2pcm3t1c", np.random.default_rng(1), (0, 16, 21),
                       (0, 12, 17))
    data = np.random.default_rng(4)
    sums = {op: [Events(), 0] for op in ("forward", "backward", "update")}
    for batch in (1, 3, 1):
        x = data.uniform(-1, 1, (batch, 20))
        d = data.uniform(-1, 1, (batch, 17))
        layer.forward(x)
        layer.backward(d)
        layer.update(x, d, 0.1)
        xb = np.concatenate([x, np.ones((batch, 1))], axis=1)
        tile_lr = -0.1 / (twin.alpha * batch)
        for (r0, r1), row in zip(twin._rows(), twin.tiles):
            for (c0, c1), t in zip(twin._cols(), row):
                for op, res in (("forward", t.forward(xb[:, r0:r1])),
                                ("backward", t.backward(d[:, c0:c1])),
                                ("update", t.update(xb[:, r0:r1], d[:, c0:c1], tile_lr))):
                    sums[op][0] = sums[op][0] + res.events
                    sums[op][1] += res.cycles
    for op, (events, cycles) in sums.items():
        assert layer.events[op] == events and layer.cycles[op] == cycles, op
    assert layer.events["update"].update_pulses > 0


def test_layer_tiles_side_by_side_equal_one_thread():
    """A layer's tiles run their products on threads (AnalogDense._mvm): the values are
    those of one thread, tile after tile."""
    from codesign.nn.analog import AnalogDense
    spec = _spec(16, 12)
    w0 = np.random.default_rng(0).uniform(-0.1, 0.1, (30, 20))
    out = []
    for threads in (1, 2):
        layer = AnalogDense(w0, spec, "2pcm3t1c", np.random.default_rng(1), (0, 16, 30),
                            (0, 12, 20))
        data = np.random.default_rng(4)
        with K.using_threads(threads, 0 if threads > 1 else None):
            out.append([layer.forward(data.uniform(-1, 1, (5, 29))),
                        layer.backward(data.uniform(-1, 1, (5, 20))), layer.weights()])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


# ---- a batch-1 training update in one compiled call (AnalogTile.train_one) -----------------
def _train_one_run(fused: bool, threads: int, leak: float, shape=(40, 33)):
    """Forwards, backwards, one-example updates (with and without a read between them) and
    a transfer (polarity inversion) on one tile; train_one or update_pulses."""
    rows, cols = shape
    tile, data = _programmed_tile(rows, cols, **{"capacitor.leak_updates": leak})
    outs = []
    with K.using_threads(threads):
        for step in range(14):
            x = data.uniform(-1, 1, (1, rows))
            d = data.uniform(-1, 1, (1, cols))
            if step % 3:
                outs.append(tile.mvm_values(x))
                outs.append(tile.mvm_values(d, transpose=True))
            if step == 5:
                tile.cells.tick(2)                 # leakage pending before an update
            lr = 0.3 if step % 2 else -0.1
            outs.append(tile.train_one(x, d, lr) if fused else
                        tile.update_pulses(x, d, lr)[0])
            if step == 8:
                tile.transfer()
        outs.append(tile._read_weights().copy())
        return outs, tile.weights(), tile.rng.random(), tile.streams.rows_state


@pytest.mark.parametrize("threads,pool", [(1, None), (2, None), (3, None), (2, "idle"),
                                          (2, "done"), (3, "thread")])
@pytest.mark.parametrize("leak,shape", [(30.0, (40, 33)), (0.0, (40, 33)),
                                        (1e6, (300, 120))])
def test_training_update_in_one_call_equals_the_separate_steps(threads, pool, leak, shape,
                                                                monkeypatch):
    """train_one: one compiled call (one thread), or the serial part here and the rest
    shared with the crew (threads; every tile size here): done here when no helper
    takes it ("idle": a helper that never starts), already done when a helper ran it at
    once ("done"), shared block by block with a thread that runs it while this one does
    ("thread")."""
    import threading
    from codesign import tile as tile_module
    ref_run = _train_one_run(False, 1, leak, shape)
    monkeypatch.setattr(tile_module, "SHARED_MIN_DEVICES", 0)
    if pool is not None:
        class Helper:
            given = pool != "idle"       # whether a helper took it (kernels.Offered)

            def __init__(self, fn):
                self.thread = None
                if pool == "done":
                    fn()
                elif pool == "thread":
                    self.thread = threading.Thread(target=fn)
                    self.thread.start()

            def wait(self):
                if self.thread is not None:
                    self.thread.join()
        monkeypatch.setattr(K, "offer", Helper)
    run = _train_one_run(True, threads, leak, shape)
    assert len(ref_run[0]) == len(run[0])
    for a, b in zip(ref_run[0], run[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ref_run[1], run[1])
    assert ref_run[2] == run[2]                    # the generator advanced the same
    np.testing.assert_array_equal(ref_run[3], run[3])


def test_offer_runs_on_a_helper_or_nowhere():
    """kernels.offer: with threads, a free helper of the crew runs the job (wait()
    returns once it is done and re-raises its error); with one thread nobody does."""
    import threading
    with K.using_threads(2):
        ran = []
        job = K.offer(lambda: ran.append(threading.current_thread().name))
        job.wait()
        assert ran and ran[0].startswith("codesign-crew")

        def fail():
            raise ValueError("in the helper")
        bad = K.offer(fail)
        with pytest.raises(ValueError, match="in the helper"):
            bad.wait()
    with K.using_threads(1):
        ran.clear()
        K.offer(lambda: ran.append(1)).wait()
        assert not ran


def _layer_training(threads: int, separate: bool, monkeypatch):
    """A layer of 2 x 2 tiles and a layer of one tile trained one example at a time
    (forward, backward, update, a transfer); separate: every tile by update_pulses."""
    from codesign.nn import analog
    spec = _spec(16, 12, **{"capacitor.leak_updates": 40.0})
    if separate:
        monkeypatch.setattr(AnalogTile, "train_one",
                            lambda self, x, d, lr: self.update_pulses(x, d, lr)[0])
    rng = np.random.default_rng(1)
    layers = [analog.AnalogDense(np.random.default_rng(0).uniform(-0.1, 0.1, (30, 20)),
                                 spec, "2pcm3t1c", rng, (0, 16, 30), (0, 12, 20)),
              analog.AnalogDense(np.random.default_rng(5).uniform(-0.1, 0.1, (13, 9)),
                                 spec, "2pcm3t1c", rng, (0, 13), (0, 9))]
    data = np.random.default_rng(4)
    out = []
    try:
        with K.using_threads(threads):
            for step in range(10):
                for layer, (n_in, n_out) in zip(layers, ((29, 20), (12, 9))):
                    x = data.uniform(-1, 1, (1, n_in))
                    dl = data.uniform(-1, 1, (1, n_out))
                    out.append(layer.forward(x))
                    out.append(layer.backward(dl))
                    layer.update(x, dl, 0.5 if step % 2 else -0.3)
                    if step == 6:
                        layer.transfer()
        out += [layer.weights() for layer in layers] + [rng.random()]
        out += [np.array(layer.events["update"].update_pulses) for layer in layers]
        return out
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("threads", [1, 3])
def test_layer_training_updates_equal_the_separate_steps(threads, monkeypatch):
    """AnalogDense at batch 1 (one compiled call per tile, AnalogTile.train_one) computes
    what update_pulses tile after tile computes, at any thread count."""
    ref_run = _layer_training(1, True, monkeypatch)
    run = _layer_training(threads, False, monkeypatch)
    for a, b in zip(ref_run, run):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("path", ["fires", "blocked"])
@pytest.mark.parametrize("threads", [1, 3])
def test_minibatch_counts_both_paths_any_threads_equal_the_reference(path, threads,
                                                                     monkeypatch):
    """coincide's two mini-batch paths (sparse fires and dense row blocks) on sparse
    trains (many zero codes, as training's), on one thread and over row-block threads."""
    spec = _spec(100, 70, **{"update.rng": "shared", "update.rng_lines": 8})
    bl, batch = spec.update.bl, 24
    rng = np.random.default_rng(11)
    x_mag = rng.integers(0, 128, (batch, 100)) * (rng.random((batch, 100)) < 0.2)
    d_mag = rng.integers(0, 128, (batch, 70)) * (rng.random((batch, 70)) < 0.6)
    rows, cols = P.PulseStreams(spec).trains(x_mag, d_mag)
    rw, cw = P.PulseStreams(spec).packed(x_mag, d_mag)
    rneg, cneg = rng.random((batch, 100)) < 0.5, rng.random((batch, 70)) < 0.5
    want = P.coincidences(rows, np.repeat(rneg, bl, 0), cols, np.repeat(cneg, bl, 0))
    if path == "blocked":
        monkeypatch.setattr(P, "FIRES_MAX_CODES", -1)
    monkeypatch.setattr(K, "PARALLEL_NS", 0)
    with K.using_threads(threads):
        p, n, t = P.coincide(rw, np.ascontiguousarray(rneg.T).view(np.uint8), cw,
                             np.ascontiguousarray(cneg.T).view(np.uint8), (0, batch), bl,
                             (100, 70))
    assert (np.diff(p.idx) > 0).all() and ((p.counts + n.counts) > 0).all()
    np.testing.assert_array_equal(p.dense(), want[0])
    np.testing.assert_array_equal(n.dense(), want[1])
    assert t == want[2] > 0


def test_an_error_in_the_shared_count_reaches_the_caller_before_any_response(monkeypatch):
    """An error in a thread's share of the count (here the second worker's) reaches the
    caller once every worker has ended, and no device response has run: the
    capacitors are as before the update with its pending leakage applied."""
    from codesign import kernels_minibatch as KM
    monkeypatch.setattr(P, "FIRES_MAX_WORDS", 0)          # the row-block (dense) count
    spec = _spec(100, 40, **{"array.cell": "2pcm3t1c", "capacitor.leak_updates": 30.0})
    tiles = []
    for _ in range(2):
        tile = AnalogTile(spec, np.random.default_rng(3), update_mode="minibatch")
        tile.program(np.random.default_rng(2).uniform(-0.5, 0.5, tile.shape))
        data = np.random.default_rng(5)      # the capacitors away from g_shared
        tile.update(data.uniform(-1, 1, (64, 100)), data.uniform(-1, 1, (64, 40)), 0.01)
        tile.cells.tick(4)
        tiles.append(tile)
    before = tiles[0].cells.cap.g        # the pending leakage applied
    assert not np.array_equal(before, tile.cells.cap._g)
    count, respond = KM.count_phase, KM.respond_phase
    calls = {"count": 0, "respond": 0}

    def failing(*args):
        calls["count"] += 1
        if calls["count"] == 2:
            raise RuntimeError("interrupted")
        return count(*args)

    def spy(*args):
        calls["respond"] += 1
        return respond(*args)
    monkeypatch.setattr(KM, "count_phase", failing)
    monkeypatch.setattr(KM, "respond_phase", spy)
    with K.using_threads(2, 0):
        data = np.random.default_rng(4)
        with pytest.raises(RuntimeError, match="interrupted"):
            tile.update(data.uniform(-1, 1, (64, 100)), data.uniform(-1, 1, (64, 40)), 0.01)
    assert calls == {"count": 2, "respond": 0}
    np.testing.assert_array_equal(tile.cells.cap.g, before)
