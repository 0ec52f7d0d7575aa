"""Parity of the tile controller RTL (Icarus via cocotb) with the model: cycles equal
codesign.cycles, output words equal the model's codes, counters equal the model's
events, per command, on randomized inputs, for every ADC kind with a converter block
(sar, flash, ramp, cco: at least three parameter sets each; charge-sar, which runs the
SAR's block, one); and the comparison catches a wrong value."""
from __future__ import annotations

import json
import shutil

import pytest

from codesign import adckinds
from codesign.cli import main
from codesign.hdl.tile import run_tile_bench, with_size

pytestmark = [pytest.mark.rtl,
              pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")]

# Small arrays: Icarus is slow and the logic is the same at every size.
PARITY_SETS = {
    # odd size, 4 ADCs (5 mux groups forward, 3 backward), pulse-width inputs, stochastic
    # LFSR update; saturation 0.5 makes transfers take the RESET-and-restart path too
    "odd-12x20-pulse_width": (with_size("ambrogio2018", 12, 20, 4)
                              .with_overrides({"cell.saturation": 0.5}), 14, 11),
    # power-of-two size, amplitude inputs, deterministic (Bresenham) update, short
    # transfer limit so rows end on the iteration cap
    "pow2-16x16-amplitude": (with_size("ambrogio2018", 16, 16, 4)
                             .with_overrides({"dac.encoding": "amplitude",
                                              "update.mode": "deterministic",
                                              "cell.transfer_max_iter": 4}), 14, 22),
    # HERMES as built: one 8-bit CCO ADC per column counting during the 127-cycle PWM
    # window (1 cycle to latch), 4-PCM differential cell, more ADCs than rows so some ADCs
    # idle in BACKWARD
    "hermes-8x16-cco": (with_size("hermes", 8, 16, 16), 10, 33),
    # cco with bit-serial inputs (a window per phase, shift-and-add of the counts), ADC
    # noise, PCM pairs, 6 bits
    "cco-5x7-bitserial-noise": (with_size("ambrogio2018", 5, 7, 7)
                                .with_overrides({"adc.kind": "cco", "adc.bits": 6,
                                                 "dac.encoding": "bit_serial", "dac.bits": 5,
                                                 "adc.noise": 0.8, "array.cell": "pcm-pair"}),
                                8, 34),
    # cco at its narrowest: 2 bits (most counts saturate), amplitude over a 3-cycle window
    "cco-2x3-2bit": (with_size("ambrogio2018", 2, 3, 3)
                     .with_overrides({"adc.kind": "cco", "adc.bits": 2, "dac.bits": 3,
                                      "dac.encoding": "amplitude", "integrator.cycles": 3}),
                     10, 35),
    # charge-sar (NeuRRAM) runs the SAR's block: the same decisions on the same trials
    "charge-sar-6x8": (with_size("ambrogio2018", 6, 8, 4)
                       .with_overrides({"adc.kind": "charge-sar", "adc.bits": 6}), 8, 36),
    # bit-serial inputs with shift-and-add, ADC noise drawn from the model's stream
    "bitserial-12x20-noise": (with_size("ambrogio2018", 12, 20, 4)
                              .with_overrides({"dac.encoding": "bit_serial", "dac.bits": 6,
                                               "adc.noise": 0.8}), 12, 44),
    # shared update generators: 6 lines per LFSR, groups of 6+6+1 rows and 6+6+6+2
    # columns (a short last group), each line its own 7-bit window of a 16-bit LFSR
    "shared-13x20-6lines": (with_size("ambrogio2018", 13, 20, 4)
                            .with_overrides({"update.rng": "shared",
                                             "update.rng_lines": 6}), 12, 66),
    # narrowest widths: 1 magnitude bit, 3-bit SAR, 4-bit LFSRs, 16-bit counters
    "tiny-3x5-edge": (with_size("ambrogio2018", 3, 5, 5)
                      .with_overrides({"dac.bits": 2, "adc.bits": 3, "update.bl": 5,
                                       "update.lfsr_bits": 4, "update.lfsr_taps": 0x9,
                                       "update.lfsr_seed": 0x3, "integrator.cycles": 1,
                                       "rtl.counter_bits": 16,
                                       "update.rng": "per_line"}), 14, 55),
    # ramp with bit-serial inputs (shift-and-add of counted codes), ADC noise, PCM pairs
    "ramp-12x20-bitserial-noise": (with_size("ambrogio2018", 12, 20, 4)
                                   .with_overrides({"adc.kind": "ramp", "adc.bits": 5,
                                                    "dac.encoding": "bit_serial",
                                                    "dac.bits": 4, "adc.noise": 0.8,
                                                    "array.cell": "pcm-pair"}), 10, 66),
    # ramp, amplitude inputs, 4 bits (15 steps), two mux groups forward
    "ramp-6x8-amplitude": (with_size("ambrogio2018", 6, 8, 4)
                           .with_overrides({"adc.kind": "ramp", "adc.bits": 4,
                                            "dac.encoding": "amplitude"}), 10, 37),
    # ramp at its narrowest: 2 bits (3 steps), one row, ADCs idle in BACKWARD
    "ramp-1x6-2bit": (with_size("ambrogio2018", 1, 6, 3)
                      .with_overrides({"adc.kind": "ramp", "adc.bits": 2, "dac.bits": 3,
                                       "update.mode": "deterministic"}), 12, 77),
    # flash: 6-bit thermometers (63 comparators per ADC), odd mux groups, amplitude
    "flash-12x20-amplitude": (with_size("ambrogio2018", 12, 20, 4)
                              .with_overrides({"adc.kind": "flash", "adc.bits": 6,
                                               "dac.encoding": "amplitude"}), 12, 88),
    # flash with bit-serial inputs and noise: one conversion cycle per group and phase
    "flash-7x9-bitserial-noise": (with_size("ambrogio2018", 7, 9, 3)
                                  .with_overrides({"adc.kind": "flash", "adc.bits": 4,
                                                   "dac.encoding": "bit_serial",
                                                   "dac.bits": 5, "adc.noise": 1.5}),
                                  12, 99),
    # flash at its narrowest (2 bits, 3 comparators), one ADC per column, pulse width
    "flash-3x5-2bit": (with_size("ambrogio2018", 3, 5, 5)
                       .with_overrides({"adc.kind": "flash", "adc.bits": 2, "dac.bits": 2,
                                        "integrator.cycles": 1}), 12, 111),
}


@pytest.mark.parametrize("name", sorted(PARITY_SETS))
def test_rtl_matches_model(name):
    spec, ops, seed = PARITY_SETS[name]
    report = run_tile_bench(spec, ops=ops, seed=seed)
    assert report["error"] is None, report["error"]
    assert report["mismatches"] == 0, "\n".join(report["details"])
    assert report["bench_passed"]
    assert report["ops"] == ops
    # every command ran (forward/backward include LOAD_INPUT and READ_OUTPUT)
    assert all(n > 0 for n in report["op_counts"].values()), report["op_counts"]
    assert report["busy_cycles"] > 0 and report["cycles"] >= report["busy_cycles"]


def _block_owners() -> dict[str, int]:
    """The first kind of each ADC_KIND code (the kind its converter block is named for);
    a later kind with the same code runs that block (charge-sar: the SAR's)."""
    owners: dict[int, str] = {}
    for name, code in adckinds.RTL_CODES.items():
        owners.setdefault(code, name)
    return {name: code for code, name in owners.items()}


def test_every_rtl_adc_kind_has_three_parity_sets():
    """Three sets per converter block, and at least one for a kind that shares a block."""
    kinds = [PARITY_SETS[n][0].adc.kind for n in PARITY_SETS]
    want = {k: (3 if k in _block_owners() else 1) for k in adckinds.RTL_CODES}
    assert {k: kinds.count(k) for k in adckinds.RTL_CODES} == \
        {k: max(n, kinds.count(k)) for k, n in want.items()}


@pytest.mark.parametrize("name, perturb, kind", [
    ("odd-12x20-pulse_width", "cycles", "cycles"), ("odd-12x20-pulse_width", "code", "codes"),
    ("ramp-1x6-2bit", "cycles", "cycles"), ("flash-3x5-2bit", "code", "codes"),
    ("hermes-8x16-cco", "code", "codes")])
def test_comparison_catches_an_off_by_one_cycle_and_a_flipped_code_bit(name, perturb, kind):
    spec = PARITY_SETS[name][0]
    report = run_tile_bench(spec, ops=6, seed=5, perturb=perturb, mix="forward,backward")
    assert not report["bench_passed"]
    assert report["by_kind"][kind] > 0
    assert report["mismatches"] == report["by_kind"][kind]   # nothing else differs


def test_comparison_catches_a_shared_generator_that_fans_out_one_window():
    spec = PARITY_SETS["shared-13x20-6lines"][0]
    report = run_tile_bench(spec, ops=3, seed=5, perturb="rng", mix="update")
    assert not report["bench_passed"]
    assert report["by_kind"]["ports"] > 0         # the fire patterns differ


def test_sim_cli_json_contract(capsys, tmp_path):
    spec = tmp_path / "user.yaml"      # a user-written spec of another size
    spec.write_text("name: user\narray: {rows: 6, cols: 9, cell: 2pcm3t1c}\n"
                    "adc: {count: 3, bits: 5}\ndac: {bits: 4, encoding: pulse_width}\n")
    rc = main(["sim", "tile", "--spec", str(spec), "--ops", "6", "--seed", "1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    for key in ("ops", "mismatches", "cycles"):
        assert isinstance(out[key], int)
    assert out["ops"] == 6 and out["mismatches"] == 0 and out["cycles"] > 0


def test_sim_cli_rejects_a_bad_size(capsys):
    rc = main(["sim", "tile", "--spec", "ambrogio2018", "--rows", "4", "--cols", "10",
               "--adcs", "4", "--ops", "1"])
    assert rc == 2
    assert "adc.count" in capsys.readouterr().err


def _random_spec(seed: int, shared: bool = False):
    """A random small geometry and word widths (what a user might write); shared: with
    shared update generators of a random legal sharing factor (drawn last, so the other
    fields are those of the same seed without)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    cols = int(rng.integers(1, 13))
    adcs = int(rng.choice([d for d in range(1, cols + 1) if cols % d == 0]))
    dac_bits = int(rng.integers(2, 7))
    lfsr_bits = int(rng.integers(max(4, dac_bits - 1), 17))
    kind = str(rng.choice(sorted(_block_owners())))
    # a ramp conversion takes 2^bits - 1 cycles: at most 6 bits keeps the bench short
    adc_bits = int(rng.integers(2, 7 if kind == "ramp" else 9))
    rows = int(rng.integers(1, 11))
    if adckinds.kind(kind).current_input:     # a cco senses one line: one per line
        rows, adcs = min(rows, cols), cols
    spec = with_size("ambrogio2018", rows, cols, adcs).with_overrides({
        "adc.kind": kind, "dac.bits": dac_bits, "adc.bits": adc_bits,
        "dac.encoding": str(rng.choice(["amplitude", "pulse_width", "bit_serial"])),
        "update.mode": str(rng.choice(["stochastic", "deterministic"])),
        "update.bl": int(rng.integers(1, 21)), "update.lfsr_bits": lfsr_bits,
        "update.lfsr_taps": int(rng.integers(2 ** (lfsr_bits - 1), 2 ** lfsr_bits)),
        "update.lfsr_seed": int(rng.integers(1, 2 ** lfsr_bits)),
        "integrator.cycles": int(rng.integers(1, 6)),
        "cell.transfer_max_iter": int(rng.integers(1, 12)),
        "cell.polarity_inversion": bool(rng.integers(0, 2)),
        "array.cell": str(rng.choice(["2pcm3t1c", "pcm-pair"])),
        "update.rng": "per_line"})   # the preset shares 8 lines: too many for small LFSRs
    if shared:
        spec = spec.with_overrides({"update.mode": "stochastic", "update.rng": "shared",
                                    "update.rng_lines": int(rng.integers(
                                        2, lfsr_bits - dac_bits + 3))})
    return spec


@pytest.mark.parametrize("seed", [202, 204, 304, 404])   # flash, cco, ramp, sar
def test_rtl_matches_model_on_a_random_parameter_set(seed):
    spec = _random_spec(seed)
    report = run_tile_bench(spec, ops=10, seed=seed)
    assert report["error"] is None, report["error"]
    assert report["mismatches"] == 0, "\n".join(report["details"])


def test_rtl_matches_model_with_random_shared_generators():
    spec = _random_spec(404, shared=True)         # the SAR draw, with shared generators
    assert spec.lfsr_lines > 1
    report = run_tile_bench(spec, ops=10, seed=404)
    assert report["error"] is None, report["error"]
    assert report["mismatches"] == 0, "\n".join(report["details"])
