"""What the listing commands (asm, dis, explain, cc) share: input, errors, output.

Each command reports bad input the same way: one line on standard error,
``minijit COMMAND: error: WHAT``, and an exit status of 1 (``USAGE`` 2 for an
argument that is malformed, as argparse does for its own errors).  Listings go
to standard output, coloured when ``colour.enabled`` says so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable

from minijit.cli import colour

FAILURE = 1
USAGE = 2


class CommandError(Exception):
    """Bad input for a command: the message says what is wrong."""

    def __init__(self, message: str, status: int = FAILURE) -> None:
        super().__init__(message)
        self.status = status


def report(command: str, error: CommandError) -> int:
    """Print ``error`` as ``minijit COMMAND: error: ...`` and return its exit status."""
    print(f"minijit {command}: error: {error}", file=sys.stderr)
    return error.status


def read_input(path: str, binary: bool = False) -> bytes | str:
    """The contents of ``path`` (``-`` is standard input), or a ``CommandError``."""
    if path == "-":
        return sys.stdin.buffer.read() if binary else sys.stdin.read()
    try:
        with open(path, "rb" if binary else "r") as f:
            return f.read()
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None


def address(text: str) -> int:
    """argparse type for an address: an integer, ``0x`` for hexadecimal."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"address must be an integer such as 4096 or 0x1000, got {text!r}") from None
    if not 0 <= value < 1 << 64:
        raise argparse.ArgumentTypeError(f"address must be 0 to 2**64-1, got {text}")
    return value


def painter(args: argparse.Namespace) -> Callable[[str], str] | None:
    """The function that colours an instruction's text for ``args.colour``, or None."""
    return colour.instruction if colour.enabled(args.colour, sys.stdout) else None


def print_instructions(instructions: Iterable, args: argparse.Namespace) -> None:
    """Print an objdump-style listing of decoded instructions."""
    from minijit.x86 import listing

    for text in listing.listing(instructions, paint=painter(args)):
        print(text)
