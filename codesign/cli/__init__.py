"""Command-line interface. Each module in this package that defines
``register(subparsers)`` adds its own subcommand, so commands live beside the code
they drive and no central file needs editing when one is added."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from .. import __version__
from ..errors import UserError


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (not the usage block too), as
    every other bad input is. Subcommand parsers are made of the same class."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _get_values(self, action, arg_strings):
        # `--limit=--`: argparse drops the "--" and hands the option an empty list
        # instead of calling its type (found by tests/test_fuzz_cli.py)
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: value '--'; allowed: "
                       "a value for the option")
        return super()._get_values(action, arg_strings)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="codesign", description="Co-design toolkit for analog in-memory PCM accelerators.")
    parser.add_argument("--version", action="version", version=f"codesign {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """dest -> the option that sets it, in the command (and sub-command) that ran."""
    names: dict[str, str] = {}
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = getattr(args, action.dest, None)
                if chosen in action.choices:
                    stack.append(action.choices[chosen])
            elif action.option_strings:
                long = [o for o in action.option_strings if o.startswith("--")]
                names.setdefault(action.dest, (long or action.option_strings)[0])
    return names


def _as_flag(message: str, field: str | None, parser, args) -> str:
    """A library error names its field (codesign.errors.UserError.field); on the command
    line the user set it with an option, so the message names that option instead."""
    if field and message.startswith(field):
        flag = _options(parser, args).get(field)
        if flag:
            return flag + message[len(field):]
    return message


def _quiet_stdout() -> None:
    """After a broken pipe (`codesign ... | head`): send what is left of standard output
    to /dev/null so the interpreter's final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    from ._common import check_output_arguments
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the message (or --help)
        return 2 if exc.code not in (0, None) else 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        check_output_arguments(args)     # bad output paths: exit 2 before any work
        status = int(args.func(args) or 0)
        sys.stdout.flush()               # a closed pipe shows here, not at interpreter exit
        return status
    except UserError as exc:
        message = " ".join(_as_flag(str(exc), exc.field, parser, args).split())  # one line
        print(f"codesign: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_stdout()
        return 141       # 128 + SIGPIPE, what a tool killed by the signal reports
    except KeyboardInterrupt:
        print("codesign: interrupted", file=sys.stderr)
        return 130
