"""Field declarations for the architecture spec: unit, default, allowed range, doc.

Every spec field is declared with :func:`param`, so the validator, the generated
spec reference (docs/spec.md) and the RTL parameter check all read one table.
"""
from __future__ import annotations

import dataclasses
from typing import Any


def param(default: Any, doc: str, unit: str = "", lo: float | None = None,
          hi: float | None = None, choices: tuple | None = None,
          rtl: str | None = None, source: str = "") -> Any:
    """Declare a spec field.

    ``lo``/``hi`` bound numbers (inclusive); ``choices`` lists allowed values;
    ``rtl`` names the Verilog parameter the field drives (checked by codesign.hdl);
    ``source`` cites where the default comes from ("assumed" when it is ours).
    """
    meta = dict(doc=doc, unit=unit, lo=lo, hi=hi, choices=choices, rtl=rtl, source=source)
    if isinstance(default, (list, dict)):
        raise TypeError("spec defaults must be immutable")
    return dataclasses.field(default=default, metadata=meta)


def section(cls: type, doc: str) -> Any:
    """Declare a nested section (a dataclass instance built with its defaults)."""
    return dataclasses.field(default_factory=cls, metadata=dict(doc=doc, section=True))


def allowed_text(meta: dict, typ: Any) -> str:
    """Human text for what a field accepts: used in errors and in docs."""
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    tname = getattr(typ, "__name__", str(typ))
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{tname} in [{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{tname} >= {lo:g}"
    if hi is not None:
        return f"{tname} <= {hi:g}"
    return tname
