"""minijit.x86: the x86-64 assembler (builder and Intel-syntax text) and its table.

``Assembler`` builds code method by method; ``assemble(source)`` does the same from
GNU as's ``.intel_syntax noprefix`` text.  Both read one instruction table
(:mod:`minijit.x86.table`) through one encoder (:mod:`minijit.x86.encoder`).
Registers, size keywords and the fs/gs segments are importable names: ``from
minijit.x86 import rax, qword, fs``.

The text front end (``assemble``) and the disassembler (``disassemble``,
``Instruction``) are imported on first use: a program that only builds code does
not load them.
"""

from __future__ import annotations

from minijit.x86.assembler import Assembler
from minijit.x86.errors import AsmError
from minijit.x86.registers import REGISTERS, SEGMENTS, SIZES, Label, Mem, Reg

globals().update(REGISTERS)
globals().update(SEGMENTS)
globals().update({name: size for name, size in SIZES.items() if name != "ptr"})

_LAZY = {
    "assemble": "minijit.x86.syntax",
    "disassemble": "minijit.x86.decoder",
    "Instruction": "minijit.x86.decoder",
}

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
__all__ += list(REGISTERS) + list(SEGMENTS) + [name for name in SIZES if name != "ptr"]


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'minijit.x86' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
