"""codesign.numba_cache: a cached kernel that calls another module's kernel runs that
module's current code after it changes (numba alone would keep the old compiled copy)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

DEP = """
import numba as nb

@nb.njit(cache=True)
def value():
    return {value}
"""

USER = """
import numba as nb
from .dep import __file__ as _dep_file
from .dep import value

@nb.njit(cache=True)
def call():
    return value()
{flush}
"""

FLUSH = """
from codesign.numba_cache import flush_on_change
flush_on_change(globals(), [_dep_file])
"""


def _run(root) -> int:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.getcwd()]))
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", "from pkg.user import call; print(call())"],
                         env=env, capture_output=True, text=True, check=True)
    return int(out.stdout)


def _values(tmp_path, flush: bool) -> tuple[int, int]:
    """call() before and after the dependency's source changes from 1 to 2."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "user.py").write_text(textwrap.dedent(USER.format(flush=FLUSH if flush else "")))
    dep = pkg / "dep.py"
    dep.write_text(DEP.format(value=1))
    first = _run(tmp_path)
    dep.write_text(DEP.format(value=2) + "\n# longer, so numba's stamp (mtime, size) differs\n")
    return first, _run(tmp_path)


@pytest.mark.parametrize("flush", [True, False])
def test_a_changed_dependency_is_compiled_again(tmp_path, flush):
    first, second = _values(tmp_path, flush)
    assert first == 1
    # without the flush numba runs the cached copy of the old dependency (what the
    # helper exists for); with it, the new code
    assert second == (2 if flush else 1)
