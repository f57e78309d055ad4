"""``minijit asm FILE|- [--hex | -o FILE] [--address A]``: assemble Intel-syntax text.

By default it prints a listing: each source line with the address and bytes it
became, as ``as -al`` does.  ``--hex`` prints the bytes as one hex string, ``-o``
writes them raw to a file.

The whole source is assembled once by ``minijit.x86.assemble`` (labels, branch
relaxation and all); the listing then walks the source lines over those bytes.
An instruction line owns the one instruction the disassembler decodes at the
current position; a data line (``.byte``, ``.quad``...) owns its values' bytes;
an alignment line owns the padding up to its boundary; a line with only a label,
a comment or another directive owns nothing.
"""

from __future__ import annotations

import argparse
import re

from minijit.cli import colour
from minijit.cli.listing import CommandError, address, painter, read_input, report

HELP = "assemble Intel-syntax text (GNU as .intel_syntax noprefix) and list or write the bytes"

#: data directive -> bytes per value
DATA_SIZES = {".byte": 1, ".word": 2, ".short": 2, ".value": 2, ".long": 4, ".int": 4,
              ".float": 4, ".single": 4, ".quad": 8, ".double": 8}
_LABELS = re.compile(r"^\s*(?:[A-Za-z_.$][\w.$]*\s*:\s*)*")
_COMMENT = re.compile(r"[;#].*")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="assembly source ('-' for standard input)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--hex", action="store_true", help="print the bytes as hex only")
    output.add_argument("-o", "--output", metavar="OUT", help="write the raw bytes to OUT")
    parser.add_argument("--address", "-a", type=address, default=0, metavar="A",
                        help="load address of the first byte (default 0; 0x for hex)")
    colour.add_argument(parser)


def statement(line: str) -> str:
    """The statement of a source line: no comment, no leading labels."""
    return _LABELS.sub("", _COMMENT.sub("", line)).strip()


def owned_size(text: str, code: bytes, offset: int, start: int) -> int:
    """How many bytes at ``offset`` the statement ``text`` produced (see the module doc)."""
    word, _, args = text.partition(" ")
    word = word.lower()
    if word in DATA_SIZES:
        return DATA_SIZES[word] * len(args.split(","))
    if word in (".p2align", ".balign", ".align"):
        boundary = int(args.split(",")[0].strip(), 0)
        boundary = 1 << boundary if word == ".p2align" else boundary
        return -(start + offset) % boundary
    if not text or word.startswith("."):
        return 0
    from minijit.x86.decoder import decode

    return len(decode(code, offset, start + offset).bytes)


def source_listing(source: str, code: bytes, start: int, paint=None) -> list[str]:
    """Address, bytes and source text for every line of ``source``."""
    from minijit.x86 import listing

    width = listing.address_width(start + len(code))
    lines = []
    offset = 0
    for line in source.splitlines():
        size = owned_size(statement(line), code, offset, start)
        chunk = code[offset:offset + size]
        if chunk:
            lines.extend(listing.line(start + offset, chunk, line.strip(), width, paint))
        else:
            lines.append(f"{'':>{width}}   {'':<{3 * listing.BYTES_PER_LINE - 1}}  "
                         f"{line.strip()}".rstrip())
        offset += size
    if offset < len(code):  # bytes no line accounts for: show them decoded
        from minijit.x86 import disassemble

        lines.extend(listing.listing(disassemble(code[offset:], start + offset), paint=paint))
    return lines


def run(args: argparse.Namespace) -> int:
    from minijit.x86 import AsmError, assemble

    try:
        source = read_input(args.file)
        try:
            code = assemble(source, args.address)
        except AsmError as error:
            raise CommandError(f"{args.file}: {error}") from None
        if args.output:
            try:
                with open(args.output, "wb") as f:
                    f.write(code)
            except OSError as error:
                raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
            return 0
    except CommandError as error:
        return report("asm", error)
    if args.hex:
        print(code.hex())
        return 0
    print("\n".join(source_listing(source, code, args.address, painter(args))))
    return 0
