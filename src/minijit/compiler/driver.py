"""The compiler's one entry: Python function + argument types -> machine code.

``compile_function`` runs the whole pipeline (source, front end, passes,
register allocation, code generation) and returns a ``Compiled`` record: the
bytes, where the kernel entry and the internal body start, the IR text and the
code offset of each source line.  Placing the bytes in executable memory and
calling them is the dispatcher's business (layer 5).
"""

from __future__ import annotations

from minijit.compiler.codegen import CodeGen
from minijit.compiler.frontend import build
from minijit.compiler.ir import BR_FUSABLE, Function, Op
from minijit.compiler.passes import optimize
from minijit.compiler.regalloc import allocate, split_critical_edges
from minijit.compiler.source import parse_function

__all__ = ["Compiled", "compile_function", "CHECK"]

#: run the IR verifier after every pass (the test suite turns this on)
CHECK = False


class Compiled:
    __slots__ = ("code", "body_offset", "data_offset", "ir", "lines", "ret_type", "callees")

    def __init__(self, code: bytes, body_offset: int, data_offset: int, ir: str,
                 lines: list[tuple[int, int]], ret_type: int, callees: list) -> None:
        self.code = code
        self.body_offset = body_offset
        self.data_offset = data_offset  # the constant pool, to the end
        self.ir = ir
        self.lines = lines
        self.ret_type = ret_type
        self.callees = callees


def fused_compares(f: Function) -> set[int]:
    """Compares used only by the branch right after them: they stay in the flags."""
    uses: dict[int, int] = {}
    for block in f.blocks:
        for ref in block.ins:
            for a in f.ins[ref].args:
                uses[a] = uses.get(a, 0) + 1
    fused = set()
    for block in f.blocks:
        if len(block.ins) >= 2:
            last, before = f.ins[block.ins[-1]], block.ins[-2]
            if (last.op == Op.BR and last.args[0] == before and uses[before] == 1
                    and f.ins[before].op in BR_FUSABLE):
                fused.add(before)
    return fused


def compile_function(pyfunc, arg_types: tuple[int, ...], key: object, pending, resolve,
                     check: bool = False) -> Compiled:
    """Compile ``pyfunc`` for ``arg_types``.  ``pending.ret_type`` is set as soon as the
    return type is known (recursive calls need it); ``resolve(obj, types, node)`` turns
    a called global into a ``CallTarget`` or None."""
    fdef, source = parse_function(pyfunc)
    f = build(pyfunc, fdef, source, arg_types, pending, resolve)
    optimize(f, check=check or CHECK)
    ir_text = f.ir()
    split_critical_edges(f)
    fused = fused_compares(f)
    alloc = allocate(f, fused)
    gen = CodeGen(f, alloc, fused, key)
    asm = gen.generate(f.ret_type)
    code = asm.assemble()
    lines = [(asm.offset(label), line) for label, line in gen.lines]
    lines.append((asm.offset(gen.epilogue), None))  # epilogue, error exits, slow paths
    return Compiled(code, asm.offset(gen.body), asm.offset(gen.pool_start), ir_text, lines,
                    f.ret_type, gen.callees)
