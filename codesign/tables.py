"""Plain-text tables for terminals (CLI, demo, mapping summaries), and the print form of
a table cell shared with the HTML report (codesign.report.html).

Numbers are right-aligned, and so is the header of a column that holds only numbers
(the unit goes in the header, e.g. ``area [mm²]``, so the cells stay bare numbers).
"""
from __future__ import annotations

import json
import math
import numbers
from typing import Any, Iterable, Sequence

DASH = "\u2013"


def is_number(value: Any) -> bool:
    """Numbers (numpy scalars too) are right-aligned; booleans are not numbers here."""
    return isinstance(value, numbers.Real) and not is_bool(value)


def is_bool(value: Any) -> bool:
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def cell_text(value: Any) -> str:
    """A table cell in print form: 4 significant digits; 10^4 to 10^9 as whole numbers
    with thousands separators, and integers from 10^4 on too; None as a dash; booleans
    as yes/no."""
    if value is None:
        return DASH
    if is_bool(value):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        return f"{value:,.0f}" if 1e4 <= abs(value) < 1e9 else f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)


def format_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    body = [[cell_text(v) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [bool(body) and all(_num(r[i]) or r[i] == DASH for r in body)
               and any(_num(r[i]) for r in body) for i in range(len(headers))]
    line = "  ".join(h.rjust(w) if n else h.ljust(w)
                     for h, w, n in zip(headers, widths, numeric))
    sep = "  ".join("-" * w for w in widths)
    out = [line.rstrip(), sep] + ["  ".join(
        v.rjust(w) if _num(v) or (n and v == DASH) else v.ljust(w)
        for v, w, n in zip(r, widths, numeric)).rstrip() for r in body]
    return "\n".join(out)


def is_numeric_text(text: str) -> bool:
    """A number in print form: '97.25', '1,024', '-3e-05' (not 'nan' or 'inf')."""
    try:
        return math.isfinite(float(text.replace(",", "")))
    except ValueError:
        return False


_num = is_numeric_text
