"""codesign.estimate.hwc: the adapter to hwcomponents and its plug-ins. A test that needs a
plug-in is skipped only when that plug-in is not installed; an installed plug-in that
does not run (e.g. CACTI or NeuroSim before scripts/hwc_binaries.sh) fails its tests."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codesign.estimate import hwc

ROOT = Path(__file__).resolve().parents[1]


def installed(plugin: str) -> bool:
    return importlib.util.find_spec(hwc.MODULE[plugin]) is not None and \
        importlib.util.find_spec("hwcomponents") is not None


def needs(plugin: str):
    return pytest.mark.skipif(not installed(plugin), reason=f"{plugin} not installed")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("hwc-cache")


@pytest.fixture(autouse=True)
def cache(shared_cache, monkeypatch):
    """All tests share one throw-away cache folder (never the user's)."""
    monkeypatch.setenv("CODESIGN_CACHE", str(shared_cache))
    return shared_cache


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path))
    hwc.clear_memory_cache()
    yield tmp_path
    hwc.clear_memory_cache()


def positive(*values: float) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in values)


def test_import_does_not_load_hwcomponents():
    code = ("import sys, codesign.estimate.hwc as h; "
            "print(sorted(m for m in sys.modules if m.startswith('hwcomponents')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert out.stdout.strip() == "[]"


def test_status_lists_the_four_plugins():
    st = hwc.status()
    assert set(st) == {"hwcomponents-adc", "hwcomponents-cacti", "hwcomponents-neurosim",
                       "hwcomponents-library"}
    for name, s in st.items():
        assert set(s) == {"ok", "why", "version"}
        assert isinstance(s["ok"], bool) and isinstance(s["why"], str) and s["why"]
        if installed(name):
            assert s["version"]
            assert s["ok"], f"{name} is installed but does not run here: {s['why']}"


@needs(hwc.ADC)
def test_adc_survey_positive_and_sourced():
    p = hwc.adc_survey(8, 1.28e9, 32e-9)
    assert positive(p.energy, p.area, p.leak_power)
    assert p.read_energy is None and "hwcomponents-adc" in p.source and "ADC" in p.source


@needs(hwc.ADC)
def test_adc_energy_grows_with_bits():
    e = [hwc.adc_survey(b, 1e8, 32e-9).energy for b in (4, 6, 8, 10, 12)]
    assert all(a < b for a, b in zip(e, e[1:])), e


@needs(hwc.ADC)
def test_adc_energy_grows_with_rate_above_the_corner_and_is_flat_below():
    above = [hwc.adc_survey(8, f, 32e-9).energy for f in (2e9, 4e9, 8e9)]
    assert all(a < b for a, b in zip(above, above[1:])), above
    below = [hwc.adc_survey(8, f, 32e-9).energy for f in (1e6, 1e7)]
    assert below[0] == pytest.approx(below[1], rel=1e-12)
    assert below[0] < above[0]


@needs(hwc.CACTI)
def test_sram_positive_and_grows_with_size():
    parts = [hwc.sram(kb * 8192, 64, 32e-9) for kb in (4, 32, 128)]
    for p in parts:
        assert positive(p.read_energy, p.write_energy, p.area, p.leak_power)
        assert p.energy is None and "CACTI" in p.source
    reads = [p.read_energy for p in parts]
    areas = [p.area for p in parts]
    assert all(a < b for a, b in zip(reads, reads[1:])), reads
    assert all(a < b for a, b in zip(areas, areas[1:])), areas


def test_sram_edram_is_unavailable_and_bad_arguments_are_errors():
    with pytest.raises(hwc.Unavailable) as exc:
        hwc.sram(65536 * 8, 256, 32e-9, kind="edram")
    assert exc.value.plugin == "hwcomponents-cacti"
    with pytest.raises(ValueError):
        hwc.sram(1000, 64, 32e-9)            # not a whole number of words
    with pytest.raises(ValueError):
        hwc.sram(65536, 64, 32e-9, kind="dram")
    with pytest.raises(ValueError, match="metres"):
        hwc.adc_survey(8, 1e9, 32)           # nm given where metres are expected


@needs(hwc.NEUROSIM)
def test_logic_and_neurosim_parts_positive():
    lg = hwc.logic(45e-9)
    assert positive(lg.nand2_area, lg.nand2_energy, lg.nand2_leak, lg.dff_area,
                    lg.dff_energy, lg.dff_leak)
    assert "NeuroSim" in lg.source
    for p in (hwc.adder(8, 45e-9, 1e9), hwc.shift_add(8, 45e-9, 1e9),
              hwc.mux(4, 8, 45e-9, 1e9)):
        assert positive(p.energy, p.area, p.leak_power), p
    # the gate numbers are the 8-bit adder's over its 72 NAND2
    add = hwc.adder(8, 45e-9, 1e9)
    assert lg.nand2_energy == pytest.approx(add.energy / 72)
    assert add.area == pytest.approx(72 * lg.nand2_area)
    assert hwc.adder(4, 45e-9, 1e9).energy < add.energy < hwc.adder(16, 45e-9, 1e9).energy
    assert hwc.logic(32e-9).nand2_area < lg.nand2_area


@needs(hwc.NEUROSIM)
def test_column_flash_adc_and_row_driver_from_neurosim():
    """The array periphery: a column's flash converter costs more with every bit (2^bits - 1
    sense amplifiers) and shrinks with the node; a line driver's energy grows with the
    cells on its line (their capacitance), its area per driver does not."""
    a4, a6 = hwc.column_adc(4, 64, 65e-9), hwc.column_adc(6, 64, 65e-9)
    assert positive(a4.energy, a4.area, a4.leak_power) and "ArrayADC" in a4.source
    assert a6.energy > 2 * a4.energy and a6.area > 2 * a4.area
    assert hwc.column_adc(4, 64, 14e-9, "rram").area < \
        hwc.column_adc(4, 64, 65e-9, "rram").area
    # NeuroSim V1.3 stops with SIGFPE on its PCM cell file at 14 nm: Unavailable, so the
    # estimator takes its built-in model (docs/components-library.md)
    with pytest.raises(hwc.Unavailable):
        hwc.column_adc(4, 64, 14e-9, "pcm")
    # the converters of an array share its width: the per-converter figure does not
    # depend on how many columns there are
    assert hwc.column_adc(4, 128, 65e-9).area == pytest.approx(a4.area)
    d64, d256 = hwc.row_driver(64, 65e-9), hwc.row_driver(256, 65e-9)
    assert positive(d64.energy, d64.area, d64.leak_power) and "RowDrivers" in d64.source
    assert d256.energy > d64.energy
    assert hwc.row_driver(256, 65e-9, voltage_bits=4).area > d256.area   # PCM cells
    with pytest.raises(ValueError, match="technology"):
        hwc.row_driver(64, 65e-9, technology="dram")
    with pytest.raises(ValueError, match="cells"):
        hwc.row_driver(0, 65e-9)


@needs(hwc.NEUROSIM)
def test_row_driver_lays_its_line_over_the_stated_cell():
    """NeuroSim lays a row line over the cell file's footprint (0.2 fF/um of wire): with a
    stated cell (area in F^2, height over width) a long line over large cells costs more
    than over NVMExplorer's, and the figure is cached per cell, not shared."""
    shipped = hwc.row_driver(256, 65e-9, technology="sram")
    same = hwc.row_driver(256, 65e-9, technology="sram", cell_area_f2=146, cell_aspect=1.46)
    big = hwc.row_driver(256, 65e-9, technology="sram", cell_area_f2=5000, cell_aspect=1.0)
    assert same.energy == pytest.approx(shipped.energy)     # NVMExplorer's SRAM cell
    # 256 cells of 70.7 F = 1.18 mm: 0.24 pF of wire, ~0.28 pJ at 1.1 V
    assert big.energy - shipped.energy > 0.15e-12
    assert "5000 F^2" in big.source
    with pytest.raises(ValueError, match="cell_area_f2"):
        hwc.row_driver(64, 65e-9, technology="sram", cell_area_f2=-1.0)


@needs(hwc.LIBRARY)
def test_published_part():
    p = hwc.published("IsaacEDRAM", tech_node=32e-9, width=256, depth=2048)
    assert p.area == pytest.approx(0.083e-6)          # ISAAC's 64 KB eDRAM, 0.083 mm^2
    assert positive(p.read_energy, p.write_energy) and p.energy == p.read_energy
    assert dict(p.actions)["read"] == p.read_energy
    r = hwc.published("IsaacRouter", tech_node=32e-9)
    assert positive(r.area, r.energy) and "IsaacRouter" in r.source
    with pytest.raises(hwc.Unavailable, match="NoSuchPart"):
        hwc.published("NoSuchPart", tech_node=32e-9)


@needs(hwc.ADC)
def test_cache_hit_gives_identical_results(fresh_cache, monkeypatch):
    a = hwc.adc_survey(7, 3e8, 45e-9)
    assert hwc.adc_survey(7, 3e8, 45e-9) is a                  # in-process cache
    files = list((fresh_cache / "hwc").glob("*.json"))
    assert len(files) == 1
    stored = json.loads(files[0].read_text())
    assert stored["key"]["fn"] == "adc_survey"
    assert stored["key"]["versions"]["hwcomponents-adc"] == hwc._version(hwc.ADC)
    hwc.clear_memory_cache()

    def boom(**_):
        raise AssertionError("the disk cache was not used")
    monkeypatch.setitem(hwc._FUNCS, "adc_survey", boom)
    b = hwc.adc_survey(7, 3e8, 45e-9)                          # from disk
    assert b == a and b is not a
    assert [f.name for f in (fresh_cache / "hwc").iterdir()] == [files[0].name]


CALLS = {
    hwc.ADC: lambda: hwc.adc_survey(8, 1.1e9, 32e-9),
    hwc.CACTI: lambda: hwc.sram(4096 * 8, 64, 45e-9),
    hwc.NEUROSIM: lambda: hwc.logic(65e-9),
    hwc.LIBRARY: lambda: hwc.published("IsaacADC", tech_node=32e-9),
}


@pytest.mark.parametrize("plugin", hwc.PLUGINS)
def test_unimportable_plugin_raises_unavailable(plugin, fresh_cache, monkeypatch):
    monkeypatch.setitem(sys.modules, hwc.MODULE[plugin], None)
    with pytest.raises(hwc.Unavailable) as exc:
        CALLS[plugin]()
    assert exc.value.plugin == plugin and exc.value.why
    st = hwc.status()[plugin]
    assert st["ok"] is False and st["why"]


def test_status_without_hwcomponents(fresh_cache, monkeypatch):
    for mod in ["hwcomponents", *hwc.MODULE.values()]:
        monkeypatch.setitem(sys.modules, mod, None)
    st = hwc.status()
    assert [s["ok"] for s in st.values()] == [False] * 4
    for plugin, s in st.items():
        with pytest.raises(hwc.Unavailable):
            CALLS[plugin]()


@needs(hwc.CACTI)
@needs(hwc.NEUROSIM)
@needs(hwc.ADC)
def test_stdout_stays_clean(fresh_cache, capfd):
    hwc.adc_survey(9, 5e8, 32e-9)
    hwc.sram(16384 * 8, 128, 32e-9)
    hwc.shift_add(6, 32e-9, 1e9)
    hwc.status()
    out, _ = capfd.readouterr()
    assert out == ""


def test_binaries_script_is_quiet_and_idempotent():
    res = subprocess.run(["bash", str(ROOT / "scripts" / "hwc_binaries.sh"), sys.executable],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0
    assert res.stdout == ""
    if all(installed(p) for p in (hwc.CACTI, hwc.NEUROSIM)):
        assert res.stderr == ""
