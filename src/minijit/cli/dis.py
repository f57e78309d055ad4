"""``minijit dis HEX...|--file FILE [--address A]``: disassemble machine code.

The bytes come as hexadecimal arguments (``48 89 f8 c3``, ``4889f8c3`` or
``\\x48\\x89``; spaces, commas and ``0x``/``\\x`` prefixes are ignored) or as a raw
binary file.  They are decoded by ``minijit.x86.disassemble`` as if loaded at
``--address`` and printed in objdump's layout.
"""

from __future__ import annotations

import argparse
import re

from minijit.cli import colour
from minijit.cli.listing import USAGE, CommandError, address, print_instructions, read_input
from minijit.cli.listing import report

HELP = "disassemble machine code given as hex or in a binary file"

_SEPARATORS = re.compile(r"(?<![0-9a-f])0x|\\x|[\s,]", re.IGNORECASE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hex", nargs="*", metavar="HEX",
                        help="bytes in hexadecimal, e.g. '48 89 f8 c3'")
    parser.add_argument("--file", "-f", metavar="FILE",
                        help="read raw bytes from FILE ('-' for standard input)")
    parser.add_argument("--address", "-a", type=address, default=0, metavar="A",
                        help="address of the first byte (default 0; 0x for hex)")
    colour.add_argument(parser)


def parse_hex(words: list[str]) -> bytes:
    """Bytes from hexadecimal words; ``CommandError`` (usage) saying what is wrong."""
    text = _SEPARATORS.sub("", " ".join(words))
    bad = re.search(r"[^0-9a-fA-F]", text)
    if bad:
        raise CommandError(f"invalid hex: {bad.group()!r} is not a hexadecimal digit "
                           f"(in {' '.join(words)!r})", USAGE)
    if len(text) % 2:
        raise CommandError(f"invalid hex: odd number of digits ({len(text)}) in "
                           f"{' '.join(words)!r}; each byte is two digits", USAGE)
    return bytes.fromhex(text)


def code_of(args: argparse.Namespace) -> bytes:
    if args.file is not None and args.hex:
        raise CommandError("give either HEX bytes or --file, not both", USAGE)
    if args.file is not None:
        return read_input(args.file, binary=True)
    if not args.hex:
        raise CommandError("nothing to disassemble: give HEX bytes or --file FILE", USAGE)
    return parse_hex(args.hex)


def run(args: argparse.Namespace) -> int:
    from minijit.x86 import disassemble

    try:
        code = code_of(args)
    except CommandError as error:
        return report("dis", error)
    print_instructions(disassemble(code, args.address), args)
    return 0
