"""Tile operations run on the RTL with the analog array played by the physics core.

Each operation first runs on the model tile (codesign.tile.AnalogTile), which yields the
expected output words, cycles and events, and the analog values / fire patterns / verify
answers that the bench plays back at the controller's ports. Then the same operation
runs on the RTL, cycle by cycle: the bench checks what the controller drives (DAC values,
pulse patterns, programming pulses) against the model and answers its comparators from
the model's analog values. Every difference is recorded as a mismatch of one kind:
  cycles   a command's busy cycles differ from codesign.commands (or the model op's total)
  codes    an output word differs from the model's
  counters a performance counter's increment differs from the commands' events
Each operation's expected cycles and counters are the sum of codesign.commands costs of
the commands the bench issued (the data-dependent ones with the model's counts), and the
model tile's own result must equal that sum.
  ports    a DAC drive, fire/sign pattern, programming pulse or polarity differs
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
from cocotb.triggers import Timer

from codesign import commands
from codesign import cycles as cyc
from codesign.converters import adc_compare, dac_codes, dac_phases, mvm_analog, sar_level
from codesign.hdl.tile import COUNTERS, OPS
from codesign.spec import Spec
from codesign.tile import AnalogTile

from .blocks.converter import cco_edges, constant_current
from .tile_driver import TileDriver, bits, fields, pack, pack_bits, uint

WEIGHTS = {"forward": 3, "backward": 2, "update": 3, "transfer": 1, "read": 1}
KINDS = ("cycles", "codes", "counters", "ports")


@dataclass
class Checker:
    """Mismatch bookkeeping: counts per kind and the first messages."""
    counts: dict = field(default_factory=lambda: {k: 0 for k in KINDS})
    details: list = field(default_factory=list)
    op_index: int = 0
    op_name: str = ""

    def fail(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if len(self.details) < 30:
            self.details.append(f"op {self.op_index} {self.op_name}: [{kind}] {message}")

    def equal(self, kind: str, what: str, got, want) -> bool:
        if np.array_equal(np.asarray(got), np.asarray(want)):
            return True
        self.fail(kind, f"{what}: rtl {_short(got)} != model {_short(want)}")
        return False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _short(v) -> str:
    text = np.array2string(np.asarray(v), threshold=12, max_line_width=200) \
        if not np.isscalar(v) else str(v)
    return text if len(text) < 160 else text[:157] + "..."


def sign_magnitude(neg: np.ndarray, mag: np.ndarray, dac_bits: int) -> list[int]:
    """Input words: sign bit + magnitude; zero always has sign 0."""
    mag = np.asarray(mag, dtype=np.int64)
    sign = np.asarray(neg, dtype=bool) & (mag > 0)
    return [int(w) for w in (sign.astype(np.int64) << (dac_bits - 1)) | mag]


def decode_sm(word: int, n: int, dac_bits: int) -> np.ndarray:
    """A flat sign-magnitude bus -> signed integers per line."""
    vals = np.array(fields(word, n, dac_bits), dtype=np.int64)
    mag = vals & ((1 << (dac_bits - 1)) - 1)
    return np.where(vals >> (dac_bits - 1), -mag, mag)


def model_polarity(tile: AnalogTile) -> int:
    """1 when the model's capacitor polarity is inverted (cells without one: 0)."""
    return int(getattr(tile.cells, "polarity", 1.0) < 0)


def start_skip(tile: AnalogTile, trace) -> np.ndarray:
    """Columns that take no part in a transfer row after the start cycle, as the model's
    trace records them (2PCM+3T1C: small targets; PCM-pair refresh: unsaturated pairs)."""
    return np.asarray(trace.skip, dtype=bool)


class TileOps:
    """Runs randomized operations on the RTL and the model side by side."""

    def __init__(self, dut, spec: Spec, seed: int, perturb: str | None = None):
        self.dut, self.spec = dut, spec
        self.rng = np.random.default_rng(seed)                    # inputs and op choice
        self.tile = AnalogTile(spec, np.random.default_rng(seed + 1))
        self.drv = TileDriver(dut)
        self.check = Checker()
        self.perturb = perturb
        if perturb == "rng":
            # a deliberately broken shared generator: every line of a group reads the
            # group's first window (one window fanned out instead of one per line)
            st = self.tile.streams
            st.set_windows(np.zeros_like(st.row_window), np.zeros_like(st.col_window))
        self.rows, self.cols = spec.array.rows, spec.array.cols
        self.last_words: list[int] | None = None
        self.busy_cycles = 0
        self._busy = 0
        self.op_counts = {op: 0 for op in OPS}
        self.cnt_mask = (1 << spec.rtl.counter_bits) - 1

    # ---- set-up --------------------------------------------------------------------
    async def start(self) -> None:
        await self.drv.start()
        w = self.rng.uniform(-1.0, 1.0, (self.rows, self.cols))
        pick = self.rng.random(w.shape)
        w[pick < 0.1] *= 0.05                                      # small targets
        w[pick > 0.93] = np.sign(w[pick > 0.93]) * 0.97            # near saturation
        self.tile.program(w)                                       # model-side only

    def schedule(self, n: int, allowed: tuple[str, ...]) -> list[str]:
        """Every allowed op once (shuffled), then weighted random picks."""
        if self.tile.cells.kind == "ideal":
            allowed = tuple(op for op in allowed if op != "transfer")  # nothing to move
        if not allowed:
            raise ValueError("no operations to run: ideal cells have nothing to transfer")
        first = list(self.rng.permutation(list(allowed)))
        p = np.array([WEIGHTS[o] for o in allowed], dtype=float)
        rest = list(self.rng.choice(list(allowed), size=max(0, n - len(first)), p=p / p.sum()))
        return [str(o) for o in (first + rest)[:n]]

    async def run(self, op: str) -> None:
        self.check.op_index += 1
        self.check.op_name = op
        self.op_counts[op] += 1
        before = await self.drv.counters()
        self._busy = 0                  # busy cycles of the op's commands, added up
        want_cost, model = await getattr(self, "_" + op)()
        got_cycles = self._busy
        after = await self.drv.counters()
        self.busy_cycles += got_cycles
        self.check.equal("cycles", "operation cycles", got_cycles, want_cost.cycles)
        if model is not None:       # the model tile's result is the same sum of commands
            self.check.equal("cycles", "model operation cycles", model.cycles,
                             want_cost.cycles)
            if model.events != want_cost.events:
                self.check.fail("counters", f"model events {model.events} != commands' "
                                f"{want_cost.events}")
        delta = {k: (after[k] - before[k]) & self.cnt_mask for k in COUNTERS}
        want = want_cost.events.as_dict()
        want["cycles"] = want_cost.cycles
        for name in COUNTERS:
            self.check.equal("counters", f"counter {name}", delta[name],
                             want[name] & self.cnt_mask)

    async def _command(self, op: str, cost: commands.CommandCost, **kw) -> int:
        got = await self.drv.command(op, **kw)
        self._busy += got
        want = cost.cycles
        if self.perturb == "cycles" and op in ("FORWARD", "BACKWARD"):
            want += 1                              # a deliberately wrong expectation
        self.check.equal("cycles", f"{op} cycles", got, want)
        return got

    async def _load(self, sel: int, words: list[int]) -> commands.CommandCost:
        cost = commands.load_input(self.spec, len(words))
        got = await self.drv.load(sel, words)
        self._busy += got
        self.check.equal("cycles", "LOAD_INPUT cycles", got, cost.cycles)
        return cost

    async def _read_words(self, n: int, want) -> commands.CommandCost:
        cost = commands.read_output(self.spec, n)
        words: list[int] = []
        got = await self.drv.read(n, words)
        self._busy += got
        self.check.equal("cycles", "READ_OUTPUT cycles", got, cost.cycles)
        want = np.array(want, dtype=np.int64)
        if self.perturb == "code" and want.size:
            want[0] ^= 1                           # a deliberately flipped code bit
        self.check.equal("codes", "output words", words, want)
        self.last_words = words
        return cost

    # ---- FORWARD / BACKWARD ----------------------------------------------------------
    async def _forward(self):
        return await self._mvm(transpose=False)

    async def _backward(self):
        return await self._mvm(transpose=True)

    async def _mvm(self, transpose: bool):
        spec, tile = self.spec, self.tile
        n_in, n_out = (self.cols, self.rows) if transpose else (self.rows, self.cols)
        x = self.rng.uniform(-1.1, 1.1, n_in)
        x[self.rng.random(n_in) < 0.1] = 0.0
        rng_copy = copy.deepcopy(tile.rng)        # the model's draws, replayed below
        res = (tile.backward if transpose else tile.forward)(x[None])
        applied, analog = mvm_analog(tile.weights(), x[None], spec, rng_copy, transpose)
        codes = dac_codes(x, spec)
        words = sign_magnitude(codes < 0, np.abs(codes), spec.dac.bits)

        cost = await self._load(1 if transpose else 0, words)
        probe = MvmProbe(self, applied[:, 0], analog[:, 0], transpose)
        op = "BACKWARD" if transpose else "FORWARD"
        mvm_cost = (commands.backward if transpose else commands.forward)(spec)
        await self._command(op, mvm_cost, on_cycle=probe.cycle)
        probe.finish()
        cost = cost + mvm_cost + await self._read_words(n_out, res.codes[0])
        return cost, res

    async def _read(self):
        if self.last_words is None:
            return await self._forward()
        n = int(self.rng.integers(1, len(self.last_words) + 1))
        want = list(self.last_words[:n])
        cost = await self._read_words(n, want)
        self.last_words = want + self.last_words[n:]
        return cost, None

    # ---- UPDATE --------------------------------------------------------------------
    async def _update(self):
        spec, tile = self.spec, self.tile
        x = self.rng.uniform(-1.0, 1.0, self.rows)
        d = self.rng.uniform(-1.0, 1.0, self.cols)
        x[self.rng.random(self.rows) < 0.1] = 0.0
        lr = float(self.rng.choice([-1, 1]) * self.rng.uniform(0.005, 0.2))
        pol = model_polarity(tile)
        res = tile.update(x[None], d[None], lr)
        c = res.codes
        x_neg, d_neg = x < 0, (d < 0) ^ (lr < 0)
        x_words = sign_magnitude(x_neg, c["x_mag"][0], spec.dac.bits)
        d_words = sign_magnitude(d_neg, c["d_mag"][0], spec.dac.bits)
        cost = await self._load(0, x_words)
        cost = cost + await self._load(1, d_words)
        dut, rows, cols = self.dut, self.rows, self.cols
        slots = []

        def slot(k: int) -> None:
            if uint(dut.upd_slot):
                slots.append((uint(dut.row_fire), uint(dut.row_sign), uint(dut.col_fire),
                              uint(dut.col_sign)))

        upd_cost = commands.update(spec, res.events.update_pulses)
        await self._command("UPDATE", upd_cost, on_cycle=slot)
        cost = cost + upd_cost
        if self.check.equal("ports", "update slots", len(slots), spec.update.bl):
            rf = np.array([bits(s[0], rows) for s in slots], dtype=bool)
            rs = np.array([bits(s[1], rows) for s in slots], dtype=bool)
            cf = np.array([bits(s[2], cols) for s in slots], dtype=bool)
            cs = np.array([bits(s[3], cols) for s in slots], dtype=bool)
            self.check.equal("ports", "row fire pattern", rf, c["row_fire"])
            self.check.equal("ports", "column fire pattern", cf, c["col_fire"])
            self.check.equal("ports", "row signs of fired rows", rs[rf],
                             np.broadcast_to(x_neg, rf.shape)[rf])
            self.check.equal("ports", "column signs of fired columns", cs[cf],
                             np.broadcast_to(d_neg ^ bool(pol), cf.shape)[cf])
        return cost, res

    # ---- TRANSFER ------------------------------------------------------------------
    async def _transfer(self):
        tile, cells = self.tile, self.tile.cells
        cap = getattr(cells, "cap", None)
        if cap is not None:
            # Stand-in for the transfer_interval updates between two transfers: random
            # capacitor states across the whole swing, so that targets move by up to
            # g_span / F and the verify, SET, RESET and iteration-limit paths all run.
            span = self.spec.capacitor.g_span
            cap.write(cap.g_shared + self.rng.uniform(-span, span, cap.shape))
        res = tile.transfer(trace=True)
        tr = res.values
        # the data decide the counts: the model's per-row cycles and pulse totals
        cost = commands.transfer(self.spec, res.codes["verifies_per_row"],
                                 res.codes["pulses_per_row"], res.events.verify_reads,
                                 res.events.set_pulses, res.events.reset_pulses)
        probe = TransferProbe(self, tr, start_skip(tile, tr))
        await self._command("TRANSFER", cost, on_cycle=probe.cycle)
        probe.finish()
        status = await self.drv.status()
        self.check.equal("ports", "polarity register", status["polarity"],
                         model_polarity(tile))
        return cost, res


class MvmProbe:
    """Per-cycle view of one FORWARD/BACKWARD: records the DAC drive of each phase,
    checks it against the model's, and answers the ADC comparators (those of the spec's
    ADC kind: codesign.converters.adc_compare), or, for a current-input converter (cco),
    plays its oscillators during the integration window."""

    def __init__(self, ops: TileOps, applied: np.ndarray, analog: np.ndarray, transpose: bool):
        self.ops, self.spec = ops, ops.spec
        self.applied, self.analog = applied, analog                # (P, n_in), (P, n_out)
        self.transpose = transpose
        self.n_in, self.n_out = applied.shape[1], analog.shape[1]
        self.bus = ops.dut.col_dac if transpose else ops.dut.row_dac
        self.phase = -1
        self.drives: list[np.ndarray] = []
        self.in_integ = False
        self.last_group = -1
        self.edges = np.zeros((0, 0), dtype=np.int64)   # cco: periods per window cycle

    def cycle(self, k: int) -> None:
        dut, spec = self.ops.dut, self.spec
        if uint(dut.integ):
            if not self.in_integ:                  # a new phase starts integrating
                self.phase += 1
                self.drives = []
                self.in_integ = True
            self.drives.append(decode_sm(uint(self.bus), self.n_in, spec.dac.bits))
            if spec.adc_kind.current_input:        # cco: the oscillators run in the window
                self._oscillate(len(self.drives) - 1)
            return
        if self.in_integ:
            self.in_integ = False
            self._check_phase()
        if uint(dut.adc_conv):
            self._answer()

    def _oscillate(self, t: int) -> None:
        """Integration cycle t of a current-input (cco) converter: each ADC's oscillator
        completes its share of the model's level in this cycle (cco_edges at a constant
        line current; floor(level) periods over the window, the model's count exactly);
        ADC a senses output line a (tile_parameters: one ADC per output line), an ADC
        without a line senses nothing."""
        spec = self.spec
        a_n, bits_, window = spec.adc.count, spec.adc.bits, cyc.integration_cycles(spec)
        if t == 0:
            p = min(max(self.phase, 0), self.analog.shape[0] - 1)
            level = np.zeros(a_n)
            n = min(a_n, self.n_out)
            level[:n] = sar_level(self.analog[p, :n], spec)
            self.edges = cco_edges(level, bits_, constant_current(window))
        edges = self.edges[min(t, len(self.edges) - 1)]
        self.ops.dut.adc_cmp.value = pack(edges, bits_)

    def _answer(self) -> None:
        dut, spec, chk = self.ops.dut, self.spec, self.ops.check
        a_n, bits_ = spec.adc.count, spec.adc.bits
        g = uint(dut.adc_group)
        en = bits(uint(dut.adc_en), a_n)
        trials = np.array(fields(uint(dut.adc_trial), a_n, bits_), dtype=np.int64)
        lines = g * a_n + np.arange(a_n)
        real = lines < self.n_out
        if en != [int(r) for r in real]:
            chk.fail("ports", f"adc_en in group {g}: rtl {en} != expected "
                     f"{[int(r) for r in real]}")
        if spec.adc_kind.current_input:            # cco: counted in the window, latched now
            dut.adc_cmp.value = 0
            return
        p = max(self.phase, 0)
        values = self.analog[p, np.minimum(lines, self.n_out - 1)]
        answers = adc_compare(values, trials, spec)                # (ADCS, comparators)
        answers[~real] = 0                                         # idle ADCs: 0
        dut.adc_cmp.value = pack_bits(answers.ravel())

    def _check_phase(self) -> None:
        spec, chk, p = self.spec, self.ops.check, self.phase
        if p >= self.applied.shape[0]:
            chk.fail("ports", f"phase {p}: the model has only {self.applied.shape[0]} phases")
            return
        drives = np.array(self.drives)                             # (T, n_in)
        t_want = cyc.integration_cycles(spec)
        if drives.shape[0] != t_want:
            chk.fail("ports", f"phase {p}: {drives.shape[0]} integration cycles, "
                     f"expected {t_want}")
            return
        if spec.dac.encoding == "pulse_width":
            on = drives != 0
            width = on.sum(axis=0)
            sign = np.where((drives < 0).any(axis=0), -1, 1)
            shaped = (on == (np.arange(len(drives))[:, None] < width[None])).all() and \
                np.isin(drives, (-1, 0, 1)).all() and \
                (np.abs(drives.sum(axis=0)) == width).all()
            if not shaped:
                chk.fail("ports", f"phase {p}: pulse-width drive is not one leading pulse "
                         "per line of unit amplitude")
            observed = dac_phases(sign * width, spec)[0][0]
        else:
            if not (drives == drives[0]).all():
                chk.fail("ports", f"phase {p}: drive changes during integration")
            observed = drives[0].astype(np.float32) if spec.dac.encoding == "bit_serial" \
                else dac_phases(drives[0], spec)[0][0]
        chk.equal("ports", f"phase {p} word-line drive", observed, self.applied[p])

    def finish(self) -> None:
        if self.phase + 1 != self.applied.shape[0]:
            self.ops.check.fail("ports", f"{self.phase + 1} input phases, expected "
                                f"{self.applied.shape[0]}")
        self.ops.dut.adc_cmp.value = 0


class TransferProbe:
    """Per-cycle view of one TRANSFER: replays the model's verify answers row by row and
    checks the controller's programming pulses against the model's decisions."""

    def __init__(self, ops: TileOps, trace, skip: np.ndarray):
        self.ops, self.trace, self.skip = ops, trace, skip
        self.cols = ops.cols
        self.row = -1
        self.verify = 0
        self.answer = None
        self.rows_seen = 0

    async def cycle(self, k: int) -> None:
        dut, chk, tr = self.ops.dut, self.ops.check, self.trace
        if uint(dut.xfer_start):
            row = uint(dut.xfer_row)
            chk.equal("ports", "transfer row order", row, self.row + 1)
            self.row, self.verify, self.rows_seen = row, 0, self.rows_seen + 1
            if row >= tr.start.shape[0]:
                return
            dut.xfer_start_reset.value = pack(tr.start[row])
            dut.xfer_start_skip.value = pack(self.skip[row])
            await Timer(200, unit="ps")                     # reset_both follows the answer
            chk.equal("ports", f"row {row} start RESETs",
                      bits(uint(dut.reset_both), self.cols), tr.start[row].astype(int))
        elif uint(dut.xfer_verify):
            v, row = self.verify, self.row
            self.verify += 1
            if v >= len(tr.err_pos) or row >= tr.start.shape[0]:
                chk.fail("ports", f"row {row}: verify {v} beyond the model's iterations")
                self.answer = np.zeros((3, self.cols), dtype=bool)
            else:
                self.answer = np.array([tr.err_pos[v][row], tr.err_neg[v][row],
                                        tr.sat[v][row]], dtype=bool)
            dut.xfer_err_pos.value = pack(self.answer[0])
            dut.xfer_err_neg.value = pack(self.answer[1])
            dut.xfer_sat.value = pack(self.answer[2])
        elif uint(dut.xfer_pulse):
            pos, neg, sat = self.answer
            got = np.array([bits(uint(s), self.cols) for s in
                            (dut.set_plus, dut.set_minus, dut.reset_both)])
            want = np.array([pos & ~sat, neg & ~sat, sat]).astype(int)
            chk.equal("ports", f"row {self.row} pulse {self.verify} SET+/SET-/RESET", got, want)

    def finish(self) -> None:
        dut = self.ops.dut
        for name in ("xfer_start_reset", "xfer_start_skip", "xfer_err_pos", "xfer_err_neg",
                     "xfer_sat"):
            getattr(dut, name).value = 0
        self.ops.check.equal("ports", "transfer rows", self.rows_seen, self.ops.rows)
