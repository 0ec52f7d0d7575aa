"""Hardware-aware training for inference: software training whose forward pass sees the
inference hardware's imperfections, so that the weights it learns tolerate them.

This is the recipe of IBM's aihwkit (``InferenceRPUConfig``: a weight modifier drawn
once per mini-batch, DAC and ADC resolution, output noise in the forward pass; an ideal
backward pass and update; Joshi et al., Nat. Commun. 11:2473, 2020; Rasch et al.,
Nat. Commun. 14:5282, 2023) and of Sandia's CrossSim, with every quantity taken from
the spec, as `codesign infer` will meet it:

* weights are mapped as codesign.nn.infer maps them for inference (each layer divided by
  its largest |weight|, so that it uses a device's full g_max; G+ = max(w, 0) g_max and
  G- = max(-w, 0) g_max) and each training step draws fresh programming noise for every
  device from the spec's statistical PCM model (codesign.devices.inference:
  Nandakumar 2019 or HERMES; aihwkit's ``WeightModifierType.PCM_NOISE`` does the same);
* the noisy weights, cut into the tiles of codesign.mapping.partition, run through the
  spec's DACs, array and ADCs (codesign.converters.mvm: DAC bits, ADC bits, ADC full
  scale and its clipping, ADC noise), exactly the forward of codesign.nn.infer;
* the backward pass and the update use the clean float weights (straight-through), as
  aihwkit's inference tiles do: the noise shapes where SGD goes, not the gradient's form.

Drift is not injected: it is a slow, mostly common decay that global drift compensation
removes (docs/networks.md). Accuracy per epoch is measured with the clean weights (the
digital accuracy of the weights that `--save` writes); `codesign infer` gives their
accuracy on devices.
"""
from __future__ import annotations

import numpy as np

from ..devices.inference import programming_noise
from .infer import device_forward
from .mlp import SoftwareDense


class HardwareAwareDense(SoftwareDense):
    """A float layer whose training forward runs through simulated inference tiles.
    rng: the programming and ADC noise; row_edges, col_edges: the layer's tiles."""

    kind = "hw-aware"

    def __init__(self, w0: np.ndarray, spec, rng: np.random.Generator, row_edges, col_edges):
        super().__init__(w0)
        self.spec, self.rng = spec, rng
        self.row_edges, self.col_edges = tuple(row_edges), tuple(col_edges)

    def noisy_weights(self) -> tuple[np.ndarray, float]:
        """Normalized weights as programmed now (fresh programming noise) and the layer's
        scale alpha (real weight = alpha x normalized)."""
        peak = float(np.abs(self.w).max())
        alpha = peak if peak > 0 else 1.0
        g_max = self.spec.pcm.g_max
        wn = self.w / alpha
        g_plus = programming_noise(np.maximum(wn, 0.0) * g_max, self.spec, self.rng)
        g_minus = programming_noise(np.maximum(-wn, 0.0) * g_max, self.spec, self.rng)
        return (g_plus - g_minus) / g_max, alpha

    def forward_train(self, x: np.ndarray) -> np.ndarray:
        wn, alpha = self.noisy_weights()
        blocks = [[wn[r0:r1, c0:c1] for c0, c1 in zip(self.col_edges[:-1], self.col_edges[1:])]
                  for r0, r1 in zip(self.row_edges[:-1], self.row_edges[1:])]
        return device_forward(x, blocks, self.row_edges, self.col_edges, self.n_out, alpha,
                              self.spec, self.rng)
