"""The tile controller (rtl/tile_*.v) seen from Python: its parameters from a spec, its
register map, and one call that builds and runs its parity bench (codesign/sims/tile_bench.py).

Spec fields that carry ``rtl="NAME"`` metadata become Verilog parameters of
``tile_ctrl``; tests/test_hdl_params.py holds the two lists equal in both directions.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable

from ..adckinds import KINDS as ADC_KINDS, RTL_CODES as ADC_KIND_CODES
from ..cycles import ENCODING_CODES, RNG_CODES, UPDATE_MODE_CODES
from ..errors import UserError
from ..spec import Spec, iter_fields, load_spec
from .runner import BenchResult, rtl_sources, run_bench

TOP = "tile_ctrl"
BENCH_MODULE = "codesign.sims.tile_bench"

#: Performance counters in register-address order (names of codesign.events.Events).
COUNTERS = ("cycles", "dac_settings", "integrations", "adc_conversions", "update_pulses",
            "set_pulses", "reset_pulses", "verify_reads", "buffer_reads", "buffer_writes")
COUNTER_ADDR = {name: i for i, name in enumerate(COUNTERS)}
STATUS_ADDR = 10          # bit 0 polarity, bit 1 busy

#: String-valued spec fields reach the RTL as these integer codes.
RTL_CODES = {"DAC_ENCODING": ENCODING_CODES, "UPDATE_MODE": UPDATE_MODE_CODES,
             "ADC_KIND": ADC_KIND_CODES, "RNG_SHARED": RNG_CODES}

#: Operations of the parity bench (sims/tile_ops.py); forward/backward include LOAD_INPUT
#: and READ_OUTPUT, read is a READ_OUTPUT of part of the last result.
OPS = ("forward", "backward", "update", "transfer", "read")
#: Deliberate errors the bench can inject into its expectations (run_tile_bench perturb).
PERTURBS = ("cycles", "code", "rng")
OPS_HELP = "comma-separated operations to mix (default all): " + ", ".join(OPS)



def rtl_fields() -> dict[str, str]:
    """Verilog parameter name -> dotted spec key, for every field with rtl metadata."""
    return {meta["rtl"]: key for key, _t, _d, meta in iter_fields() if meta.get("rtl")}


def parameter_problems(module_parameters: Iterable[str],
                       fields: dict[str, str] | None = None) -> list[str]:
    """Differences between a top module's overridable parameters and the spec's rtl
    fields, one message each (empty when they agree). Derived localparams are not
    parameters and do not count."""
    fields = rtl_fields() if fields is None else fields
    params = set(module_parameters)
    problems = [f"spec field {key} names rtl parameter {name}, which {TOP} does not have"
                for name, key in sorted(fields.items()) if name not in params]
    problems += [f"{TOP} parameter {name} maps to no spec field (add rtl=\"{name}\" to "
                 "a field in codesign/spec.py, or make it a localparam)"
                 for name in sorted(params - set(fields))]
    return problems


def _get(spec: Spec, key: str) -> Any:
    obj: Any = spec
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def tile_parameters(spec: Spec | str) -> dict[str, int]:
    """Verilog parameter values of tile_ctrl for a spec (integers only)."""
    spec = load_spec(spec)
    if not spec.adc_kind.has_rtl:
        raise UserError(f"adc.kind: value {spec.adc.kind!r} has no RTL controller; allowed "
                        "for RTL: " + ", ".join(n for n, k in ADC_KINDS.items() if k.has_rtl))
    lines = max(spec.array.rows, spec.array.cols)
    if spec.adc_kind.current_input and spec.adc.count < lines:
        # it senses its line's current during the integration window (tile_cco.v), so one
        # window serves only the lines that have a converter of their own
        raise UserError(f"adc.count: value {spec.adc.count} has no RTL controller with "
                        f"adc.kind {spec.adc.kind} (a current-input converter counts during "
                        f"the window); allowed for RTL: >= {lines}, one per output line")
    if spec.row_groups > 1 or spec.weights.slices == "analog":
        key, value = ("array.rows_active", spec.array.rows_active) if spec.row_groups > 1 \
            else ("weights.slices", spec.weights.slices)
        raise UserError(f"{key}: value {value!r} has no RTL controller yet; allowed for RTL: "
                        "all rows driven at once, slices combined digitally")
    if not spec.core.io_buffer:
        raise UserError("core.io_buffer: value False has no RTL controller yet; allowed for "
                        "RTL: True (the controller loads and reads words through its buffer)")
    params: dict[str, int] = {}
    for name, key in rtl_fields().items():
        value = _get(spec, key)
        if isinstance(value, str):
            if name not in RTL_CODES or value not in RTL_CODES[name]:
                raise UserError(f"{key}: value {value!r} has no RTL code for parameter {name}; "
                                f"known: {sorted(RTL_CODES.get(name, {}))}")
            value = RTL_CODES[name][value]
        params[name] = int(value)
    if not spec.cell_kind.polarity:
        # a cell without a capacitor has no sign for the polarity register to flip
        params["POLARITY_INV"] = 0
    return params


def verilog_value(name: str, value: int) -> str:
    """A parameter value as Verilog text: decimal, or a sized 32-bit hex literal above
    2^31 - 1 (LFSR_TAPS/LFSR_SEED are [31:0]; an unsized decimal would be signed)."""
    return f"32'h{value:08X}" if value > 2 ** 31 - 1 else str(value)


def with_size(spec: Spec | str, rows: int | None = None, cols: int | None = None,
              adcs: int | None = None) -> Spec:
    """The spec with array rows/cols and ADC count overridden (validated as usual)."""
    spec = load_spec(spec)
    over = {k: v for k, v in (("array.rows", rows), ("array.cols", cols),
                               ("adc.count", adcs)) if v is not None}
    return spec.with_overrides(over, source="size override") if over else spec


def run_tile_bench(spec: Spec | str, ops: int = 20, seed: int = 0, waves: bool = False,
                   perturb: str | None = None, mix: str | None = None) -> dict:
    """Build the tile controller for `spec` and run the parity bench on `ops` random
    operations. Returns the bench's report: ops, mismatches, cycles (simulated clock
    cycles), per-kind mismatch counts, the first mismatch messages, wall time, and the
    path of the waves file when asked for.

    perturb ("cycles" or "code") makes the bench expect a wrong value on purpose, to show
    that the comparison catches it ("rng": the model's shared generators hand every line
    of a group the same bit window); mix restricts the operations (comma-separated names
    from codesign.sims.tile_bench.OPS)."""
    spec = load_spec(spec)
    if ops < 1:
        raise UserError(f"ops: value {ops} is too small; allowed: >= 1")
    if seed < 0:
        raise UserError(f"seed: value {seed} is negative; allowed: >= 0")
    env = {"TILE_SPEC": json.dumps(spec.to_dict()), "TILE_OPS": str(ops),
           "TILE_SEED": str(seed)}
    if perturb:
        if perturb not in PERTURBS:
            raise UserError(f"perturb: value {perturb!r} is unknown; allowed: "
                            + ", ".join(PERTURBS))
        if perturb == "rng" and (spec.lfsr_lines == 1 or spec.update.mode != "stochastic"):
            raise UserError("perturb: value 'rng' breaks a shared generator, which this spec "
                            "has none of; allowed: update.mode stochastic with update.rng "
                            "shared and update.rng_lines > 1")
        env["TILE_PERTURB"] = perturb
    if mix:
        names = [m.strip() for m in mix.split(",") if m.strip()]
        bad = [m for m in names if m not in OPS]
        if bad or not names:
            raise UserError(f"mix: value {mix!r} names unknown operations; allowed: "
                            + ", ".join(OPS))
        if not spec.cell_kind.transfers and set(names) == {"transfer"}:
            raise UserError("mix: value 'transfer' has nothing to run: ideal cells have no "
                            "PCM to transfer into; allowed: other operations")
        env["TILE_MIX"] = ",".join(names)
    from ..memory import check_tiles    # the bench holds a model tile of this size
    check_tiles("sim tile", spec, [(spec.array.rows, spec.array.cols)])
    start = time.perf_counter()
    params = {k: verilog_value(k, v) for k, v in tile_parameters(spec).items()}
    result = run_bench(TOP, rtl_sources("tile_"), BENCH_MODULE, params,
                       extra_env=env, waves=waves, seed=seed)
    report = read_report(result)
    report["wall_s"] = time.perf_counter() - start
    report["waves"] = str(result.waves) if result.waves else None
    report["log"] = str(result.log_file)
    report["bench_passed"] = result.ok
    return report


def read_report(result: BenchResult) -> dict:
    path = Path(result.run_dir) / "tile_report.json"
    if not path.is_file():
        raise UserError(f"tile bench wrote no report ({result.summary()}):\n"
                        + result.log_tail())
    return json.loads(path.read_text())
