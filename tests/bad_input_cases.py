"""Bad inputs for every subcommand, as an adversarial user would try them.

Each case: an id, the argv after ``codesign``, the files it needs (name -> bytes, text, or
a callable writing the file) and a word the one-line error must contain (the field).
tests/test_bad_input.py runs them in-process; ``python tests/bad_input_cases.py`` runs
each in a subprocess with a timeout and counts tracebacks, accepted bad inputs (exit 0),
other exits and hangs (the before/after numbers of issue 13).
"""
from __future__ import annotations

import io
import json
import sqlite3

import numpy as np


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _sqlite_foreign(path: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")


def _folder(path: str) -> None:
    import os
    os.makedirs(path)


def _good_mnist_like(**over) -> bytes:
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 255, (40, 16)).astype(np.uint8),
                  y_train=np.arange(40) % 4, x_test=rng.integers(0, 255, (12, 16)).astype(
                      np.uint8), y_test=np.arange(12) % 4)
    arrays.update(over)
    return npz(**arrays)


def _weights(**over) -> bytes:
    meta = json.dumps({"format": "codesign-mlp-weights/1", "net": "16-8-4", "sizes": [16, 8, 4],
                       "hidden": ["tanh"], "dataset": "x", "cell": "ideal", "seed": 0,
                       "test_accuracy": 0.5})
    arrays = dict(w0=np.zeros((17, 8)), w1=np.zeros((9, 4)), meta=np.array(meta))
    arrays.update(over)
    return npz(**arrays)


BINARY = bytes(range(256)) * 4
LATIN1 = "name: caf\xe9\n".encode("latin-1")
DEEP_YAML = "a: " + "[" * 20000 + "]" * 20000 + "\n"
DEEP_MAP = "".join("  " * i + f"k{i}:\n" for i in range(3000))
DEEP_JSON = "[" * 100000 + "]" * 100000
LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)}]\n" for i in range(9))


def spec_text(section: str, key: str, value: str) -> str:
    return f"base: ambrogio2018\n{section}:\n  {key}: {value}\n"


# spec fields: (section, key, bad value, field word)
SPEC_VALUES = [
    ("pcm", "g_max", ".nan"), ("pcm", "g_max", ".inf"), ("pcm", "g_max", "-2.5e-5"),
    ("pcm", "g_max", "1e300"), ("pcm", "t0", "-.inf"), ("pcm", "prog_noise", "[.nan]"),
    ("pcm", "prog_noise", "[1e400]"), ("array", "rows", "0"), ("array", "rows", "-512"),
    ("array", "rows", "1000000000000"), ("array", "rows", "1.5"), ("adc", "bits", "-3"),
    ("adc", "bits", ".nan"), ("adc", "count", "0"), ("noc", "grid_rows", "-1"),
    ("capacitor", "step", ".nan"), ("array", "cell_area", "-1e-12"),
    ("array", "read_energy", ".inf"), ("dac", "pulse_train", "maybe"),
    ("sram", "multiplier", "c3c"), ("dac", "area", "-1e-12"), ("dac", "area", ".nan"),
]

CASES: list[tuple[str, list[str], dict, str]] = []


def case(cid: str, argv: list[str], files: dict | None = None, field: str = "") -> None:
    CASES.append((cid, argv, files or {}, field))


# ---- spec files, through spec check, estimate, map, device ------------------------------
for sec, key, val in SPEC_VALUES:
    text = spec_text(sec, key, val)
    case(f"spec-{sec}.{key}={val}", ["spec", "check", "s.yaml"], {"s.yaml": text}, key)
    case(f"estimate-spec-{sec}.{key}={val}", ["estimate", "--spec", "s.yaml"],
         {"s.yaml": text}, key)
for name, body in (("empty", b""), ("binary", BINARY), ("latin1", LATIN1),
                   ("deep-list", DEEP_YAML), ("deep-map", DEEP_MAP), ("laughs", LAUGHS),
                   ("list", "- 1\n- 2\n"), ("scalar", "42\n"), ("tab", "a:\n\tb: 1\n")):
    case(f"spec-file-{name}", ["spec", "check", "s.yaml"], {"s.yaml": body}, "s.yaml")
    case(f"map-spec-file-{name}", ["map", "--net", "mlp-2018", "--spec", "s.yaml"],
         {"s.yaml": body}, "s.yaml")
case("spec-folder", ["spec", "check", "d"], {"d": _folder}, "d")
case("spec-set-nan", ["train", "--set", "pcm.g_max=.nan", "--net", "16-4", "--epochs", "1"],
     {}, "g_max")
case("spec-set-neg", ["train", "--set", "adc.bits=-1", "--net", "16-4", "--epochs", "1"], {},
     "bits")

# ---- components files --------------------------------------------------------------------
for key, val in (("gates.nand2_area", ".nan"), ("gates.nand2_area", "-1e-12"),
                 ("gates.nand2_area", ".inf"), ("gates.activity", "1e999"),
                 ("technology.vdd", "{45: .nan}"), ("technology.vdd", "{45: -0.9}"),
                 ("technology.vdd", "{-45: 0.9}"), ("gates.nand2_area", "{value: .nan}"),
                 ("gates.nand2_area", "{value: 1e-12, node_nm: -45}"),
                 ("gates.nand2_area", "{value: 1e-12, node_nm: 0}")):
    sec, k = key.split(".")
    case(f"components-{key}={val}", ["estimate", "--spec", "ambrogio2018", "--components",
                                     "c.yaml"], {"c.yaml": f"{sec}:\n  {k}: {val}\n"}, k)
for ex, field in (("{area_um2: .nan}", "area_um2"), ("{area_um2: -1}", "area_um2"),
                  ("{energy_per_cycle: .inf}", "energy_per_cycle"),
                  ("{energy_per_event: {reads: .nan}}", "reads"),
                  ("{node_nm: 0}", "node_nm"), ("{node_nm: -7}", "node_nm")):
    case(f"components-extra-{ex}", ["estimate", "--spec", "ambrogio2018", "--components",
                                    "c.yaml"], {"c.yaml": f"extra_components:\n  x: {ex}\n"},
         field)
for name, body in (("empty-list", "[]\n"), ("binary", BINARY), ("latin1", LATIN1),
                   ("deep", DEEP_YAML), ("laughs", LAUGHS)):
    case(f"components-file-{name}", ["estimate", "--spec", "ambrogio2018", "--components",
                                     "c.yaml"], {"c.yaml": body}, "c.yaml")

# ---- synth JSON --------------------------------------------------------------------------
for name, body, field in (
        ("nan", '{"nand2_eq": NaN}', "nand2_eq"), ("inf", '{"nand2_eq": Infinity}', "nand2_eq"),
        ("huge", '{"nand2_eq": 1e400}', "nand2_eq"), ("neg", '{"nand2_eq": -5}', "nand2_eq"),
("text", '{"nand2_eq": "many"}', "nand2_eq"),
        ("bytype-nan", '{"by_type": {"$_NAND_": NaN}}', "by_type"),
        ("bytype-neg", '{"by_type": {"$_NAND_": -3}}', "by_type"),
        ("empty", "", "s.json"), ("list", "[1]", "s.json"), ("deep", DEEP_JSON, "s.json"),
        ("binary", BINARY, "s.json"), ("latin1", LATIN1, "s.json")):
    case(f"synth-json-{name}", ["estimate", "--spec", "ambrogio2018", "--synth", "s.json"],
         {"s.json": body}, field)

# ---- workloads ---------------------------------------------------------------------------
for name, layer, field in (
        ("rows-nan", "{name: a, rows: .nan, cols: 8, mvms: 1, tiles: 1}", "rows"),
        ("rows-neg", "{name: a, rows: -8, cols: 8, mvms: 1, tiles: 1}", "rows"),
        ("rows-float", "{name: a, rows: 8.5, cols: 8, mvms: 1, tiles: 1}", "rows"),
        ("mvms-zero", "{name: a, rows: 8, cols: 8, mvms: 0, tiles: 1}", "mvms"),
        ("tiles-huge", "{name: a, rows: 8, cols: 8, mvms: 1, tiles: 1000000000000000000000}",
         "tiles"),
        ("macs-neg", "{name: a, rows: 8, cols: 8, mvms: 1, tiles: 1, macs: -1}", "macs"),
        ("unknown", "{name: a, rows: 8, cols: 8, mvms: 1, tiles: 1, bogus: 1}", "bogus"),
        ("missing", "{name: a, rows: 8}", "cols")):
    case(f"workload-{name}", ["estimate", "--spec", "ambrogio2018", "--workload", "w.yaml"],
         {"w.yaml": f"layers:\n  - {layer}\n"}, field)
for name, body in (("empty", ""), ("binary", BINARY), ("deep", DEEP_YAML), ("laughs", LAUGHS),
                   ("no-layers", "layers: []\n"), ("list", "- 1\n")):
    case(f"workload-file-{name}", ["estimate", "--spec", "ambrogio2018", "--workload",
                                   "w.yaml"], {"w.yaml": body}, "w.yaml")

# ---- networks ----------------------------------------------------------------------------
for name, body in (("onnx-truncated", b"\x08\x07\x12\x04test\x1a"), ("onnx-binary", BINARY),
                   ("onnx-empty", b"")):
    case(f"net-{name}", ["map", "--net", "n.onnx", "--spec", "ambrogio2018"],
         {"n.onnx": body}, "n.onnx")
for name, body, field in (
        ("yaml-empty", "", "n.yaml"), ("yaml-binary", BINARY, "n.yaml"),
        ("yaml-deep", DEEP_YAML, "n.yaml"),
        ("yaml-neg-features", "input: [-4]\nlayers:\n  - {kind: linear, out_features: 4}\n",
         "input"),
        ("yaml-nan-features", "input: [.nan]\nlayers:\n  - {kind: linear, out_features: 4}\n",
         "input"),
        ("yaml-zero-out", "input: [4]\nlayers:\n  - {kind: linear, out_features: 0}\n",
         "out_features"),
        ("yaml-huge-out", "input: [4]\nlayers:\n  - {kind: linear, out_features: "
                          "100000000000000}\n", "out_features")):
    case(f"net-{name}", ["map", "--net", "n.yaml", "--spec", "ambrogio2018"],
         {"n.yaml": body}, field)
case("net-sizes-zero", ["train", "--net", "16-0-4", "--epochs", "1"], {}, "net")
case("net-sizes-neg", ["train", "--net", "16--4", "--epochs", "1"], {}, "net")

# ---- data sets and weights ---------------------------------------------------------------
for name, body, field in (
        ("truncated", _good_mnist_like()[:100], "d.npz"), ("empty", b"", "d.npz"),
        ("binary", BINARY, "d.npz"), ("missing-key", npz(x_train=np.zeros((4, 16))), "d.npz"),
        ("nan-images", _good_mnist_like(x_train=np.full((40, 16), np.nan)), "x_train"),
        ("inf-images", _good_mnist_like(x_test=np.full((12, 16), np.inf)), "x_test"),
        ("neg-labels", _good_mnist_like(y_train=-(np.arange(40) % 4)), "y_train"),
        ("float-labels", _good_mnist_like(y_test=np.full(12, 0.5)), "y_test"),
        ("empty-arrays", _good_mnist_like(x_train=np.zeros((0, 16)), y_train=np.zeros(0, int)),
         "x_train"),
        ("object", npz(x_train=np.array([{"a": 1}], dtype=object)), "d.npz")):
    case(f"dataset-{name}", ["train", "--net", "16-4", "--dataset", "d.npz", "--epochs", "1",
                             "--cell", "software", "--quiet"], {"d.npz": body}, field)
case("dataset-idx-truncated", ["train", "--net", "784-10", "--dataset", "idx", "--epochs", "1",
                               "--cell", "software"],
     {"idx/train-images-idx3-ubyte": b"\x00\x00\x08\x03\x00\x00\x00\x05",
      "idx/train-labels-idx1-ubyte": b"\x00\x00\x08", "idx/t10k-images-idx3-ubyte": b"",
      "idx/t10k-labels-idx1-ubyte": b""}, "idx")
for name, body, field in (("truncated", _weights()[:60], "w.npz"), ("empty", b"", "w.npz"),
                          ("nan", _weights(w0=np.full((17, 8), np.nan)), "w0"),
                          ("inf", _weights(w1=np.full((9, 4), -np.inf)), "w1"),
                          ("meta-binary", _weights(meta=np.frombuffer(BINARY, np.uint8)),
                           "w.npz")):
    case(f"weights-{name}", ["infer", "--net", "16-8-4", "--dataset", "d.npz", "--weights",
                             "w.npz", "--cell", "ideal", "--times", "1", "--quiet"],
         {"w.npz": body, "d.npz": _good_mnist_like()}, field)

# ---- numbers on the command line ---------------------------------------------------------
TRAIN = ["train", "--net", "16-4", "--dataset", "d.npz", "--cell", "software", "--quiet"]
for flags, field in ((["--seed", "-1"], "seed"), (["--lr", "nan"], "lr"),
                     (["--lr", "inf"], "lr"), (["--lr", "-0.1"], "lr"),
                     (["--batch", "0"], "batch"), (["--batch", "-4"], "batch"),
                     (["--epochs", "0"], "epochs"), (["--limit", "0"], "limit"),
                     (["--range", "nan"], "range"), (["--range", "1,-2"], "range"),
                     (["--transfer-interval", "0"], "transfer"), (["--set", "x"], "set"),
                     (["--validation", "1"], "validation"),
                     (["--validation", "nan"], "validation"),
                     (["--validation", "0.0001"], "validation"),
                     (["--seed", "99999999999999999999999"], "seed")):
    case(f"train{'='.join(flags)}", TRAIN + flags, {"d.npz": _good_mnist_like()}, field)
for times in ("nan", "-1", "", "inf", "1,,2"):
    case(f"infer-times={times}", ["infer", "--net", "16-4", "--dataset", "d.npz", "--cell",
                                  "ideal", "--epochs", "1", "--times", times, "--quiet"],
         {"d.npz": _good_mnist_like()}, "times")
for flags, field in ((["pcm", "--g-target", "nan"], "g-target"),
                     (["pcm", "--g-target", "inf"], "g-target"),
                     (["pcm", "--g-target", "-1"], "g-target"),
                     (["pcm", "--g-target", "1e9"], "g-target"),
                     (["pcm", "--time", "nan"], "time"), (["pcm", "--time", "-5"], "time"),
                     (["pcm", "--n", "0"], "n"), (["pcm", "--n", "-5"], "n"),
                     (["pcm", "--n", "100000000000000"], "n"), (["pcm", "--seed", "-1"], "seed"),
                     (["pcm-train", "--pulses", "-1"], "pulses"),
                     (["pcm-train", "--step", "nan"], "step"),
                     (["pcm-train", "--step", "-0.1"], "step"),
                     (["pcm-train", "--devices", "0"], "devices"),
                     (["pcm-train", "--points", "0"], "points"),
                     (["pcm-train", "--points", "-3"], "points"),
                     (["capacitor", "--up", "-1"], "up"), (["capacitor", "--down", "-1"], "down"),
                     (["capacitor", "--devices", "-2"], "devices"),
                     (["capacitor", "--points", "1"], "points")):
    case(f"device-{'='.join(flags)}", ["device"] + flags, {}, field)
for grid in ("0x0", "-1x4", "4x", "abc", "100000x100000", "nanxnan"):
    case(f"map-grid={grid}", ["map", "--net", "mlp-2018", "--spec", "ambrogio2018", "--grid",
                              grid, "--quiet"], {}, "grid")
case("map-seed-neg", ["map", "--net", "mlp-2018", "--spec", "ambrogio2018", "--seed", "-1"], {},
     "seed")
for flags, field in ((["--rows", "0"], "rows"), (["--rows", "-16"], "rows"),
                     (["--cols", "100000000"], "cols"), (["--adcs", "0"], "adcs"),
                     (["--adcs", "3"], "adc"), (["--ops", "-1"], "ops"), (["--ops", "0"], "ops"),
                     (["--seed", "-1"], "seed"), (["--mix", "bogus"], "mix")):
    case(f"sim-tile{'='.join(flags)}", ["sim", "tile", "--spec", "ambrogio2018"] + flags, {},
         field)
for flags, field in ((["--rows", "-1"], "rows"), (["--adcs", "0"], "adcs")):
    case(f"synth-tile{'='.join(flags)}", ["synth", "tile", "--spec", "ambrogio2018"] + flags,
         {}, field)
# a flash converter above its sane width (codesign.adckinds Flash.max_bits): refused by the
# spec's validation, so every command that loads the spec says so before any work
FLASH_WIDE = {"s.yaml": "base: ambrogio2018\nadc:\n  kind: flash\n  bits: 10\n"}
for cid, argv in (("spec-check", ["spec", "check", "s.yaml"]),
                  ("estimate", ["estimate", "--spec", "s.yaml"]),
                  ("sim-tile", ["sim", "tile", "--spec", "s.yaml", "--rows", "4", "--cols", "4",
                                "--adcs", "1"]),
                  ("sim-block", ["sim", "block", "tile_flash", "--spec", "s.yaml"]),
                  ("synth-tile", ["synth", "tile", "--spec", "s.yaml", "--rows", "4",
                                  "--cols", "4", "--adcs", "1"])):
    case(f"flash-10bit-{cid}", argv, FLASH_WIDE, "adc.bits")
# a cco shared between lines (it counts its own line during the window): the spec refuses it
CCO_SHARED = {"s.yaml": "base: ambrogio2018\nadc:\n  kind: cco\n"}
for cid, argv in (("spec-check", ["spec", "check", "s.yaml"]),
                  ("estimate", ["estimate", "--spec", "s.yaml"])):
    case(f"cco-shared-{cid}", argv, CCO_SHARED, "adc.count")
for kinds, field in (("sar,bogus", "adc_kinds"), ("none", "adc_kinds"),
                     ("sar,sar", "adc_kinds")):
    case(f"study-adc-kinds={kinds}", ["study", "controller", "--adc-kinds", kinds,
                                      "--no-train"], {}, field)
case("study-flash-10bit", ["study", "controller", "--adc-kinds", "flash", "--no-train",
                           "--spec", "s.yaml"], FLASH_WIDE, "adc.bits")
# a 10-bit SAR spec is fine, but the flash block's bench runs it as a flash converter
case("flash-block-of-10bit-sar", ["sim", "block", "tile_flash", "--spec", "s.yaml"],
     {"s.yaml": "base: ambrogio2018\nadc:\n  bits: 10\n"}, "adc.bits")
for flags, field in ((["core", "--size", "0"], "size"), (["core", "--batch", "-1"], "batch"),
                     (["core", "--repeat", "0"], "repeat"), (["core", "--threads", "0"], "threads"),
                     (["core", "--cell", "bogus"], "cell"), (["train", "--images", "0"], "images"),
                     (["train", "--batch", "0"], "batch"), (["map", "--repeat", "0"], "repeat"),
                     (["sweep", "--workers", "0"], "workers"),
                     (["sweep", "--workers", "-1,x"], "workers")):
    case(f"bench-{'='.join(flags)}", ["bench"] + flags, {}, field)
SWEEP = ["sweep", "--vary", "adc.bits=4,6", "--quiet", "--workers", "1"]
for flags, field in ((["--max-points", "0"], "max-points"), (["--max-points", "-1"], "max-points"),
                     (["--workers", "0"], "workers"), (["--workers", "-2"], "workers"),
                     (["--train-epochs", "-1"], "train-epochs"),
                     (["--train-limit", "0"], "train-limit"), (["--seed", "-1"], "seed"),
                     (["--vary", "adc.bits=nan"], "adc.bits"),
                     (["--vary", "pcm.g_max=-1"], "g_max"),
                     (["--vary", "array.rows=0,1e999"], "rows")):
    case(f"sweep{'='.join(flags)}", SWEEP + flags, {}, field)
case("demo-seed-neg", ["demo", "--seed", "-1", "--out", "o"], {}, "seed")
case("demo-only-empty", ["demo", "--only", ",", "--out", "o"], {}, "only")

# ---- report inputs -----------------------------------------------------------------------
for name, body in (("empty", b""), ("binary", BINARY), ("deep", DEEP_JSON), ("list", "[1,2]"),
                   ("nan", '{"sections": NaN}'), ("no-sections", '{"a": 1}'),
                   ("sections-bad", '{"sections": [1, "x", null]}'),
                   ("latin1", LATIN1), ("foreign-sqlite", _sqlite_foreign)):
    case(f"report-{name}", ["report", "r.json", "-o", "r.html"], {"r.json": body}, "r.json")

# ---- output paths ------------------------------------------------------------------------
OUTPUTS = [
    (["device", "pcm", "--n", "100", "--png"], "png"),
    (["estimate", "--spec", "ambrogio2018", "--png"], "png"),
    (["map", "--net", "mlp-2018", "--spec", "ambrogio2018", "--quiet", "--png"], "png"),
    (TRAIN + ["--epochs", "1", "--png"], "png"),
    (TRAIN + ["--epochs", "1", "--save"], "save"),
    (["report", "r.json", "-o"], "output"),
    (SWEEP + ["--db"], "db"),
    (SWEEP + ["--png"], "png"),
    (["demo", "--only", "spec", "--out"], "out"),
]
for argv, field in OUTPUTS:
    ext = {"save": ".npz", "db": ".db", "output": ".html", "out": ""}.get(field, ".png")
    files = {"d.npz": _good_mnist_like(), "r.json": '{"sections": []}', "adir" + ext: _folder,
             "afile": b"x"}
    for where, path in (("missing", f"nope/x{ext}"), ("folder", f"adir{ext}"),
                        ("proc", f"/proc/x{ext}"), ("under-file", f"afile/x{ext}")):
        if field == "out" and where == "folder":
            path = "afile"          # demo --out is a folder: a file there is the bad case
        if field == "out" and where == "missing":
            continue                # a folder output is created with its parents
        case(f"out-{argv[0]}-{field}-{where}", argv + [path], files, field)


# ---- running a case ----------------------------------------------------------------------
def write_files(root, files: dict) -> None:
    from pathlib import Path
    for name, body in files.items():
        p = Path(root) / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if callable(body):
            body(str(p))
        elif isinstance(body, str):
            p.write_text(body, encoding="utf-8")
        else:
            p.write_bytes(body)


def snapshot(root) -> set:
    from pathlib import Path
    return {str(p.relative_to(root)) for p in Path(root).rglob("*")}


def classify(rc, stderr: str, field: str, new_files: set) -> str:
    """ok | traceback | accepted | hang | other:<why>"""
    if rc is None:
        return "hang"
    if "Traceback" in stderr:
        return "traceback"
    if rc == 0:
        return "accepted"
    lines = [l for l in stderr.splitlines() if l.strip()]
    if rc != 2:
        return f"other:exit {rc}"
    if len(lines) != 1:
        return f"other:{len(lines)} lines"
    if field.lower() not in lines[0].lower():
        return "other:field not named"
    if new_files:
        return f"other:left {sorted(new_files)[:3]}"
    return "ok"


def _run_one(c, python: str, cwd_repo: str, timeout: float):
    import os
    import subprocess
    import tempfile
    cid, argv, files, field = c
    with tempfile.TemporaryDirectory() as tmp:
        write_files(tmp, files)
        before = snapshot(tmp)
        env = dict(os.environ, PYTHONPATH=cwd_repo, MPLBACKEND="Agg")
        try:
            p = subprocess.run([python, "-m", "codesign", *argv], cwd=tmp, env=env,
                               capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, ""
        new = snapshot(tmp) - before
    return cid, classify(rc, err, field, new), (err.strip().splitlines() or [""])[-1][:200]


if __name__ == "__main__":
    import collections
    import concurrent.futures
    import os
    import sys
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    todo = [c for c in CASES if only in c[0]]
    counts = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for cid, verdict, last in pool.map(lambda c: _run_one(c, sys.executable, repo, 60),
                                           todo):
            counts[verdict.split(":")[0]] += 1
            if verdict != "ok":
                print(f"{verdict:28s} {cid:50s} {last}", flush=True)
    print(f"{len(todo)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
