"""minijit.x86: the x86-64 assembler (builder and Intel-syntax text) and its table.

``Assembler`` builds code method by method; ``assemble(source)`` does the same from
GNU as's ``.intel_syntax noprefix`` text.  Both read one instruction table
(:mod:`minijit.x86.table`) through one encoder (:mod:`minijit.x86.encoder`).
Registers and size keywords are importable names: ``from minijit.x86 import rax,
qword``.
"""

from __future__ import annotations

from minijit.x86.assembler import Assembler
from minijit.x86.decoder import Instruction, disassemble
from minijit.x86.errors import AsmError
from minijit.x86.registers import REGISTERS, SIZES, Label, Mem, Reg
from minijit.x86.syntax import assemble

globals().update(REGISTERS)
globals().update({name: size for name, size in SIZES.items() if name != "ptr"})

__all__ = [
    "AsmError",
    "Assembler",
    "Instruction",
    "Label",
    "Mem",
    "Reg",
    "assemble",
    "disassemble",
]
__all__ += list(REGISTERS) + [name for name in SIZES if name != "ptr"]


def __getattr__(name: str) -> object:
    # The disassembler is imported on first use: assembling does not need it.
    if name == "disassemble":
        from minijit.x86.decoder import disassemble

        return disassemble
    raise AttributeError(f"module 'minijit.x86' has no attribute {name!r}")
