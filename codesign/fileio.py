"""Writing files: every output of codesign goes through here.

``check_output`` is called by the CLI for each output path before any long computation
(a bad path after ten minutes of training is a lost ten minutes); ``atomic_path`` and
the ``write_*`` helpers write to a temporary file in the same folder and rename it onto
the target (os.replace is atomic on POSIX), so a crash, a full disk or Ctrl-C never
leaves a half-written file. tempfile.mkstemp creates files with mode 0600; the final
file gets the mode a plain open() would give (0666 less the user's umask).

An error names ``what`` the path is, as its UserError field: library callers pass their
own field or argument name (default ``path``), the CLI its option.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import UserError


def _umask_mode() -> int:
    # os.umask can only be read by setting it; set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def check_output(path: str | Path, what: str, suffix: str | None = None,
                 folder: bool = False) -> Path:
    """The path, if a file (or with folder=True, a folder) can be written there; else a
    UserError naming ``what`` (the option or field: codesign.errors.UserError.field), the
    path and what is allowed.

    A file: its folder exists and is writable (probed by creating and removing a
    temporary file there: access bits say nothing for root or read-only mounts) and the
    path is not a folder. A folder: it is a folder or can be created (its nearest existing
    parent is a writable folder). Nothing is left behind."""
    p = Path(path)
    if str(path) == "":
        raise UserError(f"{what}: empty path; allowed: a file name", field=what)
    if suffix and p.suffix.lower() != suffix:
        raise UserError(f"{what}: value {str(path)!r}; allowed: a file name ending in "
                        f"{suffix}", field=what)
    if folder:
        if p.exists() and not p.is_dir():
            raise UserError(f"{what}: {str(path)!r} is a file; allowed: a folder", field=what)
        probe = p
        while not probe.exists():
            probe = probe.parent
    else:
        if p.is_dir():
            raise UserError(f"{what}: {str(path)!r} is a folder; allowed: a file name",
                            field=what)
        probe = p.parent
        if not probe.exists():
            raise UserError(f"{what}: folder {str(probe)!r} does not exist; allowed: a file "
                            "in an existing folder", field=what)
    if not probe.is_dir():
        raise UserError(f"{what}: {str(probe)!r} is not a folder; allowed: a path under a "
                        "folder", field=what)
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".codesign-probe-")
    except OSError as exc:
        raise UserError(f"{what}: cannot write in {str(probe)!r} ({exc.strerror}); allowed: "
                        "a writable folder", field=what) from None
    os.close(fd)
    os.unlink(tmp)
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path, what: str = "path") -> Iterator[Path]:
    """Yields a temporary path beside ``path``; when the block ends without an error the
    file is given the umask mode and renamed onto ``path``, otherwise removed.
    ``path`` keeps its suffix on the temporary file (matplotlib and numpy choose the
    format by it)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                   suffix=path.suffix)
    except OSError as exc:
        raise UserError(f"{what}: cannot write {str(path)!r} ({exc.strerror}); allowed: a "
                        "file in a writable folder", field=what) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(path: str | Path, data: bytes, what: str = "path") -> Path:
    with atomic_path(path, what) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str, what: str = "path") -> Path:
    return write_bytes(path, text.encode("utf-8"), what)


def save_figure(fig, path: str | Path, what: str = "path", **kwargs) -> Path:
    """fig.savefig through a temporary file (format from the suffix of ``path``)."""
    path = Path(path)
    fmt = kwargs.pop("format", None) or (path.suffix[1:].lower() or "png")
    with atomic_path(path, what) as tmp:
        fig.savefig(tmp, format=fmt, **kwargs)
    return path


# ---- reading what a user hands in -----------------------------------------------------
def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of a user's file, or a UserError naming ``what`` and the path: no
    such file, a folder, unreadable, binary or not UTF-8."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{what}: {str(path)!r} is a folder; allowed: a file", field=what)
    if not p.is_file():
        raise UserError(f"{what}: {str(path)!r}: no such file", field=what)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UserError(f"{what}: {str(path)!r} cannot be read ({exc.strerror})",
                        field=what) from None
    if b"\x00" in data:
        raise UserError(f"{what}: {str(path)!r} cannot be read as text (binary data); "
                        "allowed: UTF-8 text", field=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{what}: {str(path)!r} is not UTF-8 text (byte {exc.start}); "
                        "allowed: UTF-8 text", field=what) from None


def parse_yaml(text: str, source: str, empty_ok: bool = False):
    """YAML text parsed with the spec's rules (codesign.spec.load_yaml); a syntax error,
    nesting too deep for the parser or an alias bomb is one UserError naming ``source``.
    An empty document is an error unless ``empty_ok``."""
    import yaml
    from .spec import load_yaml
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        raise UserError(f"{source}:{where} not valid YAML "
                        f"({getattr(exc, 'problem', None) or exc})") from None
    except (RecursionError, MemoryError):
        raise UserError(f"{source}: nested too deeply or too large; allowed: plain YAML "
                        "mappings and lists") from None
    if data is None and not empty_ok:
        raise UserError(f"{source}: empty; allowed: a YAML mapping")
    return data


def parse_json(text: str, source: str, finite: bool = True):
    """JSON text parsed strictly: NaN, Infinity and numbers too large for a float (which
    Python's json accepts but JSON does not have) are errors naming the field, as are
    syntax errors and nesting too deep. finite=False leaves non-finite numbers to a
    caller that checks every field itself with its own message."""
    import json
    from .jsonutil import non_finite
    if not text.strip():
        raise UserError(f"{source}: empty; allowed: a JSON object")
    try:
        data = json.loads(text)
        where = non_finite(data) if finite else None
    except json.JSONDecodeError as exc:
        raise UserError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except (RecursionError, MemoryError):
        raise UserError(f"{source}: nested too deeply or too large; allowed: a plain JSON "
                        "object") from None
    if where:
        raise UserError(f"{source}: {where}: not a finite number (NaN, Infinity or too "
                        "large); allowed: finite numbers")
    return data
