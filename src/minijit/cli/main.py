"""The ``minijit`` command: one subcommand per module, listed in ``SUBCOMMANDS``.

Each subcommand module provides ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``.  Building the parser imports every subcommand module,
so those modules import heavy layers (the compiler) inside ``run``, not at the
top.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from minijit.cli import command

#: subcommand name -> module implementing it
SUBCOMMANDS: dict[str, str] = {
    "asm": "minijit.cli.asm",
    "dis": "minijit.cli.dis",
    "explain": "minijit.cli.explain",
    "cc": "minijit.cli.cc",
    "run": "minijit.cli.run",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minijit",
        description="minijit: make, inspect and run x86-64 machine code from Python.",
        epilog="Run 'minijit COMMAND --help' for a command's options. "
        "The multiply-by-N demo is the separate 'mj' command.",
    )
    from minijit import __version__

    parser.add_argument("--version", action="version", version=f"minijit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


@command
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
