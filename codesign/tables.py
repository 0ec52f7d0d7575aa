"""Plain-text tables for terminals (CLI, demo, mapping summaries)."""
from __future__ import annotations

from typing import Any, Iterable, Sequence


def format_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)
    body = [[cell(v) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep] + ["  ".join(v.rjust(w) if _num(v) else v.ljust(w)
                                   for v, w in zip(r, widths)) for r in body]
    return "\n".join(out)


def _num(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
