"""Each RTL block against the model on its own (codesign/sims/blocks/<block>/test_<block>.py, cocotb
on Icarus): randomized stimulus, a scoreboard of cycles, outputs and counters, on several
parameter sets per block; and a deliberately injected bug in each block, in a perturbed
copy of its Verilog, must fail that block's bench."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codesign.cli import main
from codesign.errors import UserError
from codesign.hdl.blocks import (BLOCKS, block_parameters, block_sources, ctrl_widths,
                                 run_block_bench)
from codesign.hdl.tile import with_size
from codesign.spec import load_spec

pytestmark = [pytest.mark.rtl,
              pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")]

AMB = "ambrogio2018"


def _noc(flit: int, depth: int):
    return load_spec(AMB).with_overrides({"noc.flit_bits": flit, "noc.buffer_depth": depth})


# block -> name -> (spec, seed, items, extra keywords of run_block_bench)
SETS = {
    "tile_sar": {
        "4adc-8bit": (with_size(AMB, 4, 8, 4), 11, 40, {}),
        "1adc-2bit": (with_size(AMB, 2, 3, 1).with_overrides({"adc.bits": 2}), 12, 40, {}),
        "5adc-13bit": (with_size(AMB, 3, 5, 5).with_overrides({"adc.bits": 13}), 13, 20, {}),
    },
    # the converter blocks of the other ADC kinds (codesign.hdl.blocks.block_spec sets
    # adc.kind to the block's)
    "tile_flash": {
        "4adc-4bit": (with_size(AMB, 4, 8, 4).with_overrides({"adc.bits": 4}), 61, 40, {}),
        "1adc-2bit": (with_size(AMB, 2, 3, 1).with_overrides({"adc.bits": 2}), 62, 40, {}),
        # 255 comparators per ADC: a 765-bit thermometer bus
        "3adc-8bit": (with_size(AMB, 3, 6, 3).with_overrides({"adc.bits": 8}), 63, 30, {}),
    },
    "tile_ramp": {
        "4adc-4bit": (with_size(AMB, 4, 8, 4).with_overrides({"adc.bits": 4}), 71, 16, {}),
        "1adc-2bit": (with_size(AMB, 2, 3, 1).with_overrides({"adc.bits": 2}), 72, 40, {}),
        # HERMES' own: 8-bit counting (CCO) converters, one per column, 255 steps
        "hermes-16adc-8bit": (with_size("hermes", 4, 16, 16), 73, 4, {}),
    },
    # HERMES' converters (cco): oscillators counted during the window, one per line
    "tile_cco": {
        "hermes-16adc-8bit": (with_size("hermes", 4, 16, 16), 81, 30, {}),
        "3adc-2bit": (with_size(AMB, 2, 3, 3).with_overrides({"adc.bits": 2}),
                      82, 40, {}),
        "5adc-12bit": (with_size(AMB, 3, 5, 5).with_overrides({"adc.bits": 12}),
                       83, 30, {}),
    },
    # the per-line comparator the pulse-width drive and the stochastic update share
    "tile_linecmp": {
        # ambrogio2018: pulse-width inputs and stochastic updates share it (operand mux)
        "shared-pw-stochastic-5": (with_size(AMB, 5, 7, 7), 91, 120, {}),
        # only the update's windows (amplitude inputs), 5-bit codes
        "windows-amplitude-9": (with_size(AMB, 9, 4, 4).with_overrides(
            {"dac.encoding": "amplitude", "dac.bits": 5}), 92, 120, {}),
        # only the pulse counter (deterministic updates), 2-bit codes
        "pulse-deterministic-3": (with_size(AMB, 3, 2, 2).with_overrides(
            {"update.mode": "deterministic", "dac.bits": 2}), 93, 120, {}),
        # neither: bit-serial inputs, deterministic updates (no comparator)
        "none-bitserial-4": (with_size(AMB, 4, 4, 4).with_overrides(
            {"dac.encoding": "bit_serial", "update.mode": "deterministic"}), 94, 40, {}),
    },
    "tile_update": {
        # stochastic, the tabulated 16-bit LFSR of the 2018 spec
        "stochastic-5x7": (with_size(AMB, 5, 7, 7), 21, 8, {}),
        "deterministic-4x6-bl13": (with_size(AMB, 4, 6, 6).with_overrides(
            {"update.mode": "deterministic", "update.bl": 13, "dac.bits": 5}), 22, 10, {}),
        # one magnitude bit, 4-bit LFSRs (every seed mix reduced mod 16)
        "tiny-3x2-lfsr4": (with_size(AMB, 3, 2, 2).with_overrides(
            {"update.rng": "per_line", "dac.bits": 2, "update.bl": 5, "update.lfsr_bits": 4,
             "update.lfsr_taps": 0x9,
             "update.lfsr_seed": 0x3}), 23, 12, {}),
        # shared generators: 3 lines per LFSR, short last groups (7 = 3+3+1, 5 = 3+2)
        "shared-7x5-3lines": (with_size(AMB, 7, 5, 5).with_overrides(
            {"update.rng": "shared", "update.rng_lines": 3}), 25, 8, {}),
        # 32-bit LFSRs: the model steps them (too wide to tabulate)
        "lfsr32-2x3-bl40": (with_size(AMB, 2, 3, 3).with_overrides(
            {"update.lfsr_bits": 32, "update.lfsr_taps": 0x80200003,
             "update.lfsr_seed": 0xFFFFFFFF, "update.bl": 40, "dac.bits": 6}), 24, 4, {}),
    },
    "tile_xfer": {
        # 2PCM+3T1C with early saturation: start RESETs, saturated RESETs, SETs
        "2pcm3t1c-4x6-sat": (with_size(AMB, 4, 6, 6).with_overrides(
            {"cell.saturation": 0.5}), 31, 3, {}),
        # a short iteration cap, no polarity inversion
        "2pcm3t1c-5x3-cap4": (with_size(AMB, 5, 3, 3).with_overrides(
            {"cell.transfer_max_iter": 4, "cell.polarity_inversion": False}), 32, 3, {}),
        # PCM-pair refresh (no capacitor: POLARITY_INV 0)
        "pcm-pair-3x5": (with_size(AMB, 3, 5, 5).with_overrides(
            {"array.cell": "pcm-pair", "cell.saturation": 0.6,
             "cell.transfer_max_iter": 12}), 33, 3, {}),
    },
    "noc_fifo": {
        "depth4-flit32": (_noc(32, 4), 41, 300, {}),
        "depth1-flit8": (_noc(8, 1), 42, 150, {}),
        "depth5-flit9": (_noc(9, 5), 43, 300, {}),
    },
    "noc_router": {
        "centre-3x3-depth4": (_noc(32, 4), 51, 300, {"grid": (3, 3), "at": (1, 1)}),
        "corner-4x2-depth1": (_noc(8, 1), 52, 200, {"grid": (4, 2), "at": (3, 0)}),
        "edge-5x3-depth3": (_noc(12, 3), 53, 300, {"grid": (5, 3), "at": (2, 2)}),
    },
}

#: What the bench must have reached on every parameter set (scoreboard coverage).
MUST_COVER = {
    "tile_sar": ("idle cycles", "decisions 1"),
    "tile_flash": ("idle cycles", "comparators firing", "codes at full scale",
                   "codes at zero"),
    "tile_ramp": ("idle cycles", "comparators firing", "codes at full scale",
                  "codes at zero"),
    "tile_cco": ("idle cycles", "window cycles", "codes at full scale", "codes at zero",
                 "cycles with a full field"),
    "tile_linecmp": ("lines on the threshold",),
    "tile_update": ("slots with pulses", "resets"),
    "tile_xfer": ("start RESETs", "SET pulses"),
    "noc_fifo": ("pushes refused (full)", "pops ignored (empty)", "resets"),
    "noc_router": ("refused offers (locks)", "cycles with 3+ input heads waiting", "resets"),
}

#: ... and what a particular parameter set is there for.
MUST_COVER_SET = {("tile_xfer", "2pcm3t1c-4x6-sat"): ("saturated RESETs",),
                  ("tile_xfer", "2pcm3t1c-5x3-cap4"): ("rows ending on the iteration cap",),
                  ("tile_sar", "4adc-8bit"): ("resets mid-conversion",),
                  ("tile_ramp", "4adc-4bit"): ("resets mid-conversion",),
                  ("tile_cco", "hermes-16adc-8bit"): ("resets mid-conversion",),
                  ("tile_linecmp", "shared-pw-stochastic-5"): ("window compares",
                                                                "pulse compares", "lines below"),
                  ("tile_linecmp", "windows-amplitude-9"): ("window compares",),
                  ("tile_linecmp", "pulse-deterministic-3"): ("pulse compares",)}

CASES = [(b, n) for b in SETS for n in SETS[b]]


@pytest.mark.parametrize("block, name", CASES, ids=[f"{b}-{n}" for b, n in CASES])
def test_block_matches_model(block, name):
    spec, seed, items, kw = SETS[block][name]
    report = run_block_bench(block, spec, seed=seed, items=items, **kw)
    assert report["error"] is None, report["error"]
    assert report["mismatches"] == 0, "\n".join(report["details"])
    assert report["bench_passed"]
    assert report["ops"] >= items * 0.7 and report["cycles"] > items
    for what in MUST_COVER[block] + MUST_COVER_SET.get((block, name), ()):
        assert report["coverage"].get(what, 0) > 0, (what, report["coverage"])


def test_every_block_has_sets_at_two_parameter_values_or_more():
    assert set(SETS) == set(BLOCKS)
    for block, sets in SETS.items():
        params = [tuple(sorted(block_parameters(block, s, **kw).items()))
                  for s, _, _, kw in sets.values()]
        assert len(set(params)) >= 2, block


def test_tile_block_parameters_follow_the_spec():
    spec = with_size(AMB, 5, 7, 7)
    assert block_parameters("tile_sar", spec) == {"ADCS": 7, "BITS": spec.adc.bits}
    xfer = block_parameters("tile_xfer", spec)
    assert xfer["RW"] == 3 and xfer["CCW"] == 3 and xfer["MAX_ITER"] == \
        spec.cell.transfer_max_iter
    assert block_parameters("tile_update", spec)["PULSE_W"] == 3 + 3
    assert block_parameters("noc_router", AMB, grid=(4, 2), at=(3, 0)) == {
        "FLIT_W": 32, "DEPTH": 4, "X_BITS": 1, "Y_BITS": 2, "X": 0, "Y": 3}
    with pytest.raises(UserError, match="router position"):
        block_parameters("noc_router", AMB, grid=(2, 2), at=(2, 0))
    with pytest.raises(UserError, match="block: value 'tile_nope'"):
        block_parameters("tile_nope", AMB)


def test_declared_parameters_reads_the_parameter_list(tmp_path):
    """(pyverilog 1.3 cannot parse tile_update's functions, so a regular expression reads
    the names; comments, ranges and parenthesized defaults must not confuse it.)"""
    from codesign.hdl.blocks import declared_parameters
    v = tmp_path / "m.v"
    v.write_text("`timescale 1ns/1ps\n// parameter NOT = 1\nmodule m #(\n"
                 "    parameter integer A = (2 > 1) ? 3 : 4,  // parameter B = 2\n"
                 "    parameter [31:0]  TAPS = 32'h0000_B400,\n    parameter C = 1\n"
                 ") (\n    input wire clk\n);\n    localparam integer D = 2;\nendmodule\n")
    assert declared_parameters(v) == ["A", "TAPS", "C"]
    assert declared_parameters(block_sources("tile_xfer")[0]) == [
        "ROWS", "COLS", "MAX_ITER", "POLARITY_INV", "RW", "CCW"]


# ---------------------------------------------------------------- injected bugs
# block -> (parameter set, original text, injected text, kind of mismatch it must cause)
BUGS = {
    # the code register is not cleared after the LSB: the next conversion's trials differ
    "tile_sar": ("4adc-8bit",
                 "            if (last) begin\n                bitpos <= MSB;\n"
                 "                code   <= {ADCS*BITS{1'b0}};",
                 "            if (last) begin\n                bitpos <= MSB;\n"
                 "                code   <= result;", "outputs"),
    # wrong thresholds: the encoder reads comparator j as threshold j (one code low)
    "tile_flash": ("4adc-4bit",
                   "localparam integer CODE = j + 1;     // threshold of comparator j",
                   "localparam integer CODE = j;         // threshold of comparator j",
                   "outputs"),
    # off by one in the ramp counter: the conversion ends a step early
    "tile_ramp": ("4adc-4bit", "assign last = go && (step == TOP);",
                  "assign last = go && (step == TOP - 1'b1);", "cycles"),
    # the oscillator count wraps past full scale instead of saturating
    "tile_cco": ("hermes-16adc-8bit",
                 "assign next[a*BITS +: BITS] = sum[BITS] ? TOP : sum[BITS-1:0];",
                 "assign next[a*BITS +: BITS] = sum[BITS-1:0];", "outputs"),
    # a line is also below when its operand equals its magnitude (the comparison that
    # was tile_update's injected bug before the comparator was shared)
    "tile_linecmp": ("shared-pw-stochastic-5",
                     "assign lt[i] = (a < codes[i*DAC_BITS +: MW]);",
                     "assign lt[i] = (a <= codes[i*DAC_BITS +: MW]);", "outputs"),
    # each row's window taken one bit too low in its LFSR
    "tile_update": ("stochastic-5x7",
                    "localparam integer HI = (r / SH) * LFSR_BITS + LFSR_BITS - 1 - (r % SH) * STEP;",
                    "localparam integer HI = (r / SH) * LFSR_BITS + LFSR_BITS - 2 - (r % SH) * STEP;",
                    "outputs"),
    # the iteration cap ends a row one pulse cycle early
    "tile_xfer": ("2pcm3t1c-5x3-cap4", "(pulse && iter == I_LAST)",
                  "(pulse && iter == I_LAST - 1'b1)", "cycles"),
    # ready also when a pop frees a slot in the same cycle (a combinational path the
    # mesh model and the link timing do not have)
    "noc_fifo": ("depth1-flit8", "assign ready = (count != FULL);",
                 "assign ready = (count != FULL) || pop;", "cycles"),
    # the round-robin pointer stays on the winner instead of moving past it
    "noc_router": ("centre-3x3-depth4", "if (xfer[go]) rr_ptr <= add5(win, 3'd1);",
                   "if (xfer[go]) rr_ptr <= win;", "outputs"),
}


def perturbed_copy(block: str, old: str, new: str, into: Path) -> Path:
    """The block's sources copied into `into`, with `old` (which must occur exactly once
    in the block's own file) replaced by `new`."""
    sources = block_sources(block)
    for src in sources:
        shutil.copy(src, into / src.name)
    own = into / sources[0].name
    text = own.read_text()
    assert text.count(old) == 1, f"{block}: the text to perturb occurs {text.count(old)} times"
    own.write_text(text.replace(old, new))
    return into


@pytest.mark.parametrize("block", sorted(BUGS))
def test_injected_bug_fails_the_block_bench(block, tmp_path):
    name, old, new, kind = BUGS[block]
    spec, seed, items, kw = SETS[block][name]
    rtl = perturbed_copy(block, old, new, tmp_path)
    report = run_block_bench(block, spec, seed=seed, items=items, rtl_dir=rtl, **kw)
    assert not report["bench_passed"]
    assert report["by_kind"][kind] > 0, report["by_kind"]
    assert any(f"[{kind}]" in line for line in report["details"]), report["details"][:5]


def test_sim_block_cli_json_contract(capsys):
    rc = main(["sim", "block", "noc_fifo", "--spec", "ambrogio2018", "--items", "30",
               "--seed", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["ops"] == 30 and out["mismatches"] == 0 and out["cycles"] > 30
    assert out["parameters"] == {"W": 32, "DEPTH": 4}


def test_sim_block_cli_rejects_bad_items(capsys):
    rc = main(["sim", "block", "tile_sar", "--spec", "ambrogio2018", "--items", "0"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "items" in err and "Traceback" not in err


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_ctrl_widths_equal_what_tile_ctrl_derives(tmp_path):
    """The block parameters' derived widths (codesign.hdl.blocks.ctrl_widths) are the
    localparams tile_ctrl.v computes: Icarus elaborates tile_ctrl at several sizes and
    prints them."""
    import subprocess
    from codesign.hdl.tile import tile_parameters, verilog_value
    rtl = Path(block_sources("tile_sar")[0]).parent
    for rows, cols in ((8, 8), (12, 20), (16, 64), (33, 7)):
        spec = with_size(load_spec("ambrogio2018"), rows, cols, 4 if cols % 4 == 0 else 1)
        params = ", ".join(f".{k}({verilog_value(k, v)})"
                           for k, v in tile_parameters(spec).items())
        top = tmp_path / f"top_{rows}_{cols}.v"
        top.write_text("`timescale 1ns/1ps\nmodule top;\n"
                       f"  tile_ctrl #({params}) dut();\n"
                       '  initial $display("%0d %0d %0d", dut.RW, dut.CCW, dut.PULSE_W);\n'
                       "endmodule\n")
        out = tmp_path / f"top_{rows}_{cols}.vvp"
        subprocess.run(["iverilog", "-g2012", "-s", "top", "-o", str(out), str(top),
                        *map(str, sorted(rtl.glob("tile_*.v")))], check=True,
                       capture_output=True, text=True)
        res = subprocess.run(["vvp", "-n", str(out)], check=True, capture_output=True,
                             text=True)
        rw, ccw, pulse = map(int, res.stdout.split()[:3])
        assert ctrl_widths(rows, cols) == {"RW": rw, "CCW": ccw, "PULSE_W": pulse}, \
            (rows, cols)
