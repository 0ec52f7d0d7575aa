"""What each tile controller command costs: one function per command gives its cycles and
its events, and the command sequences a tile runs per vector are built from them.

AnalogTile (codesign.tile), the estimator (codesign.estimate.tile_costs) and the RTL
parity benches (sims/tile_ops.py) all call these functions, so a command's cost is stated
once. Timing comes from the pure functions of codesign.cycles; this module pairs it with
the events (docs/cycles.md has the table).

Data-dependent commands (UPDATE, TRANSFER) take the counts as parameters. The tile passes
the exact counts it saw (integers: the result's events are codesign.events.Events, the
RTL's counters count the same); the estimator passes expected counts, which may be
fractional: then the events are an ExpectedEvents mapping and the cycles may be a float.

    load_input(spec, n)      LOAD_INPUT of n words
    read_output(spec, n)     READ_OUTPUT of n words
    forward(spec)            FORWARD (rows in, columns out)
    backward(spec)           BACKWARD (columns in, rows out)
    update(spec, coincidences)
    transfer(spec, verifies_per_row, pulses_per_row, verify_reads, set_pulses,
             reset_pulses)
    mvm_sequence(spec, transpose, vectors)         LOAD_INPUT, FORWARD|BACKWARD, READ_OUTPUT
    update_sequence(spec, coincidences, examples)  LOAD_INPUT x, LOAD_INPUT d, UPDATE
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Union

import numpy as np

from . import cycles as cyc
from .events import FIELDS, Events
from .spec import Spec


class ExpectedEvents(Mapping[str, float]):
    """Expected event counts (means over data the estimator does not know; may be
    fractional). The names are those of Events; a name not given counts 0."""

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[str, float] | None = None, **more: float):
        given = {**dict(counts or {}), **more}
        unknown = set(given) - set(FIELDS)
        if unknown:
            raise KeyError(f"unknown event names {sorted(unknown)}; known: {', '.join(FIELDS)}")
        self._counts = {k: float(given.get(k, 0.0)) for k in FIELDS}

    def __getitem__(self, name: str) -> float:
        return self._counts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(FIELDS)

    def __len__(self) -> int:
        return len(FIELDS)

    def __add__(self, other: "Counts") -> "ExpectedEvents":
        other = _as_dict(other)
        return ExpectedEvents({k: self._counts[k] + other[k] for k in FIELDS})

    __radd__ = __add__

    def __mul__(self, factor: float) -> "ExpectedEvents":
        return ExpectedEvents({k: v * factor for k, v in self._counts.items()})

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Events, ExpectedEvents)):
            return _as_dict(other) == self._counts
        return NotImplemented

    def as_dict(self) -> dict[str, float]:
        return dict(self._counts)

    def __repr__(self) -> str:
        nonzero = ", ".join(f"{k}={v:g}" for k, v in self._counts.items() if v)
        return f"ExpectedEvents({nonzero})"


Counts = Union[Events, ExpectedEvents]


def _as_dict(counts: Counts) -> dict:
    return counts.as_dict()


def _events(**counts) -> Counts:
    """Events when every count is an integer (exact), ExpectedEvents otherwise."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
           for v in counts.values()):
        return Events(**{k: int(v) for k, v in counts.items()})
    return ExpectedEvents(counts)


@dataclass(frozen=True)
class CommandCost:
    """Controller cycles and events of one command or a sequence of them."""
    cycles: int | float
    events: Counts

    def __add__(self, other: "CommandCost") -> "CommandCost":
        a, b = self.events, other.events
        if isinstance(a, Events) and isinstance(b, Events):
            events: Counts = a + b
        else:
            events = ExpectedEvents(a.as_dict()) + b
        return CommandCost(self.cycles + other.cycles, events)

    def __mul__(self, times: int) -> "CommandCost":
        """The cost of `times` such commands (an integer: commands are counted)."""
        if isinstance(times, (bool, float)) or not isinstance(times, (int, np.integer)):
            raise TypeError("a command cost scales by an integer number of commands")
        return CommandCost(self.cycles * int(times), self.events * int(times))

    __rmul__ = __mul__

    @property
    def counts(self) -> dict:
        """Event name -> count (int or expected float)."""
        return self.events.as_dict()


# ---- one function per controller command -------------------------------------------------
def load_input(spec: Spec, n_words: int) -> CommandCost:
    """LOAD_INPUT: one word per cycle into the input buffer."""
    return CommandCost(cyc.load_cycles(n_words), _events(buffer_writes=n_words))


def read_output(spec: Spec, n_words: int) -> CommandCost:
    """READ_OUTPUT: one word per cycle out of the output buffer."""
    return CommandCost(cyc.read_cycles(n_words), _events(buffer_reads=n_words))


def _mvm(spec: Spec, n_in: int, n_out: int, cycles: int, transpose: bool) -> CommandCost:
    """Every input line is driven and every cell read once per input phase; every output
    line is integrated, and converted (codesign.cycles.converted_outputs), once per read
    phase (input phases x row groups; data-independent)."""
    p = cyc.input_phases(spec)
    r = cyc.read_phases(spec, transpose)
    conv = cyc.converted_outputs(spec, n_out, transpose)
    return CommandCost(cycles, Events(dac_settings=n_in * p, integrations=n_out * r,
                                      adc_conversions=conv * r, cell_reads=n_in * n_out * p))


def forward(spec: Spec) -> CommandCost:
    """FORWARD: rows driven, columns converted (codesign.cycles.forward_cycles)."""
    return _mvm(spec, spec.array.rows, spec.array.cols, cyc.forward_cycles(spec), False)


def backward(spec: Spec) -> CommandCost:
    """BACKWARD: columns driven, rows converted (codesign.cycles.backward_cycles)."""
    return _mvm(spec, spec.array.cols, spec.array.rows, cyc.backward_cycles(spec), True)


def update(spec: Spec, coincidences: int | float) -> CommandCost:
    """UPDATE: 1 + BL cycles; update_pulses = the coincidences of fired row and column
    lines over its BL slots (one pulse reaching one cell each)."""
    return CommandCost(cyc.update_cycles(spec), _events(update_pulses=coincidences))


def transfer(spec: Spec, verifies_per_row, pulses_per_row, verify_reads: int | float,
             set_pulses: int | float, reset_pulses: int | float) -> CommandCost:
    """TRANSFER: per row a start cycle, its verify cycles and its pulse cycles
    (codesign.cycles.transfer_cycles); events: the verify comparisons of live cells and the
    SET and RESET pulses on single PCM devices. The per-row counts are arrays over the rows
    the command walks (none: no cycles)."""
    return CommandCost(cyc.transfer_cycles(verifies_per_row, pulses_per_row),
                       _events(verify_reads=verify_reads, set_pulses=set_pulses,
                               reset_pulses=reset_pulses))


# ---- the sequences a tile runs per vector ---------------------------------------------------
def buffered_words(spec: Spec, n_words: int) -> int:
    """Words a sequence moves through the core's I/O buffer: none for a bare macro
    (core.io_buffer false), whose lines take their inputs and give their outputs at its
    pins, all at once."""
    return n_words if spec.core.io_buffer else 0


def mvm_sequence(spec: Spec, transpose: bool = False, vectors: int = 1) -> CommandCost:
    """`vectors` x (LOAD_INPUT of the input edge, FORWARD or BACKWARD, READ_OUTPUT of the
    output edge): one matrix-vector product as the hardware runs it."""
    def build() -> CommandCost:
        rows, cols = spec.array.rows, spec.array.cols
        n_in, n_out = (cols, rows) if transpose else (rows, cols)
        one = load_input(spec, buffered_words(spec, n_in)) + \
            (backward if transpose else forward)(spec) + \
            read_output(spec, buffered_words(spec, n_out))
        return one * vectors
    return _once(spec, ("mvm", bool(transpose), int(vectors)), build)


def update_sequence(spec: Spec, coincidences: int | float, examples: int = 1) -> CommandCost:
    """`examples` x (LOAD_INPUT x (rows words), LOAD_INPUT d (columns words), UPDATE);
    `coincidences`: the update pulses of all of them together (pulses add up, and the
    counters see the total)."""
    def build() -> CommandCost:
        one = load_input(spec, buffered_words(spec, spec.array.rows)) + \
            load_input(spec, buffered_words(spec, spec.array.cols)) + update(spec, 0)
        return one * examples
    return _once(spec, ("update", int(examples)), build) + \
        CommandCost(0, update(spec, coincidences).events)


# The data-independent part of a sequence, per spec (frozen) and shape of the call: a tile
# asks for the same few thousands of times per second of training, and building it from
# the command functions costs tens of microseconds. Keyed by the spec's identity (hashing
# a spec walks every field); the entry keeps the spec alive, so an id is never reused
# while its entry exists.
_ONCE: dict = {}
_ONCE_MAX = 512


def _once(spec: Spec, key: tuple, build) -> CommandCost:
    hit = _ONCE.get((id(spec),) + key)
    if hit is None or hit[0] is not spec:
        if len(_ONCE) >= _ONCE_MAX:
            _ONCE.clear()
        hit = (spec, build())
        _ONCE[(id(spec),) + key] = hit
    return hit[1]
