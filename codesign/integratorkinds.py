"""Integrator kinds: how an output line's signal is held for its converter, declared once
(a registry, as codesign.adckinds and codesign.cellkinds).

The kind decides what the line's sensing costs: an amplifier biased through the whole
integration window, a capacitor charged once per integration step, or a regulator that
holds the line at the read voltage and passes the line's current from the supply. Each
cost model takes the figures it needs as arguments (the estimator hands them in, with
their sources), so this module stays below the estimator in the layer order.

- ``ota``: a current integrator, an operational transconductance amplifier (OTA)
  holding the line at virtual ground and integrating its current on a capacitor
  (Ambrogio et al., Nature 558:60, 2018, column integrators): the OTA's bias flows for
  the whole window, plus one charge of the integration capacitor.
- ``sampling``: voltage-mode sensing: the line settles during each read pulse and a
  capacitor samples it; each integration step moves that charge onto the integration
  capacitor (Wan et al., Nature 608:504, 2022: NeuRRAM's neurons sample the bit-line
  voltage and integrate it by charge transfer, no amplifier biased over the window):
  one charge of the capacitor per integration step, no static bias.
- ``regulated``: current-mode readout into a current-input converter: a read-voltage
  regulator (an OTA) holds the line at the read voltage, and the line's current flows
  from the supply through it (Le Gallo et al., Nature Electronics 6:680, 2023, the figure
  of the unit cell and its periphery, read in a machine-written description:
  each HERMES column has a read-voltage regulator with an OTA, a current mirror and a
  current-controlled oscillator). The OTA's bias over the window plus the drop from the
  supply to the read voltage at the line's current: (VDD - V_read) I t, which with the
  cells' own V_read I t makes VDD I t drawn from the supply. The mirrored copy that feeds
  the converter is the converter's (codesign.adckinds ``cco``).
- ``none``: charge-domain cells share charge straight onto the converter's sampling
  capacitors (the compute capacitors are the integrator; Valavi et al., JSSC 2019).

``auto`` (the spec's default) resolves by what the spec already says: charge-domain cells
take ``none``, a current-input converter (adc.kind ``cco``) takes ``regulated``, every
other spec ``ota`` (what the estimator priced before the kinds existed).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parts:
    """Figures an integrator's cost model needs (SI), from the estimator's library."""
    vdd: float            # V: the node's nominal supply (CMOS parts; the estimator scales
                          # them to the operating point)
    v_supply: float       # V: the operating supply (currents drawn from it)
    v_read: float         # V: the read voltage on the line
    window: float         # s: one integration phase
    steps: int            # integration steps (cycles) in one phase
    line_energy: float    # J: what the cells of one line dissipate in one phase (V_read I t)
    bias_current: float   # A: an OTA's bias
    capacitance: float    # F: the integration (or sampling) capacitor
    cap_density: float    # F/m^2 of that capacitor
    ota_area: float       # m^2: one OTA


@dataclass(frozen=True)
class IntegratorKind:
    name: str
    doc: str

    def energy(self, p: Parts) -> float:
        """J of one integration event (one line over one phase): the circuit's own
        (bias, capacitors) plus :meth:`supply_energy`."""
        raise NotImplementedError

    def supply_energy(self, p: Parts) -> float:
        """The part of :meth:`energy` that is the line's current drawn from the operating
        supply (priced at it; the estimator does not rescale it)."""
        return 0.0

    def area(self, p: Parts) -> float:
        """m^2 of one line's integrator."""
        raise NotImplementedError


class Ota(IntegratorKind):
    def energy(self, p):
        return p.bias_current * p.vdd * p.window + p.capacitance * p.vdd * p.vdd

    def area(self, p):
        return p.capacitance / p.cap_density + p.ota_area


class Sampling(IntegratorKind):
    def energy(self, p):
        # one charge of the capacitor per integration step (up to the supply, assumed)
        return p.steps * p.capacitance * p.vdd * p.vdd

    def area(self, p):
        # the capacitor; its few switches are small beside it (assumed)
        return p.capacitance / p.cap_density


class Regulated(IntegratorKind):
    def energy(self, p):
        return p.bias_current * p.vdd * p.window + self.supply_energy(p)

    def supply_energy(self, p):
        # the cells dissipate V_read I t (p.line_energy); the regulator passes the same
        # current from the supply, dropping VDD - V_read across itself
        drop = max(p.v_supply - p.v_read, 0.0) / p.v_read if p.v_read > 0 else 0.0
        return p.line_energy * drop

    def area(self, p):
        return p.ota_area


class NoIntegrator(IntegratorKind):
    def energy(self, p):
        return 0.0

    def area(self, p):
        return 0.0


KINDS = {k.name: k for k in (
    Ota("ota", "current integrator: an OTA biased over the window and a capacitor"),
    Sampling("sampling", "voltage-mode: a capacitor charged once per integration step"),
    Regulated("regulated", "current mode: a read-voltage regulator passing the line current "
              "from the supply to a current-input converter"),
    NoIntegrator("none", "charge-domain cells: the compute capacitors are the integrator"),
)}

NAMES = tuple(KINDS)
CHOICES = ("auto",) + NAMES


def resolve(name: str, cell_read: str, adc_kind: str) -> IntegratorKind:
    """The kind a spec's integrator.kind names; ``auto`` from the cell's read physics
    and the converter kind (module doc)."""
    if name == "auto":
        name = "none" if cell_read == "charge" else \
            "regulated" if adc_kind == "cco" else "ota"
    return KINDS[name]
