"""Random-number variants of the stochastic update (update.rng): the model's pulse trains
against an independent slot-by-slot simulation of the generators as docs/rtl.md states
them, on every model path (tabulated fire bits, tabulated compare values, stepped wide
LFSRs, the one-example compiled update); spec validation; the controller's LFSR count."""
import numpy as np
import pytest

from codesign import pulses as P
from codesign.spec import SpecError
from codesign.estimate.components import load_components
from codesign.estimate.tile_costs import control_gate_equivalents
from codesign.hdl.gatemodel import coefficients
from codesign.spec import load_spec
from codesign.tile import AnalogTile

BASE = load_spec("ambrogio2018")


def _spec(rows=13, cols=9, **over):
    """The preset at a small size, per-line generators unless `over` says otherwise (the
    preset itself shares 8 lines per LFSR)."""
    return BASE.with_overrides({"array.rows": rows, "array.cols": cols, "adc.count": 1,
                                "update.rng": "per_line", **over})


def _oracle(spec, n, mix, mags):
    """Fire patterns (slots, n) written from the documented design, not from the model's
    code: generator g of a line group starts at the per-line variant's seed for index g
    and steps once per slot; line l = g S + k compares the DAC_BITS-1 bits whose top bit
    is LFSR_BITS-1-k*step, step = (LFSR_BITS-DAC_BITS+1) // (S-1)."""
    u = spec.update
    w, mw = u.lfsr_bits, spec.dac.bits - 1
    share = u.rng_lines if u.rng == "shared" else 1
    step = (w - mw) // (share - 1) if share > 1 else 0
    groups = -(-n // share)
    state = []
    for g in range(groups):
        s = (u.lfsr_seed ^ (((g + 1) * mix) & 0xFFFFFFFF)) % 2 ** w
        state.append(s or 2 ** w - 1)
    fires = []
    for mag in mags:                       # examples
        for _t in range(u.bl):             # slots
            row = []
            for line in range(n):
                g, k = divmod(line, share)
                hi = w - 1 - k * step      # top bit of this line's window
                value = (state[g] >> (hi - mw + 1)) & (2 ** mw - 1)
                row.append(value < mag[line])
            fires.append(row)
            state = [(s >> 1) ^ (u.lfsr_taps if s & 1 else 0) for s in state]
    return np.array(fires, dtype=bool)


VARIANTS = {
    "per_line": {},
    "shared-4": {"update.rng": "shared", "update.rng_lines": 4},
    "shared-10-max": {"update.rng": "shared", "update.rng_lines": 10},   # 16 - 8 + 2
    "shared-3-wide": {"update.rng": "shared", "update.rng_lines": 3,
                      "update.lfsr_bits": 22, "update.lfsr_taps": 0x300000,
                      "update.lfsr_seed": 0x2ACE1},                      # stepped LFSRs
    "shared-2-dac3": {"update.rng": "shared", "update.rng_lines": 2, "dac.bits": 3,
                      "update.bl": 70},                                  # two words
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_model_trains_follow_the_documented_generators(name):
    spec = _spec(**VARIANTS[name])
    rng = np.random.default_rng(3)
    maxc = 2 ** (spec.dac.bits - 1) - 1
    a, b = P.PulseStreams(spec), P.PulseStreams(spec)
    xs, ds = [], []
    for _ in range(3):                     # states persist across updates
        x_mag = rng.integers(0, maxc + 1, (2, 13))
        d_mag = rng.integers(0, maxc + 1, (2, 9))
        rows, cols = a.trains(x_mag, d_mag)
        rw, cw = b.packed(x_mag, d_mag)
        codes = P.UpdateCodes(x_mag, d_mag, rw, cw, spec.update.bl)
        np.testing.assert_array_equal(codes["row_fire"], rows)
        np.testing.assert_array_equal(codes["col_fire"], cols)
        xs.append(x_mag)
        ds.append(d_mag)
    x_all, d_all = np.concatenate(xs), np.concatenate(ds)
    # replay from fresh generators: the oracle over all six examples
    fresh = P.PulseStreams(spec)
    rows, cols = fresh.trains(x_all, d_all)
    np.testing.assert_array_equal(rows, _oracle(spec, 13, P.ROW_MIX, x_all))
    np.testing.assert_array_equal(cols, _oracle(spec, 9, P.COL_MIX, d_all))


@pytest.mark.parametrize("name", ["per_line", "shared-4", "shared-10-max"])
def test_one_example_compiled_update_follows_the_generators(name):
    spec = _spec(**VARIANTS[name], **{"array.cell": "ideal"})
    tile = AnalogTile(spec, np.random.default_rng(0))
    tile.program(np.zeros((13, 9)))
    rng = np.random.default_rng(1)
    got_r, got_c, mx, md = [], [], [], []
    for _ in range(3):
        res = tile.update(rng.uniform(-1, 1, (1, 13)), rng.uniform(-1, 1, (1, 9)), 0.05)
        got_r.append(res.codes["row_fire"])
        got_c.append(res.codes["col_fire"])
        mx.append(res.codes["x_mag"])
        md.append(res.codes["d_mag"])
    np.testing.assert_array_equal(np.concatenate(got_r),
                                  _oracle(spec, 13, P.ROW_MIX, np.concatenate(mx)))
    np.testing.assert_array_equal(np.concatenate(got_c),
                                  _oracle(spec, 9, P.COL_MIX, np.concatenate(md)))


def test_lines_of_a_shared_generator_draw_distinct_streams():
    spec = _spec(8, 8, **{"update.rng": "shared", "update.rng_lines": 8,
                          "update.bl": 4000})
    rows, _ = P.PulseStreams(spec).trains(np.full((1, 8), 64), np.full((1, 8), 64))
    # p = 1/2 each; no two lines of the one generator fire alike, and each fires about
    # half the time (the windows are distinct views of one maximal-length sequence)
    assert len({r.tobytes() for r in rows.T}) == 8
    np.testing.assert_allclose(rows.mean(axis=0), 0.5, atol=0.03)


def test_shared_with_one_line_per_generator_is_the_per_line_variant():
    a = P.PulseStreams(_spec())
    b = P.PulseStreams(_spec(**{"update.rng": "shared", "update.rng_lines": 1}))
    mags = np.random.default_rng(0).integers(0, 128, (2, 13)), \
        np.random.default_rng(1).integers(0, 128, (2, 9))
    for u, v in zip(a.trains(*mags), b.trains(*mags)):
        np.testing.assert_array_equal(u, v)


def test_too_many_lines_per_generator_is_rejected_with_the_bound():
    with pytest.raises(SpecError, match=r"update.rng_lines: value 11 .*<= .* = 10"):
        _spec(**{"update.rng": "shared", "update.rng_lines": 11})
    with pytest.raises(SpecError, match="update.rng: .*'per_line', 'shared'|allowed"):
        _spec(**{"update.rng": "one"})


def test_controller_fallback_counts_the_variants_generators():
    lib = load_components()
    per = _spec(512, 512)
    assert per.lfsr_count == 1024
    ge_per, _ = control_gate_equivalents(lib, per)
    for share in (2, 4, 8, 10):
        spec = _spec(512, 512, **{"update.rng": "shared", "update.rng_lines": share})
        assert spec.lfsr_count == 2 * -(-512 // share)
        ge, _ = control_gate_equivalents(lib, spec)
        saved = (1024 - spec.lfsr_count) * 16 * coefficients()["lfsr_bits"]
        assert ge == pytest.approx(ge_per - saved)
