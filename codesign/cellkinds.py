"""Cell kinds: what each unit cell is, declared once (a registry, as aihwkit keeps device
configs). The physics of a kind lives in codesign.devices.cell; its costs in the
estimator's component library under ``cost_key``. Code that needs to know what a cell can
do asks this registry instead of comparing names.

Sources: Ambrogio et al., Nature 558:60 (2018) for 2PCM+3T1C; Khaddam-Aljameh et al.,
JSSC 2022 (HERMES) for the 4-PCM/8T cell; Wan et al., Nature 608:504 (2022) (NeuRRAM)
for a 1T1R RRAM cell; Valavi et al., JSSC 54:1789 (2019) for a charge-domain SRAM
compute cell (bit cell plus a local capacitor).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellKind:
    name: str
    technology: str        # "pcm", "rram", "sram" or "ideal"
    doc: str
    devices: int           # programmable devices per cell (PCM/RRAM) or bit cells (SRAM)
    differential: bool     # the cell holds a signed weight by itself (a pair inside)
    trainable: bool        # takes outer-product update pulses (in-situ training)
    transfers: bool        # has PCM to transfer or refresh into (TRANSFER does work)
    polarity: bool         # a capacitor whose sign the polarity register flips
    both_edges: bool       # DACs/integrators on both array edges (transposed read)
    analog_levels: bool    # stores an analog conductance (False: binary bit cells)
    read: str              # read physics: "conductance" (V^2 G t) or "charge" (C V^2)
    cost_key: str          # component library entry of its area (F^2)


KINDS = {k.name: k for k in (
    CellKind("2pcm3t1c", "pcm", "two PCM (G+, G-) and a 3T1C capacitor cell (Ambrogio 2018)",
             devices=2, differential=True, trainable=True, transfers=True, polarity=True,
             both_edges=True, analog_levels=True, read="conductance",
             cost_key="cells.area_2pcm3t1c"),
    CellKind("pcm-pair", "pcm", "differential PCM pair (G+, G-)", devices=2,
             differential=True, trainable=True, transfers=True, polarity=False,
             both_edges=True, analog_levels=True, read="conductance",
             cost_key="cells.area_pcm_pair"),
    CellKind("4pcm-diff", "pcm", "4 PCM devices and 8 transistors, two per sign (HERMES)",
             devices=4, differential=True, trainable=True, transfers=True, polarity=False,
             both_edges=False, analog_levels=True, read="conductance",
             cost_key="cells.area_4pcm_diff"),
    CellKind("ideal", "ideal", "a perfect linear analog weight (the limit physical cells "
             "are compared against)", devices=1, differential=True, trainable=True,
             transfers=False, polarity=False, both_edges=False, analog_levels=True,
             read="conductance", cost_key="cells.area_ideal"),
    CellKind("rram", "rram", "one RRAM device with its access transistor (1T1R); a signed "
             "weight takes two cells or an offset column (weights.signed)", devices=1,
             differential=False, trainable=False, transfers=False, polarity=False,
             both_edges=False, analog_levels=True, read="conductance",
             cost_key="cells.area_rram"),
    CellKind("sram-analog", "sram", "an SRAM bit cell with compute transistors and a local "
             "capacitor (charge domain): one bit per cell", devices=1, differential=False,
             trainable=False, transfers=False, polarity=False, both_edges=False,
             analog_levels=False, read="charge", cost_key="cells.area_sram_analog"),
)}

NAMES = tuple(KINDS)


def kind(name: str) -> CellKind:
    return KINDS[name]
