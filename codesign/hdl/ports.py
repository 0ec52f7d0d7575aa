"""The tile controller's port table, generated from the RTL with pyverilog.

``python -m codesign.hdl.ports`` writes docs/ports.md; tests/test_hdl_params.py checks
that the file is current and that every port has a description here (and no stale one).
"""
from __future__ import annotations

import sys
from pathlib import Path

from .introspect import module_info
from .tile import COUNTERS, STATUS_ADDR, TOP, tile_parameters, with_size

#: docs/ports.md of a source checkout (this generator is a developer tool).
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "ports.md"
#: The example whose widths the table shows (a small ambrogio2018 tile).
EXAMPLE = ("ambrogio2018", 24, 40, 4)

PORT_DOCS = {
    "clk": "controller clock (spec clock.frequency)",
    "rst": "synchronous reset, active high: clears buffers, counters, LFSRs (to their "
           "seeds) and the polarity register",
    "cmd_valid": "a command is offered",
    "cmd_ready": "the controller is idle and accepts a command this cycle",
    "cmd_op": "opcode, codesign.cycles.OPCODES (0 LOAD_INPUT, 1 FORWARD, 2 BACKWARD, "
              "3 UPDATE, 4 TRANSFER, 5 READ_OUTPUT)",
    "cmd_sel": "LOAD_INPUT buffer: 0 row buffer (x), 1 column buffer (d)",
    "cmd_len": "LOAD_INPUT / READ_OUTPUT word count, starting at word 0",
    "busy": "high for exactly the command's cycles (codesign/cycles.py)",
    "in_valid": "an input word is offered (LOAD_INPUT)",
    "in_ready": "the controller takes an input word this cycle",
    "in_data": "input word: sign bit + (DAC_BITS-1) magnitude bits",
    "out_valid": "an output word is on out_data (READ_OUTPUT)",
    "out_ready": "the reader takes the output word this cycle",
    "out_data": "signed output word (ADC_BITS, + DAC_BITS-1 for bit-serial shift-and-add)",
    "reg_addr": "register address: " + ", ".join(f"{i} {n}" for i, n in enumerate(COUNTERS))
                + f", {STATUS_ADDR} status (bit 0 polarity, bit 1 busy)",
    "reg_rdata": "register value (combinational from reg_addr), CNT_BITS wide",
    "integ": "integration cycle: the DAC drive below is live",
    "row_dac": "per row: sign-magnitude drive (FORWARD); zero when idle",
    "col_dac": "per column: sign-magnitude drive (BACKWARD); zero when idle",
    "adc_conv": "ADC conversion cycle (a SAR decision, a flash conversion, a ramp step)",
    "adc_group": "column-mux group g: ADC a converts output line g*ADCS + a",
    "adc_en": "per ADC: converting a real line in this group",
    "adc_trial": "per ADC: the comparator's threshold code (offset binary): the SAR's "
                 "trial, the ramp's count; 0 for flash (fixed ladder) and cco",
    "adc_cmp": "per ADC: comparator decisions, 1 iff the sampled value >= threshold: one "
               "(threshold = trial) for sar and ramp; for flash 2^ADC_BITS - 1 "
               "(thermometer, bit j: threshold j + 1); for cco, in each integration "
               "cycle the oscillator periods completed (ADC_BITS bits)",
    "upd_slot": "UPDATE slot cycle",
    "row_fire": "per row: pulse in this slot",
    "row_sign": "per row: sign of x",
    "col_fire": "per column: pulse in this slot",
    "col_sign": "per column: sign of d XOR polarity; cell (r, c) pulse sign = "
                "row_sign XOR col_sign",
    "xfer_start": "TRANSFER row start cycle",
    "xfer_verify": "TRANSFER verify cycle (answers on xfer_err_pos/neg/sat)",
    "xfer_pulse": "TRANSFER programming-pulse cycle",
    "xfer_row": "row being transferred",
    "xfer_start_reset": "answer in the start cycle: RESET both devices of the column",
    "xfer_start_skip": "answer in the start cycle: the column takes no part in this row",
    "xfer_err_pos": "verify answer: target - (G+ - G-) > tolerance",
    "xfer_err_neg": "verify answer: target - (G+ - G-) < -tolerance",
    "xfer_sat": "verify answer: the device to be pulsed is above saturation",
    "set_plus": "per column: SET pulse on G+",
    "set_minus": "per column: SET pulse on G-",
    "reset_both": "per column: RESET pulse on G+ and G-",
    "polarity": "capacitor polarity register (toggles after TRANSFER when POLARITY_INV)",
}


def ports_markdown() -> str:
    info = module_info(TOP)
    name, rows, cols, adcs = EXAMPLE
    params = tile_parameters(with_size(name, rows, cols, adcs))
    lines = [
        "# Tile controller ports",
        "",
        f"Generated from `codesign/rtl/{TOP}.v` by `python -m codesign.hdl.ports` (pyverilog); "
        "do not edit. Timing and protocols: [rtl.md](rtl.md).",
        "",
        "## Parameters",
        "",
        "Each is a spec field (`codesign spec show`); `codesign.hdl.tile.tile_parameters` "
        "maps a spec to these values (POLARITY_INV is 0 for cells without a 3T1C "
        "capacitor). The defaults only let the module elaborate alone.",
        "",
        "| parameter | spec field | default |",
        "|---|---|---|",
    ]
    from .tile import rtl_fields
    fields = rtl_fields()
    for p, default in info.parameters.items():
        lines.append(f"| `{p}` | `{fields.get(p, '?')}` | `{default}` |")
    lines += ["", "## Ports", "",
              f"Width: for the example {name} tile at {rows} x {cols} with {adcs} ADCs.", "",
              "| port | dir | range | width | meaning |", "|---|---|---|---|---|"]
    for port in info.ports:
        doc = PORT_DOCS.get(port.name, "")
        rng = f"`{' '.join(port.range_text.split())}`" if port.range_text else ""
        lines.append(f"| `{port.name}` | {port.direction} | {rng} | {port.width(params)} | "
                     f"{doc} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    text = ports_markdown()
    Path(DOC_PATH).write_text(text)
    print(f"wrote {DOC_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
