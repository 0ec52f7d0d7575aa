"""The main job: `codesign demo` runs every section and writes a report holding them all."""
import json

from codesign.cli import main
from codesign.demo import SECTIONS


def test_demo_writes_run_and_report_with_every_section(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sections"] == [name for name, _ in SECTIONS]
    run = json.loads((out / "run.json").read_text())
    html = (out / "report.html").read_text()
    assert printed["report"] == str(out / "report.html")
    for sec in run["sections"]:
        assert sec["title"] in html and sec["tables"], sec["id"]
    by_id = {s["id"]: s for s in run["sections"]}
    assert by_id["rtl"]["data"]["mismatches"] == 0 and by_id["rtl"]["data"]["ops"] > 0
    assert by_id["mapping"]["data"]["total_tiles"] == 4          # 529x250, 251x125, 126x10
    assert by_id["estimate"]["data"]["tops_per_w"] > 0
    acc = by_id["training"]["data"]["test_accuracy"]
    assert {"mlp-2018 / mnist5k: software", "mlp-2018 / mnist5k: 2pcm3t1c"} <= set(acc)
    # why the capacitor is needed: on digits the PCM pair alone trails 2PCM+3T1C
    assert acc["64-16-10 / digits: 2pcm3t1c"] > acc["64-16-10 / digits: pcm-pair"]
    assert (out / "training.png").stat().st_size > 0
    assert html.count("data:image/png;base64,") >= 4             # plots are embedded
    # every figure says what it shows; units as printed units; fallbacks flagged in place
    assert all(isinstance(i, dict) and len(i["caption"]) > 40
               for sec in run["sections"] for i in sec["images"])
    assert "mean [µS]" in html and "[uS]" not in html and "time [µs]" in html
    area = by_id["estimate"]["tables"][1]
    assert area["headers"] == ["component", "area [mm²]", "share [%]", "model"]
    control = next(r for r in area["rows"] if r[0] == "control")
    assert control[3].startswith("\u26a0") and "no synthesis counts" in control[3]


def test_demo_only_rejects_unknown_section(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--only", "spec,nope"]) == 2
    err = capsys.readouterr().err
    assert "--only" in err and "nope" in err and err.count("\n") == 1
