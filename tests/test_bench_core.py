"""`codesign bench core` on a small tile: the ratios it reports and the BLAS kernel its
reference products ran on (the ratios depend on it), as JSON. Timings are not asserted."""
from __future__ import annotations

import json

from codesign.cli import main


def test_bench_core_reports_ratios_and_the_blas_kernel(capsys):
    assert main(["bench", "core", "--size", "64", "--batch", "8", "--repeat", "1",
                 "--threads", "1", "--json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 64 and out["batch"] == 8 and out["threads"] == 1
    for key in ("forward_ratio", "update_ratio", "update_batch1_ratio"):
        assert out[key] > 0
    # e.g. "openblas SkylakeX": the library and the kernel threadpoolctl reports, once each
    names = out["blas"].split(", ")
    assert names and all(n.strip() for n in names) and len(names) == len(set(names))
