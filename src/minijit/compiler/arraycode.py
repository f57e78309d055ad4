"""Array instruction selection: descriptor reads, index checks, element loads and stores.

One function per IR op, reached through the code generator's ``EMIT`` table
like ``intcode`` and ``floatcode``.  An array value is the address of its
descriptor (``arrays``): ``ADATA`` and ``ALEN`` read one of its words.
``AINDEX`` makes an index Python's: one unsigned compare with the length
takes every index in ``[0, len)`` straight through; anything else goes to an
out-of-line path that adds the length to a negative index and raises
IndexError (status 15) when the result is still outside.  ``BOUND``, for an
index proved non-negative, is the compare and the branch alone.  Loads and stores use
the scaled-index addressing mode, ``[data + index * size]``: float32 widens
exactly with ``cvtss2sd``, int32 sign-extends with ``movsxd``, uint8 and bool
zero-extend with ``movzx``.
"""

from __future__ import annotations

from minijit.compiler.arrays import DTYPES
from minijit.compiler.ir import INDEX
from minijit.compiler.machine import (
    GPR, GPR8, GPR32, byte, dword, fits32, qword, r11, rax, rcx, xmm15,
)
from minijit.compiler.regalloc import SLOT

TYPE_CHECKING = False  # typing takes milliseconds to import; type checkers read True
if TYPE_CHECKING:
    from minijit.compiler.codegen import CodeGen

_BY_NAME = {d.name: d for d in DTYPES}
_PTR = {8: qword, 4: dword, 1: byte}


def op_adata(g: CodeGen, ref: int, ins) -> None:
    _descriptor_word(g, ref, ins.args[0], 0)


def op_alen(g: CodeGen, ref: int, ins) -> None:
    _descriptor_word(g, ref, ins.args[0], ins.aux)


def _descriptor_word(g: CodeGen, ref: int, array: int, offset: int) -> None:
    base = g.reg_of(array, r11)
    d = g.dest(ref, rax)
    g.a.mov(d, qword[base + offset])
    g.store(ref, d)


def op_aindex(g: CodeGen, ref: int, ins) -> None:
    a = g.a
    index, length = ins.args
    d = g.dest(ref, rax)
    if g.aliases(d, length):
        d = rax
    g.load(d, index)
    a.cmp(d, g.operand(length))
    slow, back = a.label(), a.label()
    a.jcc("ae", slow)
    a.bind(back)

    def negative() -> None:  # a negative index counts from the end
        a.bind(slow)
        a.test(d, d)
        a.jcc("ns", g.stub(INDEX))
        a.add(d, g.operand(length))
        a.jcc("s", g.stub(INDEX))
        a.jmp(back)

    g.slow.append(negative)
    if d is rax and g.loc.get(ref, SLOT) < SLOT:
        a.mov(g.dest(ref, rax), rax)
    else:
        g.store(ref, d)


def op_bound(g: CodeGen, ref: int, ins) -> None:
    index, length = ins.args
    g.a.cmp(g.reg_of(index, rax), g.operand(length, r11))
    g.a.jcc("ae", g.stub(INDEX))


def _element(g: CodeGen, data: int, index: int, size: int):
    base = g.reg_of(data, r11)
    scaled = g.reg_of(index, rcx)
    return _PTR[size][base + scaled * size] if size > 1 else byte[base + scaled]


def op_aload(g: CodeGen, ref: int, ins) -> None:
    dtype = _BY_NAME[ins.aux]
    where = _element(g, ins.args[0], ins.args[1], dtype.size)
    a = g.a
    if dtype.name.startswith("float"):
        d = g.dest(ref, xmm15)
        a.movsd(d, where) if dtype.size == 8 else a.cvtss2sd(d, where)
    else:
        d = g.dest(ref, rax)
        {8: a.mov, 4: a.movsxd, 1: a.movzx}[dtype.size](d, where)
    g.store(ref, d)


def op_astore(g: CodeGen, ref: int, ins) -> None:
    dtype = _BY_NAME[ins.aux]
    data, index, value = ins.args
    where = _element(g, data, index, dtype.size)
    a = g.a
    if dtype.name == "float64":
        a.movsd(where, g.reg_of(value, xmm15))
        return
    if value < 0 and fits32(g.ival(value)):
        a.mov(where, g.ival(value) if dtype.size > 1 else g.ival(value) & 0xFF)
        return
    reg = GPR.index(g.reg_of(value, rax))
    a.mov(where, {8: GPR, 4: GPR32, 1: GPR8}[dtype.size][reg])
