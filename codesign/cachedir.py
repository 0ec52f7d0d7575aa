"""The user cache folder of codesign: simulation and synthesis builds, hwcomponents
query results. Never the source tree, so an installed package and a read-only checkout work.

$CODESIGN_CACHE if set, else $XDG_CACHE_HOME/codesign, else ~/.cache/codesign
(the XDG Base Directory convention, https://specifications.freedesktop.org/basedir-spec/).
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache folder (not created here; users create the sub-folder they write)."""
    root = os.environ.get("CODESIGN_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(xdg, "codesign")
    return Path(root)
