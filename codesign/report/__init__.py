"""HTML reports of runs and sweeps (docs/report.md).

    from codesign.report import write_report
    write_report({"title": "...", "created": "2026-01-01T00:00:00+00:00",
                  "version": codesign.__version__,
                  "sections": [{"id": "mapping", "title": "Mapping", "summary": "...",
                                "tables": [{"title": "...", "headers": [...],
                                            "rows": [[...]]}],
                                "images": ["plot.png"], "data": {...}}]},
                 "out/report.html")

An image is a file path (str), ``{"path": ..., "caption": ...}`` or, for plots made in
memory, ``{"png": bytes or base64 text, "caption": ...}``. Relative paths are looked up
from the working directory, then from ``base_dir`` (the run file's folder). Anything
wrong in the run raises a UserError naming where, and no file is written.
"""
from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..fileio import write_text
from .html import MIME, read_image, render

__all__ = ["check_run", "write_report"]


def write_report(run: dict, path: str | Path, base_dir: str | Path | None = None,
                 source: str = "run") -> Path:
    """Render ``run`` to a self-contained HTML file at ``path`` (written atomically:
    a temporary file in the same folder renamed into place). Returns the path."""
    checked = check_run(run, base_dir, source)
    text = render(checked)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, text, "report")


def check_run(run: Any, base_dir: str | Path | None = None, source: str = "run") -> dict:
    """A validated copy of ``run`` with every image read into memory."""
    def fail(where: str, problem: str) -> UserError:
        return UserError(f"{source}: {where}: {problem}")
    if not isinstance(run, dict):
        raise fail("<top>", f"value of type {type(run).__name__}; allowed: a JSON object "
                            "with title and sections")
    if not isinstance(run.get("title"), str) or not run["title"].strip():
        raise fail("title", "missing or empty; allowed: a non-empty string")
    sections = run.get("sections")
    if not isinstance(sections, list):
        raise fail("sections", "missing or not a list; allowed: a list of sections")
    out = dict(run)
    out["sections"] = [_check_section(s, f"sections[{i}]", base_dir, fail)
                       for i, s in enumerate(sections)]
    return out


def _check_section(sec: Any, where: str, base_dir, fail) -> dict:
    if not isinstance(sec, dict):
        raise fail(where, "not an object; allowed: {id, title, summary, tables, images, data}")
    if not isinstance(sec.get("title"), str) or not sec["title"].strip():
        raise fail(f"{where}.title", "missing or empty; allowed: a non-empty string")
    out = dict(sec)
    tables = sec.get("tables") or []
    if not isinstance(tables, list):
        raise fail(f"{where}.tables", "not a list")
    for j, table in enumerate(tables):
        _check_table(table, f"{where}.tables[{j}]", fail)
    images = sec.get("images") or []
    if not isinstance(images, list):
        raise fail(f"{where}.images", "not a list")
    out["images"] = [_load_image(img, f"{where}.images[{j}]", base_dir, fail)
                     for j, img in enumerate(images)]
    return out


def _check_table(table: Any, where: str, fail) -> None:
    if not isinstance(table, dict):
        raise fail(where, "not an object; allowed: {title, headers, rows}")
    headers, rows = table.get("headers"), table.get("rows")
    if not isinstance(headers, list) or not headers:
        raise fail(f"{where}.headers", "missing or empty; allowed: a list of column names")
    if not isinstance(rows, list):
        raise fail(f"{where}.rows", "missing or not a list; allowed: a list of rows")
    for k, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) != len(headers):
            n = len(row) if isinstance(row, (list, tuple)) else "no"
            raise fail(f"{where}.rows[{k}]", f"{n} cells; allowed: {len(headers)} "
                                             "(one per header)")


def _load_image(img: Any, where: str, base_dir, fail) -> dict:
    if isinstance(img, dict) and "png" in img:
        data = img["png"]
        if isinstance(data, str):
            try:
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise fail(f"{where}.png", "not base64 text") from None
        if not isinstance(data, (bytes, bytearray)) or not bytes(data).startswith(b"\x89PNG"):
            raise fail(f"{where}.png", "not PNG data")
        return {"bytes": bytes(data), "mime": "image/png", "caption": img.get("caption", "")}
    if isinstance(img, dict):
        caption, img = img.get("caption"), img.get("path")
    else:
        caption = None
    if not isinstance(img, str) or not img:
        raise fail(where, "allowed: a file path, {path, caption} or {png, caption}")
    path = _find(Path(img), base_dir)
    if path is None:
        raise fail(where, f"{img}: no such file")
    if path.suffix.lower() not in MIME:
        raise fail(where, f"{img}: unsupported image type; allowed: "
                          + ", ".join(sorted(MIME)))
    image = read_image(path)
    if caption:
        image["caption"] = caption
    return image


def _find(path: Path, base_dir) -> Path | None:
    """The image file: as given (absolute or from the working directory), else from the
    run file's folder (so a run folder can be moved with its images)."""
    candidates = [path]
    if base_dir is not None and not path.is_absolute():
        candidates += [Path(base_dir) / path, Path(base_dir) / path.name]
    return next((c for c in candidates if c.is_file()), None)
