"""Colour for listings: mnemonics, registers and immediates, in a terminal only.

A listing line is split into tokens by one regular expression; each token's
class (mnemonic, register, number, comment, label) picks an ANSI colour from
``STYLES``.  The first word of an instruction's text is its mnemonic, a word
found in the register names is a register, and a number is an immediate or a
displacement.  Colour is on when the output stream is a terminal and the
``NO_COLOR`` environment variable is unset or empty (https://no-color.org);
``--colour always|never`` overrides that.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import TextIO

from minijit.x86 import registers

RESET = "\x1b[0m"
#: token class -> ANSI select-graphic-rendition sequence
STYLES = {
    "mnemonic": "\x1b[1;36m",   # bold cyan
    "register": "\x1b[32m",     # green
    "number": "\x1b[33m",       # yellow
    "label": "\x1b[35m",        # magenta
    "comment": "\x1b[2m",       # dim
}

#: register names, and the segment names that prefix a memory operand
REGISTERS = frozenset(registers.REGISTERS) | {"cs", "ds", "fs", "gs"}

#: words that come before the mnemonic
PREFIXES = frozenset("lock rep repe repz repne repnz notrack bnd data16 addr32".split())

_TOKEN = re.compile(
    r"(?P<comment>#.*$)"
    r"|(?P<label><[^>]*>)"
    r"|(?P<number>\b(?:0x[0-9a-fA-F]+|\d+)\b)"
    r"|(?P<word>[A-Za-z_.][\w.]*)"
)


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--colour", "--color", dest="colour", choices=("auto", "always", "never"),
        default="auto",
        help="colour mnemonics, registers and numbers: auto (default: in a terminal "
        "unless NO_COLOR is set), always or never",
    )


def enabled(choice: str, stream: TextIO) -> bool:
    """Whether to colour output written to ``stream`` for the ``--colour`` choice."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, kind: str) -> str:
    return f"{STYLES[kind]}{text}{RESET}"


def instruction(text: str) -> str:
    """``text`` (one instruction in Intel syntax, maybe after labels and before a
    comment) coloured."""
    out: list[str] = []
    last = 0
    seen_mnemonic = False
    for match in _TOKEN.finditer(text):
        out.append(text[last:match.start()])
        token = match.group()
        kind = match.lastgroup
        if kind == "word":
            if not seen_mnemonic and text.startswith(":", match.end()):
                kind = "label"   # a source line's "loop:" before its instruction
            elif not seen_mnemonic:
                kind = "mnemonic"
                seen_mnemonic = token.lower() not in PREFIXES
            elif token.lower() in REGISTERS:
                kind = "register"
            else:
                kind = None
        out.append(paint(token, kind) if kind else token)
        last = match.end()
    out.append(text[last:])
    return "".join(out)
