"""Layer 4: a typed subset of Python to x86-64 machine code.

The pipeline, one module per phase::

    source.py    inspect + ast: the function's tree and where it came from
    frontend.py  tree -> typed SSA IR (ir.py), one function per argument-type signature
    passes/      fold, copyprop, dce, checks, licm (listed once in passes/__init__.py)
    regalloc.py  liveness and linear-scan register allocation
    codegen.py   instruction selection and emission through minijit.x86.Assembler

``errors.CompileError`` is what users see for anything outside the subset.
"""

from __future__ import annotations

from minijit.compiler.errors import CompileError

__all__ = ["CompileError"]
