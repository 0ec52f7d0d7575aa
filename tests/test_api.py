"""docs/api.md: every Python block runs as written."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_api_example_runs(i, capsys):
    exec(compile(BLOCKS[i], f"docs/api.md block {i}", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_price_is_events_times_energies():
    import numpy as np
    from codesign import AnalogTile, load_components, load_spec, price
    from codesign.estimate import tile_costs
    spec = load_spec("ambrogio2018").with_overrides({"array.rows": 16, "array.cols": 16,
                                                     "adc.count": 4})
    lib = load_components(hwc=False)
    res = AnalogTile(spec, np.random.default_rng(0)).forward(np.full((2, 16), 0.5))
    costs = tile_costs(spec, lib)
    # each event at its own energy and at what it costs other components (the output
    # buffer's row write per conversion)
    want = sum(n * (costs.event_energy[k] + sum(x.get(k, 0.0) for x in
                                                costs.extra_event_energy.values()))
               for k, n in res.events.as_dict().items()) + res.cycles * costs.cycle_energy
    assert price(res, spec, lib)["total"] == pytest.approx(want)


def test_import_codesign_is_lazy_and_lists_the_api():
    import subprocess
    import sys
    code = ("import sys, codesign; assert 'codesign.estimate' not in sys.modules; "
            "assert 'estimate' in dir(codesign); print(codesign.load_spec('hermes').name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0 and out.stdout.strip() == "hermes", out.stderr
