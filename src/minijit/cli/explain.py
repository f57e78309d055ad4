"""``minijit explain "INSTRUCTION"``: an instruction's bytes, field by field.

For people reading the Intel manual alongside: the instruction is assembled,
then every part of its encoding is printed with its value and meaning (legacy
prefixes, REX W R X B, VEX fields, the opcode and the table form that matched,
ModRM mod/reg/rm, SIB scale/index/base, displacement, immediate), followed by
notes on special cases such as why ``[r13]`` needs a zero displacement.
``--bytes HEX`` explains the first instruction of given machine code instead.
"""

from __future__ import annotations

import argparse

from minijit.cli import colour
from minijit.cli.dis import parse_hex
from minijit.cli.listing import USAGE, CommandError, painter, report

HELP = "show an instruction's encoding field by field (prefixes, REX/VEX, ModRM, SIB...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instruction", nargs="?", metavar="INSTRUCTION",
                        help="one instruction in Intel syntax, e.g. 'mov rax, [r13]'")
    parser.add_argument("--bytes", nargs="+", metavar="HEX",
                        help="explain the first instruction of these bytes instead")
    colour.add_argument(parser)


def explanation_of(args: argparse.Namespace):
    from minijit.x86 import AsmError
    from minijit.x86.explain import explain, explain_bytes

    if (args.instruction is None) == (args.bytes is None):
        raise CommandError("give one INSTRUCTION or --bytes HEX", USAGE)
    if args.bytes is not None:
        try:
            return explain_bytes(parse_hex(args.bytes))
        except ValueError as error:
            raise CommandError(str(error)) from None
    try:
        return explain(args.instruction)
    except AsmError as error:
        raise CommandError(f"cannot assemble {args.instruction!r}: {error}") from None


def run(args: argparse.Namespace) -> int:
    try:
        explanation = explanation_of(args)
    except CommandError as error:
        return report("explain", error)
    lines = explanation.lines()
    paint = painter(args)
    if paint:
        lines[0] = paint(lines[0])
    print("\n".join(lines))
    return 0
