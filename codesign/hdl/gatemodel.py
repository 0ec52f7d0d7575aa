"""The tile controller's gate count without running yosys: the RTL's own structure for a
spec, priced per replicated unit by saved synthesis runs.

tile_ctrl.v is a fixed part plus units its generate loops replicate, and the spec sets how
often (TERMS): the code register and line selection of every row and column line (per
DAC bit), each line's magnitude comparator (tile_linecmp: one per line when the
pulse-width drive or the stochastic update compares, with an operand mux when both
share it), deterministic updates' slot schedules, the update LFSRs (per LFSR bit; per
line or shared, update.rng), the output buffer's logic around its memory macro (an adder
per converter word for bit-serial inputs; the word select per converter goes with the
converter terms; the macro itself is not gates, codesign.estimate prices it), the
performance counters (per bit),
and the converter bank the ADC kind selects (codesign.adckinds: tile_sar's and
tile_ramp's and tile_cco's registers per ADC bit; tile_flash's thermometer encoder per comparator
input). The NAND2 equivalents of each unit are the least-squares solution over yosys runs
of the whole controller that vary every term (CALIBRATION: rows and columns from 8 to 64,
ADC count and kind, generator sharing, DAC, ADC, LFSR and counter widths, the DAC
encodings, the update modes).

Those runs are saved with their provenance in controller_gates.json (yosys version, the
SHA-256 of rtl/tile_*.v they synthesized, each run's parameters and NAND2 equivalents);
the coefficients are fitted from the saved runs when loaded. tests/test_gatemodel.py
checks that the saved runs are of today's RTL, and synthesizes held-out variants of every
generator sharing and ADC kind to check the count against yosys. After an RTL change,
regenerate (a few minutes; cached runs are reused)::

    python -m codesign.hdl.gatemodel

The estimator uses this count when it is given no synthesis result
(codesign.estimate.tile_costs.control_gate_equivalents; `--synth FILE` overrides it).
"""
from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserError
from ..fileio import write_text
from ..spec import Spec, load_spec
from .runner import rtl_sources
from ..cycles import output_word_bits
from .tile import COUNTERS

DATA = Path(__file__).with_name("controller_gates.json")


def _pulse_width(spec: Spec) -> bool:
    return spec.dac.encoding == "pulse_width"


def _adcs(spec: Spec, kind: str) -> int:
    """ADCs of the converter block `kind` names (its rtl_code: charge-sar runs the SAR's)."""
    from ..adckinds import kind as adc_kind
    code = adc_kind(kind).rtl_code
    return spec.adc.count if code is not None and spec.adc_kind.rtl_code == code else 0


def _trains(spec: Spec, mode: str) -> bool:
    """The controller draws update pulses in this update.mode (a cell kind that trains in
    situ; an inference-only one has no update logic to drive)."""
    return spec.update.mode == mode and spec.cell_kind.trainable


#: unit -> how many of it the controller of a spec has (the RTL's replication)
TERMS: dict[str, Callable[[Spec], float]] = {
    "fixed": lambda s: 1,
    # tile_perf: one counter per codesign.hdl.tile.COUNTERS
    "counter_bits": lambda s: len(COUNTERS) * s.rtl.counter_bits,
    # tile_ctrl's code registers, tile_dac's line drive
    "line_bits": lambda s: (s.array.rows + s.array.cols) * s.dac.bits,
    # tile_linecmp: one magnitude comparator per line when the pulse-width drive (t <
    # |code|) or the stochastic update (window < |code|) compares ...
    "compare_bits": lambda s: ((s.array.rows + s.array.cols) * (s.dac.bits - 1)
                               if _pulse_width(s) or _trains(s, "stochastic") else 0),
    # ... and its operand mux when both share it
    "compare_mux_bits": lambda s: ((s.array.rows + s.array.cols) * (s.dac.bits - 1)
                                   if _pulse_width(s) and _trains(s, "stochastic") else 0),
    # tile_lfsr: one per generator (per line, or per update.rng_lines lines when shared)
    "lfsr_bits": lambda s: (s.lfsr_count * s.update.lfsr_bits
                            if _trains(s, "stochastic") else 0),
    # deterministic updates: each line's slot schedule from its code instead
    "deterministic_bits": lambda s: ((s.array.rows + s.array.cols) * s.dac.bits
                                     if _trains(s, "deterministic") else 0),
    # tile_obuf around its memory macro (the words are the macro's, not gates): for
    # bit-serial inputs a shift-and-add per converter word of a row (read-modify-write);
    # its read select, one word per converter, is in the converter terms below (it has
    # their count, ADCs x word bits, for every other encoding, so a fit cannot tell the
    # two apart). A bare macro (core.io_buffer false) has no output buffer: its outputs
    # leave at its pins (codesign.commands.buffered_words moves no words through it)
    "obuf_acc_bits": lambda s: (s.adc.count * output_word_bits(s)
                                if s.core.io_buffer and s.dac.encoding == "bit_serial"
                                else 0),
    # the converter bank tile_adc selects (codesign.adckinds), with each converter's word
    # select of the output buffer
    "sar_bits": lambda s: _adcs(s, "sar") * s.adc.bits,
    "ramp_bits": lambda s: _adcs(s, "ramp") * s.adc.bits,
    "cco_bits": lambda s: _adcs(s, "cco") * s.adc.bits,
    "flash_inputs": lambda s: _adcs(s, "flash") * s.adc_kind.comparators(s.adc.bits),
}


def features(spec: Spec) -> np.ndarray:
    return np.array([float(f(spec)) for f in TERMS.values()])


# The synthesized runs: (label, base, overrides). Small sizes (seconds each) that move
# every term on its own; ambrogio2018 is the study's spec, hermes2022-like fields come from
# the overrides.
# The runs name their generators: per line unless a run shares them (the preset's own
# choice, shared-8 since the controller study, must not change what a saved run was).
def _run(rows, cols, adcs, **over) -> dict:
    return {"array.rows": rows, "array.cols": cols, "adc.count": adcs,
            "update.rng": "per_line",
            **{k.replace("__", "."): v for k, v in over.items()}}


CALIBRATION: tuple[tuple[str, dict], ...] = tuple((label, over) for label, over in (
    ("8x8", _run(8, 8, 1)),
    ("16x16", _run(16, 16, 2)),
    ("32x32", _run(32, 32, 4)),
    ("16x16-4adc", _run(16, 16, 4)),
    ("16x8", _run(16, 8, 1)),
    ("8x24", _run(8, 24, 3)),
    ("16x16-shared8", _run(16, 16, 2, update__rng="shared", update__rng_lines=8)),
    ("32x32-shared8", _run(32, 32, 4, update__rng="shared", update__rng_lines=8)),
    ("16x16-shared4", _run(16, 16, 2, update__rng="shared", update__rng_lines=4)),
    ("16x16-flash", _run(16, 16, 2, adc__kind="flash")),
    ("16x16-flash-4adc", _run(16, 16, 4, adc__kind="flash")),
    ("8x8-flash-6b", _run(8, 8, 2, adc__kind="flash", adc__bits=6)),
    ("16x16-ramp", _run(16, 16, 2, adc__kind="ramp")),
    ("16x16-ramp-4adc", _run(16, 16, 4, adc__kind="ramp")),
    ("16x16-cco", _run(16, 16, 16, adc__kind="cco")),
    ("8x8-cco-6b", _run(8, 8, 8, adc__kind="cco", adc__bits=6)),
    ("16x16-adc6", _run(16, 16, 2, adc__bits=6)),
    ("16x16-adc6-4adc", _run(16, 16, 4, adc__bits=6)),
    ("16x16-dac6", _run(16, 16, 2, dac__bits=6)),
    ("16x16-cnt16", _run(16, 16, 2, rtl__counter_bits=16)),
    ("16x16-lfsr12", _run(16, 16, 2, update__lfsr_bits=12, update__lfsr_taps=0xE08,
                          update__lfsr_seed=0xACE)),
    ("16x16-amplitude", _run(16, 16, 2, dac__encoding="amplitude")),
    ("16x16-bitserial", _run(16, 16, 2, dac__encoding="bit_serial")),
    ("16x16-bitserial-4adc", _run(16, 16, 4, dac__encoding="bit_serial")),
    # no line comparator at all: amplitude inputs, deterministic update
    ("16x16-amplitude-deterministic", _run(16, 16, 2, dac__encoding="amplitude",
                                           update__mode="deterministic")),
    ("16x16-deterministic", _run(16, 16, 2, update__mode="deterministic")),
    ("8x8-amplitude", _run(8, 8, 1, dac__encoding="amplitude")),
    ("8x8-deterministic", _run(8, 8, 1, update__mode="deterministic")),
    # one larger run: the count is used far above the small sizes (512 x 512)
    ("64x64", _run(64, 64, 8)),
))
BASE = "ambrogio2018"


def rtl_digest() -> str:
    """SHA-256 of the controller's Verilog sources (rtl/tile_*.v), in name order."""
    h = hashlib.sha256()
    for path in rtl_sources("tile_"):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def fit(runs: list[dict]) -> dict[str, float]:
    """Least-squares NAND2 equivalents per unit of TERMS from synthesized runs
    ({"overrides", "nand2_eq"}), each run's terms recomputed from its spec."""
    x = np.array([features(spec_of(r)) for r in runs])
    y = np.array([r["nand2_eq"] for r in runs], dtype=float)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return dict(zip(TERMS, (float(c) for c in coef)))


def spec_of(run: dict) -> Spec:
    return _base_spec(run.get("base", BASE)).with_overrides(run["overrides"],
                                                            source=run.get("label", "run"))


@lru_cache(maxsize=4)
def _base_spec(name: str) -> Spec:
    """The runs' base preset, read once (Specs are frozen): fit() reads it for each of
    the ~30 runs, once in every process that estimates (a sweep's workers)."""
    return load_spec(name)


def calibrate(log=sys.stderr) -> dict:
    """Synthesize every CALIBRATION run (codesign.hdl.synth, cached) and return the data
    saved in controller_gates.json."""
    from .synth import synth_counts
    runs = []
    for label, over in CALIBRATION:
        res = synth_counts(spec_of({"overrides": over, "label": label}))
        runs.append({"label": label, "base": BASE, "overrides": over,
                     "parameters": res["parameters"], "nand2_eq": res["nand2_eq"]})
        print(f"{label}: {res['nand2_eq']:,.1f} NAND2 eq."
              f"{' (cached)' if res.get('cached') else ''}", file=log, flush=True)
    coef = fit(runs)
    worst = max(abs(float(features(spec_of(r)) @ np.array(list(coef.values())))
                    / r["nand2_eq"] - 1) for r in runs)
    return {"about": "yosys runs of the tile controller that codesign.hdl.gatemodel fits "
                     "its per-unit NAND2 equivalents to; regenerate with "
                     "`python -m codesign.hdl.gatemodel`",
            "yosys": res["yosys"], "rtl_sha256": rtl_digest(),
            "command": "python -m codesign.hdl.gatemodel",
            "nand2_weights": "codesign.hdl.synth.cell_nand2 (NanGate 45 nm cell areas)",
            "max_rel_residual": worst, "coefficients": coef, "runs": runs}


@lru_cache(maxsize=1)
def coefficients() -> dict[str, float]:
    """NAND2 equivalents per unit of TERMS, fitted from the saved runs."""
    if not DATA.is_file():
        raise UserError(f"{DATA}: missing; allowed: regenerate it with "
                        "`python -m codesign.hdl.gatemodel` (needs yosys)")
    return fit(json.loads(DATA.read_text())["runs"])


def controller_ge(spec: Spec) -> float:
    """NAND2 equivalents of the tile controller of `spec` from its structure (TERMS) and
    the fitted per-unit counts."""
    coef = coefficients()
    return float(sum(coef[name] * f(spec) for name, f in TERMS.items()))


def main() -> int:
    data = calibrate()
    write_text(DATA, json.dumps(data, indent=1) + "\n")
    print(f"wrote {DATA}: {len(data['runs'])} runs, largest residual "
          f"{100 * data['max_rel_residual']:.2f} %; " + ", ".join(
              f"{k} {v:,.2f}" for k, v in data["coefficients"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
