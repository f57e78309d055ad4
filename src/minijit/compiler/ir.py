"""The typed SSA IR: integer references, constants kept apart, one op table.

A ``Function`` holds a flat list of instructions (``Ins`` records) and a list
of basic blocks.  An operand is an int: ``ref >= 0`` names instruction
``f.ins[ref]``; ``ref < 0`` names constant ``f.consts[~ref]`` (constants are
interned per function, so equal constants share one reference and a float
constant is keyed by its bits, which keeps ``-0.0`` and ``0.0`` apart).

Each block is a list of instruction references: phis first, one terminator
(``JMP``, ``BR`` or ``RET``) last.  A phi's operands follow the order of its
block's ``preds``.  ``aux`` carries what is not an operand: a comparison's
condition, a branch's target blocks, a library function's name, a call's
target.

``OPS`` is the one table of op properties, in columns:

* ``pure``   no side effect and no failure: dead code may delete it, LICM may hoist it
* ``fails``  the status codes it may return (a checked op is never deleted or
  hoisted past its guard unless the check is proven away)
* ``comm``   commutative (instruction selection may swap operands)
* ``term``   ends a block

Array loads and stores are neither pure nor checked: they stay where they are
(passes that move or merge instructions leave them alone), while the descriptor
reads (``ADATA``, ``ALEN``) are pure, since a buffer stays exported, and so
unchanged, for the whole call.
"""

from __future__ import annotations

import struct
from enum import IntEnum

from minijit.compiler.typecodes import BOOL, FLOAT, INT, TYPE_NAMES, VOID

__all__ = [
    "VOID", "INT", "FLOAT", "BOOL", "TYPE_NAMES", "Op", "OPS", "Ins", "Block", "Function",
    "format_function", "substitute", "remove_refs", "BR_FUSABLE",
]

# types: VOID, INT, FLOAT, BOOL and TYPE_NAMES come from minijit.compiler.typecodes

# status codes (see minijit.native.status), named where the op table uses them
ZERO_DIV, INT_ZERO_DIV, INT_ZERO_MOD, FLOAT_ZERO_DIV, FLOAT_ZERO_FLOORDIV = 1, 2, 3, 4, 5
FLOAT_ZERO_MOD, ZERO_NEG_POW, INT_OVERFLOW, DOMAIN, RANGE = 6, 7, 8, 9, 10
NEG_SHIFT, NAN_TO_INT, INF_TO_INT, RECURSION = 11, 12, 13, 14
NEG_POW, COMPLEX_POW, RANGE_STEP = 16, 17, 19
INDEX = 15


class Op(IntEnum):
    PARAM = 0  # aux: argument index
    PHI = 1
    COPY = 2
    IADD = 3
    ISUB = 4
    IMUL = 5
    IFLOORDIV = 6
    IMOD = 7
    INEG = 8
    IINV = 9
    IAND = 10
    IOR = 11
    IXOR = 12
    ISHL = 13
    ISHR = 14
    IPOW = 15
    IABS = 16
    FADD = 17
    FSUB = 18
    FMUL = 19
    FDIV = 20
    FFLOORDIV = 21
    FMOD = 22
    FNEG = 23
    FABS = 24
    FPOW = 25
    ITRUEDIV = 26
    ICMP = 27  # aux: condition ("eq" "ne" "lt" "le" "gt" "ge" or unsigned "ult" ...)
    FCMP = 28  # aux: condition
    MCMP = 29  # int op float, exact; aux: condition
    BNOT = 30
    I2F = 31
    F2I = 32  # truncation, as int(x)
    FROUND = 33  # round half to even, to int
    FFLOOR = 34  # math.floor, to int
    FCEIL = 35  # math.ceil, to int
    FISNAN = 36
    FISINF = 37
    FISFINITE = 38
    SELECT = 39  # cond ? a : b
    LIBM = 40  # aux: math function name
    CALL = 41  # aux: call target (see codegen)
    WADD = 42  # wrapping add (proved safe, or loop counters)
    WSUB = 43
    UDIV = 44  # unsigned divide (trip counts); divisor proved non-zero
    CHECK = 45  # aux: status; fail when operand is true
    FSQRT = 46
    JMP = 47  # aux: target block
    BR = 48  # aux: (then block, else block)
    RET = 49
    B2I = 50
    WMUL = 51
    ADATA = 52  # an array's data address
    ALEN = 53  # aux: descriptor offset (total size, axis 0 or axis 1 length)
    AINDEX = 54  # (index, length): the index made non-negative, IndexError outside
    ALOAD = 55  # (data, index); aux: dtype name
    ASTORE = 56  # (data, index, value); aux: dtype name
    BOUND = 57  # (index, length): IndexError unless 0 <= index < length (index proved >= 0)


#: compares a branch can test straight from the flags
BR_FUSABLE = frozenset({Op.ICMP, Op.FCMP, Op.MCMP})


class OpInfo:
    __slots__ = ("pure", "fails", "comm", "term")

    def __init__(self, pure: bool, fails: tuple[int, ...], comm: bool, term: bool) -> None:
        self.pure, self.fails, self.comm, self.term = pure, fails, comm, term


_P, _C, _T = "pure", "comm", "term"
_TABLE: dict[Op, tuple[str, tuple[int, ...]]] = {
    Op.PARAM: ("", ()),
    Op.PHI: (_P, ()),
    Op.COPY: (_P, ()),
    Op.IADD: (_C, (INT_OVERFLOW,)),
    Op.ISUB: ("", (INT_OVERFLOW,)),
    Op.IMUL: (_C, (INT_OVERFLOW,)),
    Op.IFLOORDIV: ("", (INT_ZERO_DIV, INT_OVERFLOW)),
    Op.IMOD: ("", (INT_ZERO_MOD,)),
    Op.INEG: ("", (INT_OVERFLOW,)),
    Op.IINV: (_P, ()),
    Op.IAND: (_P + _C, ()),
    Op.IOR: (_P + _C, ()),
    Op.IXOR: (_P + _C, ()),
    Op.ISHL: ("", (NEG_SHIFT, INT_OVERFLOW)),
    Op.ISHR: ("", (NEG_SHIFT,)),
    Op.IPOW: ("", (ZERO_NEG_POW, NEG_POW, INT_OVERFLOW)),
    Op.IABS: ("", (INT_OVERFLOW,)),
    Op.FADD: (_P + _C, ()),
    Op.FSUB: (_P, ()),
    Op.FMUL: (_P + _C, ()),
    Op.FDIV: ("", (FLOAT_ZERO_DIV,)),
    Op.FFLOORDIV: ("", (FLOAT_ZERO_FLOORDIV,)),
    Op.FMOD: ("", (FLOAT_ZERO_MOD,)),
    Op.FNEG: (_P, ()),
    Op.FABS: (_P, ()),
    Op.FPOW: ("", (ZERO_NEG_POW, COMPLEX_POW, RANGE)),
    Op.ITRUEDIV: ("", (ZERO_DIV,)),
    Op.ICMP: (_P, ()),
    Op.FCMP: (_P, ()),
    Op.MCMP: (_P, ()),
    Op.BNOT: (_P, ()),
    Op.I2F: (_P, ()),
    Op.F2I: ("", (NAN_TO_INT, INF_TO_INT, INT_OVERFLOW)),
    Op.FROUND: ("", (NAN_TO_INT, INF_TO_INT, INT_OVERFLOW)),
    Op.FFLOOR: ("", (NAN_TO_INT, INF_TO_INT, INT_OVERFLOW)),
    Op.FCEIL: ("", (NAN_TO_INT, INF_TO_INT, INT_OVERFLOW)),
    Op.FISNAN: (_P, ()),
    Op.FISINF: (_P, ()),
    Op.FISFINITE: (_P, ()),
    Op.SELECT: (_P, ()),
    Op.LIBM: ("", (DOMAIN, RANGE)),
    Op.CALL: ("", ()),
    Op.WADD: (_P + _C, ()),
    Op.WSUB: (_P, ()),
    Op.UDIV: (_P, ()),
    Op.CHECK: ("", ()),
    Op.FSQRT: ("", (DOMAIN,)),
    Op.JMP: (_T, ()),
    Op.BR: (_T, ()),
    Op.RET: (_T, ()),
    Op.B2I: (_P, ()),
    Op.WMUL: (_P + _C, ()),
    Op.ADATA: (_P, ()),
    Op.ALEN: (_P, ()),
    Op.AINDEX: ("", (INDEX,)),
    Op.ALOAD: ("", ()),
    Op.ASTORE: ("", ()),
    Op.BOUND: ("", (INDEX,)),
}
OPS: list[OpInfo] = [
    OpInfo(_P in props, fails, _C in props, _T in props)
    for op, (props, fails) in sorted(_TABLE.items())
]
assert len(OPS) == len(Op), "every op needs a row in the op table"


class Ins:
    """One instruction: op, result type, operand references, aux data, source line."""

    __slots__ = ("op", "type", "args", "aux", "line", "block")

    def __init__(self, op: Op, type_: int, args: tuple, aux: object, line: int, block: int):
        self.op = op
        self.type = type_
        self.args = args
        self.aux = aux
        self.line = line
        self.block = block


class Block:
    __slots__ = ("id", "ins", "preds", "loop_depth")

    def __init__(self, id_: int, loop_depth: int = 0) -> None:
        self.id = id_
        self.ins: list[int] = []
        self.preds: list[int] = []
        self.loop_depth = loop_depth

    def succs(self, f: Function) -> tuple[int, ...]:
        last = f.ins[self.ins[-1]]
        if last.op == Op.JMP:
            return (last.aux,)
        if last.op == Op.BR:
            return last.aux
        return ()


def _const_key(type_: int, value: object) -> tuple:
    if type_ == FLOAT:
        return (type_, struct.pack("<d", value))
    return (type_, value)


class Function:
    """A function in SSA form, for one argument-type signature."""

    def __init__(self, name: str, param_names: list[str], param_types: list[int]) -> None:
        self.name = name
        self.param_names = param_names
        self.param_types = param_types
        self.ret_type: int | None = None
        self.ins: list[Ins] = []
        self.consts: list[tuple[int, object]] = []
        self._const_index: dict[tuple, int] = {}
        self.blocks: list[Block] = []
        #: loops as (header, preheader, blocks inside besides header and latch, latch)
        self.loops: list[tuple[int, int, range, int]] = []
        #: the variable of each ``for ... in range()`` loop stepping by 1 or -1, as its
        #: header phi -> (start, step, stop values): what the range analysis may assume
        #: of it (it lies between start and stop wherever it is defined)
        self.induction: dict[int, tuple[int, int, int]] = {}

    # -- building ----------------------------------------------------------------------------
    def const(self, type_: int, value: object) -> int:
        key = _const_key(type_, value)
        ref = self._const_index.get(key)
        if ref is None:
            self.consts.append((type_, value))
            ref = -len(self.consts)
            self._const_index[key] = ref
        return ref

    def new_block(self, loop_depth: int = 0) -> int:
        self.blocks.append(Block(len(self.blocks), loop_depth))
        return len(self.blocks) - 1

    def emit(self, block: int, op: Op, type_: int, args: tuple, aux: object, line: int) -> int:
        self.ins.append(Ins(op, type_, args, aux, line, block))
        ref = len(self.ins) - 1
        self.blocks[block].ins.append(ref)
        return ref

    # -- reading -----------------------------------------------------------------------------
    def type_of(self, ref: int) -> int:
        return self.consts[~ref][0] if ref < 0 else self.ins[ref].type

    def const_value(self, ref: int) -> object:
        return self.consts[~ref][1]

    def power_of_two(self, ref: int) -> int | None:
        """k when ``ref`` is the int constant 2**k (k >= 1), else None."""
        if ref >= 0 or self.consts[~ref][0] != INT:
            return None
        v = self.consts[~ref][1]
        return v.bit_length() - 1 if v > 1 and v & (v - 1) == 0 else None

    def ir(self) -> str:
        return format_function(self)

    def rpo(self) -> list[Block]:
        """The reachable blocks in reverse postorder from the entry block."""
        order: list[int] = []
        seen = {0}
        stack = [(0, iter(self.blocks[0].succs(self)))]
        while stack:
            block, succs = stack[-1]
            for succ in succs:
                if succ not in seen:
                    seen.add(succ)
                    stack.append((succ, iter(self.blocks[succ].succs(self))))
                    break
            else:
                stack.pop()
                order.append(block)
        return [self.blocks[b] for b in reversed(order)]


def _format_ref(f: Function, ref: int) -> str:
    return f"%{ref}" if ref >= 0 else repr(f.consts[~ref][1])


#: each op's name in the IR text (an IntEnum's ``.name`` is a property, slow in a loop)
_OP_TEXT = {op: op.name.lower() for op in Op}


#: what an ALEN reads, by descriptor offset (minijit.compiler.arrays)
_DESCRIPTOR_WORDS = {8: "size", 16: "shape0", 24: "shape1"}


#: how an op's aux data reads in the IR text, where it is not ``str(aux)``
_AUX_TEXT = {
    Op.JMP: lambda aux: f" b{aux}",
    Op.BR: lambda aux: f" b{aux[0]} b{aux[1]}",
    Op.PARAM: lambda aux: "",  # the parameter's name stands in the operands' place
    Op.CALL: lambda aux: f" {aux.name}",
    Op.ALEN: lambda aux: f" {_DESCRIPTOR_WORDS[aux]}",
}


def _format_aux(ins: Ins) -> str:
    text = _AUX_TEXT.get(ins.op)
    if text is not None:
        return text(ins.aux)
    return "" if ins.aux is None else f" {ins.aux}"


def format_function(f: Function) -> str:
    """The IR as text: one line per instruction, grouped by block (golden-test format)."""
    params = ", ".join(
        f"{n}: {TYPE_NAMES[t]}" for n, t in zip(f.param_names, f.param_types)
    )
    out = [f"function {f.name}({params}) -> {TYPE_NAMES.get(f.ret_type, '?')}"]
    for block in f.blocks:
        if not block.ins:
            continue
        preds = ", ".join(f"b{p}" for p in block.preds)
        out.append(f"b{block.id}:" + (f"  ; preds {preds}" if preds else ""))
        for ref in block.ins:
            ins = f.ins[ref]
            args = ", ".join([_format_ref(f, a) for a in ins.args])
            op = _OP_TEXT[ins.op]
            if ins.op == Op.PARAM:
                args = f.param_names[ins.aux]
            text = f"{op}{_format_aux(ins)} {args}".rstrip()
            if ins.type != VOID:
                text = f"%{ref}: {TYPE_NAMES[ins.type]} = {text}"
            out.append("  " + text)
    return "\n".join(out) + "\n"


def substitute(f: Function, mapping: dict[int, int]) -> None:
    """Replace every use of a key of ``mapping`` by its value (chains are followed)."""
    if not mapping:
        return

    def final(ref: int) -> int:
        while ref in mapping:
            ref = mapping[ref]
        return ref

    replaced = mapping.keys()
    for block in f.blocks:
        for ref in block.ins:
            ins = f.ins[ref]
            if not replaced.isdisjoint(ins.args):
                ins.args = tuple(final(a) for a in ins.args)


def remove_refs(f: Function, dead: set[int]) -> None:
    """Drop the instructions in ``dead`` from their blocks."""
    if dead:
        for block in f.blocks:
            block.ins = [r for r in block.ins if r not in dead]
