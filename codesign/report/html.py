"""A run (title, sections of summary, tables, images, data) as one self-contained HTML
page: inline CSS, images as base64 data URIs, no scripts and no external assets, so the
file can be mailed or archived alone and still shows everything."""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

from .. import __version__
from ..tables import cell_text, is_number, is_numeric_text

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
        ".gif": "image/gif", ".svg": "image/svg+xml"}

CSS = """
:root { --fg: #1d2330; --muted: #5c6677; --line: #d9dee7; --accent: #2455a4;
        --band: #f4f6fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); margin: 0 auto; max-width: 1100px; padding: 24px 32px 64px; }
header { border-bottom: 2px solid var(--accent); margin-bottom: 16px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 8px;
     border-top: 1px solid var(--line); }
.meta { color: var(--muted); font-size: 13px; margin: 0 0 12px; }
.meta span { margin-right: 18px; white-space: nowrap; }
nav { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
      padding: 8px 20px; margin: 16px 0; }
nav h2 { font-size: 15px; border: 0; margin: 6px 0; padding: 0; }
nav ol { margin: 4px 0 8px; padding-left: 22px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.summary { margin: 6px 0 14px; }
.took { color: var(--muted); font-size: 12px; font-weight: normal; margin-left: 8px; }
.tablewrap { overflow-x: auto; margin: 10px 0 18px; }
table { border-collapse: collapse; font-size: 13px; min-width: 40%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 9px; vertical-align: top; }
th { background: var(--band); text-align: left; white-space: nowrap; }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfd; }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12px; }
details { margin: 8px 0 16px; }
summary { cursor: pointer; color: var(--muted); font-size: 13px; }
pre { background: var(--band); border: 1px solid var(--line); padding: 10px;
      font-size: 12px; overflow: auto; max-height: 420px; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px;
         border-top: 1px solid var(--line); padding-top: 8px; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def image_uri(image: dict) -> str:
    """``{"bytes": b"...", "mime": "image/png"}`` (as prepared by the checker) as a URI."""
    return f"data:{image['mime']};base64," + base64.b64encode(image["bytes"]).decode("ascii")


def render(run: dict) -> str:
    """The HTML text of a checked run (see codesign.report.check_run)."""
    sections = run["sections"]
    ids = _unique_ids(sections)
    meta = [("created", run.get("created")), ("codesign", run.get("version"))]
    meta += [(k, v) for k, v in run.items() if k not in ("title", "created", "version",
                                                        "sections", "report")
             and isinstance(v, (str, int, float, bool))]
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(run['title'])}</title>", f"<style>{CSS}</style>", "</head>",
           "<body>", "<header>", f"<h1>{esc(run['title'])}</h1>",
           '<p class="meta">' + "".join(f"<span><b>{esc(k)}</b> {esc(cell_text(v))}</span>"
                                        for k, v in meta if v not in (None, "")) + "</p>",
           "</header>"]
    out.append('<nav aria-label="contents"><h2>Contents</h2><ol>')
    out += [f'<li><a href="#{sid}">{esc(s["title"])}</a></li>'
            for sid, s in zip(ids, sections)]
    out.append("</ol></nav>")
    for number, (sid, sec) in enumerate(zip(ids, sections), 1):
        out.append(_section(number, sid, sec))
    out.append(f"<footer>Written by codesign {esc(__version__)}. Self-contained: images are "
               "embedded, nothing is loaded from elsewhere.</footer>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _unique_ids(sections: list[dict]) -> list[str]:
    ids, seen = [], set()
    for s in sections:
        base = slug(str(s.get("id") or s["title"]))
        sid, n = base, 2
        while sid in seen:
            sid, n = f"{base}-{n}", n + 1
        seen.add(sid)
        ids.append(sid)
    return ids


def _section(number: int, sid: str, sec: dict) -> str:
    took = sec.get("seconds")
    took_html = f'<span class="took">{took:.3g} s</span>' if is_number(took) else ""
    parts = [f'<section id="{sid}">', f"<h2>{number}. {esc(sec['title'])}{took_html}</h2>"]
    if sec.get("summary"):
        parts += [f'<p class="summary">{esc(p)}</p>'
                  for p in str(sec["summary"]).split("\n\n") if p.strip()]
    for table in sec.get("tables") or []:
        parts.append(_table(table))
    for image in sec.get("images") or []:
        caption = image.get("caption") or ""
        parts.append(f'<figure><img src="{image_uri(image)}" alt="{esc(caption or sec["title"])}">'
                     + (f"<figcaption>{esc(caption)}</figcaption>" if caption else "")
                     + "</figure>")
    if sec.get("data"):
        text = json.dumps(sec["data"], indent=2, default=str)
        parts.append(f"<details><summary>data (JSON)</summary><pre>{esc(text)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _table(table: dict) -> str:
    """A table in a horizontally scrolling box (a wide table scrolls, nothing is cut).
    Numbers are right-aligned, and so is the header of a column holding only numbers."""
    rows = table["rows"]
    num = [[_numeric(v) for v in r] for r in rows]
    numeric = [any(r[i] for r in num) and all(r[i] or v[i] is None for r, v in zip(num, rows))
               for i in range(len(table["headers"]))]
    head = "".join(f'<th class="num">{esc(h)}</th>' if n else f"<th>{esc(h)}</th>"
                   for h, n in zip(table["headers"], numeric))
    body = []
    for row, row_num in zip(rows, num):
        body.append("<tr>" + "".join(
            f'<td class="num">{esc(cell_text(v))}</td>' if isnum or (n and v is None)
            else f"<td>{esc(cell_text(v))}</td>"
            for v, isnum, n in zip(row, row_num, numeric)) + "</tr>")
    title = table.get("title") or ""
    if _width(table) > WIDE_CHARS:
        title += f"{' ' if title else ''}(wide: scroll sideways for all {len(numeric)} columns)"
    caption = f"<caption>{esc(title)}</caption>" if title else ""
    return (f'<div class="tablewrap" tabindex="0"><table>{caption}<thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>")


#: A table whose widest rows hold more characters than this is marked as scrolling
#: (about what the 1,100 px page shows at 13 px type with cell padding).
WIDE_CHARS = 150


def _width(table: dict) -> int:
    """Characters of the table's widest line: per column its header or longest cell."""
    widths = [len(str(h)) for h in table["headers"]]
    for row in table["rows"]:
        widths = [max(w, len(cell_text(v))) for w, v in zip(widths, row)]
    return sum(widths) + 3 * len(widths)


def _numeric(value: Any) -> bool:
    """A number, or a number already formatted as text (e.g. "97.25", "1,024")."""
    if is_number(value):
        return True
    return isinstance(value, str) and value.strip() != "" and is_numeric_text(value)


def read_image(path: Path) -> dict:
    return {"bytes": path.read_bytes(), "mime": MIME[path.suffix.lower()],
            "caption": path.name}
