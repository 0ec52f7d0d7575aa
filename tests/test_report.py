"""HTML reports: a run dict / run JSON and a sweep database become one self-contained page
with every section, a table of contents, tables and embedded images."""
from __future__ import annotations

import base64
import json
import re
import time
from html.parser import HTMLParser

import pytest

from codesign import __version__
from codesign.cli import main
from codesign.errors import UserError
from codesign.plotting import pyplot, save
from codesign.report import write_report
from codesign.sweep import SweepStore

VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Page(HTMLParser):
    """Checks that tags nest and close, and collects ids, links, images and text."""

    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.links, self.images, self.text = [], [], [], [], []
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a":
            self.links.append(a.get("href"))
        if tag == "img":
            self.images.append(a["src"])
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith(("#", "data:")):
                self.external.append(a[key])
        if tag in ("script", "link", "iframe", "object"):
            self.external.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.stack == [], f"unclosed: {page.stack}"
    assert page.external == [], "the report must not load anything from elsewhere"
    return page


def _png(path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return save(fig, path)


def _run(tmp_path) -> dict:
    png = _png(tmp_path / "plots" / "line.png")
    return {"title": "Run <one> & two", "created": "2026-01-02T03:04:05+00:00",
            "version": __version__, "spec": "ambrogio2018", "seed": 3,
            "sections": [
                {"id": "mapping", "title": "Mapping", "summary": "Tiles <b>placed</b>.",
                 "tables": [{"title": "Layers", "headers": ["layer", "tiles", "util"],
                             "rows": [["fc1", 2, 0.51234567], ["fc2", 1, None]]}],
                 "images": [str(png)], "data": {"total_tiles": 3}, "seconds": 0.25},
                {"id": "estimate", "title": "Estimate", "summary": "Area and energy.",
                 "tables": [], "images": [{"png": png.read_bytes(), "caption": "in memory"}],
                 "data": {}},
                {"id": "mapping", "title": "Mapping again", "summary": "", "tables": []}]}


def test_run_report_has_every_section_toc_and_embedded_images(tmp_path):
    run = _run(tmp_path)
    out = write_report(run, tmp_path / "out" / "report.html")
    assert out == tmp_path / "out" / "report.html" and out.is_file()
    page = _parse(out)
    ids = ["mapping", "estimate", "mapping-2"]
    assert [i for i in page.ids if i in ids] == ids
    assert [l for l in page.links if l.startswith("#")] == [f"#{i}" for i in ids]
    text = " ".join(page.text)
    for sec in run["sections"]:
        assert sec["title"] in text
    assert "Run <one> & two" in text and "Tiles <b>placed</b>." in text   # escaped text
    assert "0.5123" in text and "fc2" in text and "ambrogio2018" in text
    assert '"total_tiles": 3' in text                    # section data as JSON
    assert len(page.images) == 2
    png = (tmp_path / "plots" / "line.png").read_bytes()
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == png
    assert not list(out.parent.glob(".*tmp"))           # no temporary left behind


def test_run_json_cli_resolves_images_next_to_the_run(tmp_path, capsys, monkeypatch):
    run = _run(tmp_path)
    run["sections"][0]["images"] = ["plots/line.png"]     # relative to the run folder
    del run["sections"][1]                                 # bytes are not JSON
    (tmp_path / "run.json").write_text(json.dumps(run))
    monkeypatch.chdir(tmp_path.parent)
    assert main(["report", str(tmp_path / "run.json")]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(tmp_path / "run.html")
    page = _parse(tmp_path / "run.html")
    assert len(page.images) == 1 and "Mapping again" in " ".join(page.text)


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.pop("title"), "run: title: missing or empty"),
    (lambda r: r.update(sections={}), "run: sections: missing or not a list"),
    (lambda r: r["sections"][0]["tables"][0]["rows"].append([1]),
     "run: sections[0].tables[0].rows[2]: 1 cells; allowed: 3 (one per header)"),
    (lambda r: r["sections"][0].update(images=["nope.png"]),
     "run: sections[0].images[0]: nope.png: no such file"),
    (lambda r: r["sections"][1].update(images=[{"png": b"GIF89a"}]),
     "run: sections[1].images[0].png: not PNG data"),
    (lambda r: r["sections"][2].pop("title"), "run: sections[2].title: missing or empty"),
])
def test_bad_run_is_a_user_error_and_writes_nothing(edit, message, tmp_path):
    run = _run(tmp_path)
    edit(run)
    with pytest.raises(UserError) as exc:
        write_report(run, tmp_path / "bad.html")
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)
    assert not (tmp_path / "bad.html").exists()


def test_report_cli_errors_exit_2(tmp_path, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    assert main(["report", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "neither a sweep database nor a run JSON" in err and "line 1" in err
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def _sweep_db(path):
    """A small sweep database written directly (no cluster): 3 done points, 1 failed and
    1 grid point never computed."""
    now = time.time()
    with SweepStore(path) as store:
        sid, _ = store.begin_sweep("ambrogio2018", {"adc.bits": [4, 5, 6, 8, 10]},
                                   {"seed": 0, "net": "mlp-2018"}, __version__, "local:2",
                                   ["k4", "k5", "k6", "k8", "k10"])
        for bits, area, energy in ((4, 1.0, 4e-9), (6, 1.5, 2e-9), (8, 2.0, 3e-9)):
            store.put({"key": f"k{bits}", "spec_digest": "d", "base": "ambrogio2018",
                       "overrides": {"adc.bits": bits}, "options": {}, "spec": {},
                       "status": "done", "metrics": {"area_mm2": area, "tiles": 3,
                                                     "energy_per_inference_j": energy,
                                                     "tops_per_w": 1 / energy / 1e12},
                       "version": __version__, "sweep_id": sid, "started": now,
                       "finished": now, "elapsed_s": 0.01, "worker": "w1"})
        store.put({"key": "k5", "spec_digest": "d", "base": "ambrogio2018",
                   "overrides": {"adc.bits": 5}, "options": {}, "spec": {},
                   "status": "failed", "error": "ValueError: injected <failure>",
                   "traceback": "Traceback ...", "version": __version__, "sweep_id": sid,
                   "started": now, "finished": now, "elapsed_s": 0.01, "worker": "w2"})
        store.end_sweep(sid, "interrupted", 3, 1)


def test_sweep_db_report_holds_points_pareto_and_failures(tmp_path, capsys):
    db = tmp_path / "sweep.db"
    _sweep_db(db)
    (tmp_path / "r").mkdir()           # output folders must exist (checked before work)
    assert main(["report", str(db), "-o", str(tmp_path / "r" / "sweep.html"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "sweep" and out["sections"] == ["overview", "points", "pareto",
                                                          "failures"]
    page = _parse(tmp_path / "r" / "sweep.html")
    text = " ".join(page.text)
    assert all(i in page.ids for i in out["sections"])
    assert "4 points stored: 3 done, 1 failed; 1 grid point not computed yet" in text
    assert "2 of 3 done points are Pareto-optimal" in text     # adc.bits 4 and 6
    assert "ValueError: injected <failure>" in text
    assert len(page.images) == 1 and page.images[0].startswith("data:image/png;base64,")
    tables = re.findall(r"<caption>(.*?)</caption>",
                        (tmp_path / "r" / "sweep.html").read_text())
    assert [t.split(":")[0].split(",")[0] for t in tables] == [
        "Sweep runs", "All points", "Pareto-optimal points", "Failed points"]
    html = (tmp_path / "r" / "sweep.html").read_text()
    # units in the headers (µ, ², %), numbers and their headers right-aligned
    assert "area [mm²]" in html and "energy/inference [nJ]" in html
    assert not re.search(r"\b(uS|us|mm2)\b", text)
    assert '<th class="num">area [mm²]</th>' in html and '<td class="num">1.5</td>' in html
    # one point never computed and no run alive: the sweep was interrupted
    assert "1 grid point not computed yet: interrupted; run the same sweep again" in text
    # the figure says what it shows
    assert "Every done point of the sweep (3): energy per inference against area" in text
    assert '<div class="tablewrap" tabindex="0">' in html
    assert "Sweep runs: one row per run of codesign sweep on this database (wide: scroll " \
        "sideways for all 14 columns)" in text


def test_sweep_overview_says_interrupted_only_while_points_are_pending(tmp_path):
    from codesign.report.sweep import sweep_run
    db = tmp_path / "sweep.db"
    _sweep_db(db)
    now = time.time()
    with SweepStore(db) as store:             # a later run computes the missing point
        sid, _ = store.begin_sweep("ambrogio2018", {"adc.bits": [10]}, {"seed": 0},
                                   __version__, "local:2", ["k10"])
        store.put({"key": "k10", "spec_digest": "d", "base": "ambrogio2018",
                   "overrides": {"adc.bits": 10}, "options": {}, "spec": {},
                   "status": "done", "metrics": {"area_mm2": 3.0,
                                                 "energy_per_inference_j": 9e-9},
                   "version": __version__, "sweep_id": sid, "started": now,
                   "finished": now, "elapsed_s": 0.01, "worker": "w1"})
        store.end_sweep(sid, "finished", 1, 0)
    overview = sweep_run(db)["sections"][0]
    assert "interrupted" not in overview["summary"]
    assert "every grid point has a result" in overview["summary"]
    statuses = [row[2] for row in overview["tables"][0]["rows"]]
    assert statuses == ["interrupted, completed by a later run", "finished"]
