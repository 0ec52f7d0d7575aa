"""Network IR, built-in zoo, YAML format and ONNX import.

    from codesign.network import load_network
    net = load_network("resnet18")        # a zoo name, a .yaml file or a .onnx file
    for layer in net.layers:              # topological order
        layer.name, layer.kind, layer.matrix_shape, layer.mvms_per_inference, layer.macs

See codesign.network.ir for how layers sit on crossbars (bias rows, conv unrolling,
grouped/depthwise packing) and docs/mapping.md for the YAML format.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import UserError
from .ir import (ACT_OPS, FIELDS, INPUT, KINDS, POOL_MODES, WEIGHT_KINDS, Layer, Network,
                 build_network)
from .yaml_format import load_network_yaml, network_from_dict
from .zoo import ZOO

__all__ = ["ACT_OPS", "FIELDS", "INPUT", "KINDS", "POOL_MODES", "WEIGHT_KINDS", "Layer",
           "Network", "build_network", "load_network", "load_network_yaml",
           "load_network_onnx", "network_from_dict", "network_names", "ZOO"]


def _shipped_yaml() -> dict[str, object]:
    """Network YAML files shipped in codesign/nets/, by file stem."""
    folder = resources.files("codesign").joinpath("nets")
    if not folder.is_dir():
        return {}
    return {p.name[:-5]: p for p in folder.iterdir() if p.name.endswith(".yaml")}


def network_names() -> list[str]:
    """Names load_network accepts besides file paths: the zoo and shipped YAML files."""
    return sorted(set(ZOO) | set(_shipped_yaml()))


def load_network_onnx(path: str | Path) -> Network:
    """Import an ONNX file (see codesign.network.onnx_import); imports onnx lazily."""
    from .onnx_import import load_network_onnx as _load
    return _load(path)


def load_network(name_or_path: str | Path | Network) -> Network:
    """A zoo name (network_names()), a ``.yaml``/``.yml`` file or an ``.onnx`` file."""
    if isinstance(name_or_path, Network):
        return name_or_path
    text = str(name_or_path)
    if text in ZOO:
        return ZOO[text]()
    shipped = _shipped_yaml()
    if text in shipped:
        return load_network_yaml(f"nets/{text}.yaml", shipped[text].read_text())
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".onnx"):
        raise UserError(f"net: value {text!r} is not a known network or a .yaml/.onnx file; "
                        f"allowed: {', '.join(network_names())}, FILE.yaml, FILE.onnx",
                        field="net")
    if not path.is_file():
        raise UserError(f"{text}: no such file")
    return load_network_onnx(path) if suffix == ".onnx" else load_network_yaml(path)
