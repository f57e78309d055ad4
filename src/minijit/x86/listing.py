"""Listings in objdump's layout: address, bytes, text.

One line per instruction::

       10:  48 8d 44 bf 02         lea rax, [rdi+rdi*4+0x2]

The address is hexadecimal without ``0x``, right-aligned in 4, 8 or 16 columns
(the first that holds the last address); the bytes are two hex
digits each, at most ``BYTES_PER_LINE`` (7, as objdump) on a line, longer
instructions continuing on the next lines under the first; the text is Intel
syntax.  A symbol that starts at an instruction gets a header line
``0000000000000010 <name>:`` before it, after a blank line, as in ``objdump -d``.
Text may be passed through a colouring function; the columns are laid out
before it runs, so escape sequences do not shift them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

BYTES_PER_LINE = 7
_BYTES_WIDTH = 3 * BYTES_PER_LINE - 1


class Listable(Protocol):
    address: int
    bytes: bytes


def address_width(last_address: int) -> int:
    """Columns for the address field: 4, 8 or 16, the first that holds it (as objdump)."""
    digits = len(f"{last_address:x}")
    return next(width for width in (4, 8, 16) if digits <= width)


def line(address: int, code: bytes, text: str, width: int = 4,
         paint: Callable[[str], str] | None = None) -> list[str]:
    """The listing lines of one instruction (more than one when it is longer than 7 bytes)."""
    chunks = [code[i:i + BYTES_PER_LINE] for i in range(0, len(code), BYTES_PER_LINE)] or [b""]
    shown = paint(text) if paint else text
    lines = [f"{address:>{width}x}:  {chunks[0].hex(' '):<{_BYTES_WIDTH}}  {shown}".rstrip()]
    for i, chunk in enumerate(chunks[1:], 1):
        lines.append(f"{address + i * BYTES_PER_LINE:>{width}x}:  {chunk.hex(' ')}")
    return lines


def header(address: int, name: str) -> str:
    """objdump's symbol header: the 16-digit address and the name in angle brackets."""
    return f"{address:016x} <{name}>:"


def listing(instructions: Iterable[Listable], symbols: Mapping[int, str] | None = None,
            paint: Callable[[str], str] | None = None) -> list[str]:
    """Lines for ``instructions`` (objects with ``.address``, ``.bytes`` and ``str()``)."""
    instructions = list(instructions)
    if not instructions:
        return []
    width = address_width(instructions[-1].address)
    symbols = symbols or {}
    lines: list[str] = []
    for ins in instructions:
        name = symbols.get(ins.address)
        if name is not None:
            if lines:
                lines.append("")
            lines.append(header(ins.address, name))
        lines.extend(line(ins.address, ins.bytes, str(ins), width, paint))
    return lines


def gdb_lines(instructions: Iterable[Listable]) -> list[str]:
    """gdb's ``x/20i`` layout: ``   0x7ffff7ff7000:\\tmov eax, 0xb``, no bytes."""
    return [f"   {ins.address:#x}:\t{ins}" for ins in instructions]
