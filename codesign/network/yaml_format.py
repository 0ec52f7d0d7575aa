"""The YAML network format (docs/mapping.md shows a full example)::

    name: small-cnn
    input: [1, 28, 28]            # per example: [features] or [channels, height, width]
    layers:
      - {name: conv1, kind: conv2d, out_channels: 8, kernel: 3, padding: 1}
      - {name: relu1, kind: act, op: relu}
      - {name: pool1, kind: pool, mode: max, kernel: 2}
      - {name: flat, kind: flatten}
      - {name: fc, kind: linear, out_features: 10}

A layer reads the previous layer unless it names ``inputs`` (a list of layer names or
``input``); ``add`` and ``concat`` take two or more. The keys of each kind are listed in
codesign.network.ir.FIELDS.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..fileio import parse_yaml, read_text
from .ir import Network, build_network

TOP_KEYS = ("name", "description", "input", "layers")


def network_from_dict(data: object, source: str, default_name: str = "network") -> Network:
    """Build a Network from the parsed YAML format (see the module docstring)."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: <top>: value {type(data).__name__} is not a mapping; "
                        f"allowed: a mapping with keys {', '.join(TOP_KEYS)}")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise UserError(f"{source}: {unknown[0]}: unknown key; allowed: {', '.join(TOP_KEYS)}")
    if "input" not in data:
        raise UserError(f"{source}: input: missing (the input shape); allowed: [features] "
                        "or [channels, height, width]")
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise UserError(f"{source}: layers: value {layers!r} is not allowed; allowed: a "
                        "non-empty list of layer mappings")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise UserError(f"{source}: name: value {name!r} is not allowed; allowed: a string")
    return build_network(name, data["input"], layers, source=source)


def load_network_yaml(path: str | Path, text: str | None = None) -> Network:
    """Read a network YAML file (or `text` attributed to `path`)."""
    path = Path(path)
    source = str(path)
    if text is None:
        text = read_text(path, "network")
    data = parse_yaml(text, source)
    return network_from_dict(data, source, default_name=path.stem)
