"""Build and run a cocotb bench on Icarus Verilog through ``cocotb_tools.runner``.

One small entry point, :func:`run_bench`, used by the parity tests, by
``codesign sim ...`` and by every bench under ``codesign/sims/``::

    result = run_bench("tile_ctrl", rtl_sources("tile_"), "codesign.sims.tile_bench",
                       {"ROWS": 12, "COLS": 20}, extra_env={"TILE_OPS": "40"})
    assert result.ok, result.summary()

Why a wrapper and not the runner directly:
- every parameter set gets its own build directory, derived from a hash of the top
  module, the parameters and the *contents* of the sources, so a stale Icarus build
  is never reused (cocotb only compares file times) and parameter sets never clash;
- two processes (``pytest -n 2``) that need the same build serialize on a file lock,
  and each run writes its results and log into its own run directory;
- the simulator's chatter goes to a log file, never to stdout, so ``--json`` output
  of the CLI stays one object;
- pass/fail counts come back as numbers instead of a ``sys.exit`` under pytest.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..cachedir import cache_root
from ..errors import UserError

#: The installed package; the Verilog sources and cocotb benches ship inside it as
#: package data (codesign/rtl/*.v, codesign/sims/*.py), so a wheel install simulates too.
PACKAGE_DIR = Path(__file__).resolve().parents[1]
RTL_DIR = PACKAGE_DIR / "rtl"
SIMS_DIR = PACKAGE_DIR / "sims"
#: The folder that holds the `codesign` package: on the simulator's sys.path so the
#: benches (``codesign.sims.*``) import the same code as the caller.
IMPORT_ROOT = PACKAGE_DIR.parent
TIMESCALE = ("1ns", "1ps")


def build_root() -> Path:
    """Where Icarus builds and synthesis results are cached: $CODESIGN_SIM_BUILD if set,
    else <user cache>/build (codesign.cachedir), never the source tree."""
    override = os.environ.get("CODESIGN_SIM_BUILD")
    return Path(override) if override else cache_root() / "build"


class SimulatorMissing(UserError):
    """Icarus Verilog is not installed."""


class BenchError(RuntimeError):
    """The simulation did not produce a results file (crash, compile error)."""


@dataclass
class BenchResult:
    """What one bench run did: counts parsed from cocotb's results XML."""
    tests: int
    failures: int
    build_dir: Path
    run_dir: Path
    results_xml: Path
    log_file: Path
    wall_s: float
    waves: Path | None = None
    failed_tests: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tests > 0 and self.failures == 0

    def summary(self) -> str:
        text = f"{self.tests - self.failures}/{self.tests} cocotb tests passed " \
               f"in {self.wall_s:.1f} s (log {self.log_file})"
        if self.failed_tests:
            text += "; failed: " + ", ".join(self.failed_tests)
        return text

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def require_iverilog() -> None:
    """Raise a clear error when Icarus Verilog is not installed."""
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        raise SimulatorMissing("iverilog: not found on PATH; RTL simulation needs Icarus "
                               "Verilog: apt-get install -y iverilog (or run `make setup`)")


def rtl_sources(prefix: str = "", rtl_dir: Path = RTL_DIR) -> list[Path]:
    """The Verilog files in codesign/rtl/ whose names start with `prefix`, sorted."""
    files = sorted(Path(rtl_dir).glob(f"{prefix}*.v"))
    if not files:
        raise UserError(f"rtl sources: no {prefix}*.v files in {rtl_dir}")
    return files


def build_key(toplevel: str, sources: Iterable[Path], parameters: Mapping[str, object],
              waves: bool = False) -> str:
    """Hash of what determines an Icarus build: top, parameters, source contents."""
    h = hashlib.sha256()
    h.update(json.dumps({"top": toplevel, "params": {k: str(v) for k, v in
                         sorted(parameters.items())}, "waves": bool(waves)}).encode())
    for src in sources:
        h.update(Path(src).name.encode())
        h.update(Path(src).read_bytes())
    return h.hexdigest()[:16]


def default_build_dir(toplevel: str, sources: Iterable[Path],
                      parameters: Mapping[str, object], waves: bool = False) -> Path:
    return build_root() / f"{toplevel}-{build_key(toplevel, sources, parameters, waves)}"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _on_sys_path(folder: Path):
    """cocotb hands sys.path to the simulator's Python as PYTHONPATH: make the benches
    importable there from the same copy of codesign."""
    added = str(folder) not in sys.path
    if added:
        sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(str(folder))


def parse_results(results_xml: Path) -> tuple[int, int, list[str]]:
    """(tests, failures, names of failed tests) from a cocotb results XML."""
    root = ElementTree.parse(results_xml).getroot()
    tests = failures = 0
    failed: list[str] = []
    for case in root.iter("testcase"):
        tests += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failures += 1
            failed.append(case.get("name", "?"))
    return tests, failures, failed


_run_counter = 0


def run_bench(toplevel: str, sources: Iterable[Path | str], test_module: str,
              parameters: Mapping[str, object] | None = None, build_dir: Path | None = None,
              extra_env: Mapping[str, str] | None = None, waves: bool = False,
              seed: int | None = None, testcase: str | None = None,
              run_name: str | None = None) -> BenchResult:
    """Compile `sources` with `parameters` (once per distinct build) and run the cocotb
    tests in `test_module` (a dotted module name, e.g. ``codesign.sims.tile_bench``) against `toplevel`.

    extra_env reaches the bench as environment variables (how the benches receive the
    spec, the number of operations and their options). Returns a BenchResult; raises
    SimulatorMissing without Icarus and BenchError when no results were produced.
    """
    global _run_counter
    require_iverilog()
    from cocotb_tools.runner import get_runner  # import late: costs ~0.2 s

    sources = [Path(s).resolve() for s in sources]
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise UserError(f"run_bench: source files not found: {', '.join(missing)}")
    parameters = dict(parameters or {})
    build_dir = Path(build_dir) if build_dir else default_build_dir(toplevel, sources,
                                                                   parameters, waves)
    build_dir = build_dir.resolve()
    build_dir.mkdir(parents=True, exist_ok=True)

    _run_counter += 1
    run_name = run_name or f"run-{os.getpid()}-{_run_counter}"
    run_dir = build_dir / "runs" / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = run_dir / "sim.log"
    results_xml = run_dir / "results.xml"
    with contextlib.suppress(OSError):
        results_xml.unlink()

    runner = get_runner("icarus")
    runner.log.setLevel(logging.ERROR)  # "Skipping compilation" etc. are noise for us
    start = time.perf_counter()
    with _locked(build_dir / ".build.lock"):
        try:
            runner.build(sources=sources, hdl_toplevel=toplevel, parameters=parameters,
                         build_dir=build_dir, timescale=TIMESCALE, waves=waves,
                         log_file=run_dir / "build.log")
        except (RuntimeError, SystemExit) as exc:
            tail = (run_dir / "build.log").read_text(errors="replace")[-3000:]
            raise BenchError(f"Icarus build of {toplevel} failed ({exc}):\n{tail}") from None
    waves_file = run_dir / f"{toplevel}.fst" if waves else None
    plusargs = [f"+dumpfile_path={waves_file}"] if waves else []
    env = {k: str(v) for k, v in (extra_env or {}).items()}
    with _on_sys_path(IMPORT_ROOT):
        try:
            runner.test(test_module=test_module, hdl_toplevel=toplevel, build_dir=build_dir,
                        test_dir=run_dir, results_xml=str(results_xml), extra_env=env,
                        seed=seed, testcase=testcase, waves=waves, plusargs=plusargs,
                        parameters=parameters, log_file=log_file)
        except (SystemExit, RuntimeError):
            pass  # under pytest the runner exits on a failed test; we parse the XML below
    wall = time.perf_counter() - start
    if not results_xml.is_file():
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-40:]) \
            if log_file.is_file() else ""
        raise BenchError(f"{test_module} on {toplevel}: no results (simulator crashed?); "
                         f"log {log_file}:\n{tail}")
    tests, failures, failed = parse_results(results_xml)
    return BenchResult(tests, failures, build_dir, run_dir, results_xml, log_file, wall,
                       waves_file if waves_file and waves_file.exists() else None, failed)
