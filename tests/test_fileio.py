"""codesign.fileio: output paths checked up front, atomic writes with the user's umask,
strict readers of what a user hands in; and the tile's honest programming limits."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from codesign.errors import UserError
from codesign.fileio import (atomic_path, check_output, parse_json, parse_yaml, read_text,
                             write_text)


@pytest.mark.parametrize("name,word", [("nope/x.png", "does not exist"),
                                       ("adir", "is a folder"),
                                       ("afile/x.png", "not a folder"),
                                       ("/proc/x.png", "cannot write")])
def test_check_output_refuses(tmp_path, name, word):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    path = name if name.startswith("/") else tmp_path / name
    with pytest.raises(UserError, match=word) as exc:
        check_output(path, "--png")
    assert str(exc.value).startswith("--png: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]  # no probe left


def test_check_output_folder_and_suffix(tmp_path):
    assert check_output(tmp_path / "new" / "deeper", "--out", folder=True)
    assert not (tmp_path / "new").exists()          # checked, not created
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        check_output(tmp_path / "f", "--out", folder=True)
    with pytest.raises(UserError, match="ending in .png"):
        check_output(tmp_path / "x.jpg", "--png", suffix=".png")


def test_atomic_write_has_umask_mode_and_leaves_nothing_on_failure(tmp_path):
    old = os.umask(0o027)
    try:
        path = write_text(tmp_path / "a.txt", "hello")
    finally:
        os.umask(old)
    assert path.read_text() == "hello"
    assert (path.stat().st_mode & 0o777) == 0o640     # not mkstemp's 0600
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_readers_name_the_file_and_refuse_nan(tmp_path):
    (tmp_path / "bin").write_bytes(b"\x00\x01\xff")
    (tmp_path / "latin").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(UserError, match="binary data"):
        read_text(tmp_path / "bin", "--x")
    with pytest.raises(UserError, match="not UTF-8"):
        read_text(tmp_path / "latin", "--x")
    with pytest.raises(UserError, match="is a folder"):
        read_text(tmp_path, "--x")
    for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": 1e400}'):
        with pytest.raises(UserError, match="f.json"):
            parse_json(text, "f.json")
    with pytest.raises(UserError, match="nested too deeply"):
        parse_json("[" * 100000 + "]" * 100000, "f.json")
    with pytest.raises(UserError, match="empty"):
        parse_yaml("", "f.yaml")
    assert parse_yaml("", "f.yaml", empty_ok=True) is None
    with pytest.raises(UserError, match="nested too deeply|not valid YAML"):
        parse_yaml("a: " + "[" * 20000 + "]" * 20000, "f.yaml")


# ---- the tile refuses or clips honestly ----------------------------------------------------
def _tile(cell):
    from codesign import AnalogTile
    return AnalogTile("ambrogio2018", np.random.default_rng(0), shape=(64, 4), cell=cell)


def test_program_beyond_what_a_pcm_pair_holds_is_clipped_with_a_warning():
    from codesign.tile import ProgramClipWarning
    tile = _tile("pcm-pair")
    limit = tile.max_weight
    assert 0.5 < limit <= tile.spec.cell.saturation
    targets = np.tile([0.4, limit, 0.9, 1.0], (64, 1))
    with pytest.warns(ProgramClipWarning, match=r"128 of 256 targets .* clipped"):
        tile.program(targets)
    held = tile.weights().mean(axis=0)
    # a larger target never programs to less than a smaller one (it did before: 1.0 -> ~0.4)
    assert held[2] >= held[1] - 0.03 and held[3] >= held[1] - 0.03
    with pytest.raises(UserError, match="allowed: \\|w\\| <="):
        tile.program(targets, clip=False)


def test_program_within_range_does_not_warn_and_ideal_holds_full_range():
    tile = _tile("pcm-pair")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tile.program(np.full(tile.shape, 0.5))
        ideal = _tile("ideal")
        ideal.program(np.full(ideal.shape, 1.0))
    assert ideal.max_weight == 1.0 and np.allclose(ideal.weights(), 1.0)


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), "0.1", None])
def test_update_lr_must_be_a_finite_number(lr):
    tile = _tile("2pcm3t1c")
    with pytest.raises(UserError, match="lr"):
        tile.update(np.ones((1, 64)), np.ones((1, 4)), lr)
