"""Device physics, vectorized over arrays of any shape.

* :mod:`.pcm`: PCM for training (gradual state-dependent SET, abrupt RESET);
* :mod:`.capacitor`: the 3T1C capacitor cell (near-linear up/down steps, leakage);
* :mod:`.inference`: PCM for inference (programming noise, drift, 1/f read noise,
  global drift compensation), Nandakumar et al. ICECS 2019 and aihwkit's HERMES model.

Unit cells built from these live in :mod:`.cell`. Equations and sources: docs/devices.md.
"""
from .capacitor import CapacitorArray
from .inference import (ProgrammedPCM, all_ones_read, drift_compensation, program,
                        read_at)
from .pcm import PCMArray, set_curve, set_pulses_needed

__all__ = ["PCMArray", "CapacitorArray", "ProgrammedPCM", "program", "read_at",
           "all_ones_read", "drift_compensation", "set_curve", "set_pulses_needed"]
