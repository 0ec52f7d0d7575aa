"""Fuzzing the command line with generated bad input (hypothesis): every subcommand's
checked number options (found by walking the parser, so a new option is fuzzed without a
change here) and every numeric field of a spec file, through `spec check` and `estimate`.
Each case must give exit status 2, one line on stderr naming the option or field, no
traceback, and leave no file behind (the same verdict as tests/test_bad_input.py).

At least 300 generated cases per run: 160 option cases and 2 x 80 spec-field cases.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from bad_input_cases import classify, snapshot  # noqa: E402

from codesign import argtypes  # noqa: E402
from codesign.cli import build_parser, main  # noqa: E402
from codesign.spec import Spec  # noqa: E402

# Values each checked type refuses (argtypes): what a user mistypes or tries.
NOT_A_NUMBER = ["nan", "NaN", "inf", "-inf", "abc", "", "1e999", "0x10", "1,5", "--"]
REFUSED = {
    argtypes.positive_int: NOT_A_NUMBER + ["0", "-1", "-7", "1.5", "2.0"],
    argtypes.nonneg_int: NOT_A_NUMBER + ["-1", "-7", "1.5"],
    argtypes.seed: NOT_A_NUMBER + ["-1", "1.5", str(2 ** 63), str(10 ** 30)],
    argtypes.positive_float: NOT_A_NUMBER + ["0", "-1", "-0.5", "1e400"],
    argtypes.nonneg_float: NOT_A_NUMBER + ["-1", "-1e-9", "-inf"],
}


def _checked_options() -> list[tuple[tuple[str, ...], str, object]]:
    """(subcommand path, option string, type) of every option typed by codesign.argtypes."""
    found = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + (name,))
            elif action.option_strings and action.type in REFUSED:
                found.append((path, action.option_strings[-1], action.type))
    walk(build_parser(), ())
    return found


OPTIONS = _checked_options()


def _numeric_spec_fields() -> list[tuple[str, type, float | None, float | None]]:
    """(section.field, type, lo, hi) of every int or float field of the spec."""
    out = []
    for sec in dataclasses.fields(Spec):
        if not sec.metadata.get("section"):
            continue
        for f in dataclasses.fields(sec.default_factory()):
            typ = {"int": int, "float": float}.get(str(f.type), f.type)
            if typ in (int, float) and not f.metadata.get("choices"):
                out.append((f"{sec.name}.{f.name}", typ, f.metadata.get("lo"),
                            f.metadata.get("hi")))
    return out


SPEC_FIELDS = _numeric_spec_fields()


def _bad_values(typ, lo, hi) -> list[str]:
    """YAML texts no field of this type and range accepts."""
    vals = [".nan", ".inf", "-.inf", "1e999", "abc", "[1, 2]", "{a: 1}", "''", "true"]
    if typ is int:
        vals.append("2.5")
    if lo is not None:
        vals.append(repr(lo - max(1, abs(lo))))
    if hi is not None:
        vals.append(repr(hi * 10 + 1 if hi > 0 else hi + 1))
    return vals


def _run(argv: list[str], field: str, folder: Path) -> str:
    before = snapshot(folder)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        import contextlib
        import io
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main(list(argv))
            except SystemExit as exc:          # argparse exits through SystemExit
                rc = exc.code
    finally:
        os.chdir(cwd)
    return classify(rc, err.getvalue(), field, snapshot(folder) - before) + \
        f" ({' '.join(argv)!r}; stderr {err.getvalue().strip()[-300:]!r})"


def test_the_parser_walk_finds_options_of_every_kind():
    kinds = {t for _, _, t in OPTIONS}
    assert len(OPTIONS) >= 15 and kinds >= {argtypes.positive_int, argtypes.seed}
    assert {p[0] for p, _, _ in OPTIONS} >= {"train", "map", "sim", "sweep", "bench"}
    assert len(SPEC_FIELDS) >= 40


QUIET = settings(max_examples=80, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@settings(QUIET, max_examples=160)
@given(data=st.data())
def test_checked_options_refuse_bad_numbers(data, tmp_path):
    path, option, typ = data.draw(st.sampled_from(OPTIONS), label="option")
    value = data.draw(st.sampled_from(REFUSED[typ]), label="value")
    verdict = _run([*path, f"{option}={value}"], option, tmp_path)
    assert verdict.startswith("ok"), verdict


def _spec_case(data, tmp_path) -> tuple[Path, str]:
    key, typ, lo, hi = data.draw(st.sampled_from(SPEC_FIELDS), label="field")
    value = data.draw(st.sampled_from(_bad_values(typ, lo, hi)), label="value")
    section, name = key.split(".")
    spec = tmp_path / "fuzz-spec.yaml"
    spec.write_text(f"base: ambrogio2018\nname: fuzz\n{section}:\n  {name}: {value}\n")
    return spec, key


@pytest.mark.parametrize("command", [["spec", "check"], ["estimate", "--spec"]],
                         ids=["spec-check", "estimate"])
@QUIET
@given(data=st.data())
def test_commands_refuse_bad_spec_field_values(command, data, tmp_path):
    spec, key = _spec_case(data, tmp_path)
    try:
        verdict = _run([*command, spec.name], key, tmp_path)
    finally:
        spec.unlink()
    assert verdict.startswith("ok"), verdict
