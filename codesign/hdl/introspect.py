"""Read a Verilog module's parameters and ports with pyverilog.

Used to hold the RTL and the spec together (tests/test_hdl_params.py: every spec field
with ``rtl="NAME"`` is a parameter of the top module and every top parameter is a spec
field) and to generate the port table in docs/ports.md (``python -m codesign.hdl.ports``),
with port widths evaluated for a given spec.

pyverilog writes parser tables into its output directory, so parsing happens in a
temporary directory; its preprocessor runs ``iverilog -E``.
"""
from __future__ import annotations

import functools
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from .runner import RTL_DIR, require_iverilog


@dataclass(frozen=True)
class Param:
    name: str
    default: str          # Verilog text of the default value
    local: bool           # localparam (derived) rather than an overridable parameter
    node: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Port:
    name: str
    direction: str        # input, output, inout
    msb: str | None       # Verilog text of the range bounds (None for a 1-bit port)
    lsb: str | None
    width_node: Any = field(default=None, compare=False, repr=False)

    @property
    def range_text(self) -> str:
        return "" if self.msb is None else f"[{self.msb}:{self.lsb}]"

    def width(self, params: dict[str, int]) -> int:
        """Port width for these parameter values."""
        if self.width_node is None:
            return 1
        return abs(evaluate(self.width_node.msb, params)
                   - evaluate(self.width_node.lsb, params)) + 1


@dataclass(frozen=True)
class ModuleInfo:
    name: str
    params: tuple[Param, ...]
    ports: tuple[Port, ...]

    @property
    def parameters(self) -> dict[str, str]:
        """Overridable parameters (not localparams): name -> default text."""
        return {p.name: p.default for p in self.params if not p.local}

    def defaults(self) -> dict[str, int]:
        """Default values of the overridable parameters."""
        values: dict[str, int] = {}
        for p in self.params:
            if not p.local:
                values[p.name] = evaluate(p.node, values)
        return values


@functools.lru_cache(maxsize=16)
def _parse(files: tuple[str, ...]):
    from pyverilog.vparser.parser import parse  # slow import, only when needed
    require_iverilog()                          # pyverilog preprocesses with iverilog -E
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise UserError(f"verilog sources: not found: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="codesign-pyverilog-") as tmp:
        ast, _ = parse(list(files), outputdir=tmp, debug=False)
    return ast


def module_info(module: str, files: list[Path] | None = None) -> ModuleInfo:
    """Parameters and ports of `module` (default source: rtl/<module>.v)."""
    from pyverilog.ast_code_generator.codegen import ASTCodeGenerator
    from pyverilog.vparser import ast as vast
    files = files or [RTL_DIR / f"{module}.v"]
    ast = _parse(tuple(str(Path(f).resolve()) for f in files))
    gen = ASTCodeGenerator()
    text = (lambda node: None if node is None else gen.visit(node).strip())
    for mod in ast.description.definitions:
        if isinstance(mod, vast.ModuleDef) and mod.name == module:
            break
    else:
        raise UserError(f"module {module}: not found in {', '.join(map(str, files))}")
    params = []
    for decl in mod.paramlist.params:
        for p in decl.list:
            params.append(Param(p.name, text(p.value.var), isinstance(p, vast.Localparam),
                                p.value.var))
    for item in mod.items:
        if isinstance(item, vast.Decl):
            for p in item.list:
                if isinstance(p, (vast.Parameter, vast.Localparam)):
                    params.append(Param(p.name, text(p.value.var),
                                        isinstance(p, vast.Localparam), p.value.var))
    ports = []
    for port in mod.portlist.ports:
        io = port.first if isinstance(port, vast.Ioport) else port
        direction = type(io).__name__.lower()
        w = io.width
        ports.append(Port(io.name, direction, text(w.msb) if w else None,
                          text(w.lsb) if w else None, w))
    return ModuleInfo(mod.name, tuple(params), tuple(ports))


# ---- a small evaluator for constant expressions (widths, defaults) -------------------
def evaluate(node, params: dict[str, int]) -> int:
    """Value of a constant pyverilog expression node (``$clog2(ROWS + 1) - 1``,
    ``32'h0000_B400``, ``a > b ? a : b`` ...) with identifiers taken from `params`."""
    from pyverilog.vparser import ast as v
    ev = functools.partial(evaluate, params=params)
    binary = {v.Plus: lambda a, b: a + b, v.Minus: lambda a, b: a - b,
              v.Times: lambda a, b: a * b, v.Divide: lambda a, b: int(a / b),
              v.Mod: lambda a, b: a % b, v.Power: lambda a, b: a ** b,
              v.Sll: lambda a, b: a << b, v.Srl: lambda a, b: a >> b,
              v.GreaterThan: lambda a, b: int(a > b), v.LessThan: lambda a, b: int(a < b),
              v.GreaterEq: lambda a, b: int(a >= b), v.LessEq: lambda a, b: int(a <= b),
              v.Eq: lambda a, b: int(a == b), v.NotEq: lambda a, b: int(a != b),
              v.Land: lambda a, b: int(bool(a and b)), v.Lor: lambda a, b: int(bool(a or b)),
              v.And: lambda a, b: a & b, v.Or: lambda a, b: a | b, v.Xor: lambda a, b: a ^ b}
    if isinstance(node, v.IntConst):
        return _int_literal(node.value)
    if isinstance(node, v.Identifier):
        if node.name not in params:
            raise UserError(f"verilog expression: unknown parameter {node.name}")
        return params[node.name]
    if type(node) in binary:
        return binary[type(node)](ev(node.left), ev(node.right))
    if isinstance(node, v.Uminus):
        return -ev(node.right)
    if isinstance(node, v.Ulnot):
        return int(not ev(node.right))
    if isinstance(node, v.Cond):
        return ev(node.true_value) if ev(node.cond) else ev(node.false_value)
    if isinstance(node, v.SystemCall) and node.syscall == "clog2":
        x = ev(node.args[0])
        return 0 if x <= 1 else math.ceil(math.log2(x))
    raise UserError(f"verilog expression: unsupported construct {type(node).__name__}")


def _int_literal(text: str) -> int:
    """8, 32'h0000_B400, 4'd10, 'b101 -> int."""
    text = text.replace("_", "")
    if "'" not in text:
        return int(text)
    base = {"h": 16, "d": 10, "b": 2, "o": 8}[text.split("'")[1].lstrip("sS")[0].lower()]
    return int(text.split("'")[1].lstrip("sS")[1:], base)
