"""Unit cells: how devices make a signed weight, take update pulses and move between them.

Normalized weight w in [-1, 1]: 1 is the cell's full PCM swing.
- ``2pcm3t1c`` (Ambrogio et al., Nature 2018): W = F (G+ - G-) + p (g - g_shared),
  w = W / (F g_max). Update pulses go to the 3T1C capacitor (fine, near-linear); every
  transfer_interval images the weight moves into the PCM pair by closed-loop tuning and
  the polarity p of the capacitor flips (polarity inversion cancels a fixed g_shared
  offset of each 3T1C over transfers). A target below transfer_offset resets both PCMs
  and the capacitor keeps that residual (Ambrogio ED Fig. 9).
- ``pcm-pair``: w = (G+ - G-) / g_max; positive pulses SET G+, negative SET G-; transfer
  is the occasional refresh of saturated pairs (RESET both, re-program the difference).
- ``4pcm-diff`` (HERMES, JSSC 2022): two devices per sign in parallel; modelled as a pair
  whose g_max is that of the two devices together (aihwkit HermesNoiseModel convention).
- ``ideal``: w itself, linear steps, no noise.
"""
from __future__ import annotations

import numpy as np

from .. import cellkinds
from ..spec import Spec
from .capacitor import CapacitorArray
from .pcm import PCMArray, set_curve
from .transfer import TransferStats, program_pairs


class IdealCells:
    """Linear, noise-free weights: the limit the physical cells are compared against."""

    kind = "ideal"

    def __init__(self, spec: Spec, shape: tuple, rng: np.random.Generator):
        self.spec, self.shape = spec, shape
        self.w = np.zeros(shape)

    @property
    def dw_nominal(self) -> float:
        """Weight change of one pulse: that of the 2PCM+3T1C capacitor, so the ideal cell
        is the same tile with perfect devices."""
        s = self.spec
        return s.capacitor.step * s.capacitor.g_span / (s.cell.significance * s.pcm.g_max)

    def weights(self) -> np.ndarray:
        return self.w

    @property
    def max_weight(self) -> float:
        """Largest |w| program() writes: the full range."""
        return 1.0

    def program(self, w: np.ndarray, rng: np.random.Generator) -> TransferStats:
        self.w = np.clip(np.asarray(w, dtype=np.float64), -1.0, 1.0).copy()
        return _no_transfer(self.shape)

    def pulse(self, n_pos: np.ndarray, n_neg: np.ndarray, rng: np.random.Generator) -> None:
        self.w = np.clip(self.w + self.dw_nominal * (n_pos - n_neg), -1.0, 1.0)

    def tick(self, n_updates: int = 1) -> None:
        pass

    def transfer(self, rng: np.random.Generator, trace: bool = False) -> TransferStats:
        return _no_transfer(self.shape)


def _no_transfer(shape: tuple) -> TransferStats:
    """Cells without PCM to move into take no transfer cycles at all."""
    z = np.zeros(0, dtype=np.int64)
    return TransferStats(z, z.copy(), 0, 0, 0)


class PCMPairCells:
    """Differential PCM pair (also the 4-PCM HERMES cell, see module doc)."""

    kind = "pcm-pair"

    def __init__(self, spec: Spec, shape: tuple, rng: np.random.Generator):
        self.spec, self.shape = spec, shape
        self.plus = PCMArray(spec.pcm, shape, rng)
        self.minus = PCMArray(spec.pcm, shape, rng)

    @property
    def scale(self) -> float:
        """Conductance difference of |w| = 1."""
        return self.spec.pcm.g_max

    @property
    def dw_nominal(self) -> float:
        return self.spec.pcm.set_step   # one SET from RESET moves G by set_step * g_max

    def weights(self) -> np.ndarray:
        return (self.plus.g - self.minus.g) / self.scale

    @property
    def max_weight(self) -> float:
        """Largest |w| closed-loop programming holds: G+ rises from its RESET level until
        it passes the refresh level (above cell.saturation the loop RESETs the pair
        instead of pulsing it) or the loop's transfer_max_iter pulses at the nominal
        step end (codesign.devices.pcm.set_curve); G- stays at its RESET level; less the
        verify tolerance, since the loop stops within it. Beyond this a larger target
        programs to less on average, not more (ambrogio2018: 0.585; programming 512 pairs
        per target, the mean held weight peaks at target 0.585 and falls to 0.537 at
        0.6)."""
        c, p = self.spec.cell, self.spec.pcm
        reach = float(set_curve(p.reset_g * p.g_max, c.transfer_max_iter, c.transfer_step,
                                p.set_gamma, p.g_max)) / p.g_max
        return min(c.saturation, reach) - p.reset_g - c.transfer_tol

    def _program_kwargs(self) -> dict:
        c, p = self.spec.cell, self.spec.pcm
        return dict(g_max=p.g_max, tol=c.transfer_tol * p.g_max, saturation=c.saturation,
                    step=c.transfer_step, max_iter=c.transfer_max_iter)

    def program(self, w: np.ndarray, rng: np.random.Generator) -> TransferStats:
        """Closed-loop programming from RESET to w."""
        target = np.clip(np.asarray(w, dtype=np.float64), -1.0, 1.0) * self.spec.pcm.g_max
        all_cells = np.ones(self.shape, dtype=bool)
        return program_pairs(self.plus, self.minus, target, all_cells, ~all_cells, rng=rng,
                             **self._program_kwargs())

    def pulse(self, n_pos: np.ndarray, n_neg: np.ndarray, rng: np.random.Generator) -> None:
        self.plus.set_pulses(n_pos, rng)
        self.minus.set_pulses(n_neg, rng)

    def tick(self, n_updates: int = 1) -> None:
        pass

    def transfer(self, rng: np.random.Generator, trace: bool = False) -> TransferStats:
        """Refresh: saturated pairs are RESET and re-programmed to their difference."""
        sat = np.maximum(self.plus.g, self.minus.g) > self.spec.cell.saturation * self.spec.pcm.g_max
        target = self.plus.g - self.minus.g
        return program_pairs(self.plus, self.minus, target, sat, ~sat, rng=rng, trace=trace,
                             **self._program_kwargs())


class TwoPCMCapacitorCells(PCMPairCells):
    """2PCM+3T1C (see module doc)."""

    kind = "2pcm3t1c"

    def __init__(self, spec: Spec, shape: tuple, rng: np.random.Generator):
        super().__init__(spec, shape, rng)
        # g_shared: the shared reference the 3T1C read transistor is compared with, taken
        # at the capacitor's initial V_C = 0.5 V (ED Fig. 9), i.e. the middle of its swing.
        self.cap = CapacitorArray(spec.capacitor, shape, rng, g_shared=spec.capacitor.g_span)
        self.polarity = 1.0

    @property
    def g_shared(self) -> float:
        """The shared reference conductance (held by the capacitor array)."""
        return self.cap.g_shared

    @property
    def scale(self) -> float:
        return self.spec.cell.significance * self.spec.pcm.g_max

    @property
    def dw_nominal(self) -> float:
        return self.spec.capacitor.step * self.spec.capacitor.g_span / self.scale

    def conductance_weight(self) -> np.ndarray:
        """W in siemens: F (G+ - G-) + p (g - g_shared)."""
        F = self.spec.cell.significance
        return F * (self.plus.g - self.minus.g) + self.polarity * (self.cap.g - self.g_shared)

    def weights(self) -> np.ndarray:
        return self.conductance_weight() / self.scale

    def program(self, w: np.ndarray, rng: np.random.Generator) -> TransferStats:
        self.cap.reset()
        return super().program(w, rng)

    def pulse(self, n_pos: np.ndarray, n_neg: np.ndarray, rng: np.random.Generator) -> None:
        # With polarity -1 a weight increase is a capacitor decrease.
        if self.polarity > 0:
            self.cap.pulses(n_pos, n_neg, rng)
        else:
            self.cap.pulses(n_neg, n_pos, rng)

    def pulse_stream(self, rng: np.random.Generator):
        """:meth:`pulse` for counts given block by block (CapacitorArray.pulse_stream), or
        None where the capacitor's sparse path does not apply."""
        # the sparse path needs a contiguous g; applying pending leakage (the stream's
        # first block does) makes it so
        if not (self.cap._g.flags.c_contiguous or self.cap._pending):
            return None
        return self.cap.pulse_stream(rng, swap=self.polarity < 0)

    def pulse_deferred(self, n_pos, n_neg, rng: np.random.Generator):
        """:meth:`pulse` split for a pipelined update (CapacitorArray.pulses_deferred):
        the function that applies it, or None (nothing done)."""
        if self.polarity > 0:
            return self.cap.pulses_deferred(n_pos, n_neg, rng)
        return self.cap.pulses_deferred(n_neg, n_pos, rng)

    def tick(self, n_updates: int = 1) -> None:
        self.cap.leak(n_updates)

    def transfer(self, rng: np.random.Generator, trace: bool = False) -> TransferStats:
        F = self.spec.cell.significance
        W = self.conductance_weight()
        target = W / F
        small = np.abs(target) < self.spec.cell.transfer_offset
        self.cap.reset()
        stats = program_pairs(self.plus, self.minus, target, small, small, rng=rng,
                              trace=trace, **self._program_kwargs())
        if self.spec.cell.polarity_inversion:
            self.polarity = -self.polarity
        # small targets: both PCMs were RESET; the capacitor takes the residual.
        residual = W - F * (self.plus.g - self.minus.g)
        self.cap.write(self.g_shared + self.polarity * residual, mask=small)
        return stats


class ProgrammedCells(IdealCells):
    """Inference-only cells written once (1T1R RRAM, analog SRAM bit cells): the weight is
    held at the precision of the spec's weight representation (weights.bits; analog when
    0), with no update pulses and no transfer. Their device statistics are not modelled:
    they stand for the written levels, so that a published non-PCM design can be
    simulated and priced under its own name."""

    def __init__(self, spec: Spec, shape: tuple, rng: np.random.Generator):
        super().__init__(spec, shape, rng)
        self.kind = spec.array.cell

    def program(self, w: np.ndarray, rng: np.random.Generator) -> TransferStats:
        w = np.clip(np.asarray(w, dtype=np.float64), -1.0, 1.0)
        bits = self.spec.weights.bits
        if bits > 1:
            levels = 2 ** (bits - 1) - 1      # sign-magnitude levels per sign
            w = np.rint(w * levels) / levels
        self.w = w.copy()
        return _no_transfer(self.shape)

    def pulse(self, n_pos: np.ndarray, n_neg: np.ndarray, rng: np.random.Generator) -> None:
        from ..errors import UserError
        raise UserError(f"array.cell: value {self.kind!r} cannot be trained in situ (no "
                        "update pulses); allowed for training: "
                        + ", ".join(n for n, k in cellkinds.KINDS.items() if k.trainable))


CELL_CLASSES = {"ideal": IdealCells, "pcm-pair": PCMPairCells, "4pcm-diff": PCMPairCells,
                "2pcm3t1c": TwoPCMCapacitorCells, "rram": ProgrammedCells,
                "sram-analog": ProgrammedCells}


def make_cells(spec: Spec, shape: tuple, rng: np.random.Generator):
    return CELL_CLASSES[spec.array.cell](spec, shape, rng)
