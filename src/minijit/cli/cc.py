"""``minijit cc FILE.c [FUNC]``: a C compiler's machine code, through minijit's eyes.

The seed's ``make dis`` showed what a C compiler makes of ``multiply.c``.  This
does the same without objdump: compile with the system's C compiler
(``$CC``, else the first of ``cc``, ``gcc``, ``clang`` on ``PATH``) as
``-O2 -c`` into a temporary directory, read the object's symbol table and
sections with ``minijit.elf``, and disassemble each function (or only FUNC)
with ``minijit.x86.disassemble``.  Addresses are offsets in the function's
section, as ``objdump -d`` shows them for an object file; a relocation (a call
to another function, a reference to data) is shown under the instruction it
patches, as ``objdump -dr`` does.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping

from minijit.cli import colour
from minijit.cli.listing import CommandError, painter, report

HELP = "compile a C file with the system's C compiler and disassemble its functions"

#: compilers tried in order when $CC is not set
COMPILERS = ("cc", "gcc", "clang")
FLAGS = ("-O2", "-c")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.c", help="the C source file")
    parser.add_argument("function", nargs="?", metavar="FUNC",
                        help="the function to show (default: every function)")
    parser.add_argument("--cflags", default="", metavar="FLAGS",
                        help="more compiler flags after -O2 -c, e.g. --cflags='-O3 -mavx2'")
    colour.add_argument(parser)


def find_compiler() -> list[str]:
    """The compiler command: ``$CC`` split as a shell would, or the first found on PATH."""
    chosen = os.environ.get("CC")
    candidates = [shlex.split(chosen)] if chosen else [[name] for name in COMPILERS]
    for command in candidates:
        if command and shutil.which(command[0]):
            return [shutil.which(command[0]), *command[1:]]
    looked = repr(chosen) + " (from $CC)" if chosen else ", ".join(COMPILERS) + " on PATH"
    raise CommandError(f"no C compiler found: looked for {looked}; install one or set CC")


def compile_object(source: str, cflags: str, directory: str) -> str:
    """Compile ``source`` to an object file in ``directory``; return its path."""
    if not os.path.isfile(source):
        raise CommandError(f"no such file: {source}")
    compiler = find_compiler()
    output = os.path.join(directory, "out.o")
    command = [*compiler, *FLAGS, *shlex.split(cflags), source, "-o", output]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"{shlex.join(command)} failed (exit status {result.returncode}):\n"
                           f"{result.stderr.rstrip()}")
    return output


class FunctionNames(Mapping):
    """Addresses inside the functions of one section, named as objdump does: ``sum+0x20``."""

    def __init__(self, functions: list) -> None:
        self._functions = functions

    def __getitem__(self, address: int) -> str:
        for function in self._functions:
            offset = address - function.value
            if 0 <= offset < max(function.size, 1):
                return f"{function.name}+{offset:#x}" if offset else function.name
        raise KeyError(address)

    def __iter__(self):
        return (function.value for function in self._functions)

    def __len__(self) -> int:
        return len(self._functions)


def function_listing(elf, symbol, paint) -> list[str]:
    """The header and listing of one function, relocations under the instructions."""
    from minijit.x86 import disassemble, listing

    section = elf.sections[symbol.section]
    names = FunctionNames([s for s in elf.functions() if s.section == symbol.section])
    relocations = {r.offset: r for r in elf.relocations(section)}
    instructions = disassemble(elf.function_bytes(symbol), symbol.value, names)
    width = listing.address_width(symbol.value + symbol.size)
    lines = [listing.header(symbol.value, symbol.name)]
    for ins in instructions:
        lines.extend(listing.line(ins.address, ins.bytes, str(ins), width, paint))
        lines.extend(f"{'':>{width}}   {offset:x}: {relocations[offset]}"
                     for offset in range(ins.address, ins.address + len(ins.bytes))
                     if offset in relocations)
    return lines


def load(args: argparse.Namespace) -> tuple:
    """The compiled object and the function symbols to show."""
    from minijit.elf import ElfError, ElfFile

    with tempfile.TemporaryDirectory(prefix="minijit-cc-") as directory:
        path = compile_object(args.file, args.cflags, directory)
        try:
            elf = ElfFile.read(path)
        except ElfError as error:
            raise CommandError(f"cannot read the compiler's object file: {error}") from None
    if args.function is None:
        if not elf.functions():
            raise CommandError(f"{args.file} defines no functions")
        return elf, elf.functions()
    try:
        return elf, [elf.function(args.function)]
    except KeyError as error:
        raise CommandError(f"{error.args[0]} (compiled from {args.file})") from None


def run(args: argparse.Namespace) -> int:
    try:
        elf, symbols = load(args)
    except CommandError as error:
        return report("cc", error)
    paint = painter(args)
    blocks = ["\n".join(function_listing(elf, symbol, paint)) for symbol in symbols]
    print("\n\n".join(blocks))
    return 0
