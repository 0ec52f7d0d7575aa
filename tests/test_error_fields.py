"""Library errors name their own field; the CLI names the option that sets it.

codesign.errors.UserError carries ``field`` (the config field or argument its message
starts with); codesign.cli.main puts the option of the command that ran in its place
(codesign.cli._as_flag, from argparse's dests). The team rule "library code never names
CLI flags in errors" is kept by the scan at the end.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from codesign.cli import _as_flag, _options, build_parser, main
from codesign.errors import UserError

PACKAGE = Path(__file__).resolve().parents[1] / "codesign"


# ---- the mapping: dest -> option of the command that ran ---------------------------------
def test_options_of_train_map_dests_to_their_long_option():
    parser = build_parser()
    args = parser.parse_args(["train", "--net", "64-10", "--range", "4", "--set", "adc.bits=6"])
    names = _options(parser, args)
    assert names["range_factor"] == "--range"             # dest differs from the option
    assert names["overrides"] == "--set"
    assert names["transfer_interval"] == "--transfer-interval"
    assert names["epochs"] == "--epochs" and names["limit"] == "--limit"
    assert names["hw_aware"] == "--hw-aware" and names["png"] == "--png"
    assert "size" not in names and "vary" not in names     # other commands' options
    assert _as_flag("transfer_interval: value 0; allowed: int >= 1", "transfer_interval",
                    parser, args) == "--transfer-interval: value 0; allowed: int >= 1"
    assert _as_flag("range_factor: value -1", "range_factor", parser, args) == \
        "--range: value -1"
    # no field, a field this command has no option for, or a message that does not start
    # with its field: unchanged
    assert _as_flag("epochs: value 0", None, parser, args) == "epochs: value 0"
    assert _as_flag("max_points: value 0", "max_points", parser, args) == "max_points: value 0"
    assert _as_flag("value 0 of epochs", "epochs", parser, args) == "value 0 of epochs"


def test_options_of_a_nested_bench_command():
    parser = build_parser()
    args = parser.parse_args(["bench", "core", "--size", "64", "--threads", "2"])
    names = _options(parser, args)
    assert names["size"] == "--size" and names["threads"] == "--threads"
    assert names["batch"] == "--batch" and names["json"] == "--json"
    assert "net" not in names                  # `bench map` and `bench train` have --net
    assert _as_flag("batch: value 0; allowed: int >= 1", "batch", parser, args) == \
        "--batch: value 0; allowed: int >= 1"
    # the sweep takes the training options too, under its own (older) aliases
    args = parser.parse_args(["sweep", "--vary", "adc.bits=4", "--train-epochs", "1"])
    assert _options(parser, args)["epochs"] == "--epochs"


# ---- the same error from Python and from the command line --------------------------------
def _one_line(capsys, argv) -> str:
    assert main(argv) == 2
    cap = capsys.readouterr()
    lines = cap.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in cap.err, cap.err
    return lines[0]


def test_times_weights_grid_vary_and_components_errors_name_the_option(tmp_path, capsys):
    from codesign.mapping import parse_grid
    from codesign.nn.infer import parse_times
    from codesign.nn.store import load_weights
    from codesign.sweep import parse_vary

    with pytest.raises(UserError, match=r"^times: value '1,abc'") as exc:
        parse_times("1,abc")
    assert exc.value.field == "times"
    assert _one_line(capsys, ["infer", "--net", "64-10", "--dataset", "digits", "--times",
                              "1,abc"]).startswith("codesign: error: --times: value '1,abc'")

    missing = tmp_path / "missing.npz"
    with pytest.raises(UserError, match="^weights: .*no such file") as exc:
        load_weights(missing)
    assert exc.value.field == "weights"
    line = _one_line(capsys, ["infer", "--net", "64-10", "--dataset", "digits", "--weights",
                              str(missing)])
    assert line == f"codesign: error: --weights: {str(missing)!r}: no such file"

    with pytest.raises(UserError, match="^grid: value '3'") as exc:
        parse_grid("3")
    assert exc.value.field == "grid"
    assert _one_line(capsys, ["map", "--net", "lenet5", "--spec", "hermes", "--grid", "3"]) \
        .startswith("codesign: error: --grid: value '3' is not allowed")

    with pytest.raises(UserError, match="^vary adc.bitz: unknown spec key") as exc:
        parse_vary(["adc.bitz=4"])
    assert exc.value.field == "vary"
    assert _one_line(capsys, ["sweep", "--vary", "adc.bitz=4", "--db", str(tmp_path / "s.db")]) \
        .startswith("codesign: error: --vary adc.bitz: unknown spec key")
    assert not (tmp_path / "s.db").exists()

    # codesign.fileio names the field its caller gives: the estimate's component file
    line = _one_line(capsys, ["estimate", "--spec", "ambrogio2018", "--components",
                              str(tmp_path / "none.yaml")])
    assert line.startswith("codesign: error: --components: ") and "no such file" in line


def test_a_training_config_error_names_the_field_or_the_option(capsys):
    from codesign.nn.train import TrainConfig
    with pytest.raises(UserError, match=r"^lr: value 0; allowed: a number > 0") as exc:
        TrainConfig(lr=0).check()
    assert exc.value.field == "lr"
    with pytest.raises(UserError, match="^net 64-0-10: layer sizes"):
        from codesign.nn.build import resolve_network
        resolve_network("64-0-10")
    line = _one_line(capsys, ["train", "--net", "64-0-10", "--dataset", "digits", "--quiet"])
    assert line == "codesign: error: --net 64-0-10: layer sizes must be >= 1"


# ---- the rule stays enforced -------------------------------------------------------------
_FLAG_ERROR = re.compile(r"""UserError\(\s*f?["'](--[a-z][a-z0-9-]*)""")
_FLAG_DEFAULT = re.compile(r"""\b(?:what|flag|field)\s*(?::\s*str\s*)?=\s*f?["'](--[a-z][a-z0-9-]*)""")


def test_library_errors_do_not_name_command_line_options():
    """Outside codesign/cli/, no UserError starts with an option and no `what=`/`flag=`
    argument defaults to one: library messages name their field. A module that defines
    options itself (a `python -m` entry point, a `codesign bench` case's add_arguments)
    may name those options, and only those."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if rel.startswith("codesign/cli/"):
            continue
        text = path.read_text(encoding="utf-8")
        own = set(re.findall(r"""add_argument\(\s*["'](--[a-z][a-z0-9-]*)""", text))
        for rx in (_FLAG_ERROR, _FLAG_DEFAULT):
            for m in rx.finditer(text):
                if m.group(1) not in own:
                    line = text.count("\n", 0, m.start()) + 1
                    found.append(f"{rel}:{line}: {m.group(0)}")
    assert not found, "library errors naming CLI options (name the field instead, with " \
                      "UserError(..., field=...)):\n" + "\n".join(found)


def test_the_scan_finds_what_it_is_for():
    assert _FLAG_ERROR.search('raise UserError(f"--epochs: value {x}")')
    assert _FLAG_ERROR.search("raise UserError(\n    '--png: no')")
    assert _FLAG_DEFAULT.search('def save(fig, path, what: str = "--png"):')
    assert not _FLAG_ERROR.search('raise UserError(f"epochs: value {x}", field="epochs")')


def _leading_text(node) -> str | None:
    """The literal text a message expression starts with (f-string, string, `+`)."""
    import ast
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return first.value if isinstance(first, ast.Constant) else ""
    if isinstance(node, ast.BinOp):
        return _leading_text(node.left)
    return None


def test_every_field_given_is_where_its_message_starts():
    """`field=` is what the CLI replaces: a message that does not start with it would
    keep naming the field on the command line (codesign.cli._as_flag)."""
    import ast
    wrong, checked = [], 0
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) ==
                    "UserError" and node.args):
                continue
            field = next((k.value for k in node.keywords if k.arg == "field"), None)
            if not (isinstance(field, ast.Constant) and isinstance(field.value, str)):
                continue
            checked += 1
            text = _leading_text(node.args[0])
            if text is None or not (text.startswith(field.value + ":") or
                                    text.startswith(field.value + " ")):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: "
                             f"field {field.value!r}, message {text!r}")
    assert checked >= 40 and not wrong, "\n".join(wrong)
