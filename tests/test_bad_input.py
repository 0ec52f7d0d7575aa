"""Every bad input of tests/bad_input_cases.py: exit 2, one line on stderr naming the
field, no traceback, no file left behind (run in-process, each in its own folder).

`python tests/bad_input_cases.py` runs the same cases as subprocesses and counts
tracebacks, accepted bad inputs and hangs (the numbers quoted in issue 13).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bad_input_cases import CASES, classify, snapshot, write_files  # noqa: E402

from codesign.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Bad inputs must fail before any real work: a case that runs longer is a bug.
CASE_SECONDS = 120


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@pytest.mark.parametrize("cid,argv,files,field", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(cid, argv, files, field, tmp_path, monkeypatch,
                                          capsys):
    write_files(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = snapshot(tmp_path)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        rc = main(list(argv))
    except _Timeout:
        rc = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    err = capsys.readouterr().err
    verdict = classify(rc, err, field, snapshot(tmp_path) - before)
    assert verdict == "ok", f"{cid}: {verdict}; stderr: {err.strip()[-400:]}"


def test_enough_cases_for_every_subcommand():
    commands = {argv[0] for _, argv, _, _ in CASES}
    assert {"spec", "estimate", "map", "train", "infer", "device", "sim", "synth", "bench",
            "sweep", "report", "demo"} <= commands
    assert len(CASES) >= 200


def _codesign(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "codesign", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, **kw)


def test_broken_pipe_ends_quietly(tmp_path):
    """`codesign ... | head` with the reader gone before the first line: no traceback,
    nothing on stderr, the exit status of a process ended by SIGPIPE."""
    p = _codesign("spec", "show", "ambrogio2018", cwd=tmp_path)
    p.stdout.close()                 # the reader is gone before anything is written
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141
    assert err == ""


def test_argparse_errors_are_one_line(capsys):
    assert main(["map", "--net", "mlp-2018", "--spec", "ambrogio2018", "--seed", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seed" in err[0] and "allowed" in err[0]
