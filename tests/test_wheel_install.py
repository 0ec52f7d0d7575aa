"""A non-editable install of the wheel simulates: the Verilog and the cocotb benches ship
as package data and builds go to the user cache, not next to the sources.

The wheel is built from a copy of the sources (setuptools writes build/ and *.egg-info
where it builds) without build isolation when setuptools is importable (the test extra
installs it), so no network is needed. It is installed into a fresh venv whose only other
packages are the running interpreter's (a .pth file), and run from a folder outside the
repository with no PYTHONPATH.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.rtl,
              pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")]


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "codesign", src / "codesign",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # Without setuptools here (a dev env without the test extra) pip fetches the backend.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    proc = _pip("wheel", "--no-deps", *isolation, "-w", str(tmp / "dist"), str(src), cwd=tmp)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = (tmp / "dist").glob("codesign-*.whl")
    return whl


def test_wheel_holds_rtl_and_benches(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_rtl = {n.split("/")[-1] for n in names if n.startswith("codesign/rtl/")}
    assert shipped_rtl == {p.name for p in (ROOT / "codesign" / "rtl").glob("*.v")}
    assert {"codesign/sims/tile_bench.py", "codesign/sims/tile_ops.py",
            "codesign/sims/tile_driver.py", "codesign/sims/noc_bench.py",
            "codesign/sims/blocks/scoreboard.py"} <= names
    from codesign.hdl.blocks import BLOCKS       # every block bench ships too
    assert {b.bench.replace(".", "/") + ".py" for b in BLOCKS.values()} <= names
    assert not any(n.startswith(("tests/", "sim_build/")) for n in names)


def test_installed_wheel_runs_sim_tile(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    # The dependencies come from this interpreter's site-packages (no download).
    deps = [p for p in {*site.getsitepackages(), sysconfig.get_paths()["purelib"]}
            if Path(p).is_dir() and not (Path(p) / "codesign").exists()]
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True, check=True)
    Path(purelib.stdout.strip(), "dev-deps.pth").write_text("\n".join(deps) + "\n")
    proc = _pip("--python", str(py), "install", "--no-deps", "--no-index", str(wheel),
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CODESIGN_SIM_BUILD")}
    env["CODESIGN_CACHE"] = str(tmp_path / "cache")
    where = subprocess.run([py, "-c", "import codesign, codesign.hdl.runner as r; "
                            "print(codesign.__file__); print(r.build_root())"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    module_file, build = where.stdout.split()
    assert Path(module_file).is_relative_to(venv), module_file
    assert Path(build) == tmp_path / "cache" / "build"

    before = sorted(p.name for p in ROOT.iterdir())
    run = subprocess.run([venv / "bin" / "codesign", "sim", "tile", "--spec", "ambrogio2018", "--rows", "8", "--cols",
                          "8", "--adcs", "2", "--ops", "6", "--json"],
                         cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["ops"] == 6 and report["mismatches"] == 0 and report["cycles"] > 0
    builds = list((tmp_path / "cache" / "build").glob("tile_ctrl-*"))
    assert len(builds) == 1 and (builds[0] / "runs").is_dir()

    if shutil.which("yosys"):
        synth = subprocess.run([venv / "bin" / "codesign", "synth", "tile", "--spec",
                                "ambrogio2018", "--rows", "8", "--cols", "8", "--adcs", "2",
                                "--json"], cwd=work, env=env, capture_output=True, text=True,
                               timeout=900)
        assert synth.returncode == 0, synth.stdout[-2000:] + synth.stderr[-2000:]
        assert json.loads(synth.stdout)["flops"] > 0
        assert len(list((tmp_path / "cache" / "build" / "synth").glob("*.json"))) == 1
    assert list(work.iterdir()) == []                       # nothing left in the cwd
    assert sorted(p.name for p in ROOT.iterdir()) == before  # nor in the checkout
