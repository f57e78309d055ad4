"""minijit: make and run x86-64 machine code from Python, with the standard library only.

Layers (each imports only those below it):

1. ``minijit.memory``   executable memory, W^X, released when unreachable
2. ``minijit.x86``      assembler, disassembler, registers, instruction table
3. ``minijit.native``   callables from machine code (ctypes and CPython entry points)
4. ``minijit.compiler`` typed Python subset -> SSA IR -> x86-64
5. ``minijit.dispatcher`` the ``@jit`` decorator
6. ``minijit.cli``      the ``mj`` and ``minijit`` commands

The names below are imported on first use, so ``import minijit`` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["jit", "CompileError", "NativeFunction", "__version__"]

_LAZY = {
    "jit": ("minijit.dispatcher", "jit"),
    "CompileError": ("minijit.compiler.errors", "CompileError"),
    "NativeFunction": ("minijit.native.function", "NativeFunction"),
}


def __getattr__(name: str) -> object:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'minijit' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
