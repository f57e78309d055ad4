"""Layer 4: a typed subset of Python to x86-64 machine code.

The pipeline, one module per phase::

    source.py      linecache + ast: the function's def and where it came from
    frontend.py    tree -> typed SSA IR (ir.py, its types in typecodes.py), one function per
                   argument-type signature;
                   intrinsics.py compiles the builtins and math functions
    passes/        fold, copyprop, dce, checks, licm (listed once in passes/__init__.py),
                   verify.py checks the IR between them
    regalloc.py    liveness and linear-scan register allocation
    codegen.py     instruction selection and emission through minijit.x86.Assembler;
                   intcode.py and floatcode.py emit the ops, machine.py names registers,
                   libm.py finds the C math functions
    driver.py      the pipeline end to end; listing.py prints code by source line

``errors.CompileError`` is what users see for anything outside the subset.  It is
imported on first use: a submodule such as ``arrays`` does not load ``ast``.
"""

from __future__ import annotations

__all__ = ["CompileError"]


def __getattr__(name: str) -> object:
    if name != "CompileError":
        raise AttributeError(f"module 'minijit.compiler' has no attribute {name!r}")
    from minijit.compiler.errors import CompileError

    return CompileError
