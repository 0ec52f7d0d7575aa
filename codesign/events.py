"""Event counts: what an operation did, in plain counts.

The physics core and the cycle model count events; the estimator turns them into
joules (energy = sum of events x per-event energy). The RTL's performance
counters count the same names, and the parity benches compare them one by one.
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


@dataclass(frozen=True)
class Events:
    dac_settings: int = 0       # one DAC driving one word line for one phase
    integrations: int = 0       # one column integrator integrating for one phase
    adc_conversions: int = 0    # one complete SAR conversion
    cell_reads: int = 0         # one unit cell contributing to one integration
    update_pulses: int = 0      # one coincidence pulse reaching one cell
    set_pulses: int = 0         # one SET pulse on one PCM device
    reset_pulses: int = 0       # one RESET pulse on one PCM device
    verify_reads: int = 0       # one verify comparison of one cell during transfer
    buffer_reads: int = 0       # one word read from a tile's I/O buffer
    buffer_writes: int = 0      # one word written to a tile's I/O buffer
    flits: int = 0              # one flit injected into the on-chip network
    hops: int = 0               # one flit crossing one link
    router_traversals: int = 0  # one flit passing one router

    # Arithmetic over the instance dict, whose values are the fields in declaration order
    # (a frozen dataclass without slots): a tile's training step adds events thousands
    # of times a second, and this is several times faster than a getattr per name.
    def __add__(self, other: "Events") -> "Events":
        if type(other) is not Events:
            return NotImplemented
        return Events(*map(operator.add, self.__dict__.values(), other.__dict__.values()))

    def __mul__(self, factor: int) -> "Events":
        if isinstance(factor, (bool, float)) or not isinstance(factor, (int, np.integer)):
            raise TypeError("events scale by integers (counts stay counts)")
        f = int(factor)
        return Events(*(v * f for v in self.__dict__.values()))

    __rmul__ = __mul__

    def as_dict(self) -> dict[str, int]:
        return {k: int(getattr(self, k)) for k in FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Events":
        unknown = set(data) - set(FIELDS)
        if unknown:
            raise KeyError(f"unknown event names {sorted(unknown)}; known: {', '.join(FIELDS)}")
        return cls(**{k: int(v) for k, v in data.items()})

    @staticmethod
    def total(items) -> "Events":
        out = Events()
        for e in items:
            out = out + e
        return out


FIELDS = tuple(f.name for f in dataclasses.fields(Events))


class OpResult(NamedTuple):
    """What every tile operation returns.

    values: float results (None when the operation has none);
    cycles: controller clock cycles, from codesign.cycles;
    events: counts for the estimator and the RTL counters;
    codes: the integer words the digital periphery sees (ADC output words), or None.
    """
    values: Any
    cycles: int
    events: Events
    codes: Any = None
